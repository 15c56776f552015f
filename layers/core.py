"""The non-recurrent layers: Dense, Activation, Dropout, Flatten, Masking, Embedding, TimeDistributed."""
import numpy as np

import minigrad as mg

from . import activations
from .base import Layer, shape_str


def _check_rate(name, rate):
    if not 0 <= rate < 1:
        raise ValueError(f"{name} must be in [0, 1), got {rate!r}")
    return float(rate)


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
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"layer {self.name!r} expects input of ndim >= 2, found shape {shape_str(input_shape)}")
        dim = input_shape[-1]
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

    @property
    def input_shape(self):
        if self.batch_input_shape is not None:
            return self.batch_input_shape
        return super().input_shape

    def call(self, inputs, mask=None, training=False, apply_activation=True):
        z = inputs @ self.kernel
        if self.bias is not None:
            z = z + self.bias
        return self.activation(z) if apply_activation else z

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)


class Activation(Layer):
    """Apply an activation (by name or callable) elementwise."""
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs, mask=None, training=False, apply_activation=True):
        return self.activation(inputs) if apply_activation else inputs


class Dropout(Layer):
    """Inverted dropout of the inputs, only with ``training=True``. ``noise_shape`` (with None for the input's own
    sizes) shares a mask along axes of size 1, e.g. ``(None, 1, features)`` for one mask per sequence."""
    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_rate("Dropout rate", rate)
        self.noise_shape, self.seed = noise_shape, seed

    def call(self, inputs, mask=None, training=False):
        if not training or self.rate == 0:
            return inputs
        shape = inputs.shape if self.noise_shape is None else tuple(
            s if n is None else n for n, s in zip(self.noise_shape, inputs.shape))
        return inputs * dropout_mask(shape, self.rate, inputs.dtype)


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1*d2*...)."""

    def call(self, inputs, mask=None, training=False):
        return inputs.reshape(inputs.shape[0], -1)

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
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None):
        data = inputs.data if isinstance(inputs, mg.Tensor) else np.asarray(inputs)
        return np.any(data != self.mask_value, axis=-1)

    def call(self, inputs, mask=None, training=False):
        keep = self.compute_mask(inputs)[..., None].astype(inputs.dtype)
        return inputs * keep


class Embedding(Layer):
    """Integer ids (batch, timesteps) -> vectors (batch, timesteps, output_dim). ``mask_zero=True`` makes id 0 a
    padding value: the mask is ``ids != 0`` and ``input_dim`` must count it."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 activity_regularizer=None, embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        if input_length is not None and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (None,)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"Embedding: {arg} must be a positive integer, got {value!r}")
        self.vocab_size, self.output_dim = int(input_dim), int(output_dim)
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


class TimeDistributed(Layer):
    """Apply ``layer`` to every timestep: (batch, timesteps, ...) -> (batch, timesteps, ...layer output).

    The timesteps are folded into the batch, so the wrapped layer runs once (one large product), not per step.
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
        self.layer._maybe_build((None,) + tuple(input_shape[2:]))
        self._weights = self.layer._weights  # the wrapped layer's weights are this layer's weights
        self.built = True

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
