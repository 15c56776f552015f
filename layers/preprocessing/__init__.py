"""Data preprocessing with Keras 2.0's module layout: ``layers.preprocessing.sequence.pad_sequences``."""
from . import sequence
from .sequence import pad_sequences

__all__ = ["sequence", "pad_sequences"]
