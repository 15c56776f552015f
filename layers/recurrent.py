"""Recurrent layers with Keras 2.0 semantics: ``SimpleRNN``, ``GRU`` and ``LSTM``.

Two paths compute the same function (keras2-rnn-semantics.md sections 1-4):

* ``unroll=False`` (default): the whole sequence is ONE tape entry, ``FusedRNN``, whose backward is the
  hand-written backprop through time in ``rnn_kernels.py`` (readable, and the fast path).
* ``unroll=True``: every timestep's ops are recorded on the tape (``Recurrent._step`` of each cell, written with
  minigrad ops straight from the equations), so minigrad's generic reverse pass performs BPTT. It is the
  independent check of the hand-written one, and the path taken for activations the kernels do not know.
* ``truncate_gradient=k`` (k >= 1; -1, the default, is full BPTT): truncated backprop through time, BPTT(k):
  the gradient of each output reaches back only through its last k steps (the states older than that act as
  constants). Unlike Theano's scan, which backpropagates only through the last k steps of the whole sequence,
  every output of a ``return_sequences=True`` layer keeps its own k-step window; with ``return_sequences=False``
  the two agree. Such a layer takes the unrolled path (``layers.tools.check_truncated_bptt`` checks it exactly).

Shapes: inputs (batch, timesteps, input_dim); states (batch, units); outputs (batch, units) or, with
``return_sequences=True``, (batch, timesteps, units).
"""
import numpy as np

import minigrad as mg

from . import activations, rnn_kernels
from .base import Layer, pop_legacy_kwargs, shape_str
from .core import dropout_mask

_CONSUME_LESS = {"cpu": 0, "mem": 1, "gpu": 2}

# Keras 1 argument names -> Keras 2 names (keras2-rnn-semantics.md section 9)
_LEGACY = {
    "output_dim": ("units", None),
    "init": ("kernel_initializer", None),
    "inner_init": ("recurrent_initializer", None),
    "inner_activation": ("recurrent_activation", None),
    "W_regularizer": ("kernel_regularizer", None),
    "U_regularizer": ("recurrent_regularizer", None),
    "b_regularizer": ("bias_regularizer", None),
    "dropout_W": ("dropout", None),
    "dropout_U": ("recurrent_dropout", None),
    "consume_less": ("implementation", lambda v: _CONSUME_LESS.get(v, v)),
}


class FusedRNN(mg.Function):
    """A whole recurrent sequence as one tape entry: forward and BPTT from ``rnn_kernels``.

    apply(x, W, R, b, *initial_states, cell='lstm', **kernel_options) -> (outputs, *final_states)
    """
    materialize_grads = False  # the kernels take None for outputs that got no gradient

    @staticmethod
    def forward(ctx, x, W, R, b, *states, cell, **options):
        forward = getattr(rnn_kernels, f"{cell}_forward")
        *results, cache = forward(x, W, R, b, *states, **options)
        ctx.cache, ctx.cell = cache, cell
        return tuple(results)

    @staticmethod
    def backward(ctx, d_outputs, *d_states):
        return getattr(rnn_kernels, f"{ctx.cell}_backward")(ctx.cache, d_outputs, *d_states)


class Recurrent(Layer):
    """Base of the recurrent layers (not a layer to use by itself).

    Subclasses set ``n_gates`` (k: the kernel is (input_dim, k*units)), ``state_names``, ``cell`` and
    ``projection_groups`` (how ``_step`` receives its slice of x W + b), and write one step of the cell with minigrad
    ops in ``_step``.
    """
    n_gates = 1
    state_names = ("h",)
    cell = None
    supports_masking = True
    _allowed_kwargs = Layer._allowed_kwargs

    def __init__(self, units=None, activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, implementation=0, truncate_gradient=-1,
                 **kwargs):
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"{type(self).__name__}: units must be a positive integer, got {units!r}")
        for arg, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not isinstance(rate, (int, float, np.floating, np.integer)) or not 0 <= rate < 1:
                raise ValueError(f"{type(self).__name__}: {arg} must be a float in [0, 1), got {rate!r}")
        if implementation not in (0, 1, 2) or isinstance(implementation, bool):
            raise ValueError(f"{type(self).__name__}: unknown implementation {implementation!r}; "
                             "expected 0 (one large input product), 1 (per-gate products) or 2 (fused gates)")
        if not isinstance(truncate_gradient, (int, np.integer)) or isinstance(truncate_gradient, bool) \
                or not (truncate_gradient == -1 or truncate_gradient >= 1):
            raise ValueError(f"{type(self).__name__}: truncate_gradient must be -1 (full backprop through time) or "
                             f"a number of steps >= 1, got {truncate_gradient!r}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer, self.recurrent_initializer = kernel_initializer, recurrent_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer, self.recurrent_regularizer = kernel_regularizer, recurrent_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint, self.recurrent_constraint = kernel_constraint, recurrent_constraint
        self.bias_constraint = bias_constraint
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful, self.unroll = bool(go_backwards), bool(stateful), bool(unroll)
        self.implementation = int(implementation)
        self.truncate_gradient = int(truncate_gradient)
        self.states = [None] * len(self.state_names)
        if self.stateful and self.batch_input_shape is not None and self.batch_input_shape[0] is None:
            raise ValueError(self._stateful_batch_message())

    @classmethod
    def _translate_legacy(cls, kwargs):
        return pop_legacy_kwargs(cls.__name__, kwargs, _LEGACY)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        init = cls.__init__

        def __init__(self, *args, **kwargs):  # Keras 1 names are translated before any argument is read
            if len(args) > 1:
                raise TypeError(f"{cls.__name__} accepts only one positional argument (units), got {len(args)}")
            if args:  # by keyword, so that `LSTM(3, output_dim=3)` meets the old-and-new-name check
                if "units" in kwargs:
                    raise TypeError(f"{cls.__name__} got units both positionally and as a keyword")
                kwargs["units"] = args[0]
            kwargs = cls._translate_legacy(kwargs)
            init(self, **kwargs)
        __init__.__doc__, __init__.__wrapped__ = init.__doc__, init
        cls.__init__ = __init__

    def _batch_input_shape_from(self, kwargs):
        if kwargs.get("input_dim") is not None and kwargs.get("input_shape") is None \
                and kwargs.get("batch_input_shape") is None:
            return (kwargs.get("batch_size"), kwargs.get("input_length"), kwargs["input_dim"])
        return super()._batch_input_shape_from(kwargs)

    def _stateful_batch_message(self):
        return (f"layer {self.name!r} is stateful, so it needs a fixed batch size: pass "
                "`batch_input_shape=(batch, timesteps, features)` to the first layer of a Sequential model, or "
                "`batch_shape=(...)` to the Input of a functional model")

    # ------------------------------------------------------------ weights and shapes
    def build(self, input_shape):
        self._check_ndim(input_shape)
        # a stateful layer keeps one state per sample, so its batch size is fixed: from batch_input_shape, or from
        # the first concrete batch when it is called eagerly
        batch = self.batch_input_shape[0] if self.batch_input_shape is not None else input_shape[0]
        if self.stateful and batch is None:
            raise ValueError(self._stateful_batch_message())
        dim, k, u = input_shape[-1], self.n_gates, self.units
        if dim is None:
            raise ValueError(f"layer {self.name!r} needs a known input_dim (last axis), got {shape_str(input_shape)}")
        self.kernel = self.add_weight("kernel", (dim, k * u), self.kernel_initializer, self.kernel_regularizer,
                                      self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (u, k * u), self.recurrent_initializer,
                                                self.recurrent_regularizer, self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (k * u,), value=self._initial_bias(), regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.input_spec_shape = (batch if self.stateful else None, None, dim)
        self.built = True
        if self.stateful:
            self.reset_states()

    def _initial_bias(self):
        from . import initializers
        return initializers.get(self.bias_initializer)((self.n_gates * self.units,), dtype=self.dtype)

    def _check_ndim(self, shape):
        if len(shape) != 3:
            hint = ""
            if len(shape) == 2:
                hint = (" A 2-D input usually comes from a recurrent layer that returns only its last output: pass "
                        "return_sequences=True to the layer before this one.")
            raise ValueError(f"layer {self.name!r} expects a 3-D input (batch, timesteps, input_dim), found ndim="
                             f"{len(shape)} with shape {shape_str(shape)}.{hint}")

    def check_input_shape(self, shape):
        self._check_ndim(shape)
        spec = self.input_spec_shape
        if shape[-1] is not None and shape[-1] != spec[-1]:
            raise ValueError(f"layer {self.name!r} was built for input_dim={spec[-1]} (input shape "
                             f"{shape_str(spec)}), found input shape {shape_str(shape)}")
        if self.stateful and shape[0] is not None and shape[0] != spec[0]:
            raise ValueError(f"stateful layer {self.name!r} was built for batches of {spec[0]} samples (input shape "
                             f"{shape_str(spec)}), found a batch of {shape[0]} (shape {shape_str(shape)}); a "
                             "stateful layer carries one state per sample, so every batch must have the same size")

    def compute_output_shape(self, input_shape):
        self._check_ndim(input_shape)
        b, t = input_shape[0], input_shape[1]
        out = (b, t, self.units) if self.return_sequences else (b, self.units)
        if self.return_state:
            return [out] + [(b, self.units)] * len(self.state_names)
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = None
        if self.return_sequences and mask is not None:
            out = np.asarray(mask.data if isinstance(mask, mg.Tensor) else mask, dtype=bool)
            if self.go_backwards:
                out = out[:, ::-1]  # line up with the reversed output sequence (Keras issue #6022)
        if self.return_state:
            return [out] + [None] * len(self.state_names)
        return out

    # ------------------------------------------------------------ states
    def reset_states(self, states=None):
        """Zero the carried states of a stateful layer, or set them from arrays of shape (batch, units)."""
        if not self.stateful:
            raise AttributeError(f"layer {self.name!r} is not stateful: reset_states() needs stateful=True")
        if not self.built:
            raise RuntimeError(f"stateful layer {self.name!r} has not been built yet: call it or add it to a model "
                               "with a batch_input_shape first")
        batch, n = self.input_spec_shape[0], len(self.state_names)
        if states is None:
            self.states = [np.zeros((batch, self.units), self.dtype) for _ in range(n)]
            return
        self.states = [np.array(s.data if isinstance(s, mg.Tensor) else s, dtype=self.dtype)
                       for s in self._checked_states(states, batch, "state", "received")]

    def _checked_states(self, states, batch, what, verb):
        """``states`` (one value or a list) after checking there is one per state, each of shape (batch, units)."""
        n = len(self.state_names)
        if not isinstance(states, (list, tuple)):
            states = [states]
        if len(states) != n:
            raise ValueError(f"layer {self.name!r} expects {n} state(s) ({', '.join(self.state_names)}), but "
                             f"{verb} {len(states)} {what} value(s)")
        for i, s in enumerate(states):
            shape = np.shape(s.data if isinstance(s, mg.Tensor) else s)
            if shape != (batch, self.units):
                raise ValueError(f"{what} {i} ({self.state_names[i]}) of layer {self.name!r}: expected shape "
                                 f"{(batch, self.units)}, found shape {shape}")
        return states

    def _initial_states(self, x, initial_state):
        """The states the sequence starts from, as Tensors (batch, units): given, carried (stateful) or zeros."""
        b, n = x.shape[0], len(self.state_names)
        if initial_state is not None:
            return [s if isinstance(s, mg.Tensor) else mg.Tensor(np.asarray(s, dtype=self.dtype))
                    for s in self._checked_states(initial_state, b, "initial state", "was passed")]
        if self.stateful:
            return [mg.Tensor(s) for s in self.states]
        zeros = np.zeros((b, self.units), dtype=x.dtype)
        return [mg.Tensor(zeros) for _ in range(n)]

    # ------------------------------------------------------------ dropout masks
    def _dropout_masks(self, x, training):
        """Variational dropout: one mask per sample, drawn once per sequence and reused at every timestep.

        Returns (x_masks, h_masks): None, (batch, n) shared by all gates (implementation 2), or
        (k, batch, n), one per gate (implementations 0 and 1).
        """
        b, k = x.shape[0], self.n_gates
        gates = 1 if self.implementation == 2 or k == 1 else k
        x_masks = h_masks = None
        if training and self.dropout > 0:
            m = dropout_mask((gates, b, x.shape[-1]), self.dropout, x.dtype)
            x_masks = m[0] if self.implementation == 2 else m
        if training and self.recurrent_dropout > 0:
            m = dropout_mask((gates, b, self.units), self.recurrent_dropout, x.dtype)
            h_masks = m[0] if self.implementation == 2 else m
        return x_masks, h_masks

    # ------------------------------------------------------------ the forward pass
    def call(self, inputs, mask=None, training=False, initial_state=None):
        x = inputs
        self.__dict__.pop("_kernel_slices", None)  # the unrolled steps' kernel slices live for one call
        states = self._initial_states(x, initial_state)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None:
            mask = np.asarray(mask.data if isinstance(mask, mg.Tensor) else mask, dtype=bool)
            if mask.shape != x.shape[:2]:
                raise ValueError(f"layer {self.name!r}: mask of shape {mask.shape} does not match the input's "
                                 f"(batch, timesteps) {x.shape[:2]}")
            if mask.all():
                mask = None
        x_masks, h_masks = self._dropout_masks(x, training)
        if self.unroll or 0 < self.truncate_gradient < x.shape[1] or not self._kernel_can_run():
            outputs, finals = self._unrolled(x, states, mask, x_masks, h_masks)
        else:
            outputs, *finals = FusedRNN.apply(
                x, self.kernel, self.recurrent_kernel, self.bias, *states, cell=self.cell, mask=mask,
                x_masks=x_masks, h_masks=h_masks, implementation=self.implementation,
                go_backwards=self.go_backwards, **self._kernel_activations())
        if self.stateful:  # no gradient crosses batches: truncated BPTT, as in Keras
            self.states = [np.array(s.data, dtype=self.dtype) for s in finals]
        # the last output is h after the last processed step (carried over masked steps) = the final h state
        output = outputs if self.return_sequences else finals[0]
        return [output, *finals] if self.return_state else output

    def _kernel_activations(self):
        return {"activation": activations.builtin_name(self.activation)}

    def _kernel_can_run(self):
        return all(name in rnn_kernels.KNOWN_ACTIVATIONS for name in self._kernel_activations().values())

    def _unrolled(self, x, states, mask, x_masks, h_masks):
        """Record every timestep on the tape: BPTT is then minigrad's own reverse pass.

        The input product is made once for all timesteps (``_input_projection``) and cut into steps in one tape
        entry; each step then records the cell's equations (``_step``).

        Truncated (0 < truncate_gradient = k < timesteps): with only the final state as output, the states entering
        the last k steps are cut from the graph. With an output at every step, each step carries k copies of its
        states, shape (k, batch, units), equal in value: copy a continues copy a-1 of the previous step and copy 0
        restarts from a constant, so copy a has gradient paths through at most a+1 steps, and the output is copy
        k-1. Exact BPTT(k) for every output, at k times the arithmetic (the same number of recorded ops).
        """
        t_len = x.shape[1]
        order = range(t_len - 1, -1, -1) if self.go_backwards else range(t_len)
        x_steps = self._projection_steps(self._input_projection(x, x_masks))
        k = self.truncate_gradient if 0 < self.truncate_gradient < t_len else 0
        copies = k and self.return_sequences
        if copies:
            states = [mg.stack([s] * k) for s in states]
        outputs = []
        for n, t in enumerate(mg.tag_timesteps(order, self.name)):  # tags steps for mg.track_ops/detect_anomaly
            if copies:
                states = [mg.concatenate([mg.Tensor(s.data[-1:]), s[:-1]]) for s in states]
            elif k and n == t_len - k:
                states = [s.detach() for s in states]
            new_states = self._step(x_steps[t], states, h_masks)
            if mask is not None:  # a masked step keeps the previous states (and so the previous output h)
                keep = mask[:, t:t + 1]
                new_states = [mg.where(keep, new, old) for new, old in zip(new_states, states)]
            states = new_states
            outputs.append(states[0][-1] if copies else states[0])
        if copies:
            states = [s[-1] for s in states]
        return mg.stack(outputs, axis=1), states

    #: How a step receives its input projection: the gates in groups of these sizes (LSTM: all four together).
    projection_groups = (1,)

    def _input_projection(self, x, x_masks):
        """(x_t * m_x) W + b for every timestep and gate at once: (timesteps, batch, k*units), in input order.

        Time-major, so that each step's slice is one contiguous block. One product for all gates, or one per gate
        when the gates have their own dropout masks (implementations 0 and 1)."""
        xt = mg.transpose(x, (1, 0, 2))
        if x_masks is None or x_masks.ndim == 2:
            z = (xt if x_masks is None else xt * x_masks) @ self.kernel
        else:
            u = self.units
            z = mg.concatenate([(xt * x_masks[g]) @ self.kernel[:, g * u:(g + 1) * u] for g in range(self.n_gates)],
                               axis=-1)
        return z if self.bias is None else z + self.bias

    def _projection_steps(self, z):
        """The projection (timesteps, batch, k*units) cut into per-step lists of gate groups (``projection_groups``)
        in two tape entries: ``steps[t][j]`` is (batch, units * projection_groups[j])."""
        if len(self.projection_groups) == 1:
            return [[p] for p in mg.unstack(z)]
        cuts = np.cumsum(self.projection_groups[:-1]) * self.units
        groups = [mg.unstack(g) for g in mg.split(z, cuts, axis=-1)]
        return [list(step) for step in zip(*groups)]

    def _recurrent_product(self, h, h_masks, first, end):
        """(h * m_h^g) R_g for the gates g = first..end-1, side by side: (batch, (end-first)*units). One product,
        or with per-gate dropout masks one per gate, joined."""
        if h_masks is not None and h_masks.ndim == 3:
            if end - first == 1:
                return (h * h_masks[first]) @ self._kernel_columns(first, end)
            return mg.concatenate([(h * h_masks[g]) @ self._kernel_columns(g, g + 1) for g in range(first, end)],
                                  axis=-1)
        if h_masks is not None:
            h = h * h_masks
        return h @ self._kernel_columns(first, end)

    def _kernel_columns(self, first, end):
        """The recurrent kernel's columns of gates first..end-1, sliced once and reused by every step of a call (one
        tape entry, not one per step). A different kernel Tensor or array, or grad mode, slices again."""
        R = self.recurrent_kernel
        if (first, end) == (0, self.n_gates):
            return R
        cache = self.__dict__.get("_kernel_slices")
        if cache is None or cache[0] is not R or cache[1] is not R.data:
            cache = self._kernel_slices = (R, R.data, {})
        key = (first, end, mg.is_grad_enabled())
        if key not in cache[2]:
            cache[2][key] = R[:, first * self.units:end * self.units]
        return cache[2][key]

    def _step(self, x_t, states, h_masks):
        """One timestep with minigrad ops: x_t, the step's input projection in ``projection_groups``; states, the
        states entering the step; returns the new states (the output is the first)."""
        raise NotImplementedError

    def get_config(self):
        config = super().get_config()
        config.update({k: getattr(self, k) for k in (
            "units", "use_bias", "dropout", "recurrent_dropout", "return_sequences", "return_state",
            "go_backwards", "stateful", "unroll", "implementation", "truncate_gradient")})
        config["activation"] = activations.serialize(self.activation)
        return config


class SimpleRNN(Recurrent):
    """Fully connected RNN: h_t = activation(x_t W + b + h_{t-1} R); output_t = h_t.

    Weights: kernel (input_dim, units), recurrent_kernel (units, units), bias (units,).
    """
    n_gates, state_names, cell = 1, ("h",), "simple_rnn"

    def __init__(self, units=None, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise TypeError("SimpleRNN does not take recurrent_activation")
        super().__init__(units, activation=activation, **kwargs)

    def _step(self, x_t, states, h_masks):
        (h,) = states
        return [self.activation(x_t[0] + self._recurrent_product(h, h_masks, 0, 1))]


class GRU(Recurrent):
    """Gated recurrent unit (Cho et al. 2014), Keras 2.0 form, gate order z, r, h:

        z = rec_act(x W_z + b_z + h R_z)            r = rec_act(x W_r + b_r + h R_r)
        hh = act(x W_h + b_h + (r * h) R_h)          # reset applied before the recurrent product
        h_t = z * h_{t-1} + (1 - z) * hh

    Weights: kernel (input_dim, 3 units), recurrent_kernel (units, 3 units), bias (3 units,).
    """
    n_gates, state_names, cell = 3, ("h",), "gru"
    projection_groups = (2, 1)  # z and r meet h R side by side; the candidate meets (r * h) R_h

    def _kernel_activations(self):
        return {"activation": activations.builtin_name(self.activation),
                "recurrent_activation": activations.builtin_name(self.recurrent_activation)}

    def _step(self, x_t, states, h_masks):
        (h,) = states
        x_zr, x_h = x_t
        a_z, a_r = mg.split(x_zr + self._recurrent_product(h, h_masks, 0, 2), 2, axis=-1)
        z = self.recurrent_activation(a_z)
        r = self.recurrent_activation(a_r)
        hh = self.activation(x_h + self._recurrent_product(r * h, h_masks, 2, 3))  # reset before the product
        return [z * h + (1 - z) * hh]


class LSTM(Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), Keras 2.0 form, gate order i, f, c, o:

        i = rec_act(x W_i + b_i + h R_i)     f = rec_act(x W_f + b_f + h R_f)
        c_t = f * c_{t-1} + i * act(x W_c + b_c + h R_c)
        o = rec_act(x W_o + b_o + h R_o)     h_t = o * act(c_t)

    States [h, c]. Weights: kernel (input_dim, 4 units), recurrent_kernel (units, 4 units), bias (4 units,).
    ``unit_forget_bias=True`` adds 1 to the forget gate's bias at initialisation.
    """
    n_gates, state_names, cell = 4, ("h", "c"), "lstm"
    projection_groups = (4,)

    def __init__(self, units=None, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    @classmethod
    def _translate_legacy(cls, kwargs):
        if "forget_bias_init" in kwargs:
            value = kwargs.pop("forget_bias_init")
            if "unit_forget_bias" in kwargs:
                raise TypeError("LSTM received both the Keras 1 argument `forget_bias_init` and `unit_forget_bias`")
            if value not in ("one", "zero"):
                raise ValueError(f"LSTM: forget_bias_init must be 'one' or 'zero' (Keras 1), got {value!r}")
            import warnings
            warnings.warn("LSTM: `forget_bias_init` is a Keras 1 name, use `unit_forget_bias` instead",
                          DeprecationWarning, stacklevel=4)
            kwargs["unit_forget_bias"] = value == "one"
        return super()._translate_legacy(kwargs)

    def _initial_bias(self):
        bias = super()._initial_bias()
        if self.unit_forget_bias:
            bias[self.units:2 * self.units] = 1  # ones in the f block, bias_initializer elsewhere (Keras 2.0.4+)
        return bias

    def _kernel_activations(self):
        return {"activation": activations.builtin_name(self.activation),
                "recurrent_activation": activations.builtin_name(self.recurrent_activation)}

    def _step(self, x_t, states, h_masks):
        h, c = states
        a_i, a_f, a_c, a_o = mg.split(x_t[0] + self._recurrent_product(h, h_masks, 0, 4), 4, axis=-1)
        i = self.recurrent_activation(a_i)
        f = self.recurrent_activation(a_f)
        c = f * c + i * self.activation(a_c)
        o = self.recurrent_activation(a_o)
        return [o * self.activation(c), c]
