"""Layer wrappers: ``Bidirectional`` (a recurrent layer run both ways) and ``TimeDistributed`` (from ``core``).

    model.add(Bidirectional(LSTM(16, return_sequences=True), input_shape=(10, 8)))   # (None, 10, 32)
    out, h_fw, c_fw, h_bw, c_bw = Bidirectional(LSTM(16, return_state=True))(x)
"""
import copy

import minigrad as mg

from . import serialization
from .base import Layer
from .core import TimeDistributed
from .recurrent import RNN, _set_dtype, split_state_list

__all__ = ["Bidirectional", "TimeDistributed"]

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _classes(layer):
    """{class name: class} of a layer, its cell and the cells that cell stacks: what a copy by config needs, so a
    user's cell need not be registered to be wrapped."""
    found = {type(layer).__name__: type(layer)}
    for inner in [getattr(layer, "cell", None), *getattr(layer, "cells", [])]:
        if isinstance(inner, Layer):
            found.update(_classes(inner))
    return found


def _copy(layer, name, go_backwards):
    """A new layer like ``layer`` (fresh weights), named ``name``, reading the sequence forwards or backwards: made
    from ``serialization.serialize(layer)``, or, for a user's layer or cell whose config does not give back its
    constructor arguments (no get_config of its own, or a cell that is not a Layer), as a deep copy of the unbuilt
    layer."""
    try:
        config = serialization.serialize(layer)
        config["config"] = dict(config["config"], name=name, go_backwards=go_backwards)
        new = serialization.deserialize(config, custom_objects=_classes(layer))
    except TypeError:  # no config (a cell that is not a Layer), or one its constructor cannot take
        new = copy.deepcopy(layer)
        if new.built:
            raise TypeError(f"Bidirectional cannot copy the built layer {layer.name!r}: give its classes a "
                            "get_config(), or wrap an unbuilt layer") from None
        new.name, new.go_backwards = name, go_backwards
    if type(new).__name__ == "RNN" or not hasattr(type(new), "cell_class"):  # a user's cell: named per direction
        new.cell.name = f"{name.split('_', 1)[0]}_{layer.cell.name}"
    if new.dtype != layer.dtype:
        new.dtype = layer.dtype
        _set_dtype(new.cell, layer.dtype)
    return new


class Bidirectional(Layer):
    """A recurrent layer run over the sequence in both directions, the two outputs merged.

    layer: a recurrent layer (an ``RNN``: SimpleRNN, GRU, LSTM, RNN over any cell). Two copies are made from its
        config: ``forward_layer`` (``forward_<name>``) and ``backward_layer`` (``backward_<name>``, with
        ``go_backwards`` flipped), each with its own weights; ``layer`` itself is kept for the config.
    merge_mode: how the outputs combine: 'concat' (default, last axis doubled), 'sum', 'mul', 'ave', or None (a
        list [forward output, backward output]).
    weights: initial weights, the forward layer's then the backward layer's (``get_weights()`` order).

    With ``return_sequences`` the backward layer's outputs are reversed back, so that step t of both directions is
    aligned; the mask is handed on unchanged. With ``return_state`` the call returns a flat list ``[output,
    *forward_states, *backward_states]`` (merge_mode=None: ``[forward_output, backward_output, *forward_states,
    *backward_states]``), and an ``initial_state`` list is split in half the same way. Each direction follows the
    masking rule (state and output carry over at masked steps). ``stateful`` layers carry both directions' states.
    """
    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, **kwargs):
        if not isinstance(layer, RNN):
            raise TypeError(f"Bidirectional wraps a recurrent layer (an RNN: SimpleRNN, GRU, LSTM or RNN(cell)), got "
                            f"{type(layer).__name__}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Bidirectional: unknown merge_mode {merge_mode!r}; expected one of 'concat', 'sum', "
                             "'mul', 'ave' or None")
        if not any(kwargs.get(k) is not None for k in ("input_shape", "batch_input_shape", "input_dim")) \
                and layer.batch_input_shape is not None:
            kwargs["batch_input_shape"] = layer.batch_input_shape  # Bidirectional(LSTM(8, input_shape=...)) first
        super().__init__(weights=weights, **kwargs)
        if kwargs.get("dtype") is None:
            self.dtype = layer.dtype  # the wrapper computes in its layer's float type
        self.layer = layer
        self.merge_mode = merge_mode
        self.forward_layer = _copy(layer, f"forward_{layer.name}", layer.go_backwards)
        self.backward_layer = _copy(layer, f"backward_{layer.name}", not layer.go_backwards)
        if layer.built:  # a built layer hands its weights to the forward copy
            self.forward_layer._initial_weights = layer.get_weights()
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state
        self.stateful = layer.stateful

    # ------------------------------------------------------------ states
    @property
    def state_size(self):
        return self.forward_layer.state_size + self.backward_layer.state_size

    @property
    def state_names(self):
        return tuple(f"forward_{n}" for n in self.forward_layer.state_names) + \
            tuple(f"backward_{n}" for n in self.backward_layer.state_names)

    @property
    def states(self):
        """The carried states of a stateful layer: the forward layer's, then the backward layer's."""
        return list(self.forward_layer.states) + list(self.backward_layer.states)

    @states.setter
    def states(self, states):
        n = len(self.forward_layer.state_size)
        self.forward_layer.states, self.backward_layer.states = list(states[:n]), list(states[n:])

    def reset_states(self, states=None):
        """Zero both directions' carried states, or set them from arrays: the forward layer's, then the backward's."""
        if not self.stateful:
            raise AttributeError(f"layer {self.name!r} is not stateful: reset_states() needs stateful=True")
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        n = len(self.forward_layer.state_size)
        if len(states) != 2 * n:
            raise ValueError(f"layer {self.name!r} expects {2 * n} states (the forward layer's {n}, then the "
                             f"backward layer's {n}), but received {len(states)} state value(s)")
        before = self.forward_layer.states
        self.forward_layer.reset_states(states[:n])
        try:
            self.backward_layer.reset_states(states[n:])
        except Exception:  # all or nothing
            self.forward_layer.states = before
            raise

    # ------------------------------------------------------------ weights and shapes
    @property
    def trainable_weights(self):
        """The forward layer's trainable weights, then the backward layer's (a frozen direction keeps its own
        out); none while the wrapper is frozen."""
        if not self.trainable:
            return []
        return self.forward_layer.trainable_weights + self.backward_layer.trainable_weights

    def build(self, input_shape):
        self.forward_layer._maybe_build(tuple(input_shape))
        self.backward_layer._maybe_build(tuple(input_shape))
        self._weights = self.forward_layer._weights + self.backward_layer._weights
        self.input_spec_shape = self.forward_layer.input_spec_shape
        self.built = True

    def check_input_shape(self, shape):
        self.forward_layer.check_input_shape(shape)

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            shape = tuple(shape[:-1]) + (None if shape[-1] is None else 2 * shape[-1],)
        if self.return_state:
            head = [shape, shape] if self.merge_mode is None else [shape]
            return head + states + list(states)
        return [shape, shape] if self.merge_mode is None else shape

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None  # both outputs are in input order: the mask as it came
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return outs + [None] * len(self.state_size)
        return outs if self.merge_mode is None else out

    # ------------------------------------------------------------ the forward pass
    def __call__(self, inputs, *args, **kwargs):
        # Bidirectional([x, *initial_states]) is Bidirectional(x, initial_state=[...]), as for RNN
        inputs = split_state_list(self, inputs, kwargs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, mask=None, training=False, initial_state=None):
        forward_state = backward_state = None
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            n = len(self.forward_layer.state_size)
            if len(states) != 2 * n:
                raise ValueError(f"layer {self.name!r} expects {2 * n} initial states (the forward layer's "
                                 f"{n}, then the backward layer's {n}), but was passed {len(states)}")
            forward_state, backward_state = states[:n], states[n:]
        y = self.forward_layer(inputs, mask=mask, training=training, initial_state=forward_state)
        y_rev = self.backward_layer(inputs, mask=mask, training=training, initial_state=backward_state)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]  # the backward outputs back in input order: step t of both aligned
        if self.merge_mode == "concat":
            out = [mg.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            out = [y + y_rev]
        elif self.merge_mode == "ave":
            out = [(y + y_rev) * 0.5]
        elif self.merge_mode == "mul":
            out = [y * y_rev]
        else:
            out = [y, y_rev]
        if self.return_state or self.merge_mode is None:
            return out + states
        return out[0]

    def _record_activity(self, out):
        super()._record_activity(out)  # the wrapper's own, then each direction's (their calls recorded them)
        self._activity_losses = (self.forward_layer.activity_losses + self.backward_layer.activity_losses
                                 + self._activity_losses)

    # ------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.setdefault("dtype", self.dtype.name)
        config.update({"layer": serialization.serialize(self.layer), "merge_mode": self.merge_mode})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if "layer" not in config:
            raise ValueError(f"a Bidirectional config needs its 'layer' (a serialized recurrent layer), got keys "
                             f"{sorted(config)}")
        layer = serialization.deserialize(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)
