"""Recurrent cells: one timestep of a recurrent network, as a Layer. ``layers.recurrent.RNN`` runs a cell over a
sequence (masks, go_backwards, stateful, initial and returned states, dropout masks, BPTT).

A cell is any Layer with

* ``state_size``: an int, or a list of ints, one per state (states are (batch, size) Tensors);
* ``call(inputs, states, training=False) -> (output, new_states)``: one step; inputs (batch, input_dim), states a
  list of (batch, size) Tensors, output (batch, output_size), new_states a list like states;

and optionally

* ``output_size`` (an int; default ``state_size[0]``);
* ``state_names`` (a tuple of names for messages, e.g. ``('h', 'c')``);
* ``dropout_spec(batch_size, input_dim) -> {name: (shape, rate)}``: the variational dropout masks the cell wants.
  The RNN draws each mask once per sequence (only with ``training=True`` and 0 < rate < 1; else the entry is
  None), from ``layers.core.dropout_mask`` (so ``layers.tools.record_dropout`` sees it), and hands the same dict to
  every step as ``call(..., dropout_masks={name: mask or None})``. A mask's shape is (..., batch, size): batch on
  the second-to-last axis, one mask per sample, so that it multiplies a (batch, size) Tensor.

``build(input_shape)`` receives (batch, input_dim). An object that is not a Layer but has ``state_size`` and ``call``
is a cell too (as in Keras 2.1), without weights or config (``_PlainCell``). A minimal cell, with its own dropout on
the inputs::

    class MinimalRNNCell(Layer):
        def __init__(self, units, dropout=0.0, **kwargs):
            super().__init__(**kwargs)
            self.units, self.state_size, self.dropout = units, units, dropout

        def build(self, input_shape):
            self.kernel = self.add_weight('kernel', (input_shape[-1], self.units), 'glorot_uniform')
            self.recurrent_kernel = self.add_weight('recurrent_kernel', (self.units, self.units), 'orthogonal')

        def dropout_spec(self, batch_size, input_dim):
            return {'inputs': ((batch_size, input_dim), self.dropout)}

        def call(self, inputs, states, training=False, dropout_masks=None):
            m = (dropout_masks or {}).get('inputs')
            x = inputs if m is None else inputs * m
            h = mg.tanh(x @ self.kernel + states[0] @ self.recurrent_kernel)
            return h, [h]

The built-in cells (``SimpleRNNCell``, ``GRUCell``, ``LSTMCell``) keep their equations in ``step``, written with
minigrad ops; around it, two things make them fast. The RNN asks ``fused_kernel()`` first: the whole sequence then
runs as one tape entry through the hand-written BPTT of ``rnn_kernels.py`` (same equations, by hand). Otherwise
(activations the kernels do not know: the scan path; ``unroll=True``, ``truncate_gradient``: the tape path) they
use the split step protocol, which any cell may offer too:

* ``step_inputs(x, dropout_masks)``: x time-major (timesteps, batch, input_dim) -> a list of the timesteps' step
  inputs (the built-in cells: ``(x_t ⊙ m_x) W + b`` for every timestep in one product, cut into steps);
* ``step_constants(dropout_masks)``: what every step reads from the weights and masks, prepared once per sequence;
* ``step(step_input, states, constants) -> (output, new_states)``: the rest of the step, a pure function of its
  arguments.

``StackedRNNCells([...])`` makes several cells one cell.
"""
import functools
import inspect

import numpy as np

import minigrad as mg

from . import activations, constraints, initializers, regularizers, rnn_kernels, serialization
from .base import Layer, _snake, shape_str, unique_name

__all__ = ["SimpleRNNCell", "GRUCell", "LSTMCell", "StackedRNNCells", "state_sizes", "output_size", "output_state",
           "state_names", "call_cell", "as_cell"]


# ------------------------------------------------------------------------------------------------ the protocol

def state_sizes(cell):
    """``cell.state_size`` as a list of ints; TypeError/ValueError naming the cell when it is missing or bad."""
    size = getattr(cell, "state_size", None)
    if type(size) is int and size > 0:  # the common cases, quickly (asked several times per call)
        return [size]
    if type(size) in (list, tuple) and size and all(type(s) is int and s > 0 for s in size):
        return list(size)
    name = getattr(cell, "name", type(cell).__name__)
    if not hasattr(cell, "state_size"):
        raise TypeError(f"cell {name!r} ({type(cell).__name__}) has no state_size: a recurrent cell declares "
                        "state_size, an int or a list of ints (one per state)")
    size = cell.state_size
    sizes = list(size) if isinstance(size, (list, tuple)) else [size]
    if not sizes or any(not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s <= 0 for s in sizes):
        raise ValueError(f"cell {name!r}: state_size must be a positive int or a non-empty list of them, got "
                         f"{size!r}")
    return [int(s) for s in sizes]


def output_size(cell):
    """``cell.output_size`` if the cell declares it, else its first state's size."""
    size = getattr(cell, "output_size", None)
    if size is None:
        return state_sizes(cell)[0]
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size <= 0:
        raise ValueError(f"cell {cell.name!r}: output_size must be a positive int, got {size!r}")
    return int(size)


def output_state(cell):
    """The index of the state the cell's output repeats at a masked step that has no previous output (leading
    masked steps), or None: the first state when it has the output's size (the built-in cells: h); for a stack,
    the first state of its last cell."""
    sizes = state_sizes(cell)
    if hasattr(cell, "cells"):
        last = cell.cells[-1]
        inner = output_state(last)
        return None if inner is None else len(sizes) - len(state_sizes(last)) + inner
    return 0 if sizes[0] == output_size(cell) else None


def state_names(cell):
    """The cell's ``state_names`` if declared (one per state), else 'h' for one state or state_0, state_1, ..."""
    n = len(state_sizes(cell))
    names = getattr(cell, "state_names", None)
    if names is not None and len(names) == n:
        return tuple(names)
    return ("h",) if n == 1 else tuple(f"state_{i}" for i in range(n))


@functools.lru_cache(maxsize=256)
def _accepts(fn, name):
    """Whether the function ``fn`` takes a keyword ``name`` (asked once per function: inspect is slow)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def call_cell(cell, inputs, states, training=False, dropout_masks=None, check=True):
    """One step of ``cell`` through its public ``call``, as RNN and StackedRNNCells make it: ``training`` is passed
    if ``call`` takes it, ``dropout_masks`` if the cell declares ``dropout_spec``. With check=True the result is
    checked: (output, new_states), one new state per state, each of the state's shape."""
    kwargs = {}
    call = cell.call
    if _accepts(getattr(call, "__func__", call), "training"):
        kwargs["training"] = training
    if hasattr(cell, "dropout_spec"):
        kwargs["dropout_masks"] = dropout_masks or {}
    result = cell.call(inputs, states, **kwargs)
    if check:
        result = check_step_result(cell, result, inputs, states)
    return result


def check_step_result(cell, result, inputs, states):
    """``result`` as (output, [new states]) after checking it against the protocol; ValueError/TypeError name the
    cell, the state and the expected and found shapes."""
    if type(result) in (tuple, list) and len(result) == 2:  # the common, correct case, checked quickly
        output, new = result
        if type(new) in (list, tuple) and len(new) == len(states) and type(output) is mg.Tensor \
                and output.shape == (inputs.shape[0], output_size(cell)) \
                and all(type(s) is mg.Tensor and s.shape == old.shape for s, old in zip(new, states)):
            return output, new
    name = getattr(cell, "name", type(cell).__name__)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        found = type(result).__name__ + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
        raise TypeError(f"cell {name!r}: call(inputs, states) must return (output, new_states), got {found}")
    output, new = result
    if isinstance(new, mg.Tensor) and len(states) == 1:
        new = [new]
    if not isinstance(new, (list, tuple)):
        raise TypeError(f"cell {name!r}: call must return (output, new_states) with new_states a list of Tensors, "
                        f"got {type(new).__name__}")
    names = state_names(cell)
    if len(new) != len(states):
        raise ValueError(f"cell {name!r} has {len(states)} state(s) ({', '.join(names)}) but its call returned "
                         f"{len(new)} new state(s)")
    batch = inputs.shape[0]
    for i, (s, old) in enumerate(zip(new, states)):
        if not isinstance(s, mg.Tensor):
            raise TypeError(f"cell {name!r}: new state {i} ({names[i]}) must be a minigrad Tensor, got "
                            f"{type(s).__name__}")
        if s.shape != old.shape:
            raise ValueError(f"cell {name!r}: new state {i} ({names[i]}) has shape {shape_str(s.shape)}, but the "
                             f"state has shape {shape_str(old.shape)} (state_size {state_sizes(cell)[i]})")
    if not isinstance(output, mg.Tensor):
        raise TypeError(f"cell {name!r}: the output must be a minigrad Tensor, got {type(output).__name__}")
    want = (batch, output_size(cell))
    if output.shape != want:
        raise ValueError(f"cell {name!r}: the output has shape {shape_str(output.shape)}, expected "
                         f"{shape_str(want)} (batch, output_size)")
    return output, list(new)


class _PlainCell(Layer):
    """A cell that is not a Layer, run as one: Keras 2.1 accepts any object with ``state_size`` and ``call(inputs,
    states)`` as a cell, and so do ``RNN`` and ``StackedRNNCells`` (they wrap it in this class, which is not
    registered: it has no config).

    ``cell`` is the object. It has no weights here (arrays it holds are constants, as Keras treats them) and no
    config (a model holding it cannot be saved by its config: write the cell as a Layer with ``get_config`` for
    that). ``output_size``, ``state_names`` and ``dropout_spec`` are read from it when it declares them.
    """

    def __init__(self, cell, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        if callable(getattr(cell, "dropout_spec", None)):
            self.dropout_spec = cell.dropout_spec

    @property
    def state_size(self):
        return self.cell.state_size

    @property
    def output_size(self):
        return getattr(self.cell, "output_size", None)

    @property
    def state_names(self):
        return getattr(self.cell, "state_names", None)

    def call(self, inputs, states, training=False, dropout_masks=None):
        return call_cell(self.cell, inputs, states, training, dropout_masks, check=False)

    def get_config(self):
        raise TypeError(f"cell {type(self.cell).__name__} is not a Layer, so it has no config and a model holding it "
                        "cannot be saved or copied by its config: write the cell as a Layer with get_config()")


def as_cell(cell, what):
    """``cell`` as a Layer cell: a Layer as it is, any other object with ``state_size`` and ``call`` in a
    ``_PlainCell``; otherwise TypeError, whose message starts with ``what`` (e.g. 'RNN: cell')."""
    if isinstance(cell, Layer):
        return cell
    if not callable(getattr(cell, "call", None)) or not hasattr(cell, "state_size"):
        raise TypeError(f"{what} must be a Layer, or any object with state_size and call(inputs, states), got "
                        f"{type(cell).__name__}")
    plain = _PlainCell(cell, name=unique_name(_snake(type(cell).__name__)))
    state_sizes(plain)  # a bad state_size fails here, naming the problem
    return plain


# ------------------------------------------------------------------------------------------------ argument checks

def _positive_int(owner, arg, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{owner}: {arg} must be a positive integer, got {value!r}")
    return int(value)


def _rate(owner, arg, value):
    if not isinstance(value, (int, float, np.floating, np.integer)) or isinstance(value, bool) \
            or not 0 <= value < 1:
        raise ValueError(f"{owner}: {arg} must be a float in [0, 1), got {value!r}")
    return float(value)


def _implementation(owner, value):
    if isinstance(value, bool) or value not in (0, 1, 2):
        raise ValueError(f"{owner}: unknown implementation {value!r}; expected 0 (one large input product), 1 "
                         "(per-gate products) or 2 (fused gates)")
    return int(value)


def flag_argument(owner, arg, value):
    """A True/False argument (a bool, or 0/1); ValueError naming it for anything else."""
    if not isinstance(value, (bool, np.bool_, int, np.integer)) or value not in (0, 1):
        raise ValueError(f"{owner}: {arg} must be True or False, got {value!r}")
    return bool(value)


def _serialize_initializer(owner, arg, value):
    obj = initializers.get(value)
    try:
        return initializers.serialize(obj)
    except ValueError as e:
        raise ValueError(f"{owner}: {arg}={value!r} is not one of layers.initializers, so it cannot be part of a "
                         "config") from e


def _serialize_optional(module, owner, arg, value):
    obj = module.get(value)
    if obj is None:
        return None
    try:
        return module.serialize(obj)
    except ValueError as e:
        raise ValueError(f"{owner}: {arg}={value!r} cannot be part of a config (only the module's own objects "
                         "can)") from e


# ------------------------------------------------------------------------------------------------ built-in cells

class _KernelCell(Layer):
    """The common part of SimpleRNNCell, GRUCell and LSTMCell: the per-step arguments of the Keras recurrent
    layers, weights in Keras layout (kernel (input_dim, k*units), recurrent_kernel (units, k*units), bias
    (k*units,)), per-gate variational dropout masks, the input projection made once per sequence, and the fused
    kernel of ``rnn_kernels`` they offer. Subclasses write ``step``.

    Class attributes: ``n_gates`` (k), ``kernel_name`` (the ``rnn_kernels`` pair), ``projection_groups`` (how a
    step receives x W + b: the gates in groups of these sizes), ``recurrent_groups`` (the gate ranges a step
    multiplies h by, each in one product).
    """
    n_gates = 1
    kernel_name = "simple_rnn"
    state_names = ("h",)
    projection_groups = (1,)
    recurrent_groups = ((0, 1),)

    def __init__(self, units, activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 implementation=0, **kwargs):
        owner = type(self).__name__
        units = _positive_int(owner, "units", units)
        dropout, recurrent_dropout = _rate(owner, "dropout", dropout), _rate(owner, "recurrent_dropout",
                                                                            recurrent_dropout)
        implementation = _implementation(owner, implementation)
        use_bias = flag_argument(owner, "use_bias", use_bias)
        activation, recurrent_activation = activations.get(activation), activations.get(recurrent_activation)
        for module, value in ((initializers, kernel_initializer), (initializers, recurrent_initializer),
                              (initializers, bias_initializer), (regularizers, kernel_regularizer),
                              (regularizers, recurrent_regularizer), (regularizers, bias_regularizer),
                              (constraints, kernel_constraint), (constraints, recurrent_constraint),
                              (constraints, bias_constraint)):
            module.get(value)  # a bad name fails here, where it was given, not at build
        super().__init__(**kwargs)
        self.units = units
        self.activation, self.recurrent_activation = activation, recurrent_activation
        self.use_bias = use_bias
        self.kernel_initializer, self.recurrent_initializer = kernel_initializer, recurrent_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer, self.recurrent_regularizer = kernel_regularizer, recurrent_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint, self.recurrent_constraint = kernel_constraint, recurrent_constraint
        self.bias_constraint = bias_constraint
        self.dropout, self.recurrent_dropout = dropout, recurrent_dropout
        self.implementation = implementation
        self.kernel = self.recurrent_kernel = self.bias = None

    @property
    def state_size(self):
        return self.units if len(self.state_names) == 1 else [self.units] * len(self.state_names)

    @property
    def output_size(self):
        return self.units

    # ------------------------------------------------------------ weights
    def build(self, input_shape):
        """input_shape: (batch, input_dim)."""
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(f"cell {self.name!r} is built for one timestep (batch, input_dim) with a known "
                             f"input_dim, got {shape_str(input_shape)}")
        dim, k, u = input_shape[-1], self.n_gates, self.units
        self.kernel = self.add_weight("kernel", (dim, k * u), self.kernel_initializer, self.kernel_regularizer,
                                      self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (u, k * u), self.recurrent_initializer,
                                                self.recurrent_regularizer, self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", self._bias_shape(), value=self._initial_bias(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.input_spec_shape = (None, dim)
        self.built = True

    def _bias_shape(self):
        return (self.n_gates * self.units,)

    def _initial_bias(self):
        return initializers.get(self.bias_initializer)(self._bias_shape(), dtype=self.dtype)

    def _input_bias(self):
        return self.bias

    # ------------------------------------------------------------ dropout and the fused kernel
    def dropout_spec(self, batch_size, input_dim):
        """Variational dropout masks, drawn once per sequence by the RNN: implementation 2 shares one input mask
        (batch, input_dim) and one recurrent mask (batch, units) across the gates; 0 and 1 draw one per gate,
        (k, batch, n) in Keras gate order."""
        lead = () if self.implementation == 2 else (1 if self.n_gates == 1 else self.n_gates,)
        spec = {}
        if self.dropout:
            spec["inputs"] = (lead + (batch_size, input_dim), self.dropout)
        if self.recurrent_dropout:
            spec["states"] = (lead + (batch_size, self.units), self.recurrent_dropout)
        return spec

    def _kernel_options(self):
        return {"activation": activations.builtin_name(self.activation)}

    def fused_kernel(self, dropout_masks=None):
        """What the RNN needs to run a whole sequence through the hand-written BPTT of ``rnn_kernels``:
        (kernel name, weights [kernel, recurrent_kernel, bias], kernel options), or None when the kernels cannot
        run this cell (an activation they do not know: the scan path then runs its step)."""
        key = (self.activation, self.recurrent_activation)
        if self.__dict__.get("_fused_for") != key:  # the activations' names, looked up once per pair of functions
            options = self._kernel_options()   # {argument: activation name, or None for a user's function}
            known = all(name in rnn_kernels.KNOWN_ACTIVATIONS for name in options.values())
            self._fused_for, self._fused_options = key, (options if known else None)
        if self._fused_options is None:
            return None
        masks = dropout_masks or {}
        options = dict(self._fused_options, x_masks=_data(masks.get("inputs")), h_masks=_data(masks.get("states")),
                       implementation=self.implementation)
        return self.kernel_name, [self.kernel, self.recurrent_kernel, self.bias], options

    # ------------------------------------------------------------ the split step (the tape path)
    def step_inputs(self, x, dropout_masks=None):
        """(x_t ⊙ m_x) W + b for every timestep and gate in one product, cut into steps: x (timesteps, batch,
        input_dim) time-major -> a list, per timestep, of the gate groups of ``projection_groups``, each
        (batch, units * size). Two tape entries for the whole sequence."""
        x_masks = (dropout_masks or {}).get("inputs")
        if x_masks is None or x_masks.ndim == 2:
            z = (x if x_masks is None else x * x_masks) @ self.kernel
        else:  # one mask per gate: one product per gate
            u = self.units
            z = mg.concatenate([(x * x_masks[g]) @ self.kernel[:, g * u:(g + 1) * u] for g in range(self.n_gates)],
                               axis=-1)
        bias = self._input_bias()
        if bias is not None:
            z = z + bias
        if len(self.projection_groups) == 1:
            return [[p] for p in mg.unstack(z)]
        cuts = np.cumsum(self.projection_groups[:-1]) * self.units
        groups = [mg.unstack(g) for g in mg.split(z, cuts, axis=-1)]
        return [list(step) for step in zip(*groups)]

    def step_constants(self, dropout_masks=None):
        """What every step of a sequence reads from the weights, sliced once (one tape entry each, not one per
        step): the recurrent kernel's columns for each of ``recurrent_groups`` (per gate with per-gate recurrent
        masks), and the recurrent dropout mask."""
        h_masks = (dropout_masks or {}).get("states")
        R, u, k = self.recurrent_kernel, self.units, self.n_gates
        groups = self.recurrent_groups
        if h_masks is not None and h_masks.ndim == 3:  # a mask per gate: a product per gate
            groups = tuple((g, g + 1) for first, end in groups for g in range(first, end))
        columns = {(first, end): R if (first, end) == (0, k) else R[:, first * u:end * u] for first, end in groups}
        return {"columns": columns, "h_masks": h_masks}

    @staticmethod
    def recurrent_product(h, constants, first, end):
        """(h ⊙ m_h^g) R_g for the gates g = first..end-1, side by side: (batch, (end-first)*units). One product,
        or with per-gate recurrent masks one per gate, joined."""
        columns, h_masks = constants["columns"], constants["h_masks"]
        if h_masks is not None and h_masks.ndim == 3:
            if end - first == 1:
                return (h * h_masks[first]) @ columns[(first, end)]
            return mg.concatenate([(h * h_masks[g]) @ columns[(g, g + 1)] for g in range(first, end)], axis=-1)
        if h_masks is not None:
            h = h * h_masks
        return h @ columns[(first, end)]

    def step(self, x_t, states, constants):
        """One timestep with minigrad ops: x_t, the step's input projection (``step_inputs``); states, the states
        entering the step; constants, ``step_constants``. Returns (output, new states)."""
        raise NotImplementedError

    def call(self, inputs, states, training=False, dropout_masks=None, mask=None):
        """One timestep: inputs (batch, input_dim), states [(batch, units), ...] -> (output, new states).
        ``dropout_masks`` as ``dropout_spec`` describes (the RNN draws them; without them, no dropout). A cell
        sees a single step, so ``mask`` (accepted for ``Layer.__call__``) plays no part: masking is the RNN's."""
        masks = dropout_masks or {}
        x = mg.reshape(inputs, (1,) + tuple(inputs.shape))
        x_masks = masks.get("inputs")
        (x_t,) = self.step_inputs(x, {"inputs": x_masks})
        return self.step(x_t, list(states), self.step_constants(masks))

    # ------------------------------------------------------------ config
    def get_config(self):
        owner = type(self).__name__
        config = super().get_config()
        config.setdefault("dtype", self.dtype.name)  # a float64 cell stays float64 (Layer.get_config may list it)
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _serialize_initializer(owner, "kernel_initializer", self.kernel_initializer),
            "recurrent_initializer": _serialize_initializer(owner, "recurrent_initializer",
                                                            self.recurrent_initializer),
            "bias_initializer": _serialize_initializer(owner, "bias_initializer", self.bias_initializer),
            "kernel_regularizer": _serialize_optional(regularizers, owner, "kernel_regularizer",
                                                      self.kernel_regularizer),
            "recurrent_regularizer": _serialize_optional(regularizers, owner, "recurrent_regularizer",
                                                         self.recurrent_regularizer),
            "bias_regularizer": _serialize_optional(regularizers, owner, "bias_regularizer", self.bias_regularizer),
            "kernel_constraint": _serialize_optional(constraints, owner, "kernel_constraint", self.kernel_constraint),
            "recurrent_constraint": _serialize_optional(constraints, owner, "recurrent_constraint",
                                                        self.recurrent_constraint),
            "bias_constraint": _serialize_optional(constraints, owner, "bias_constraint", self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "implementation": self.implementation,
        })
        return config


def _data(m):
    return m.data if isinstance(m, mg.Tensor) else m


class SimpleRNNCell(_KernelCell):
    """The fully connected RNN's step: h_t = activation((x_t ⊙ m_x) W + b + (h_{t-1} ⊙ m_h) R); output_t = h_t.

    Weights: kernel (input_dim, units), recurrent_kernel (units, units), bias (units,). States [h].
    Arguments: those of ``SimpleRNN`` that concern one step (units, activation, use_bias, the initializers,
    regularizers and constraints of kernel, recurrent_kernel and bias, dropout, recurrent_dropout,
    implementation). The same equations by hand, forward and BPTT: ``rnn_kernels.simple_rnn_forward`` /
    ``simple_rnn_backward``.
    """
    n_gates, kernel_name = 1, "simple_rnn"

    def __init__(self, units, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise TypeError("SimpleRNNCell does not take recurrent_activation")
        super().__init__(units, activation=activation, **kwargs)

    def step(self, x_t, states, constants):
        (h,) = states
        h = self.activation(x_t[0] + self.recurrent_product(h, constants, 0, 1))
        return h, [h]

    def get_config(self):
        return super().get_config()


class GRUCell(_KernelCell):
    """The gated recurrent unit's step (Cho et al. 2014), gate order z, r, h in the weights:

        z = rec_act(x W_z + b_z + h R_z)            r = rec_act(x W_r + b_r + h R_r)
        hh = act(x W_h + b_h + (r * h) R_h)          # reset_after=False (Keras 2.0): reset before the product
        hh = act(x W_h + b_h + r * (h R_h + b'_h))   # reset_after=True: after it; z, r add b'_z, b'_r too
        h_t = z * h_{t-1} + (1 - z) * hh             output_t = h_t

    (x and h carry their dropout masks.) Weights: kernel (input_dim, 3 units), recurrent_kernel (units, 3 units),
    bias (3 units,), or with reset_after=True (2, 3 units): the input bias b, then the recurrent bias b'.
    The same equations by hand, forward and BPTT: ``rnn_kernels.gru_forward`` / ``gru_backward``.
    """
    n_gates, kernel_name = 3, "gru"

    def __init__(self, units, activation="tanh", recurrent_activation="hard_sigmoid", reset_after=False, **kwargs):
        reset_after = flag_argument("GRUCell", "reset_after", reset_after)
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        self.reset_after = reset_after

    @property
    def projection_groups(self):
        return (2, 1)  # z and r meet the recurrent product side by side; the candidate meets r

    @property
    def recurrent_groups(self):
        # reset after: every gate multiplies the same h, one product; before: z and r, then r * h for the candidate
        return ((0, 3),) if self.reset_after else ((0, 2), (2, 3))

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

    def step_constants(self, dropout_masks=None):
        constants = super().step_constants(dropout_masks)
        constants["recurrent_bias"] = self.bias[1] if self.reset_after and self.bias is not None else None
        return constants

    def step(self, x_t, states, constants):
        (h,) = states
        x_zr, x_h = x_t
        u = self.units
        if self.reset_after:
            rec = self.recurrent_product(h, constants, 0, 3)
            if constants["recurrent_bias"] is not None:
                rec = rec + constants["recurrent_bias"]
            rec_zr, q = mg.split(rec, [2 * u], axis=-1)        # q = h R_h + b'_h
            a_z, a_r = mg.split(x_zr + rec_zr, 2, axis=-1)
            z = self.recurrent_activation(a_z)
            r = self.recurrent_activation(a_r)
            hh = self.activation(x_h + r * q)                  # reset after the product
        else:
            a_z, a_r = mg.split(x_zr + self.recurrent_product(h, constants, 0, 2), 2, axis=-1)
            z = self.recurrent_activation(a_z)
            r = self.recurrent_activation(a_r)
            hh = self.activation(x_h + self.recurrent_product(r * h, constants, 2, 3))   # reset before it
        h = z * h + (1 - z) * hh
        return h, [h]

    def _kernel_options(self):
        return {"activation": activations.builtin_name(self.activation),
                "recurrent_activation": activations.builtin_name(self.recurrent_activation)}

    def fused_kernel(self, dropout_masks=None):
        spec = super().fused_kernel(dropout_masks)
        if spec is not None:
            spec[2]["reset_after"] = self.reset_after
        return spec

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["reset_after"] = self.reset_after
        return config


class LSTMCell(_KernelCell):
    """The long short-term memory's step (Hochreiter & Schmidhuber 1997), gate order i, f, c, o in the weights:

        i = rec_act(x W_i + b_i + h R_i)     f = rec_act(x W_f + b_f + h R_f)
        c_t = f * c_{t-1} + i * act(x W_c + b_c + h R_c)
        o = rec_act(x W_o + b_o + h R_o)     h_t = o * act(c_t)          output_t = h_t

    (x and h carry their dropout masks.) States [h, c]. Weights: kernel (input_dim, 4 units), recurrent_kernel
    (units, 4 units), bias (4 units,). ``unit_forget_bias=True`` sets the forget gate's bias to 1 at
    initialisation. The same equations by hand, forward and BPTT: ``rnn_kernels.lstm_forward`` /
    ``lstm_backward``.
    """
    n_gates, kernel_name = 4, "lstm"
    state_names = ("h", "c")
    projection_groups = (4,)
    recurrent_groups = ((0, 4),)

    def __init__(self, units, activation="tanh", recurrent_activation="hard_sigmoid", unit_forget_bias=True,
                 **kwargs):
        unit_forget_bias = flag_argument("LSTMCell", "unit_forget_bias", unit_forget_bias)
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    def _initial_bias(self):
        bias = super()._initial_bias()
        if self.unit_forget_bias:
            bias[self.units:2 * self.units] = 1  # ones in the f block, bias_initializer elsewhere (Keras 2.0.4+)
        return bias

    def step(self, x_t, states, constants):
        h, c = states
        a_i, a_f, a_c, a_o = mg.split(x_t[0] + self.recurrent_product(h, constants, 0, 4), 4, axis=-1)
        i = self.recurrent_activation(a_i)
        f = self.recurrent_activation(a_f)
        c = f * c + i * self.activation(a_c)
        o = self.recurrent_activation(a_o)
        h = o * self.activation(c)
        return h, [h, c]

    def _kernel_options(self):
        return {"activation": activations.builtin_name(self.activation),
                "recurrent_activation": activations.builtin_name(self.recurrent_activation)}

    def get_config(self):
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


# ------------------------------------------------------------------------------------------------ stacking

class StackedRNNCells(Layer):
    """Several cells as one: each step runs the cells in order, cell i reading cell i-1's output.

    cells: a list of cells (Layers, or other objects, with ``state_size`` and ``call``). ``state_size`` is the cells'
    state sizes in cell order, flat (two LSTMCells: [h1, c1, h2, c2]; so are ``initial_state`` and ``return_state``),
    the weights are the cells' weights in cell order, and the output is the last cell's output.
    """

    def __init__(self, cells, **kwargs):
        if not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError(f"StackedRNNCells takes a non-empty list of cells, got {cells!r:.100}")
        if len({id(c) for c in cells}) != len(cells):
            raise ValueError("StackedRNNCells: a cell appears twice in the list; create one cell per level")
        cells = [as_cell(cell, f"StackedRNNCells: cell {i}") for i, cell in enumerate(cells)]
        for cell in cells:
            state_sizes(cell)
        super().__init__(**kwargs)
        self.cells = cells
        if kwargs.get("dtype") is None:
            self.dtype = cells[0].dtype
        else:
            for cell in self.cells:
                if not cell.built:
                    cell.dtype = self.dtype

    @property
    def state_size(self):
        return [s for cell in self.cells for s in state_sizes(cell)]

    @property
    def trainable_weights(self):
        """The trainable weights of the trainable cells, in cell order (none while the stack is frozen)."""
        return [w for cell in self.cells for w in cell.trainable_weights] if self.trainable else []

    @property
    def output_size(self):
        return output_size(self.cells[-1])

    @property
    def state_names(self):
        return tuple(f"{name}_{i}" for i, cell in enumerate(self.cells) for name in state_names(cell))

    def build(self, input_shape):
        batch, dim = input_shape[0], input_shape[-1]
        for cell in self.cells:
            if not cell.built:
                cell._maybe_build((batch, dim))
            dim = output_size(cell)
        self._weights = [w for cell in self.cells for w in cell.weights]
        self.input_spec_shape = (None, input_shape[-1])
        self.built = True

    def _input_dims(self, input_dim):
        dims = [input_dim]
        for cell in self.cells[:-1]:
            dims.append(output_size(cell))
        return dims

    def dropout_spec(self, batch_size, input_dim):
        """The cells' masks, named ``'<cell index>/<name>'``."""
        spec = {}
        for i, (cell, dim) in enumerate(zip(self.cells, self._input_dims(input_dim))):
            if hasattr(cell, "dropout_spec"):
                spec.update({f"{i}/{name}": v for name, v in cell.dropout_spec(batch_size, dim).items()})
        return spec

    def call(self, inputs, states, training=False, dropout_masks=None, mask=None):
        """One step of every cell: inputs (batch, input_dim), states flat in cell order -> (last cell's output,
        new states flat in cell order)."""
        masks = dropout_masks or {}
        new_states, start, x = [], 0, inputs
        for i, cell in enumerate(self.cells):
            n = len(state_sizes(cell))
            prefix = f"{i}/"
            own = {k[len(prefix):]: v for k, v in masks.items() if k.startswith(prefix)}
            x, cell_states = call_cell(cell, x, list(states[start:start + n]), training, own,
                                       check=not isinstance(cell, _KernelCell))
            new_states.extend(cell_states)
            start += n
        return x, new_states

    def get_config(self):
        config = super().get_config()
        config.setdefault("dtype", self.dtype.name)
        config["cells"] = [serialization.serialize(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [serialization.deserialize(c, custom_objects=custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
