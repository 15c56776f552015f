"""Keras 2.0's module path ``keras.layers.embeddings``: ``Embedding`` (defined in ``layers.core``)."""
from .core import Embedding

__all__ = ["Embedding"]
