"""Keras-2.0-style layers and models on minigrad."""
from . import activations, constraints, initializers, regularizers
from .base import Layer
from .core import Activation, Dense, Dropout, Embedding, Flatten, Masking, TimeDistributed
from .functional import Input, Model
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, Recurrent, SimpleRNN, SimpleRNNCell, StackedRNNCells
from .sequential import Sequential
from .serialization import deserialize, register, serialize
from .wrappers import Bidirectional

__all__ = ["Sequential", "Input", "Model", "Layer", "Dense", "Activation", "Dropout", "Flatten", "Masking",
           "Embedding", "TimeDistributed", "Recurrent", "RNN", "SimpleRNN", "GRU", "LSTM", "SimpleRNNCell", "GRUCell",
           "LSTMCell", "StackedRNNCells", "Bidirectional",
           "activations", "initializers", "regularizers", "constraints",
           "serialize", "deserialize", "register"]
