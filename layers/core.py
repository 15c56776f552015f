"""The non-recurrent layers: Dense, Activation, Dropout, Flatten, Masking, Embedding, TimeDistributed."""
import numbers

import numpy as np

import minigrad as mg

from . import activations, constraints, initializers, regularizers
from .base import Layer, check_positive_int, is_positive_int, shape_str
from .serialization import deserialize, serialize, serialize_object


def _check_rate(name, rate):
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {rate!r}")
    return float(rate)


def _check_bool(owner, name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{owner}: `{name}` must be True or False, got {value!r}")
    return bool(value)


def dropout_mask(shape, rate, dtype):
    """An inverted-dropout mask: entries 0 with probability ``rate``, else 1/(1-rate); drawn from mg.get_rng()."""
    keep = mg.get_rng().random(shape) >= rate
    return keep.astype(dtype) / np.asarray(1 - rate, dtype=dtype)


class Dense(Layer):
    """``activation(inputs @ kernel + bias)`` on the last axis; inputs (batch, ..., input_dim) -> (batch, ..., units).

    ``call(inputs, apply_activation=False)`` returns the pre-activation (the logits), which lets a loss be computed
    stably from logits.
    """
    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        units = check_positive_int("Dense", "units", units)
        activation = activations.get(activation)
        use_bias = _check_bool("Dense", "use_bias", use_bias)
        kernel_initializer, bias_initializer = initializers.get(kernel_initializer), initializers.get(bias_initializer)
        kernel_regularizer, bias_regularizer = regularizers.get(kernel_regularizer), regularizers.get(bias_regularizer)
        kernel_constraint, bias_constraint = constraints.get(kernel_constraint), constraints.get(bias_constraint)
        super().__init__(**kwargs)
        self.units = units
        self.activation = activation
        self.use_bias = use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"layer {self.name!r} expects input of ndim >= 2, found shape {shape_str(input_shape)}")
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(f"layer {self.name!r} needs a known last axis (input_dim), found shape "
                             f"{shape_str(input_shape)}")
        self.kernel = self.add_weight("kernel", (dim, self.units), self.kernel_initializer, self.kernel_regularizer,
                                      self.kernel_constraint)
        self.bias = (self.add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer,
                                     self.bias_constraint) if self.use_bias else None)
        self.input_spec_shape = (None,) * (len(input_shape) - 1) + (dim,)
        self.built = True

    def check_input_shape(self, shape):
        if len(shape) < 2 or shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"layer {self.name!r} expects input of ndim >= 2 with last axis {self.kernel.shape[0]}, "
                             f"found shape {shape_str(shape)}")

    def call(self, inputs, mask=None, training=False, apply_activation=True):
        z = inputs @ self.kernel
        if self.bias is not None:
            z = z + self.bias
        return self.activation(z) if apply_activation else z

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": serialize_object(self.activation, "activation"), "use_bias": self.use_bias,
                "kernel_initializer": serialize_object(self.kernel_initializer, "initializer"),
                "bias_initializer": serialize_object(self.bias_initializer, "initializer"),
                "kernel_regularizer": serialize_object(self.kernel_regularizer, "regularizer"),
                "bias_regularizer": serialize_object(self.bias_regularizer, "regularizer"),
                "kernel_constraint": serialize_object(self.kernel_constraint, "constraint"),
                "bias_constraint": serialize_object(self.bias_constraint, "constraint")}


class Activation(Layer):
    """Apply an activation (by name or callable) elementwise."""
    supports_masking = True

    def __init__(self, activation, **kwargs):
        activation = activations.get(activation)
        super().__init__(**kwargs)
        self.activation = activation

    def call(self, inputs, mask=None, training=False, apply_activation=True):
        return self.activation(inputs) if apply_activation else inputs

    def get_config(self):
        return {**super().get_config(), "activation": serialize_object(self.activation, "activation")}


class Dropout(Layer):
    """Inverted dropout of the inputs, only with ``training=True``. ``noise_shape`` (with None for the input's own
    sizes) shares a mask along axes of size 1, e.g. ``(None, 1, features)`` for one mask per sequence.

    ``seed`` is kept in the config for Keras compatibility; masks come from the project's one generator
    (``mg.seed`` makes them reproducible, and ``layers.tools`` can record and replay them).
    """
    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        rate = _check_rate("Dropout: `rate`", rate)
        if noise_shape is not None:
            if not isinstance(noise_shape, (tuple, list)) or not all(
                    d is None or is_positive_int(d) for d in noise_shape):
                raise ValueError(f"Dropout: `noise_shape` must be None or a tuple of positive integers and None "
                                 f"(one entry per input axis), got {noise_shape!r}")
            noise_shape = tuple(None if d is None else int(d) for d in noise_shape)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
            raise ValueError(f"Dropout: `seed` must be None or a non-negative integer, got {seed!r}")
        super().__init__(**kwargs)
        self.rate, self.noise_shape, self.seed = rate, noise_shape, seed

    def _noise_shape(self, shape):
        if self.noise_shape is None:
            return shape
        if len(self.noise_shape) != len(shape):
            raise ValueError(f"layer {self.name!r}: noise_shape {shape_str(self.noise_shape)} has rank "
                             f"{len(self.noise_shape)}, but the input of shape {shape_str(shape)} has rank "
                             f"{len(shape)}; give one entry per input axis (None for the input's own size)")
        out = tuple(s if n is None else n for n, s in zip(self.noise_shape, shape))
        if any(s is not None and n not in (1, s) for n, s in zip(out, shape)):
            raise ValueError(f"layer {self.name!r}: noise_shape {shape_str(self.noise_shape)} does not fit the input "
                             f"of shape {shape_str(shape)}: each entry must be None, 1 or the input's size")
        return out

    def check_input_shape(self, shape):
        if self.noise_shape is not None:
            self._noise_shape(shape)

    def call(self, inputs, mask=None, training=False):
        if not training or self.rate == 0:
            return inputs
        return inputs * dropout_mask(self._noise_shape(inputs.shape), self.rate, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1*d2*...). ``data_format='channels_first'`` (later Keras 2) flattens as if
    the channel axis (axis 1) were last, so the result matches a channels-last layout."""

    def __init__(self, data_format=None, **kwargs):
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"Flatten: `data_format` must be None, 'channels_last' or 'channels_first', got "
                             f"{data_format!r}")
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, inputs, mask=None, training=False):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = mg.transpose(inputs, (0,) + tuple(range(2, inputs.ndim)) + (1,))
        return inputs.reshape(inputs.shape[0], -1)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if any(d is None for d in rest):
            raise ValueError(f"Flatten needs fully known non-batch input sizes, got {shape_str(input_shape)}; pass "
                             "`input_length` (or input_shape) to the first layer")
        return (input_shape[0], int(np.prod(rest)))


class Masking(Layer):
    """Mask timesteps whose features all equal ``mask_value``: (batch, timesteps, features) -> same, with mask
    ``any(x != mask_value, axis=-1)``; masked steps are zeroed in the output, as Keras does."""
    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
            raise ValueError(f"Masking: `mask_value` must be a number, got {mask_value!r}")
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None):
        data = inputs.data if isinstance(inputs, mg.Tensor) else np.asarray(inputs)
        return np.any(data != self.mask_value, axis=-1)

    def call(self, inputs, mask=None, training=False):
        keep = self.compute_mask(inputs)[..., None].astype(inputs.dtype)
        return inputs * keep

    def get_config(self):
        value = self.mask_value
        return {**super().get_config(), "mask_value": value.item() if isinstance(value, np.generic) else value}


class Embedding(Layer):
    """Integer ids (batch, timesteps) -> vectors (batch, timesteps, output_dim). ``mask_zero=True`` makes id 0 a
    padding value: the mask is ``ids != 0`` and ``input_dim`` must count it. ``input_length`` fixes (and checks)
    the number of timesteps."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 activity_regularizer=None, embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        input_dim = check_positive_int("Embedding", "input_dim", input_dim)
        output_dim = check_positive_int("Embedding", "output_dim", output_dim)
        if input_length is not None:
            input_length = check_positive_int("Embedding", "input_length", input_length)
        mask_zero = _check_bool("Embedding", "mask_zero", mask_zero)
        embeddings_initializer = initializers.get(embeddings_initializer)
        embeddings_regularizer = regularizers.get(embeddings_regularizer)
        embeddings_constraint = constraints.get(embeddings_constraint)
        if kwargs.get("dtype") is not None and np.dtype(kwargs["dtype"]).kind in "iu":
            kwargs.pop("dtype")  # Keras configs may name the ids' integer dtype; the vectors stay floating
        if kwargs.get("input_shape") is None and kwargs.get("batch_input_shape") is None:
            kwargs["input_shape"] = (input_length,)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.vocab_size, self.output_dim = input_dim, output_dim
        self.embeddings_initializer = embeddings_initializer
        self.embeddings_regularizer, self.embeddings_constraint = embeddings_regularizer, embeddings_constraint
        self.mask_zero, self.supports_masking = mask_zero, mask_zero
        self._input_length = input_length

    @property
    def input_dim(self):  # Keras' name for the vocabulary size
        return self.vocab_size

    @property
    def input_length(self):
        return self._input_length

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.vocab_size, self.output_dim),
                                          self.embeddings_initializer, self.embeddings_regularizer,
                                          self.embeddings_constraint)
        self.built = True

    def _prepare_inputs(self, inputs):
        ids = inputs.data if isinstance(inputs, mg.Tensor) else np.asarray(inputs)
        if ids.dtype.kind == "f":
            if not np.all(ids == np.round(ids)):
                raise ValueError(f"layer {self.name!r} expects integer ids, got non-integer values")
            ids = ids.astype(np.int64)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"layer {self.name!r} expects integer ids, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"layer {self.name!r}: ids must lie in [0, {self.vocab_size}), found "
                             f"min {ids.min()} and max {ids.max()}")
        return mg.Tensor(ids)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        data = inputs.data if isinstance(inputs, mg.Tensor) else np.asarray(inputs)
        return data != 0

    def call(self, inputs, mask=None, training=False):
        return self.embeddings[inputs.data]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.vocab_size, "output_dim": self.output_dim,
                "embeddings_initializer": serialize_object(self.embeddings_initializer, "initializer"),
                "embeddings_regularizer": serialize_object(self.embeddings_regularizer, "regularizer"),
                "embeddings_constraint": serialize_object(self.embeddings_constraint, "constraint"),
                "mask_zero": self.mask_zero, "input_length": self._input_length}


class TimeDistributed(Layer):
    """Apply ``layer`` to every timestep: (batch, timesteps, ...) -> (batch, timesteps, ...layer output).

    The timesteps are folded into the batch, so the wrapped layer runs once (one large product), not per step.
    The wrapped layer's weights are this layer's weights (a Sequential model can be wrapped too).
    """
    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise TypeError(f"TimeDistributed wraps a Layer, got {type(layer).__name__}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"TimeDistributed expects input of ndim >= 3 (batch, timesteps, ...), found shape "
                             f"{shape_str(input_shape)}")
        inner = (input_shape[0],) + tuple(input_shape[2:])
        if self.layer.batch_input_shape is not None:
            self.layer.check_declared_shape(inner)
        self.layer._maybe_build(inner)
        self.layer.check_input_shape(inner)
        self.built = True

    @property
    def weights(self):
        return self.layer.weights

    @property
    def trainable_weights(self):
        return self.layer.trainable_weights if self.trainable else []

    @property
    def activation(self):
        return getattr(self.layer, "activation", None)

    @property
    def activity_losses(self):
        return self.layer.activity_losses + list(self._activity_losses)

    def call(self, inputs, mask=None, training=False, **kwargs):
        b, t = inputs.shape[:2]
        flat = inputs.reshape((b * t,) + inputs.shape[2:])
        out = self.layer(flat, training=training, **kwargs)  # through __call__: the inner layer's checks and penalties
        return out.reshape((b, t) + out.shape[1:])

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((input_shape[0],) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def get_config(self):
        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if "layer" not in config:
            raise ValueError("a TimeDistributed config needs the wrapped 'layer' ({'class_name', 'config'})")
        layer = deserialize(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)
