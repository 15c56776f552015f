"""The non-recurrent layers: Dense, Activation, Dropout, Flatten, Masking, Embedding, TimeDistributed."""
import numbers

import numpy as np

import minigrad as mg

from . import activations, constraints, initializers, regularizers
from .base import Layer, check_positive_int, is_positive_int, shape_str
from .serialization import deserialize, serialize, serialize_object, with_custom_objects


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


def _time_major_view(a):
    """Whether ``a`` (batch, time, ...) is a view of a C-contiguous (time, batch, ...) array and not contiguous
    itself."""
    return a.ndim >= 3 and not a.flags.c_contiguous and a.swapaxes(0, 1).flags.c_contiguous


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
        if isinstance(self.layer, (Dense, Activation)) and _time_major_view(inputs.data):
            # a recurrent layer's output sequence: a (batch, time) view of a time-major array. Folded time-major,
            # the input is not copied, and neither is the gradient that goes back to the recurrent layer (it wants
            # it time-major); the output is again such a view. Only for layers that treat every row alike and
            # draw no random numbers (the rows come in another order).
            swap = (1, 0) + tuple(range(2, inputs.ndim))
            out = self.layer(inputs.transpose(swap).reshape((t * b,) + inputs.shape[2:]), training=training, **kwargs)
            return out.reshape((t, b) + out.shape[1:]).transpose((1, 0) + tuple(range(2, out.ndim + 1)))
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


# ============================================================ Keras 2.0's shape layers and Lambda

def _positive_int(layer, arg, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {arg} must be a positive integer, got {value!r}")
    return int(value)


class RepeatVector(Layer):
    """Repeat each sample's vector ``n`` times: (batch, features) -> (batch, n, features).

    The encoder-decoder pattern of Keras 2.0: an encoder's last output, repeated once per output step, is the
    input sequence of the decoder.
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = _positive_int("RepeatVector", "n", n)

    def _check_rank(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"layer {self.name!r} (RepeatVector) expects input of ndim=2 (batch, features), found "
                             f"shape {shape_str(input_shape)}")

    def build(self, input_shape):
        self._check_rank(input_shape)
        self.input_spec_shape = (None, None)  # any batch and width: there are no weights to fix them
        self.built = True

    def call(self, inputs, mask=None, training=False):
        b, f = inputs.shape
        # adding zeros of shape (1, n, 1) broadcasts each vector along a new time axis; the reverse pass adds up
        # the n copies' gradients (the broadcast's reduction), so no copy is made by hand
        return inputs.reshape(b, 1, f) + np.zeros((1, self.n, 1), dtype=inputs.dtype)

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Reshape(Layer):
    """Reshape each sample to ``target_shape``: (batch, *s) -> (batch, *target_shape).

    ``target_shape`` excludes the batch axis and may hold one -1, which takes the size that keeps the number of
    values per sample (``Reshape((-1, 2))`` of (batch, 12) -> (batch, 6, 2)). A sample whose size does not fit
    raises ValueError, when the graph is built if the input's sizes are known, else at the call.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, (int, np.integer)) and not isinstance(target_shape, bool):
            target_shape = (target_shape,)
        if not isinstance(target_shape, (list, tuple)):
            raise TypeError(f"Reshape: target_shape must be a tuple of integers, got {target_shape!r}")
        target = tuple(target_shape)
        for d in target:
            if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or (d < 1 and d != -1):
                raise ValueError(f"Reshape: target_shape entries must be positive integers or one -1, got {target}")
        if target.count(-1) > 1:
            raise ValueError(f"Reshape: target_shape may hold only one unknown dimension (-1), got {target}")
        self.target_shape = tuple(int(d) for d in target)

    def _sample_shape(self, sample_shape):
        """The output shape of one sample of ``sample_shape`` (without the batch axis; None entries unknown)."""
        target = self.target_shape
        known = int(np.prod([d for d in target if d != -1]))
        if any(d is None for d in sample_shape):  # checked at the call, when the sizes are known
            return tuple(None if d == -1 else d for d in target)
        size = int(np.prod(sample_shape))
        if -1 in target:
            if size % known:
                raise ValueError(f"layer {self.name!r} (Reshape): an input sample of shape {shape_str(sample_shape)} "
                                 f"({size} values) cannot be reshaped to {target}: {size} is not a multiple of "
                                 f"{known}")
            return tuple(size // known if d == -1 else d for d in target)
        if size != known:
            raise ValueError(f"layer {self.name!r} (Reshape): an input sample of shape {shape_str(sample_shape)} "
                             f"({size} values) cannot be reshaped to {target} ({known} values); the total size "
                             "must be unchanged")
        return target

    def call(self, inputs, mask=None, training=False):
        shape = inputs.shape
        return inputs.reshape(shape[:1] + self._sample_shape(shape[1:]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._sample_shape(tuple(input_shape[1:]))

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Permute the non-batch axes: ``dims`` is a permutation of 1..k for inputs of ndim k+1 (1-based, the batch
    axis excluded, as in Keras). ``Permute((2, 1))`` turns (batch, timesteps, features) into
    (batch, features, timesteps)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dims, (list, tuple)) or \
                any(isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in dims):
            raise TypeError(f"Permute: dims must be a tuple of integers, got {dims!r}")
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Permute: dims must be a permutation of 1..{len(dims)} (the non-batch axes, counted "
                             f"from 1), got {tuple(dims)}")
        self.dims = tuple(int(d) for d in dims)

    def _check_rank(self, input_shape):
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(f"layer {self.name!r} (Permute with dims {self.dims}) expects input of "
                             f"ndim={len(self.dims) + 1}, found shape {shape_str(input_shape)}")

    def build(self, input_shape):
        self._check_rank(input_shape)
        self.input_spec_shape = (None,) * len(input_shape)
        self.built = True

    def call(self, inputs, mask=None, training=False):
        return inputs.transpose((0,) + self.dims)

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


def _takes_argument(fn, name):
    import inspect
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return name in params  # named explicitly, as Keras asks: a **kwargs function is not handed mask/training


def _callable_name(fn):
    return getattr(fn, "__name__", None) or type(fn).__name__


def _json_argument(layer_name, key, value):
    """A Lambda argument as JSON: numbers, strings, None, lists and dicts as they are; an ndarray as Keras 2
    writes it, ``{'type': 'ndarray', 'value': [...]}``; anything else is a TypeError naming it."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return {"type": "ndarray", "value": value.tolist()}
    if isinstance(value, (list, tuple)):
        return [_json_argument(layer_name, key, v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _json_argument(layer_name, key, v) for k, v in value.items()}
    raise TypeError(f"Lambda layer {layer_name!r}: argument {key!r} of type {type(value).__name__} cannot be "
                    "written to a config (numbers, strings, None, lists, dicts and arrays can)")


class Lambda(Layer):
    """Wrap a function of Tensors as a layer: ``Lambda(lambda x: x[:, -1])``, ``Lambda(mg.tanh)``.

    Arguments:
        function: called as ``function(inputs, **arguments)`` (with ``mask=`` / ``training=`` too when it takes
            them); ``inputs`` is a Tensor, or a list of Tensors when the layer is called on a list. It must
            return a minigrad Tensor (or a list of them) built with minigrad operations, so that gradients flow.
        output_shape: the output shape without the batch axis (a tuple), or a function of the input shape
            (batch axis included) returning the whole output shape. Default: found by calling ``function`` on
            two small probe inputs (sizes that differ between the probes are reported as None).
        mask: None (the layer does not support masking, as in Keras 2.0: a masked input raises) or a function
            ``mask(inputs, input_mask) -> output mask``.
        arguments: a dict of keyword arguments for ``function``.

    Configs never contain code: ``get_config`` stores each function by its name, and ``from_config`` /
    ``deserialize`` / ``load_model`` take them from ``custom_objects``, by name (``{'my_fn': my_fn}``) or, for an
    anonymous function (a lambda), by the layer's name (``{'lambda_1': fn}``; ``'lambda_1.output_shape'`` and
    ``'lambda_1.mask'`` for the other two). Keras 2's serialised bytecode is never loaded.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable, got {type(function).__name__}")
        if output_shape is not None and not callable(output_shape):
            if not isinstance(output_shape, (list, tuple)) or any(
                    d is not None and (isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0)
                    for d in output_shape):
                raise TypeError(f"Lambda: output_shape must be a tuple of sizes (without the batch axis; None for "
                                f"unknown) or a function of the input shape, got {output_shape!r}")
            output_shape = tuple(None if d is None else int(d) for d in output_shape)
        if mask is not None and not callable(mask):
            raise TypeError(f"Lambda: mask must be None or a function (inputs, mask) -> mask, got "
                            f"{type(mask).__name__}")
        if arguments is not None and (not isinstance(arguments, dict) or
                                      not all(isinstance(k, str) for k in arguments)):
            raise TypeError(f"Lambda: arguments must be a dict of keyword arguments, got {arguments!r:.80}")
        self.function = function
        self.output_shape_spec = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})
        self.supports_masking = mask is not None
        self._takes_mask = _takes_argument(function, "mask")
        self._takes_training = _takes_argument(function, "training")

    def call(self, inputs, mask=None, training=False):
        kwargs = dict(self.arguments)
        if self._takes_mask:
            kwargs["mask"] = mask
        if self._takes_training:
            kwargs["training"] = training
        out = self.function(inputs, **kwargs)
        outs = out if isinstance(out, (list, tuple)) else [out]
        for o in outs:
            if not isinstance(o, mg.Tensor):
                raise TypeError(f"Lambda layer {self.name!r}: function {_callable_name(self.function)!r} returned "
                                f"{type(o).__name__}; it must return a minigrad Tensor (or a list of them) built "
                                "with minigrad operations, so that gradients flow through it")
        return list(out) if isinstance(out, tuple) else out

    def compute_mask(self, inputs, mask=None):
        return None if self.mask is None else self.mask(inputs, mask)

    def compute_output_shape(self, input_shape):
        spec = self.output_shape_spec
        if spec is None:
            return self._probe_output_shape(input_shape)
        if isinstance(spec, tuple):
            batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
            return (batch,) + spec
        shape = spec(input_shape)
        if isinstance(shape, list) and all(isinstance(s, (list, tuple)) for s in shape):
            return [tuple(s) for s in shape]
        if isinstance(shape, (list, tuple)):
            return tuple(shape)
        raise ValueError(f"Lambda layer {self.name!r}: the output_shape function must return a shape tuple (or a "
                         f"list of them), got {shape!r}")

    def _probe_output_shape(self, input_shape):
        """Call the function on two inputs of ones, unknown sizes set to 2 and then 3; an output size that changes
        with them is unknown (None)."""
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        runs = []
        for size in (2, 3):
            probes = [mg.Tensor(np.ones(tuple(size if d is None else d for d in s), dtype=self.dtype))
                      for s in shapes]
            try:
                with mg.no_grad(), np.errstate(all="ignore"):
                    out = self.call(probes if isinstance(input_shape, list) else probes[0])
            except Exception as err:
                raise ValueError(f"Lambda layer {self.name!r}: could not infer its output shape by calling function "
                                 f"{_callable_name(self.function)!r} on a probe input of shape "
                                 f"{[p.shape for p in probes] if len(probes) > 1 else probes[0].shape} "
                                 f"({type(err).__name__}: {err}); pass output_shape=...") from err
            runs.append([o.shape for o in out] if isinstance(out, list) else out.shape)

        def merge(a, b):
            if len(a) != len(b):
                return tuple(None for _ in a)
            return tuple(x if x == y else None for x, y in zip(a, b))

        if isinstance(runs[0], list):
            return [merge(a, b) for a, b in zip(*runs)]
        return merge(*runs)

    def get_config(self):
        config = super().get_config()
        fn = self.function
        anonymous = _callable_name(fn) == "<lambda>"
        config.update({"function": _callable_name(fn), "function_type": "lambda" if anonymous else "function",
                       "arguments": {k: _json_argument(self.name, k, v) for k, v in self.arguments.items()}})
        spec = self.output_shape_spec
        if spec is None or isinstance(spec, tuple):
            config["output_shape"] = None if spec is None else list(spec)
            config["output_shape_type"] = "raw"
        else:
            config["output_shape"] = _callable_name(spec)
            config["output_shape_type"] = "lambda" if _callable_name(spec) == "<lambda>" else "function"
        config["mask"] = None if self.mask is None else _callable_name(self.mask)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild a Lambda from ``get_config()`` (or a Keras 2 config), taking its functions from
        ``custom_objects`` (see the class docstring); a function not found there is a ValueError saying what to
        pass."""
        config = dict(config)
        name = config.get("name") or "lambda"
        custom = dict(with_custom_objects(custom_objects) or {})

        def resolve(stored, kind, key):
            if kind == "function" and isinstance(stored, str) and stored in custom:
                found = custom[stored]
            elif key in custom:
                found = custom[key]
            else:
                what = f"function {stored!r}" if kind == "function" else "an anonymous function (lambda)"
                also = (" (its Keras 2 bytecode is never loaded)" if kind == "lambda" and not isinstance(stored, str)
                        else "")
                names = f"{{{stored!r}: ...}} or {{{key!r}: ...}}" if kind == "function" else f"{{{key!r}: ...}}"
                raise ValueError(f"Lambda layer {name!r} uses {what}{also}, which a config does not contain: pass "
                                 f"it in custom_objects={names}")
            if not callable(found):
                raise TypeError(f"Lambda layer {name!r}: custom_objects gave {type(found).__name__} for {key!r}, "
                                "not a function")
            return found

        fn_type = config.pop("function_type", "function")
        if fn_type not in ("function", "lambda"):
            raise ValueError(f"Lambda layer {name!r}: unknown function_type {fn_type!r}")
        config["function"] = resolve(config.get("function"), fn_type, name)
        shape_type = config.pop("output_shape_type", "raw")
        if shape_type in ("function", "lambda"):
            config["output_shape"] = resolve(config.get("output_shape"), shape_type, f"{name}.output_shape")
        elif shape_type != "raw":
            raise ValueError(f"Lambda layer {name!r}: unknown output_shape_type {shape_type!r}")
        elif config.get("output_shape") is not None:
            config["output_shape"] = tuple(config["output_shape"])
        if config.get("mask") is not None:
            stored = config["mask"]
            config["mask"] = resolve(stored, "lambda" if stored == "<lambda>" else "function", f"{name}.mask")
        arguments = config.get("arguments") or {}
        config["arguments"] = {k: np.array(v["value"]) if isinstance(v, dict) and v.get("type") == "ndarray" else v
                               for k, v in arguments.items()}
        return cls(**config)
