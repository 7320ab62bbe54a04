from .formatting import PackInputs

__all__ = ['PackInputs']
