"""Utilities with Keras 2.0's module layout: ``layers.utils.to_categorical`` (also ``layers.utils.np_utils``) and
``layers.utils.Sequence`` (a dataset of batches for the generator methods)."""
from ..training import Sequence
from . import np_utils
from .np_utils import to_categorical

__all__ = ["np_utils", "to_categorical", "Sequence"]
