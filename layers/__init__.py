"""Keras-2.0-style layers and models on minigrad.

The modules follow Keras 2.0's layout (``layers.core``, ``layers.recurrent``, ``layers.embeddings``,
``layers.wrappers``, ``layers.merge``, ``layers.utils``, ``layers.preprocessing.sequence``); every layer is also
importable from ``layers`` itself, as from ``keras.layers``.
"""
from . import activations, constraints, embeddings, initializers, merge, preprocessing, regularizers, utils, wrappers
from .base import Layer
from .core import (
    Activation,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    Lambda,
    Masking,
    Permute,
    RepeatVector,
    Reshape,
    TimeDistributed,
)
from .functional import Input, Model
from .merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .models import load_model, model_from_config, model_from_json
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, Recurrent, SimpleRNN, SimpleRNNCell, StackedRNNCells
from .sequential import Sequential
from .serialization import deserialize, register, serialize
from .wrappers import Bidirectional

__all__ = ["Sequential", "Input", "Model", "Layer", "Dense", "Activation", "Dropout", "Flatten", "Masking",
           "Embedding", "TimeDistributed", "Recurrent", "RNN", "SimpleRNN", "GRU", "LSTM", "SimpleRNNCell", "GRUCell",
           "LSTMCell", "StackedRNNCells", "Bidirectional",
           "activations", "initializers", "regularizers", "constraints",
           "serialize", "deserialize", "register", "load_model", "model_from_json", "model_from_config",
           "preprocessing", "utils", "embeddings", "merge", "wrappers",
           "RepeatVector", "Reshape", "Permute", "Lambda",
           "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]
