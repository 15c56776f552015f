"""Keras-2.0-style layers and models on minigrad."""
from . import activations, constraints, initializers, regularizers
from .base import Layer
from .core import Activation, Dense, Dropout, Embedding, Flatten, Masking, TimeDistributed
from .functional import Input, Model
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, Recurrent, SimpleRNN, SimpleRNNCell, StackedRNNCells
from .sequential import Sequential
from .serialization import deserialize, register, serialize
from .wrappers import Bidirectional
from .models import load_model, model_from_config, model_from_json
from . import preprocessing, utils  # Keras 2.0's keras.preprocessing.sequence and keras.utils
from . import embeddings, merge, wrappers
from .core import Lambda, Permute, RepeatVector, Reshape
from .merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average, concatenate,
                    dot, maximum, minimum, multiply, subtract)

__all__ = ["Sequential", "Input", "Model", "Layer", "Dense", "Activation", "Dropout", "Flatten", "Masking",
           "Embedding", "TimeDistributed", "Recurrent", "RNN", "SimpleRNN", "GRU", "LSTM", "SimpleRNNCell", "GRUCell",
           "LSTMCell", "StackedRNNCells", "Bidirectional",
           "activations", "initializers", "regularizers", "constraints",
           "serialize", "deserialize", "register", "load_model", "model_from_json", "model_from_config",
           "preprocessing", "utils", "embeddings", "merge",
           "RepeatVector", "Reshape", "Permute", "Lambda",
           "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]
