"""Recurrent layers with Keras 2.0 semantics: ``RNN`` over any cell, and ``SimpleRNN``, ``GRU``, ``LSTM``.

The layer is the sequence machinery, the cell is one step (the split Keras made in 2.0.9): ``RNN(cell)`` runs a
cell (``layers/recurrent_cells.py``: the protocol, ``SimpleRNNCell``, ``GRUCell``, ``LSTMCell``,
``StackedRNNCells``) over a sequence, with masks, ``go_backwards``, ``stateful``, initial and returned states and
variational dropout; ``SimpleRNN``, ``GRU`` and ``LSTM`` are ``RNN`` over their built-in cell. The paths compute
the same function (docs/recurrent-semantics.md states it):

* the fused kernel (``unroll=False``, the default, for a cell that offers one: the built-in cells with the
  activations the kernels know): the whole sequence is ONE tape entry, ``FusedRNN``, whose backward is the
  hand-written backprop through time in ``rnn_kernels.py`` (readable, and the fast path); a second derivative
  (``mg.gradients(..., create_graph=True)``) re-runs that sequence op by op through the cell's step and
  differentiates it (recompute-and-differentiate), so the fused path is differentiable to any order;
* the scan path (``unroll=False`` for a cell without a fused kernel: a user's cell, a built-in cell with another
  activation): the tape path's loop, traced for two steps and replayed over time as ONE tape entry by
  ``minigrad.scan`` (the same ops, without a tape entry per op);
* the tape path (``unroll=True``, ``truncate_gradient``, a step that cannot be replayed, a cell that says
  ``scannable = False``): every timestep's ops are recorded on the tape
  (the cell's step, written with minigrad ops straight from its equations), so minigrad's generic reverse pass
  performs BPTT. For the built-in cells it is the independent check of the hand-written BPTT.

``truncate_gradient=k`` (k >= 1; -1, the default, is full BPTT): truncated backprop through time, BPTT(k): the
gradient of each output reaches back only through its last k steps (the states older than that act as constants).
Unlike Theano's scan, which backpropagates only through the last k steps of the whole sequence, every output of a
``return_sequences=True`` layer keeps its own k-step window; with ``return_sequences=False`` the two agree. Such a
layer takes the tape path (``layers.tools.check_truncated_bptt`` checks it exactly).

Shapes: inputs (batch, timesteps, input_dim); states (batch, state size); outputs (batch, output_size) or, with
``return_sequences=True``, (batch, timesteps, output_size).
"""
import contextlib
import warnings

import numpy as np

import minigrad as mg
from minigrad.scan import replay

from . import recurrent_cells, rnn_kernels, serialization
from .base import Layer, pop_legacy_kwargs, shape_str
from .core import dropout_mask
from .recurrent_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells

__all__ = ["RNN", "Recurrent", "SimpleRNN", "GRU", "LSTM", "SimpleRNNCell", "GRUCell", "LSTMCell",
           "StackedRNNCells", "FusedRNN"]

_CONSUME_LESS = {"cpu": 0, "mem": 1, "gpu": 2}

# Keras 1 argument names -> Keras 2 names (docs/recurrent-semantics.md, "Keras 1 argument names")
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


def _fused_reference(cell, mask, go_backwards, dropout_masks):
    """The op-by-op form of one ``FusedRNN`` application: ``reference(x, W, R, b, *states) -> (outputs,
    *final_states)``, the same values as the kernel (outputs (batch, timesteps, units) in processing order), made by
    the cell's own step (``step_inputs``, ``step_constants``, ``step``: its equations in minigrad ops) with the
    weights given as arguments, the same mask (bool (batch, timesteps) or None), order and dropout masks (drawn
    once, for the fused call, and reused here). Only a ``create_graph`` reverse pass runs it, to differentiate the
    fused op (recompute-and-differentiate); first-order passes use the kernel's own BPTT."""
    def reference(x, W, R, b, *states):
        with _weights_of(cell, W, R, b):  # the reference computes from its arguments, whatever the cell holds now
            steps = cell.step_inputs(mg.transpose(x, (1, 0, 2)), dropout_masks)
            constants = cell.step_constants(dropout_masks)
            t_len = x.shape[1]
            outputs, states = [], list(states)
            for t in (range(t_len - 1, -1, -1) if go_backwards else range(t_len)):
                _, new_states = cell.step(steps[t], states, constants)
                if mask is not None:  # a masked step keeps the states, and so repeats the output (h)
                    keep = mask[:, t:t + 1]
                    new_states = [mg.where(keep, new, old) for new, old in zip(new_states, states)]
                states = new_states
                outputs.append(states[0])
        return (mg.stack(outputs, axis=1), *states)
    return reference


@contextlib.contextmanager
def _weights_of(cell, kernel, recurrent_kernel, bias):
    """The cell reading ``kernel``, ``recurrent_kernel`` and ``bias`` for the duration of the block."""
    held = cell.kernel, cell.recurrent_kernel, cell.bias
    cell.kernel, cell.recurrent_kernel, cell.bias = kernel, recurrent_kernel, bias
    try:
        yield
    finally:
        cell.kernel, cell.recurrent_kernel, cell.bias = held


def _set_dtype(cell, dtype):
    """Give an unbuilt cell (and the cells it stacks) the float type of the layer that runs it."""
    if not cell.built:
        cell.dtype = dtype
        for inner in getattr(cell, "cells", []):
            _set_dtype(inner, dtype)


def split_state_list(layer, inputs, kwargs):
    """Keras: ``layer([x, h, c])`` is ``layer(x, initial_state=[h, c])``. For a list or tuple of arrays/Tensors (a
    nested list of numbers is data), returns its first element and puts the rest in ``kwargs['initial_state']``.
    ``constants=`` (Keras 2.0.9+) is refused here, with the way to do without it."""
    if "constants" in kwargs:
        raise TypeError(f"layer {layer.name!r}: `constants` (per-sequence inputs of a cell, Keras 2.0.9+) is not "
                        "supported; give the cell the values as part of its input instead: repeat them over the "
                        "timesteps (RepeatVector) and concatenate them to the sequence (docs/keras.md)")
    if not isinstance(inputs, (list, tuple)):
        return inputs
    if not inputs or np.isscalar(inputs[0]) or isinstance(inputs[0], (list, tuple)):
        return np.asarray(inputs)  # nested lists of numbers: one array
    if len(inputs) > 1:
        if kwargs.get("initial_state") is not None:
            raise ValueError(f"layer {layer.name!r} was called on a list [inputs, *initial_states] and given "
                             "initial_state= as well: pass the initial states one way")
        kwargs["initial_state"] = list(inputs[1:])
    return inputs[0]


def _as_bool_mask(mask):
    return np.asarray(mask.data if isinstance(mask, mg.Tensor) else mask, dtype=bool)


class RNN(Layer):
    """A recurrent layer over any cell: the sequence machinery around one step.

    cell: a cell (a Layer, or any object, with ``state_size`` and ``call(inputs, states, training=False) ->
        (output, new_states)``, see ``layers/recurrent_cells.py``), or a list of cells (a ``StackedRNNCells``).
    return_sequences: return the output of every step (batch, timesteps, output_size), not only the last.
    return_state: also return the final states: ``[output, *final_states]``.
    go_backwards: process the sequence from its last step to its first (the outputs are in processing order).
    stateful: the final state of sample i of a batch is the initial state of sample i of the next batch (needs a
        fixed batch size: ``batch_input_shape``); ``reset_states()`` zeroes them.
    unroll: record every op of every step on the tape (the teaching path), instead of the fused kernel of a
        built-in cell or the replayed step of a user's cell.
    truncate_gradient: BPTT(k) for k >= 1 (see the module docstring); -1 is full backprop through time.
    Also the Layer arguments, ``input_dim`` and ``input_length`` among them.

    Call: ``layer(x, initial_state=None, mask=None, training=False)``; ``layer([x, *initial_states])`` is the same
    as ``initial_state=``. ``initial_state`` is one Tensor/array or a list, one (batch, size) per state.

    Masks: at a masked step every state carries over and the output repeats the previous step's output (at
    leading masked steps: ``initial_output``, the initial h for the built-in cells); the final states are those
    after the last unmasked step.

    Variational dropout: a cell that declares ``dropout_spec(batch_size, input_dim) -> {name: (shape, rate)}``
    gets its masks drawn here, once per sequence and only with ``training=True``, from
    ``layers.core.dropout_mask``; every step receives the same ``dropout_masks`` dict.

    The public step protocol (what the layer runs, and what ``layers.tools`` instrument): ``get_initial_state``,
    ``draw_dropout_masks``, ``initial_output``, ``step_inputs``, ``step_constants`` and ``step``;
    ``state_size`` (a list), ``state_names``, ``output_size``.
    """
    supports_masking = True

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, truncate_gradient=-1, **kwargs):
        owner = type(self).__name__
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        cell = recurrent_cells.as_cell(cell, f"{owner}: cell")  # Keras 2.1: a cell need not be a Layer
        if not callable(getattr(cell, "call", None)):
            raise TypeError(f"{owner}: cell {cell.name!r} has no call(inputs, states) method")
        recurrent_cells.state_sizes(cell)  # a cell without a valid state_size fails here, naming the problem
        if not isinstance(truncate_gradient, (int, np.integer)) or isinstance(truncate_gradient, bool) \
                or not (truncate_gradient == -1 or truncate_gradient >= 1):
            raise ValueError(f"{owner}: truncate_gradient must be -1 (full backprop through time) or an integer "
                             f"number of steps >= 1, got {truncate_gradient!r}")
        flags = {name: recurrent_cells.flag_argument(owner, name, value) for name, value in (
            ("return_sequences", return_sequences), ("return_state", return_state), ("go_backwards", go_backwards),
            ("stateful", stateful), ("unroll", unroll))}
        super().__init__(**kwargs)
        if kwargs.get("dtype") is None:
            self.dtype = cell.dtype  # RNN(LSTMCell(8, dtype='float64')) is a float64 layer
        else:
            _set_dtype(cell, self.dtype)  # RNN(cell, dtype='float64'): an unbuilt cell computes in float64 too
        self.cell = cell
        self.return_sequences, self.return_state = flags["return_sequences"], flags["return_state"]
        self.go_backwards, self.stateful, self.unroll = flags["go_backwards"], flags["stateful"], flags["unroll"]
        self.truncate_gradient = int(truncate_gradient)
        self.states = [None] * len(self.state_size)
        if self.stateful and self.batch_input_shape is not None and self.batch_input_shape[0] is None:
            raise ValueError(self._stateful_batch_message())

    # ------------------------------------------------------------ what the cell declares
    @property
    def state_size(self):
        """The sizes of the states, a list (one int per state)."""
        return recurrent_cells.state_sizes(self.cell)

    @property
    def state_names(self):
        """Names of the states, for messages: ('h',), ('h', 'c'), ..."""
        return recurrent_cells.state_names(self.cell)

    @property
    def output_size(self):
        return recurrent_cells.output_size(self.cell)

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
    @property
    def trainable_weights(self):
        """The cell's trainable weights (a frozen cell, or level of a stack, keeps its own out); none while this
        layer is frozen."""
        return self.cell.trainable_weights if self.trainable else []

    def build(self, input_shape):
        self._check_ndim(input_shape)
        declared = self.batch_input_shape  # checked against the input by Layer.check_declared_shape
        # a stateful layer keeps one state per sample, so its batch size is fixed: from batch_input_shape, or from
        # the first concrete batch when it is called eagerly
        batch = declared[0] if declared is not None else input_shape[0]
        if self.stateful and batch is None:
            raise ValueError(self._stateful_batch_message())
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(f"layer {self.name!r} needs a known input_dim (last axis), got {shape_str(input_shape)}")
        cell = self.cell
        if cell.built:
            built_dim = (cell.input_spec_shape or (None,))[-1]
            if built_dim is not None and built_dim != dim:
                raise ValueError(f"layer {self.name!r}: its cell {cell.name!r} was built for input_dim={built_dim}, "
                                 f"found input shape {shape_str(input_shape)}")
        else:
            cell._maybe_build((batch if self.stateful else None, dim))
        self._weights = cell._weights  # the cell's weights are this layer's weights (one list)
        # a declared number of timesteps is kept for later calls; an explicit build((b, None, d)) leaves it free
        timesteps = input_shape[1] if declared is not None and len(declared) == 3 and declared[1] is not None \
            else None
        self.input_spec_shape = (batch if self.stateful else None, timesteps, dim)
        self.built = True
        if self.stateful:
            self.reset_states()

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
        if spec[1] is not None and shape[1] is not None and shape[1] != spec[1]:
            raise ValueError(f"layer {self.name!r} was declared for {spec[1]} timesteps (input shape "
                             f"{shape_str(spec)}), found input shape {shape_str(shape)}")
        if self.stateful and shape[0] is not None and shape[0] != spec[0]:
            raise ValueError(f"stateful layer {self.name!r} was built for batches of {spec[0]} samples (input shape "
                             f"{shape_str(spec)}), found a batch of {shape[0]} (shape {shape_str(shape)}); a "
                             "stateful layer carries one state per sample, so every batch must have the same size")

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        self._check_ndim(input_shape)
        b, t, n = input_shape[0], input_shape[1], self.output_size
        out = (b, t, n) if self.return_sequences else (b, n)
        if self.return_state:
            return [out] + [(b, s) for s in self.state_size]
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = None
        if self.return_sequences and mask is not None:
            out = _as_bool_mask(mask)
            if self.go_backwards:
                out = out[:, ::-1]  # line up with the reversed output sequence (Keras issue #6022)
        if self.return_state:
            return [out] + [None] * len(self.state_size)
        return out

    # ------------------------------------------------------------ states
    def reset_states(self, states=None):
        """Zero the carried states of a stateful layer, or set them from arrays of shape (batch, size)."""
        if not self.stateful:
            raise AttributeError(f"layer {self.name!r} is not stateful: reset_states() needs stateful=True")
        if not self.built:
            raise RuntimeError(f"stateful layer {self.name!r} has not been built yet: call it or add it to a model "
                               "with a batch_input_shape first")
        batch = self.input_spec_shape[0]
        if states is None:
            self.states = [np.zeros((batch, s), self.dtype) for s in self.state_size]
            return
        checked = self._checked_states(states, batch, "state", "received")
        self.states = [np.array(s.data if isinstance(s, mg.Tensor) else s, dtype=self.dtype) for s in checked]

    def _checked_states(self, states, batch, what, verb):
        """``states`` (one value or a list) after checking there is one per state, each of shape (batch, size)."""
        sizes, names = self.state_size, self.state_names
        if not isinstance(states, (list, tuple)):
            states = [states]
        if len(states) != len(sizes):
            raise ValueError(f"layer {self.name!r} expects {len(sizes)} state(s) ({', '.join(names)}), but "
                             f"{verb} {len(states)} {what} value(s)")
        for i, s in enumerate(states):
            data = s.data if isinstance(s, mg.Tensor) else np.asarray(s)
            if data.dtype.kind not in "fiub":
                raise TypeError(f"{what} {i} ({names[i]}) of layer {self.name!r} must be numeric, got dtype "
                                f"{data.dtype}")
            if data.shape != (batch, sizes[i]):
                raise ValueError(f"{what} {i} ({names[i]}) of layer {self.name!r}: expected shape "
                                 f"{(batch, sizes[i])}, found shape {data.shape}")
        return states

    def compute_dtype(self, x):
        """The float type of the arithmetic on the sequence x: the weights' (float64 while gradcheck replays them;
        the layer's without weights), widened to x's when x is a wider float (numpy's promotion: a float64 input
        into a float32 layer computes in float64). Integer inputs and initial states are cast to it."""
        dtype = self._weights[0].dtype if self._weights else self.dtype
        if x.dtype == dtype or x.dtype.kind != "f":
            return dtype
        return np.result_type(dtype, x.dtype)

    def get_initial_state(self, x, initial_state=None):
        """The states a sequence x (batch, timesteps, input_dim) starts from, as Tensors (batch, size) of x's
        dtype: ``initial_state`` (checked), the carried states of a stateful layer, or zeros."""
        b, dtype = x.shape[0], x.dtype
        if initial_state is not None:
            out = []
            for s in self._checked_states(initial_state, b, "initial state", "was passed"):
                if not isinstance(s, mg.Tensor):
                    s = mg.Tensor(np.asarray(s, dtype=dtype))
                elif s.dtype != dtype:
                    s = s.astype(dtype)  # differentiable: the gradient comes back in the state's own dtype
                out.append(s)
            return out
        if self.stateful:
            return [mg.Tensor(np.asarray(s, dtype=dtype)) for s in self.states]
        zeros = {}  # one array per size: the states are never written in place
        return [mg.Tensor(zeros.setdefault(n, np.zeros((b, n), dtype=dtype))) for n in self.state_size]

    def initial_output(self, states):
        """The output "before the first step", which leading masked steps repeat: the initial state the output
        continues (the built-in cells: h; a stack: its last cell's first state) when there is one of the output's
        size, else zeros (batch, output_size)."""
        i = recurrent_cells.output_state(self.cell)
        if i is not None:
            return states[i]
        return mg.Tensor(np.zeros((states[0].shape[0], self.output_size), dtype=states[0].dtype))

    # ------------------------------------------------------------ dropout masks
    def draw_dropout_masks(self, x, training=False):
        """The cell's variational dropout masks for the sequence x: {name: mask} as its ``dropout_spec`` asks,
        drawn once (only with ``training=True`` and 0 < rate < 1) and handed to every step. {} when none."""
        spec_fn = getattr(self.cell, "dropout_spec", None)
        if spec_fn is None or not training:
            return {}
        b = x.shape[0]
        masks = {}
        for name, (shape, rate) in spec_fn(b, x.shape[-1]).items():
            shape = tuple(int(n) for n in shape)
            if not isinstance(rate, (int, float, np.floating, np.integer)) or isinstance(rate, bool) \
                    or not 0 <= rate < 1:
                raise ValueError(f"cell {self.cell.name!r}: dropout_spec gives mask {name!r} the rate {rate!r}; "
                                 "a rate is a float in [0, 1)")
            if len(shape) < 2 or shape[-2] != b:
                raise ValueError(f"cell {self.cell.name!r}: dropout_spec gives mask {name!r} the shape {shape}; a "
                                 f"mask has the batch ({b}) on its second-to-last axis, (..., batch, size)")
            if rate > 0:
                masks[name] = dropout_mask(shape, rate, x.dtype)
        return masks

    # ------------------------------------------------------------ the step protocol
    @property
    def _split_step(self):
        cell = self.cell
        return all(callable(getattr(cell, n, None)) for n in ("step_inputs", "step_constants", "step"))

    def step_inputs(self, x, dropout_masks=None):
        """x (batch, timesteps, input_dim) -> what each step reads of it, a list in input order: the cell's
        ``step_inputs`` of the time-major sequence (the built-in cells: x_t W + b, made in one product), else the
        slices x_t (batch, input_dim)."""
        if self._split_step:
            return self.cell.step_inputs(mg.transpose(x, (1, 0, 2)), dropout_masks or {})
        return mg.unstack(x, axis=1)

    def step_constants(self, dropout_masks=None):
        """What every step of one sequence shares: the cell's ``step_constants`` (prepared once), else the dropout
        masks."""
        if self._split_step:
            return self.cell.step_constants(dropout_masks or {})
        return dropout_masks or {}

    def step(self, step_input, states, constants, training=False):
        """One step: (output, new states) from a step input, the states entering the step and the sequence's
        constants. A cell's result is checked (one state per state, each of its shape)."""
        if self._split_step:
            return self.cell.step(step_input, states, constants)
        return recurrent_cells.call_cell(self.cell, step_input, states, training, constants, check=True)

    # ------------------------------------------------------------ the forward pass
    def __call__(self, inputs, *args, **kwargs):
        inputs = split_state_list(self, inputs, kwargs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, mask=None, training=False, initial_state=None):
        x = inputs
        dtype = self.compute_dtype(x)
        if x.dtype != dtype:
            x = x.astype(dtype)  # integer (or narrower float) inputs computed in the layer's float type
        b, t = x.shape[:2]
        if t == 0:
            raise ValueError(f"layer {self.name!r} needs at least one timestep, got an input of shape "
                             f"{shape_str(x.shape)} (timesteps=0)")
        states = self.get_initial_state(x, initial_state)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None:
            mask = _as_bool_mask(mask)
            if mask.shape != (b, t):
                raise ValueError(f"layer {self.name!r}: mask of shape {mask.shape} does not match the input's "
                                 f"(batch, timesteps) {(b, t)}")
            if mask.all():
                mask = None
        masks = self.draw_dropout_masks(x, training)
        fused = None
        if not self.unroll and not 0 < self.truncate_gradient < t:
            fused = self._fused_kernels(masks)
        if fused is not None:
            outputs, last, finals = self._fused(x, states, mask, fused)
        else:
            result = None
            if not self.unroll and not 0 < self.truncate_gradient < t and self._scannable:
                result = self._scanned(x, states, mask, masks, training)
            if result is None:
                result = self._unrolled(x, states, mask, masks, training)
            outputs, last, finals = result
        if self.stateful:  # no gradient crosses batches: truncated BPTT, as in Keras
            self.states = [np.array(s.data, dtype=self.dtype) for s in finals]
        output = outputs if self.return_sequences else last
        return [output, *finals] if self.return_state else output

    def _fused_kernels(self, dropout_masks):
        """The fused kernel of every level of the cell, [(cell, its dropout masks, kernel name, weights, options,
        number of states)], or None when a level offers none. A stack of built-in cells runs level by level: the
        same function as stepping the levels together (a masked step carries every level's states, and an upper
        level's step at a masked step is discarded whatever its input), one tape entry per level."""
        stacked = isinstance(self.cell, StackedRNNCells)
        if not stacked:  # one cell (the built-in layers): the short way
            offer = getattr(self.cell, "fused_kernel", None)
            spec = None if offer is None else offer(dropout_masks)
            return None if spec is None else [(self.cell, dropout_masks, *spec, len(self.states))]
        kernels = []
        for i, cell in enumerate(self.cell.cells if stacked else [self.cell]):
            offer = getattr(cell, "fused_kernel", None)
            if offer is None:
                return None
            own = dropout_masks
            if stacked:  # the stack's masks are named '<level>/<name>'
                own = {k.split("/", 1)[1]: v for k, v in dropout_masks.items() if k.startswith(f"{i}/")}
            spec = offer(own)
            if spec is None:
                return None
            kernels.append((cell, own, *spec, len(recurrent_cells.state_sizes(cell))))
        return kernels

    def _fused(self, x, states, mask, kernels):
        """Each level's whole sequence as one ``FusedRNN`` tape entry; returns (outputs, last output, finals).
        The first level reads x (backwards with go_backwards); the next ones read the outputs below in processing
        order, with the mask in that order too. Each application carries its op-by-op form (``_fused_reference``),
        which only a ``create_graph`` pass runs: that is how the fused path is differentiated twice and more."""
        finals, start, go_backwards = [], 0, self.go_backwards
        for cell, dropout_masks, name, weights, options, n in kernels:
            reference = _fused_reference(cell, mask, go_backwards, dropout_masks)
            outputs, *level = FusedRNN.apply_with_reference(reference, x, *weights, *states[start:start + n],
                                                            cell=name, mask=mask, go_backwards=go_backwards,
                                                            **options)
            finals.extend(level)
            start += n
            if go_backwards and mask is not None:
                mask = mask[:, ::-1]
            x, go_backwards = outputs, False
        return outputs, finals[start - n], finals  # the built-in cells' output is their first state

    @property
    def _scannable(self):
        """Whether the scan path may run this layer's cell: any cell (a built-in cell gets here only without a fused
        kernel: an activation the kernels do not know), unless it says ``scannable = False``."""
        return getattr(self.cell, "scannable", True) is not False

    def _scanned(self, x, states, mask, dropout_masks, training):
        """The tape path's loop, traced once and replayed as ONE tape entry (``minigrad.scan``): the same step
        protocol and ops at every step (the step's inputs, the cell's step, then the masking rule), so the same
        function and gradients, without a tape entry per op. Returns what ``_unrolled`` returns, or None when the
        step cannot be replayed (it is not the same program at every step, see ``minigrad/scan.py``): the tape
        path runs it then."""
        n = len(states)
        constants = self.step_constants(dropout_masks)
        if self._split_step:  # the built-in cells' step inputs (x_t W + b, per group of gates), stacked over time
            items = self.step_inputs(x, dropout_masks)
            xs = [mg.stack([item[g] for item in items]) for g in range(len(items[0]))]
        else:
            xs = [mg.transpose(x, (1, 0, 2))]      # time-major: step t reads xs[t]
        n_in = len(xs)
        if mask is not None:
            xs.append(mg.Tensor(np.ascontiguousarray(mask.T)[:, :, None]))   # keep_t (batch, 1)

        def step(carry, x_t):
            states, previous = carry[:n], carry[n]
            out, new = self.step(x_t[:n_in] if self._split_step else x_t[0], states, constants, training)
            output_is_state = out is new[0]
            if mask is not None:  # a masked step keeps the previous states and repeats the previous output
                keep = x_t[n_in]
                new = [mg.where(keep, a, b) for a, b in zip(new, states)]
                if not output_is_state:
                    out = mg.where(keep, out, previous)
            previous = new[0] if output_is_state else out
            return [*new, previous], ([previous] if self.return_sequences else None)

        result = replay(step, [*states, self.initial_output(states)], xs, reverse=self.go_backwards)
        if result is None:
            return None
        carry, ys, _ = result
        seq = None
        if self.return_sequences:  # ys[0][t] belongs to input step t: the outputs in processing order, batch first
            seq = ys[0][::-1] if self.go_backwards else ys[0]
            seq = mg.transpose(seq, (1, 0, 2))
        return seq, carry[n], carry[:n]

    def _unrolled(self, x, states, mask, dropout_masks, training):
        """Record every timestep on the tape: BPTT is then minigrad's own reverse pass. Returns (the outputs
        stacked (batch, timesteps, output_size) or None without return_sequences, the last output, the final
        states).

        Truncated (0 < truncate_gradient = k < timesteps): with only the final state as output, the states entering
        the last k steps are cut from the graph. With an output at every step, the sequence runs as k copies of the
        batch side by side (batch axis k*batch, equal in value): at each step copy a continues copy a-1 of the
        previous step and copy 0 restarts from a constant, so copy a has gradient paths through at most a+1 steps,
        and the output is copy k-1. Exact BPTT(k) for every output, at k times the arithmetic (the same number of
        recorded ops), for any cell (each copy is an ordinary batch).
        """
        b, t_len = x.shape[:2]
        order = range(t_len - 1, -1, -1) if self.go_backwards else range(t_len)
        k = self.truncate_gradient if 0 < self.truncate_gradient < t_len else 0
        copies = k if k and self.return_sequences else 1

        def tiled(a):  # the k copies side by side on the batch axis
            return a if copies == 1 else mg.concatenate([a] * copies, axis=0)

        def restarted(s):  # copy a continues copy a-1; copy 0 starts again from the last copy's value, a constant
            return mg.concatenate([mg.Tensor(s.data[-b:]), s[:-b]])

        previous = tiled(self.initial_output(states))  # the output a masked step repeats, per copy
        x, states = tiled(x), [tiled(s) for s in states]
        if copies > 1:
            dropout_masks = {n: np.concatenate([m] * copies, axis=-2) for n, m in dropout_masks.items()}
        steps = self.step_inputs(x, dropout_masks)
        constants = self.step_constants(dropout_masks)
        outputs = []
        output_is_state = False  # the built-in cells' output is their first state: then it needs no carry of its own
        for n, t in enumerate(mg.tag_timesteps(order, self.name)):  # tags steps for mg.track_ops/detect_anomaly
            if copies > 1:
                states = [restarted(s) for s in states]
                if not output_is_state:
                    previous = restarted(previous)
            elif k and n == t_len - k:
                states, previous = [s.detach() for s in states], previous.detach()
            out, new_states = self.step(steps[t], states, constants, training)
            output_is_state = out is new_states[0]
            if mask is not None:  # a masked step keeps the previous states and repeats the previous output
                keep = mask[:, t:t + 1]
                if copies > 1:
                    keep = np.concatenate([keep] * copies)
                new_states = [mg.where(keep, new, old) for new, old in zip(new_states, states)]
                if not output_is_state:
                    out = mg.where(keep, out, previous)
            states = new_states
            previous = states[0] if output_is_state else out
            outputs.append(previous[-b:] if copies > 1 else previous)
        if copies > 1:
            states = [s[-b:] for s in states]
        previous = outputs[-1]
        seq = mg.stack(outputs, axis=1) if self.return_sequences else None
        return seq, previous, states

    # ------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config["cell"] = serialization.serialize(self.cell)
        config.update(self._sequence_config())
        return config

    def _sequence_config(self):
        return {"return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                "truncate_gradient": self.truncate_gradient}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if "cell" not in config:
            raise ValueError(f"an {cls.__name__} config needs its 'cell' (a serialized cell), got keys "
                             f"{sorted(config)}")
        cell = serialization.deserialize(config.pop("cell"), custom_objects=custom_objects)
        return cls(cell, **config)


# ------------------------------------------------------------------------------------------------ the Keras layers

_CELL_ARGS = ("activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
              "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
              "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout", "implementation")


class Recurrent(RNN):
    """Base of ``SimpleRNN``, ``GRU`` and ``LSTM``: an RNN over the built-in cell ``cell_class``, made from the
    layer's Keras 2.0 arguments (``cell_args`` go to the cell, the rest to the RNN and Layer). Keras 1 argument names
    are translated with a DeprecationWarning. Every argument is readable on the layer (``layer.units``,
    ``layer.dropout``, ``layer.kernel``, ...), the cell's read through."""
    cell_class = None
    cell_args = _CELL_ARGS

    def __init__(self, units=None, activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, implementation=0, truncate_gradient=-1,
                 **kwargs):
        given = dict(activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                     kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                     bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                     recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                     kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                     bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                     implementation=implementation)
        for name in self.cell_args:  # the subclass's own cell arguments (unit_forget_bias, reset_after)
            if name not in given and name in kwargs:
                given[name] = kwargs.pop(name)
        cell_kwargs = {name: value for name, value in given.items() if name in self.cell_args}
        try:
            cell = self.cell_class(units, name="cell", dtype=kwargs.get("dtype"), **cell_kwargs)
        except (TypeError, ValueError) as e:  # name the layer the user wrote, not its cell
            raise type(e)(str(e).replace(f"{self.cell_class.__name__}:", f"{type(self).__name__}:", 1)) from None
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         truncate_gradient=truncate_gradient, activity_regularizer=activity_regularizer, **kwargs)
        cell.name = self.name  # its weights are named after the layer: lstm_1/kernel, ...

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

    def get_config(self):
        config = Layer.get_config(self)
        base_keys = set(Layer.get_config(self.cell))
        config.update({k: v for k, v in self.cell.get_config().items() if k not in base_keys})
        config.update(self._sequence_config())
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


def _read_through(name):
    return property(lambda self: getattr(self.cell, name),
                    doc=f"The cell's ``{name}`` (``layer.cell.{name}``).")


for _name in _CELL_ARGS + ("units", "recurrent_activation", "kernel", "recurrent_kernel", "bias", "n_gates"):
    setattr(Recurrent, _name, _read_through(_name))


class SimpleRNN(Recurrent):
    """Fully connected RNN over ``SimpleRNNCell``: h_t = activation(x_t W + b + h_{t-1} R); output_t = h_t.

    Weights: kernel (input_dim, units), recurrent_kernel (units, units), bias (units,).
    """
    cell_class = SimpleRNNCell

    def __init__(self, units=None, activation="tanh", **kwargs):
        if "recurrent_activation" in kwargs:
            raise TypeError("SimpleRNN does not take recurrent_activation")
        super().__init__(units, activation=activation, **kwargs)


class GRU(Recurrent):
    """Gated recurrent unit over ``GRUCell`` (Keras 2.0 form by default), gate order z, r, h:

        z = rec_act(x W_z + b_z + h R_z)            r = rec_act(x W_r + b_r + h R_r)
        hh = act(x W_h + b_h + (r * h) R_h)          # reset applied before the recurrent product
        h_t = z * h_{t-1} + (1 - z) * hh

    ``reset_after=True``: the convention of Keras 2.1.3+, Keras 3, cuDNN and PyTorch, hh = act(x W_h + b_h +
    r * (h R_h + b'_h)) with a bias of shape (2, 3 units) (input bias b, recurrent bias b').
    Weights: kernel (input_dim, 3 units), recurrent_kernel (units, 3 units), bias (3 units,).
    """
    cell_class = GRUCell
    cell_args = _CELL_ARGS + ("recurrent_activation", "reset_after")

    def __init__(self, units=None, reset_after=False, **kwargs):
        super().__init__(units, reset_after=reset_after, **kwargs)


class LSTM(Recurrent):
    """Long short-term memory over ``LSTMCell``, Keras 2.0 form, gate order i, f, c, o:

        i = rec_act(x W_i + b_i + h R_i)     f = rec_act(x W_f + b_f + h R_f)
        c_t = f * c_{t-1} + i * act(x W_c + b_c + h R_c)
        o = rec_act(x W_o + b_o + h R_o)     h_t = o * act(c_t)

    States [h, c]. Weights: kernel (input_dim, 4 units), recurrent_kernel (units, 4 units), bias (4 units,).
    ``unit_forget_bias=True`` (default) sets the forget gate's bias to 1 at initialisation.
    """
    cell_class = LSTMCell
    cell_args = _CELL_ARGS + ("recurrent_activation", "unit_forget_bias")

    def __init__(self, units=None, unit_forget_bias=True, **kwargs):
        super().__init__(units, unit_forget_bias=unit_forget_bias, **kwargs)

    @classmethod
    def _translate_legacy(cls, kwargs):
        if "forget_bias_init" in kwargs:
            value = kwargs.pop("forget_bias_init")
            if "unit_forget_bias" in kwargs:
                raise TypeError("LSTM received both the Keras 1 argument `forget_bias_init` and `unit_forget_bias`")
            if value not in ("one", "zero"):
                raise ValueError(f"LSTM: forget_bias_init must be 'one' or 'zero' (Keras 1), got {value!r}")
            warnings.warn("LSTM: `forget_bias_init` is a Keras 1 name, use `unit_forget_bias` instead",
                          DeprecationWarning, stacklevel=4)
            kwargs["unit_forget_bias"] = value == "one"
        return super()._translate_legacy(kwargs)


for _name in ("reset_after",):
    setattr(GRU, _name, _read_through(_name))
for _name in ("unit_forget_bias",):
    setattr(LSTM, _name, _read_through(_name))
del _name
