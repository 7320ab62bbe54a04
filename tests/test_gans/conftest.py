import pytest
from mmengine.logging import MessageHub


@pytest.fixture
def message_hub():
    """The current MessageHub; its iteration is reset afterwards."""
    hub = MessageHub.get_current_instance()
    yield hub
    hub.update_info('iter', 0)
