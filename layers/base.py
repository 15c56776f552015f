"""``Layer``: the base of every layer. Weights are built on the first call, from the input's shape.

A layer is called eagerly on a Tensor or ndarray and returns a ``minigrad.Tensor``; the call is recorded on the tape
like any op, so ``backward()`` reaches the layer's weights. Called on a symbolic tensor from ``Input(...)``, it
records a node of a functional graph instead (see ``layers/graph.py``).
"""
import re
import warnings
from collections import defaultdict

import numpy as np

import minigrad as mg

from . import constraints, initializers, regularizers, serialization

_name_counts = defaultdict(int)


def _snake(name):
    """``SimpleRNN`` -> ``simple_rnn``, ``TimeDistributed`` -> ``time_distributed`` (acronyms stay one word)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def unique_name(prefix):
    """Keras-style automatic names: ``lstm_1``, ``lstm_2``, ..."""
    _name_counts[prefix] += 1
    return f"{prefix}_{_name_counts[prefix]}"


def to_tensor(x, dtype=None):
    """Wrap an ndarray (or list) as a Tensor; floating arrays are cast to ``dtype`` (the layer's float type)."""
    if isinstance(x, mg.Tensor):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"expected a numeric array or minigrad.Tensor, got {type(x).__name__} of dtype {arr.dtype}")
    if dtype is not None and arr.dtype.kind == "f" and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return mg.Tensor(arr)


def shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def pop_legacy_kwargs(layer_name, kwargs, renames):
    """Move Keras 1 argument names to their Keras 2 names with a DeprecationWarning.

    renames: {old_name: (new_name, value_map or None)}. Giving both the old and the new name raises TypeError.
    """
    for old, (new, value_map) in renames.items():
        if old not in kwargs:
            continue
        value = kwargs.pop(old)
        if new in kwargs:
            raise TypeError(f"{layer_name} received both the Keras 1 argument `{old}` and the Keras 2 argument "
                            f"`{new}`; pass only `{new}`")
        if value_map is not None:
            value = value_map(value)
        warnings.warn(f"{layer_name}: `{old}` is a Keras 1 name, use `{new}` instead", DeprecationWarning,
                      stacklevel=4)
        kwargs[new] = value
    return kwargs


class Layer:
    """Base layer.

    Keyword arguments every layer takes: ``name``, ``trainable``, ``input_shape`` (without the batch),
    ``batch_input_shape`` (with it), ``batch_size``, ``input_dim``, ``input_length`` (for layers whose input is a
    sequence), ``weights`` (initial values, set right after build), ``dtype`` (default float32).
    Subclasses implement ``build(input_shape)``, ``call(inputs, mask=None, training=False)`` and
    ``compute_output_shape(input_shape)``; masking layers also ``compute_mask(inputs, mask)``.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.split(".")[0] == "layers":  # the package's own layers; a user's joins with register
            serialization.register(cls)

    _allowed_kwargs = {"name", "trainable", "input_shape", "batch_input_shape", "batch_size", "input_dim",
                       "input_length", "weights", "dtype", "activity_regularizer"}
    supports_masking = False

    def __init__(self, **kwargs):
        unknown = set(kwargs) - self._allowed_kwargs
        if unknown:
            raise TypeError(f"{type(self).__name__}: keyword argument(s) not understood: {', '.join(sorted(unknown))}")
        self.name = kwargs.get("name") or unique_name(_snake(type(self).__name__))
        self.trainable = kwargs.get("trainable", True)
        self.dtype = np.dtype(kwargs.get("dtype") or "float32")
        self.activity_regularizer = regularizers.get(kwargs.get("activity_regularizer"))
        self._initial_weights = kwargs.get("weights")
        self._weights = []           # every weight Tensor, in creation (Keras) order
        self._activity_losses = []
        self.built = False
        self.input_spec_shape = None  # the input shape (batch included) fixed at build; None entries are free
        self._build_shape = None
        self.batch_input_shape = self._batch_input_shape_from(kwargs)

    def _batch_input_shape_from(self, kwargs):
        if kwargs.get("batch_input_shape") is not None:
            return tuple(kwargs["batch_input_shape"])
        if kwargs.get("input_shape") is not None:
            return (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
        if kwargs.get("input_dim") is not None:
            if kwargs.get("input_length") is not None:
                return (kwargs.get("batch_size"), kwargs["input_length"], kwargs["input_dim"])
            return (kwargs.get("batch_size"), kwargs["input_dim"])
        return None

    # ------------------------------------------------------------ weights
    def add_weight(self, name, shape, initializer="zeros", regularizer=None, constraint=None, trainable=True,
                   value=None):
        """Create a weight Tensor, initialised by ``initializer`` (or set to ``value``), and register it."""
        data = value if value is not None else initializers.get(initializer)(tuple(shape), dtype=self.dtype)
        w = mg.Tensor(np.asarray(data, dtype=self.dtype), requires_grad=trainable and self.trainable,
                      name=f"{self.name}/{name}")
        w.regularizer = regularizers.get(regularizer)
        w.constraint = constraints.get(constraint)
        self._weights.append(w)
        return w

    @property
    def weights(self):
        return list(self._weights)

    @property
    def trainable_weights(self):
        return [w for w in self._weights if w.requires_grad] if self.trainable else []

    @property
    def non_trainable_weights(self):
        return [w for w in self._weights if not (self.trainable and w.requires_grad)]

    def count_params(self):
        return int(sum(w.size for w in self._weights))

    def get_weights(self):
        """Copies of the weights as ndarrays, in Keras order."""
        return [w.data.copy() for w in self._weights]

    def set_weights(self, weights):
        """Set every weight from a list of ndarrays; checks count and shapes first, so a bad list changes nothing."""
        weights = list(weights)
        if not self.built:
            raise RuntimeError(f"layer {self.name!r} has no weights yet: call it on an input (or build it) first")
        if len(weights) != len(self._weights):
            raise ValueError(f"layer {self.name!r} expects {len(self._weights)} weights of shapes "
                             f"{[w.shape for w in self._weights]}, but got a list of {len(weights)}")
        arrays = []
        for w, new in zip(self._weights, weights):
            new = np.asarray(new)
            if new.shape != w.shape:
                raise ValueError(f"layer {self.name!r}: weight {w.name!r} has shape {w.shape}, but the provided "
                                 f"array has shape {new.shape} (expected shapes: {[v.shape for v in self._weights]})")
            arrays.append(new)
        for w, new in zip(self._weights, arrays):
            w.data = np.array(new, dtype=w.dtype)

    # ------------------------------------------------------------ losses
    @property
    def losses(self):
        """Regularisation penalties as scalar Tensors: weight penalties (on the current weights) and the
        activity penalties of the latest call."""
        out = [w.regularizer(w) for w in self._weights if w.regularizer is not None]
        return out + self.activity_losses

    @property
    def activity_losses(self):
        """The activity penalties of the latest call (scalar Tensors)."""
        return list(self._activity_losses)

    # ------------------------------------------------------------ shapes and masks
    def build(self, input_shape):
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, mask=None):
        return mask if self.supports_masking else None

    @property
    def input_shape(self):
        """The input shape with the batch axis (None unless fixed by ``batch_input_shape``)."""
        if self.batch_input_shape is not None:
            return self.batch_input_shape
        if self._build_shape is not None:
            return self._build_shape
        raise AttributeError(f"layer {self.name!r} has no known input shape yet (it has not been called or built)")

    @property
    def output_shape(self):
        return self.compute_output_shape(self.input_shape)

    @property
    def input_dim(self):
        return self.input_shape[-1]

    @property
    def input_length(self):
        return self.input_shape[1] if len(self.input_shape) > 2 else None

    def check_input_shape(self, shape):
        """Raise ValueError if ``shape`` does not fit the shape fixed at build (None entries match anything)."""
        spec = self.input_spec_shape
        if spec is None:
            return
        if len(shape) != len(spec):
            raise ValueError(f"layer {self.name!r} expects input of ndim={len(spec)} (shape {shape_str(spec)}), "
                             f"found ndim={len(shape)} (shape {shape_str(shape)})")
        for want, got in zip(spec, shape):
            if want is not None and got is not None and want != got:
                raise ValueError(f"layer {self.name!r} is incompatible with the input: expected shape "
                                 f"{shape_str(spec)}, found shape {shape_str(shape)}")

    def _maybe_build(self, shape):
        if not self.built:
            self._build_shape = (None,) + tuple(shape[1:])
            self.build(tuple(shape))
            self.built = True
            if self._initial_weights is not None:
                initial, self._initial_weights = self._initial_weights, None
                self.set_weights(initial)

    # ------------------------------------------------------------ calling
    def __call__(self, inputs, *args, **kwargs):
        from . import graph  # the functional API; imported late because it builds on this module
        if graph.is_symbolic(inputs, kwargs):
            return graph.call_symbolic(self, inputs, *args, **kwargs)
        mask = kwargs.pop("mask", None)
        if mask is not None and not self.supports_masking:
            raise TypeError(f"layer {self.name!r} ({type(self).__name__}) does not support masking, but was passed "
                            "an input mask; remove the masking layer or use a layer that handles masks")
        x = self._prepare_inputs(inputs)
        shape = x.shape if isinstance(x, mg.Tensor) else x[0].shape
        self._maybe_build(shape)
        self.check_input_shape(shape)
        out = self.call(x, *args, mask=mask, **kwargs)
        self._record_activity(out)
        return out

    def _prepare_inputs(self, inputs):
        if isinstance(inputs, (list, tuple)):
            return [to_tensor(t, self.dtype) for t in inputs]
        return to_tensor(inputs, self.dtype)

    def _record_activity(self, out):
        if self.activity_regularizer is None:
            self._activity_losses = []
            return
        outs = out if isinstance(out, (list, tuple)) else [out]
        self._activity_losses = [self.activity_regularizer(o) for o in outs]

    def call(self, inputs, mask=None, training=False):
        return inputs

    def get_config(self):
        """The constructor arguments as a JSON-safe dict (see ``layers.serialization``); subclasses extend it."""
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new layer from ``get_config()``'s output (fresh weights). Containers and wrappers override this to
        rebuild their nested layers with ``serialization.deserialize(..., custom_objects)``."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"
