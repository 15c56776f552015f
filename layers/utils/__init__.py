"""Utilities with Keras 2.0's module layout: ``layers.utils.to_categorical`` (also ``layers.utils.np_utils``),
``layers.utils.Sequence`` (a dataset of batches for the generator methods) and ``CustomObjectScope`` /
``custom_object_scope`` / ``get_custom_objects`` (the user's classes and functions known by name to configs)."""
from ..serialization import CustomObjectScope, custom_object_scope, get_custom_objects
from ..training import Sequence
from . import np_utils
from .np_utils import to_categorical

__all__ = ["np_utils", "to_categorical", "Sequence", "CustomObjectScope", "custom_object_scope",
           "get_custom_objects"]
