"""Keras-2.0-style layers and models on minigrad."""
from . import activations, constraints, initializers, regularizers
from .base import Layer
from .core import Activation, Dense, Dropout, Embedding, Flatten, Masking, TimeDistributed
from .recurrent import GRU, LSTM, Recurrent, SimpleRNN
from .functional import Input, Model
from .sequential import Sequential
from .serialization import deserialize, register, serialize
from .models import load_model, model_from_config, model_from_json
from . import preprocessing, utils  # Keras 2.0's keras.preprocessing.sequence and keras.utils
from . import embeddings, merge
from .core import Lambda, Permute, RepeatVector, Reshape
from .merge import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average, concatenate,
                    dot, maximum, minimum, multiply, subtract)

__all__ = ["Sequential", "Input", "Model", "Layer", "Recurrent", "SimpleRNN", "GRU", "LSTM", "Dense", "Activation",
           "Dropout", "Flatten", "Masking", "Embedding", "TimeDistributed",
           "activations", "initializers", "regularizers", "constraints",
           "serialize", "deserialize", "register", "load_model", "model_from_json", "model_from_config",
           "preprocessing", "utils", "embeddings", "merge",
           "RepeatVector", "Reshape", "Permute", "Lambda",
           "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]
