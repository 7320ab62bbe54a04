"""Building dataset pipelines from mmbiggan's transform registry."""
from typing import Callable, List, Sequence, Union

from mmbiggan.registry import TRANSFORMS


def build_pipeline(
        pipeline: Sequence[Union[dict, Callable]]) -> List[Callable]:
    """Build transform configs with mmbiggan's registry.

    mmengine's ``Compose`` looks transforms up in the default scope, which
    only a Runner sets; building here lets datasets made by hand (scripts,
    tests, the demo) find ``type='PackInputs'`` as well.

    Args:
        pipeline (Sequence[dict | Callable]): Transform configs or callables.

    Returns:
        list[Callable]: The transforms, in order.
    """
    return [
        TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline
    ]
