"""The training machinery shared by ``Sequential`` and the functional ``Model``: compile, fit, evaluate, predict,
the ``*_on_batch`` methods, the generator methods, weights, states, summary and weight files (Keras 2.0
semantics).

A model class inherits ``TrainingMixin``, calls ``self._init_training()`` in its constructor and provides the
*model protocol*:

``layers``
    list of every ``Layer`` of the model, each once, in weight order (``get_weights`` walks it).
``_num_inputs``, ``_num_outputs``
    ints: how many input arrays ``fit``/``predict`` take and how many outputs (and target arrays) there are.
``_output_layers``
    list with, for each output, the layer whose call produces it (its ``name`` names the output in logs and
    in per-output ``loss``/``metrics`` dicts; its ``activation`` decides whether the loss may use logits).
``_forward(inputs, training=False, logits=None) -> (outputs, masks)``
    ``inputs``: list of ``_num_inputs`` ndarrays or Tensors, each ``(batch, ...)``.
    ``logits``: None, or a list of ``_num_outputs`` bools; True asks for that output's pre-activation, i.e. the
    output layer called with ``apply_activation=False`` (only asked of Dense, Activation and TimeDistributed
    of those, see ``logit_activation``).
    Returns ``outputs``, a list of ``_num_outputs`` Tensors, and ``masks``, a list of the mask (bool ndarray,
    e.g. ``(batch, timesteps)``) or None reaching each output; the loss ignores masked positions, as Keras does.
``input_names`` (optional)
    the names under which ``fit``/``predict`` accept inputs given as a dict.

Everything else (the loop, losses, metrics, callbacks, stateful checks, weight lists and files) lives here.

The loss minimised on each batch is ``sum_i w_i * loss_i + sum(penalties)``: ``loss_i`` the loss of output ``i``,
``w_i`` its ``loss_weights`` entry (default 1), and the penalties every layer's ``losses`` (weight regularisers and
activity regularisers), *not* divided by the batch size (Keras 2.0). The reported ``'loss'`` is that same total.

``loss_i`` follows Keras 2.0's weighted, masked objective. With ``L`` the per-sample loss of shape (batch,) or
(batch, timesteps), ``m`` the mask reaching the output (if any) and ``s`` the sample weights (if any)::

    L' = L * m / mean(m)                                  # with a mask: the mean over unmasked positions
    L' = mean of L' over the axes that s does not have    # (batch, timesteps) -> (batch,) for 1-D weights
    loss_i = mean(L' * s) / mean(s != 0)                  # without weights: mean(L')

``s`` is ``sample_weight`` (one weight per sample, or with ``compile(sample_weight_mode='temporal')`` one per
timestep, shape (batch, timesteps)), times the ``class_weight`` of each target's class when that is given too.
A batch whose mask or weights are all zero adds 0 (Keras 2.0 computed 0/0).

Metrics are not weighted (Keras 2.0). A metric whose function takes ``reduction='none'``, or that returns
per-sample values, is averaged over the unmasked positions only, as Keras 2.0 masks it.

Bad data never reaches the weights: NaN or Inf in ``x``, ``y``, sample weights or validation data raise
``ValueError`` naming the array and the index of the first such value, before anything changes. A batch whose
loss or update is not finite (an exploding model) is not applied: ``fit`` warns and stops, so the model keeps its
last finite weights and training can resume (e.g. with a lower learning rate); ``train_on_batch`` warns and
returns the loss. A stateful model trained with ``shuffle=True`` is refused (the state of sample i must be carried
to sample i of the next batch).
"""
import inspect
import math
import numbers
import warnings

import numpy as np

import minigrad as mg
from optim import _checks
from optim import callbacks as cbks_module
from optim import losses as losses_module
from optim import metrics as metrics_module
from optim import optimizers as optimizers_module

from . import activations
from .base import checked_weight_values, shape_str

__all__ = ["TrainingMixin", "Sequence", "logit_activation", "print_summary"]

# The crossentropies that accept ``from_logits=True`` and the output activation whose logits they expect.
_LOGIT_LOSSES = {
    losses_module.categorical_crossentropy: "softmax",
    losses_module.sparse_categorical_crossentropy: "softmax",
    losses_module.binary_crossentropy: "sigmoid",
}
_BUILTIN_LOSSES = set(losses_module._BY_NAME.values())


def _takes_apply_activation(layer):
    from .core import Activation, Dense, TimeDistributed
    if isinstance(layer, TimeDistributed):
        return _takes_apply_activation(layer.layer)
    return isinstance(layer, (Dense, Activation))


def logit_activation(layer, loss_fn):
    """The activation function to strip from ``layer``'s output so ``loss_fn`` can work on logits, or None.

    Returns the layer's activation when ``loss_fn`` is a built-in crossentropy, the layer is a Dense, an
    Activation or a TimeDistributed of one of those (their ``call`` takes ``apply_activation=False``), and its
    activation is the matching built-in one: softmax for categorical/sparse_categorical, sigmoid for binary.
    A log of a clipped probability then becomes a log-softmax / log-sigmoid of the logits: finite and exact.
    """
    want = _LOGIT_LOSSES.get(loss_fn)
    if want is None or not _takes_apply_activation(layer):
        return None
    act = getattr(layer, "activation", None)
    return act if activations.builtin_name(act) == want else None


# ================================================================ memory

_heap_settled = False


def _settle_heap():
    """Let freed memory stay in the heap for the next batch instead of going back to the operating system.

    Every batch allocates and frees arrays of the same sizes, a few MB in all. glibc's malloc returns the free
    memory at the top of its heap to the system once it exceeds its trim threshold (128 KB until adjusted), and then
    every page of the next batch's arrays is faulted in and zeroed again: measured, 17,000 page faults per epoch of
    the char-LM benchmark (about 40 ms of 220), in some processes and not in others, depending on how the heap
    happened to be laid out. Freeing one block that malloc mapped on its own raises its thresholds (the dynamic
    mmap threshold of mallopt(3)): after a 16 MB block, up to 32 MB of free heap is kept. Done once per process; with
    another allocator it is one allocation and free, nothing more."""
    global _heap_settled
    if not _heap_settled:
        _heap_settled = True
        try:
            np.empty(16 << 20, dtype=np.uint8)  # allocated and freed at once, its pages never touched
        except MemoryError:  # a machine that cannot spare the address space keeps the default behaviour
            pass


# ================================================================ array plumbing

def _to_array(a, what):
    if isinstance(a, mg.Tensor):
        a = a.data
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{what} must be numeric arrays, got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{what} must have a batch axis, got a scalar")
    return arr


def _standardize(data, count, what, names=None):
    """One array, a list of ``count`` arrays, or a dict keyed by ``names`` -> a list of ``count`` ndarrays with one
    sample count."""
    if data is None:
        raise ValueError(f"no {what} given")
    if isinstance(data, dict):
        if names is None:
            raise TypeError(f"{what} given as a dict; pass a list of arrays in the model's {what} order")
        unknown = sorted(set(data) - set(names), key=str)
        missing = [n for n in names if n not in data]
        if unknown or missing:
            raise ValueError(f"{what} dict: " + "; ".join(
                ([f"unknown name(s) {unknown}"] if unknown else []) + ([f"missing {missing}"] if missing else []))
                + f" (the model's {what} are {list(names)})")
        data = [data[n] for n in names]
    is_list = isinstance(data, (list, tuple))
    if count == 1:
        # a list holding one array is that array; any other list is array-like data for the single input
        if is_list and len(data) == 1 and isinstance(data[0], (np.ndarray, mg.Tensor)):
            data = data[0]
        elif is_list and len(data) > 1 and all(isinstance(a, (np.ndarray, mg.Tensor)) for a in data):
            raise ValueError(f"the model has 1 {what[:-1]}, but received a list of {len(data)} arrays")
        arrays = [_to_array(data, what)]
    else:
        if not is_list:
            raise ValueError(f"the model has {count} {what}, so it needs a list of {count} arrays, got one "
                             f"{type(data).__name__}")
        if len(data) != count:
            raise ValueError(f"the model has {count} {what}, but received a list of {len(data)} arrays")
        arrays = [_to_array(a, what) for a in data]
    counts = {len(a) for a in arrays}
    if len(counts) > 1:
        raise ValueError(f"all {what} arrays must have the same number of samples, found "
                         f"{[len(a) for a in arrays]}")
    if counts == {0}:
        raise ValueError(f"the {what} hold no samples")
    return arrays


def _labels(base, names):
    """How error messages name each array of a list: 'x' for one, "x[1] ('input_2')" for several."""
    if len(names) == 1:
        return [base]
    return [f"{base}[{i}] ({name!r})" for i, name in enumerate(names)]


def _check_finite(where, arrays, labels):
    """Raise ValueError naming the first array that holds NaN or Inf and the index of its first such value.

    One reduction per float array (integer arrays cannot hold either), so it is cheap next to a pass of training.
    """
    for arr, label in zip(arrays, labels):
        with np.errstate(over="ignore", invalid="ignore"):  # the fast test may overflow; it then looks closer
            if arr is None or _checks.all_finite(arr):
                continue
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{where}: {label} holds {arr[index]} at index {index} (its first non-finite value); "
                         "NaN and Inf would turn every weight into NaN, so nothing was done. Replace or drop them "
                         "(e.g. np.nan_to_num, or a mask) first")


def _batches(n, batch_size):
    """(start, end) pairs covering range(n) in order, all of ``batch_size`` but the last."""
    return [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


def _batch_shuffle(index, batch_size, rng):
    """Keras' shuffle='batch': permute whole batches (the tail that does not fill a batch stays last)."""
    full = len(index) // batch_size * batch_size
    blocks = index[:full].reshape(-1, batch_size)
    return np.concatenate([blocks[rng.permutation(len(blocks))].ravel(), index[full:]])


def _check_positive_int(name, value):
    return _checks.integer("", name, value, low=1)


def _check_verbose(where, value):
    # Keras scripts pass True/False as often as 1/0
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    return _checks.one_of(where, "verbose", int(value) if isinstance(value, np.integer) else value, (0, 1, 2))


def _per_output(spec, names, what):
    """A single spec for every output, a list with one per output, or a dict keyed by output layer name."""
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise ValueError(f"{what} dict has unknown output name(s) {sorted(unknown)}; outputs are {names}")
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(names):
            raise ValueError(f"{what}: the model has {len(names)} output(s) {names}, but got a list of {len(spec)}")
        return list(spec)
    return [spec] * len(names)


# ================================================================ sample and class weights

def _weights_per_output(spec, names, what):
    """Keras 2.0's reading of ``sample_weight`` / ``class_weight``: one entry (or None) per output.

    One output: the thing itself (a list holding one array is that array; a dict keyed by the output's name is
    that entry). Several outputs: a list with one entry per output, or a dict keyed by output name (missing names
    are None).
    """
    n = len(names)
    if spec is None:
        return [None] * n
    keyed = isinstance(spec, dict) and spec and all(isinstance(k, str) for k in spec)
    if keyed:
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(f"{what} dict has unknown output name(s) {unknown}; the model's outputs are {names}")
        return [spec.get(name) for name in names]
    if n == 1:
        if isinstance(spec, (list, tuple)) and len(spec) == 1 and isinstance(spec[0], (np.ndarray, mg.Tensor, dict)):
            return [spec[0]]
        return [spec]
    if isinstance(spec, (list, tuple)):
        if len(spec) != n:
            raise ValueError(f"{what}: the model has {n} outputs {names}, but got a list of {len(spec)} entries "
                             "(one per output, None for an output without weights)")
        return list(spec)
    kind = "dict of classes" if isinstance(spec, dict) else type(spec).__name__
    raise ValueError(f"{what}: the model has {n} outputs {names}, so give a list with one entry per output or a dict "
                     f"keyed by output name, not a {kind}")


def _check_class_weight(what, class_weight):
    """{class index: weight} with int keys >= 0 and finite weights >= 0 -> (sorted keys, weights) arrays."""
    if not isinstance(class_weight, dict):
        raise ValueError(f"{what} must be a dict {{class index: weight}}, got {type(class_weight).__name__}")
    keys, values = [], []
    for k, v in class_weight.items():
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Real) or k != int(k) or k < 0:
            raise ValueError(f"{what}: keys must be class indices (ints >= 0), got {k!r}")
        keys.append(int(k))
        values.append(_checks.real("", f"{what}[{k!r}]", v, low=0.))
    return np.asarray(keys, dtype=np.int64), np.asarray(values, dtype=np.float64)


# ================================================================ generators and Sequences

class Sequence:
    """A dataset that hands out whole batches by index (Keras' ``keras.utils.Sequence``), for the generator
    methods.

    Implement ``__len__`` (the number of batches in one pass) and ``__getitem__(i)`` returning batch ``i`` as
    ``(x, y)`` or ``(x, y, sample_weight)`` (``predict_generator`` also takes ``x`` alone). ``on_epoch_end()``
    is called after every full pass. Unlike a Python generator it knows its length, so ``steps_per_epoch`` may
    be left out, and ``fit_generator(shuffle=True)`` visits its batches in a new random order every pass (from
    ``mg.get_rng()``). Any object with ``__len__`` and ``__getitem__`` (except lists and tuples) is used the same
    way.
    """

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def on_epoch_end(self):
        pass


class _OutOfData(Exception):
    """A generator stopped before the number of batches asked for."""


def _is_sequence(obj):
    if isinstance(obj, Sequence):
        return True
    return (hasattr(obj, "__len__") and hasattr(obj, "__getitem__") and not hasattr(obj, "__next__")
            and not isinstance(obj, (list, tuple, dict, str, bytes, np.ndarray, mg.Tensor)))


def _is_feed(obj):
    return _is_sequence(obj) or hasattr(obj, "__next__")


class _Feed:
    """Batches from a Python generator (any iterator) or a Sequence, one ``next()`` at a time, in the calling
    thread. A Sequence is read in passes: index order (a new permutation per pass when ``shuffle``), then
    ``on_epoch_end()``."""

    def __init__(self, source, what, shuffle=False):
        if _is_sequence(source):
            self.is_sequence = True
            self.length = len(source)
            if self.length <= 0:
                raise ValueError(f"{what}: the Sequence holds no batches (len {self.length})")
        elif hasattr(source, "__next__"):
            self.is_sequence = False
        else:
            raise TypeError(f"{what} must be a generator (or any iterator) yielding batches, or a Sequence (with "
                            f"__len__ and __getitem__), got {type(source).__name__}"
                            + ("; for arrays use fit/evaluate/predict" if isinstance(source, (list, tuple, np.ndarray))
                               else ""))
        self.source = source
        self.what = what
        self.shuffle = shuffle
        self.taken = 0
        self._order = None
        self._pos = 0

    def steps(self, where, name, steps):
        """The number of batches to take: ``steps`` checked, or a Sequence's length when it is None."""
        if steps is None:
            if not self.is_sequence:
                raise ValueError(f"{where}: `{name}` is required with a Python generator (the number of batches to "
                                 "draw); only a Sequence knows its length")
            return self.length
        return _checks.integer(where, name, steps, low=1)

    def next(self):
        if self.is_sequence:
            if self._pos == 0:
                self._order = mg.get_rng().permutation(self.length) if self.shuffle else None
            index = self._pos if self._order is None else int(self._order[self._pos])
            item = self.source[index]
            self._pos += 1
            if self._pos == self.length:
                self._pos = 0
                on_epoch_end = getattr(self.source, "on_epoch_end", None)
                if callable(on_epoch_end):
                    on_epoch_end()
        else:
            try:
                item = next(self.source)
            except StopIteration:
                raise _OutOfData(f"{self.what} stopped after {self.taken} batches") from None
        self.taken += 1
        return item


def _unpack_batch(where, item):
    """A batch from a generator -> (x, y, sample_weight or None)."""
    if isinstance(item, (tuple, list)) and len(item) in (2, 3):
        return item[0], item[1], item[2] if len(item) == 3 else None
    got = f"a {type(item).__name__} of {len(item)} items" if isinstance(item, (tuple, list)) else \
        f"a {type(item).__name__}"
    raise ValueError(f"{where}: each batch must be a tuple (x, y) or (x, y, sample_weight), got {got}")


def _check_generator_options(where, max_queue_size, workers, use_multiprocessing):
    # accepted for Keras compatibility: batches are always drawn in the calling thread, in order
    _checks.integer(where, "max_queue_size", max_queue_size)
    _checks.integer(where, "workers", workers)
    _checks.boolean(where, "use_multiprocessing", use_multiprocessing)


# Keras 1 names of the generator methods' arguments, and what replaced them (their meaning changed too)
_KERAS1_GENERATOR_ARGS = {
    "samples_per_epoch": "steps_per_epoch (a number of batches, not samples)",
    "nb_val_samples": "validation_steps (a number of batches, not samples)",
    "val_samples": "steps (a number of batches, not samples)",
    "nb_worker": "workers", "pickle_safe": "use_multiprocessing", "max_q_size": "max_queue_size",
}


def _legacy_kwargs(where, kwargs, epochs):
    """``nb_epoch`` -> ``epochs`` with a DeprecationWarning; other leftover keywords raise TypeError."""
    if "nb_epoch" in kwargs:
        warnings.warn(f"{where}: `nb_epoch` is the Keras 1 name, use `epochs`", DeprecationWarning, stacklevel=3)
        epochs = kwargs.pop("nb_epoch")
    if kwargs:
        hints = [f"`{k}` is now {_KERAS1_GENERATOR_ARGS[k]}" for k in sorted(kwargs) if k in _KERAS1_GENERATOR_ARGS]
        raise TypeError(f"{where}: unexpected keyword argument(s) {', '.join(sorted(kwargs))}"
                        + (f" ({'; '.join(hints)})" if hints else ""))
    return epochs


# ================================================================ summary

def print_summary(rows, headers, line_length, positions, trainable, non_trainable, print_fn=None):
    """Print a Keras-style table.

    rows: lists of fields (one per column; an empty first field continues the previous layer's row, as the
    functional summary's extra "Connected to" lines do); headers: the column titles; positions: each column's right
    edge as a fraction of ``line_length`` (or absolute ints); trainable / non_trainable: the parameter totals.
    """
    print_fn = print_fn or print
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def row(fields):
        line = ""
        for i, field in enumerate(fields):
            if i > 0:
                line = line[:-1] + " "  # a field that filled its column still gets one separating space
            line += str(field)
            line = line[:positions[i]]
            line += " " * (positions[i] - len(line))
        print_fn(line)

    print_fn("_" * line_length)
    row(headers)
    print_fn("=" * line_length)
    for i, fields in enumerate(rows):
        if i > 0 and fields[0] != "":  # a row with an empty first field continues the layer above: no rule
            print_fn("_" * line_length)
        row(fields)
    print_fn("=" * line_length)
    print_fn(f"Total params: {trainable + non_trainable:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {non_trainable:,}")
    print_fn("_" * line_length)


# ================================================================ the mixin

class TrainingMixin:
    """compile / fit / evaluate / predict and friends for any class that follows the model protocol above.

    Attributes set by ``compile``: ``optimizer`` (an ``optim`` Optimizer), ``loss``, ``loss_functions``,
    ``loss_weights``, ``metrics`` (as given), ``metrics_names`` (``['loss', ...]``: the names ``evaluate`` and
    the ``*_on_batch`` methods return values for, and the keys of ``history.history``).
    ``stop_training`` (callbacks set it to end ``fit``) and ``history`` (the last fit's ``History``).
    """

    def _init_training(self):
        _settle_heap()
        self.optimizer = None
        self.loss = None
        self.loss_functions = None
        self.loss_weights = None
        self.metrics = []
        self.metrics_names = ["loss"]
        self._metric_fns = None
        self._metric_aliases = {}
        self.sample_weight_mode = None
        self._sample_weight_modes = None
        self.stop_training = False
        self.history = None

    def get_layer(self, name=None, index=None):
        """A layer of the model by ``name``, or by ``index`` in ``layers`` (Keras 2.0; the index wins when both are
        given). Raises ValueError naming what is missing."""
        layers = self.layers
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, numbers.Integral) \
                    or not -len(layers) <= index < len(layers):
                raise ValueError(f"model {self.name!r} has {len(layers)} layers; index {index!r} is out of range")
            return layers[index]
        if name is None:
            raise ValueError("get_layer needs a layer name or an index")
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"model {self.name!r} has no layer named {name!r}; its layers are "
                         f"{[layer.name for layer in layers]}")

    # ------------------------------------------------------------ weights
    @property
    def weights(self):
        """Every weight Tensor of every layer, in Keras order (layer by layer), each once."""
        seen, out = set(), []
        for layer in self.layers:
            for w in layer.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def trainable_weights(self):
        """The weights the optimizer updates: those of trainable layers, each once (none if the model itself is
        frozen, ``model.trainable = False``)."""
        if not getattr(self, "trainable", True):
            return []
        seen, out = set(), []
        for layer in self.layers:
            for w in layer.trainable_weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def losses(self):
        """The penalties the loss adds (scalar Tensors): each weight's regulariser, each shared weight once, and
        the activity penalties of the latest forward pass."""
        out = [w.regularizer(w) for w in self.weights if getattr(w, "regularizer", None) is not None]
        return out + [p for layer in self.layers for p in layer.activity_losses]

    # non_trainable_weights, count_params and get_weights come from Layer (a model is a layer), on these weights

    def set_weights(self, weights):
        """Set all weights from a list of arrays (or Tensors) in ``get_weights`` order.

        Everything is checked before any weight changes (count, shapes, real numeric values that fit each
        weight's dtype), so a bad list raises and leaves the model as it was. Values are cast to each weight's
        dtype.
        """
        targets = self.weights
        arrays = checked_weight_values(targets, weights, f"model {getattr(self, 'name', '')!r}")
        for w, new in zip(targets, arrays):
            w.data = new

    def save_weights(self, filepath, overwrite=True):
        """Write every layer's weights to exactly ``filepath``, atomically: an .npz file, or Keras 2's HDF5 layout
        for a path ending in .h5/.hdf5 (needs h5py). See layers.saving."""
        from . import saving
        saving.save_weights(self, filepath, overwrite=overwrite)

    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Write the whole model to exactly ``filepath``, atomically: architecture, weights, compile settings and
        the optimizer's state (so ``fit`` after ``layers.load_model`` continues exactly). A path ending in ``.h5``
        or ``.hdf5`` gets Keras 2's HDF5 model layout (needs h5py); any other path an ``.npz`` archive read
        without pickle. See ``layers.models``."""
        from . import models
        models.save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def to_json(self, **kwargs):
        """The architecture as a JSON string ``{'class_name', 'config', ...}``; ``layers.model_from_json``
        rebuilds the model from it (fresh weights). ``kwargs`` go to ``json.dumps`` (e.g. ``indent=2``)."""
        from . import models
        return models.model_to_json(self, **kwargs)

    def load_weights(self, filepath):
        """Load weights written by ``save_weights`` or ``save`` (or an HDF5 file of Keras 1, 2 or 3, matched layer
        by layer in order); the architecture is checked first, and any mismatch or a bad file raises and leaves
        the model unchanged. See layers.saving."""
        from . import saving
        saving.load_weights(self, filepath)

    # ------------------------------------------------------------ states
    @property
    def stateful(self):
        """True if any layer is stateful (it then needs fixed-size batches and carries states across them)."""
        return any(getattr(layer, "stateful", False) for layer in self.layers)

    def reset_states(self):
        """Zero the carried states of every stateful layer."""
        for layer in self.layers:
            if getattr(layer, "stateful", False) and hasattr(layer, "reset_states"):
                layer.reset_states()

    def _check_stateful_samples(self, n, batch_size, predict=False):
        # Keras' rule: a stateful model feeds fixed-size batches, so a final short batch would break the
        # sample i <-> sample i correspondence (and the layer's fixed batch shape)
        if not self.stateful or batch_size is None or n % batch_size == 0:
            return
        if predict and n <= batch_size:
            return
        msg = (f"a stateful model needs a number of samples that is a multiple of the batch size: found {n} "
               f"samples, batch size {batch_size}")
        fixed = {getattr(layer, "input_spec_shape", None)[0] for layer in self.layers
                 if getattr(layer, "stateful", False) and getattr(layer, "input_spec_shape", None)}
        fixed.discard(None)
        if fixed and batch_size not in fixed:
            msg += f" (its stateful layers are built for batches of {sorted(fixed)[0]}: pass that batch_size)"
        raise ValueError(msg + ("" if predict else "; trim or pad the data, or change batch_size"))

    # ------------------------------------------------------------ summary
    def summary(self, line_length=None, positions=None, print_fn=None):
        """Print a table of the layers: 'Layer (type)', 'Output Shape', 'Param #', then the totals of
        trainable and non-trainable parameters (Keras 2.0's layout). ``print_fn`` defaults to ``print``."""
        rows = []
        for layer in self.layers:
            try:
                shape = layer.output_shape
                shape = shape_str(shape) if isinstance(shape, tuple) else ", ".join(shape_str(s) for s in shape)
            except (AttributeError, ValueError):
                shape = "multiple"
            rows.append([f"{layer.name} ({type(layer).__name__})", shape, f"{layer.count_params():,}"])
        trainable = int(sum(w.size for w in self.trainable_weights))
        print_summary(rows, ["Layer (type)", "Output Shape", "Param #"], line_length or 65,
                      positions or [.45, .85, 1.], trainable, self.count_params() - trainable, print_fn)

    # ------------------------------------------------------------ compile
    def _output_names(self):
        return [layer.name for layer in self._output_layers]

    def compile(self, optimizer, loss, metrics=None, loss_weights=None, sample_weight_mode=None, **kwargs):
        """Configure training. Everything is checked first: a bad argument raises and leaves the model as it was.

        Arguments:
            optimizer: a name ('sgd', 'rmsprop', 'adagrad', 'adadelta', 'adam', 'adamax', 'nadam') or an
                ``optim`` Optimizer instance.
            loss: a name ('mse', 'mae', 'binary_crossentropy', 'categorical_crossentropy',
                'sparse_categorical_crossentropy', ...) or a callable ``(y_true, y_pred) -> Tensor`` (per-sample
                values, i.e. reduced over the last axis only, so that masks and sample weights apply); with
                several outputs also a list (one per output) or a dict keyed by output layer name.
            metrics: list of metric names ('acc'/'accuracy', 'binary_accuracy', ..., loss names) or callables,
                applied to every output; or a dict {output name: list}. Logged under the name given (a
                callable under its ``__name__``), prefixed by ``<output name>_`` when there are several outputs;
                ``history.history`` and the callbacks' logs also answer the Keras 2.0 name (``'acc'`` for
                ``'accuracy'``, ``'mean_absolute_error'`` for ``'mae'``, ...; and ``'accuracy'`` for ``'acc'``).
                A name given twice is logged as ``name_1``, ``name_2`` (Keras 2.0).
            loss_weights: per-output multipliers of the losses (list or dict; finite numbers >= 0), default 1.
            sample_weight_mode: None (``sample_weight`` holds one weight per sample) or 'temporal' (one per
                timestep, shape (samples, timesteps), for sequence outputs); a list or dict gives one per output.
        """
        for name in ("weighted_metrics", "target_tensors"):
            if kwargs.pop(name, None) is not None:
                raise NotImplementedError(f"compile: `{name}` is not supported")
        if kwargs:
            raise TypeError(f"compile: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        names = self._output_names()
        optimizer = optimizers_module.get(optimizer)
        loss_functions = [losses_module.get(spec) for spec in _per_output(loss, names, "loss")]
        weights = _per_output(loss_weights, names, "loss_weights") if loss_weights is not None else [1.] * len(names)
        weights = [1. if w is None else _checks.real("compile", f"loss_weights[{i}]", w, low=0.)
                   for i, w in enumerate(weights)]
        modes = _per_output(sample_weight_mode, names, "sample_weight_mode")
        for i, mode in enumerate(modes):
            if mode is not None and mode != "temporal":
                where = f" for output {names[i]!r}" if len(names) > 1 else ""
                raise ValueError(f"compile: sample_weight_mode must be None or 'temporal' (or a list/dict of those, "
                                 f"one per output), got {mode!r}{where}")
        metric_specs = metrics or []
        if isinstance(metric_specs, str) or callable(metric_specs):
            raise TypeError("metrics must be a list (or a dict of lists), e.g. metrics=['accuracy']")
        per_output = _per_output(metric_specs, names, "metrics") if isinstance(metric_specs, dict) \
            else [metric_specs] * len(names)
        entries = []  # (output index, logged name, fn, other spellings of the name)
        for i, specs in enumerate(per_output):
            if isinstance(specs, str) or callable(specs):
                specs = [specs]
            prefix = f"{names[i]}_" if len(names) > 1 else ""
            for spec in specs or []:
                fn = metrics_module.get(spec, loss_functions[i])
                if isinstance(spec, str):
                    # Keras 2.0 logged 'acc' for 'accuracy' and a function's __name__ for other names
                    keras2 = "acc" if spec.lower() in ("acc", "accuracy") else getattr(fn, "__name__", spec)
                    others = {keras2, "accuracy"} if spec == "acc" else {keras2}
                    base = spec
                else:
                    base, others = getattr(spec, "__name__", "metric"), set()
                entries.append((i, prefix + base, fn, {prefix + o for o in others} - {prefix + base}))
        loss_names = [f"{n}_loss" for n in names] if len(names) > 1 else []
        logged = _dedup(["loss"] + loss_names + [name for _, name, _, _ in entries])
        metric_fns = [(i, name, fn, _takes_reduction(fn))
                      for (i, _, fn, _), name in zip(entries, logged[1 + len(loss_names):])]
        aliases = {}
        for (_, name, _, others), final in zip(entries, logged[1 + len(loss_names):]):
            if final == name:  # a deduplicated name has no other spelling
                for other in sorted(others - set(logged)):
                    aliases.setdefault(other, name)
        self.optimizer = optimizer
        self.loss = loss
        self.loss_functions = loss_functions
        self.loss_weights = weights
        self.sample_weight_mode = sample_weight_mode
        self._sample_weight_modes = modes
        self.metrics = metric_specs
        self._metric_fns = metric_fns
        self.metrics_names = logged
        self._metric_aliases = aliases

    def _require_compiled(self):
        if self.optimizer is None or self.loss_functions is None:
            raise RuntimeError("the model must be compiled before training or evaluating: call "
                               "model.compile(optimizer, loss)")

    def _log_aliases(self):
        """{other spelling: logged name} for the logs and History, 'val_' names included."""
        aliases = dict(getattr(self, "_metric_aliases", {}) or {})
        aliases.update({"val_" + k: "val_" + v for k, v in list(aliases.items())})
        return aliases

    # ------------------------------------------------------------ data, weights and their checks
    def _input_names(self):
        names = getattr(self, "input_names", None)
        return list(names) if names else [f"input_{i + 1}" for i in range(self._num_inputs)]

    def _standardize_xy(self, x, y):
        xs = _standardize(x, self._num_inputs, "inputs", getattr(self, "input_names", None))
        ys = _standardize(y, self._num_outputs, "targets", self._output_names())
        if len(xs[0]) != len(ys[0]):
            raise ValueError(f"input arrays must have the same number of samples as target arrays: found "
                             f"{len(xs[0])} input samples and {len(ys[0])} target samples")
        return xs, ys

    def _standardize_data(self, where, x, y, sample_weight=None, class_weight=None, prefix=""):
        """x, y and weights as lists of arrays (weights: None, or one array or None per output), all checked:
        shapes, sample counts, finite values. ``prefix`` names validation data in messages."""
        xs, ys = self._standardize_xy(x, y)
        ws = self._sample_weights(where, ys, sample_weight, class_weight, prefix)
        _check_finite(where, xs, _labels(prefix + "x", self._input_names()))
        _check_finite(where, ys, _labels(prefix + "y", self._output_names()))
        return xs, ys, ws

    def _target_classes(self, where, i, y, temporal, label):
        """The class of each target of output ``i`` (for class_weight): shape (samples,), or with temporal
        weights (samples, timesteps). Sparse targets are the classes; one-hot ones their argmax; a single
        column its value (binary targets, 0 or 1)."""
        want = 2 if temporal else 1
        if self.loss_functions[i] is losses_module.sparse_categorical_crossentropy:
            classes = y[..., 0] if y.ndim == want + 1 and y.shape[-1] == 1 else y
        elif y.ndim == want + 1:
            classes = y.argmax(axis=-1) if y.shape[-1] > 1 else y[..., 0]
        else:
            classes = y
        if classes.ndim != want:
            hint = " (one class per timestep needs compile(sample_weight_mode='temporal'))" \
                if not temporal and classes.ndim > 1 else ""
            raise ValueError(f"{where}: {label} cannot be applied to targets of shape {y.shape}: expected one class "
                             f"per {'timestep' if temporal else 'sample'}{hint}")
        if classes.dtype.kind == "f" and (not _checks.all_finite(classes) or np.any(classes != np.round(classes))):
            raise ValueError(f"{where}: {label} needs integer class labels, but the targets hold non-integer "
                                 "values (soft targets cannot be mapped to a class)")
        return classes.astype(np.int64)

    def _sample_weights(self, where, ys, sample_weight, class_weight, prefix=""):
        """One weight array (or None) per output from ``sample_weight`` and ``class_weight``, checked; None when
        no output has weights. See the module docstring for how they weigh the loss."""
        if sample_weight is None and class_weight is None:
            return None
        names = self._output_names()
        several = len(names) > 1
        out = []
        for i, (y, sw, cw) in enumerate(zip(ys, _weights_per_output(sample_weight, names, prefix + "sample_weight"),
                                            _weights_per_output(class_weight, names, prefix + "class_weight"))):
            temporal = self._sample_weight_modes[i] == "temporal"
            of = f" for output {names[i]!r}" if several else ""
            w = None
            if sw is not None:
                label = f"{prefix}sample_weight{of}"
                w = _to_array(sw, label).astype(np.float64)
                if w.ndim != (2 if temporal else 1):
                    hint = "; for one weight per timestep compile with sample_weight_mode='temporal'" \
                        if w.ndim == 2 else ""
                    need = ("2-D (samples, timesteps), as compiled with sample_weight_mode='temporal'" if temporal
                            else "1-D (one weight per sample)" + hint)
                    raise ValueError(f"{where}: {label} has shape {w.shape}; it must be {need}")
                if w.shape != y.shape[:w.ndim]:
                    raise ValueError(f"{where}: {label} has shape {w.shape}, but the targets have shape {y.shape}; "
                                     f"it must have shape {y.shape[:w.ndim]}")
                _check_finite(where, [w], [label])
                if w.size and w.min() < 0:
                    raise ValueError(f"{where}: {label} holds a negative weight ({w.min()}); weights must be >= 0")
            if cw is not None:
                label = f"{prefix}class_weight{of}"
                keys, values = _check_class_weight(label, cw)
                classes = self._target_classes(where, i, y, temporal, label)
                order = np.argsort(keys)
                keys, values = keys[order], values[order]
                at = np.minimum(np.searchsorted(keys, classes), len(keys) - 1) if len(keys) else classes * 0
                found = keys[at] == classes if len(keys) else np.zeros(classes.shape, bool)
                if not found.all():
                    missing = sorted(set(np.unique(classes[~found]).tolist()))
                    raise ValueError(f"{where}: {label} has no weight for class(es) {missing} found in the targets")
                w = values[at] if w is None else w * values[at]
            if w is not None and temporal:
                sparse = self.loss_functions[i] is losses_module.sparse_categorical_crossentropy
                if y.ndim < (2 if sparse else 3):
                    raise ValueError(f"{where}: sample_weight_mode='temporal'{of} needs sequence targets (samples, "
                                     f"timesteps, ...), but the targets have shape {y.shape}")
            out.append(w)
        return out if any(w is not None for w in out) else None

    def _validation_arrays(self, where, validation_data):
        """``(x_val, y_val)`` or ``(x_val, y_val, val_sample_weight)`` -> checked (xs, ys, ws)."""
        if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
            raise ValueError(f"{where}: validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                             f"val_sample_weight), got {type(validation_data).__name__}"
                             + (f" of {len(validation_data)} items" if isinstance(validation_data, (list, tuple))
                                else ""))
        weights = validation_data[2] if len(validation_data) == 3 else None
        return self._standardize_data(where, validation_data[0], validation_data[1], weights,
                                      prefix="validation ")

    def _check_stateful_shuffle(self, where, shuffle):
        if self.stateful and shuffle:
            raise ValueError(f"{where}: the model has stateful layers, which carry the state of sample i of one batch "
                             "to sample i of the next; shuffling breaks that pairing. Pass shuffle=False (and call "
                             "reset_states() where sequences end)")

    # ------------------------------------------------------------ one batch
    def _output_loss(self, i, y, out, mask, from_logits, weight=None):
        """Loss of output ``i`` for one batch (Keras 2.0's weighted, masked objective: see the module docstring),
        and the output's probabilities (an ndarray) when a crossentropy of logits formed them on the way, else
        None."""
        fn = self.loss_functions[i]
        probabilities = None
        if fn in _BUILTIN_LOSSES:
            if from_logits:
                per_sample, probabilities = losses_module.with_probabilities(fn, y, out)
            else:
                per_sample = fn(y, out, reduction="none")
        else:
            per_sample = fn(y, out)
            if not isinstance(per_sample, mg.Tensor):
                raise TypeError(f"loss {getattr(fn, '__name__', fn)!r} must return a minigrad Tensor, got "
                                f"{type(per_sample).__name__}")
            if per_sample.ndim == 0:
                if weight is not None:
                    raise ValueError(f"loss {getattr(fn, '__name__', fn)!r} returns a scalar, so sample or class "
                                     "weights cannot be applied: return one value per sample (reduce the last axis "
                                     "only)")
                return per_sample, None  # a custom loss that reduces itself cannot be masked
        return self._weighted_masked_mean(i, per_sample, mask, weight), probabilities

    def _weighted_masked_mean(self, i, per_sample, mask, weight):
        """The per-sample loss of output ``i`` reduced to its scalar: masked positions left out, weighted."""
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != per_sample.shape:
                raise ValueError(f"output {self._output_names()[i]!r}: the mask of shape {mask.shape} does not "
                                 f"match the per-sample loss of shape {per_sample.shape}")
            m = mask.astype(per_sample.dtype)
            if weight is None:
                # mean(loss * mask) / mean(mask): the mean over unmasked positions; an all-masked batch gives 0
                return (per_sample * m).sum() / max(float(m.sum()), 1.)
            kept = float(m.mean())
            per_sample = per_sample * (m / kept if kept else m)
        if weight is None:
            return per_sample.mean()
        w = weight.astype(per_sample.dtype, copy=False)
        if w.ndim > per_sample.ndim or per_sample.shape[:w.ndim] != w.shape:
            raise ValueError(f"output {self._output_names()[i]!r}: weights of shape {w.shape} do not fit the "
                             f"per-sample loss of shape {per_sample.shape}")
        if per_sample.ndim > w.ndim:
            per_sample = per_sample.mean(axis=tuple(range(w.ndim, per_sample.ndim)))
        nonzero = np.count_nonzero(w) / w.size
        return (per_sample * (w / nonzero if nonzero else w)).mean()

    def _logit_plan(self):
        """For each output, the activation the loss strips to work on logits, or None (see logit_activation)."""
        return [logit_activation(layer, fn) for layer, fn in zip(self._output_layers, self.loss_functions)]

    def _run_batch(self, xs, ys, training, ws=None, plan=None):
        """Forward pass, total loss (data losses + penalties) and the logged values for one batch.

        ``ws``: None, or one weight array (or None) per output. ``plan``: ``_logit_plan()``, if already known.
        Returns (total loss Tensor, list of floats in ``metrics_names`` order).
        """
        plan = self._logit_plan() if plan is None else plan
        outputs, masks = self._forward(xs, training=training, logits=[a is not None for a in plan])
        ws = ws or [None] * len(outputs)
        measured = {i for i, _, _, _ in self._metric_fns}
        data_losses, preds = [], []
        for i, (y, out, mask, act, w) in enumerate(zip(ys, outputs, masks, plan, ws)):
            layer = self._output_layers[i]
            probs = None
            if act is not None and getattr(layer, "activity_regularizer", None) is not None:
                # the layer recorded its activity penalty on the logits; Keras penalises the activations
                probs = act(out)
                layer._record_activity(probs)
            loss_i, formed = self._output_loss(i, y, out, mask, act is not None, w)
            data_losses.append(loss_i)
            if act is None:
                probs = out
            elif probs is None and i in measured:
                if formed is None:
                    with mg.no_grad():  # only the metrics need the probabilities
                        formed = act(out)
                probs = formed
            preds.append(probs)
        total = data_losses[0] * self.loss_weights[0] if self.loss_weights[0] != 1. else data_losses[0]
        for loss_i, w in zip(data_losses[1:], self.loss_weights[1:]):
            total = total + (loss_i * w if w != 1. else loss_i)
        for penalty in self.losses:
            total = total + penalty
        values = [float(total.data)]
        if len(data_losses) > 1:
            values += [float(loss_i.data) for loss_i in data_losses]
        values += [_metric_value(fn(ys[i], _data(preds[i]), reduction="none") if per_sample
                                 else fn(ys[i], _data(preds[i])), masks[i])
                   for i, _, fn, per_sample in self._metric_fns]
        return total, values

    def _train_batch(self, xs, ys, ws=None, fixed=None):
        """One update. Returns (values, problem): ``problem`` is None, or why the update was not applied (a
        non-finite loss, or an update the optimizer refused as non-finite); the weights are then unchanged.

        ``fixed``: ``(trainable weights, all weights, logit plan)`` when the caller (the epoch loop) has them."""
        params, everything, plan = fixed or (self.trainable_weights, self.weights, self._logit_plan())
        for w in everything:
            w.grad = None
        try:
            with mg.enable_grad():
                total, values = self._run_batch(xs, ys, training=True, ws=ws, plan=plan)
            if not math.isfinite(values[0]):
                return values, f"the loss is {values[0]}"
            if total.requires_grad:  # a model with no trainable weights still reports its loss
                total.backward()
                try:
                    # all or nothing; the optimizer applies each weight's constraint after its update
                    self.optimizer.step(params)
                except FloatingPointError as e:
                    return values, str(e)
            return values, None
        finally:
            for w in everything:  # frozen layers' weights may have received gradients too
                w.grad = None

    def _test_batch(self, xs, ys, ws=None):
        with mg.no_grad():
            return self._run_batch(xs, ys, training=False, ws=ws)[1]

    def _predict_batch(self, xs):
        with mg.no_grad():
            outputs, _ = self._forward(xs, training=False, logits=None)
        return [np.asarray(o.data) for o in outputs]

    def _format(self, values):
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------ single-batch API
    def train_on_batch(self, x, y, sample_weight=None, class_weight=None):
        """One gradient update on one batch. Returns the loss (with penalties), or [loss, ...] as in
        ``metrics_names`` when there are metrics or several outputs.

        ``sample_weight``, ``class_weight``: as in ``fit``. When the loss or the update is not finite, the update
        is not applied (a RuntimeWarning says why) and the returned loss shows it.
        """
        self._require_compiled()
        xs, ys, ws = self._standardize_data("train_on_batch", x, y, sample_weight, class_weight)
        values, problem = self._train_batch(xs, ys, ws)
        if problem is not None:
            warnings.warn(f"train_on_batch: {problem}; the update was not applied (the weights keep their values)",
                          RuntimeWarning, stacklevel=2)
        return self._format(values)

    def test_on_batch(self, x, y, sample_weight=None):
        """Loss (and metrics) of one batch with ``training=False``, no update. Same return form as
        ``train_on_batch``; ``sample_weight`` as in ``fit``."""
        self._require_compiled()
        xs, ys, ws = self._standardize_data("test_on_batch", x, y, sample_weight)
        return self._format(self._test_batch(xs, ys, ws))

    def predict_on_batch(self, x):
        """Outputs for one batch with ``training=False``: an ndarray, or a list with several outputs."""
        xs = _standardize(x, self._num_inputs, "inputs", getattr(self, "input_names", None))
        return self._format(self._predict_batch(xs))

    # ------------------------------------------------------------ evaluate and predict
    def _test_loop(self, xs, ys, ws, batch_size, verbose=0):
        n = len(xs[0])
        bar = cbks_module.Progbar(n, verbose=verbose) if verbose else None
        totals = None
        for start, end in _batches(n, batch_size):
            bws = None if ws is None else [None if w is None else w[start:end] for w in ws]
            values = self._test_batch([a[start:end] for a in xs], [a[start:end] for a in ys], bws)
            size = end - start
            totals = [v * size for v in values] if totals is None else [t + v * size for t, v in zip(totals, values)]
            if bar is not None:
                bar.update(end)
        return [t / n for t in totals]

    def evaluate(self, x=None, y=None, batch_size=32, verbose=1, sample_weight=None):
        """Loss (with penalties) and metrics over ``x``, ``y`` in batches, with ``training=False``.

        Arguments:
            x: array (batch, ...) or list of arrays, one per input. y: likewise, one per output.
            batch_size: samples per batch; a stateful model needs N % batch_size == 0.
            verbose: 1 shows a progress bar, 0 nothing.
            sample_weight: as in ``fit`` (weighs the loss, not the metrics).
        Returns: the loss (float), or [loss, ...] in ``metrics_names`` order. Each value is the size-weighted
            mean of the batch values.
        """
        self._require_compiled()
        batch_size = _check_positive_int("batch_size", 32 if batch_size is None else batch_size)
        verbose = _check_verbose("evaluate", verbose)
        xs, ys, ws = self._standardize_data("evaluate", x, y, sample_weight)
        self._check_stateful_samples(len(xs[0]), batch_size)
        return self._format(self._test_loop(xs, ys, ws, batch_size, verbose))

    def predict(self, x, batch_size=32, verbose=0):
        """Outputs for ``x`` in batches with ``training=False`` (no tape is recorded).

        Arguments:
            x: array (batch, ...) or list of arrays, one per input.
            batch_size: samples per batch. A stateful model raises ValueError if N > batch_size and
                N % batch_size != 0.
        Returns: ndarray (N, ...) or, with several outputs, a list of them.
        """
        batch_size = _check_positive_int("batch_size", 32 if batch_size is None else batch_size)
        verbose = _check_verbose("predict", verbose)
        xs = _standardize(x, self._num_inputs, "inputs", getattr(self, "input_names", None))
        n = len(xs[0])
        self._check_stateful_samples(n, batch_size, predict=True)
        bar = cbks_module.Progbar(n, verbose=verbose) if verbose else None
        chunks = None
        for start, end in _batches(n, batch_size):
            outs = self._predict_batch([a[start:end] for a in xs])
            chunks = [[o] for o in outs] if chunks is None else [c + [o] for c, o in zip(chunks, outs)]
            if bar is not None:
                bar.update(end)
        return self._format([np.concatenate(c, axis=0) for c in chunks])

    def predict_proba(self, x, batch_size=32, verbose=0):
        """``predict`` for a model whose output is probabilities (Keras 2.0 Sequential); warns when some value
        lies outside [0, 1]."""
        probs = self._single_output_predict("predict_proba", x, batch_size, verbose)
        if probs.size and (probs.min() < 0. or probs.max() > 1.):
            warnings.warn("predict_proba: the model's output is not a probability (values outside [0, 1]); use a "
                          "softmax or sigmoid output layer", RuntimeWarning, stacklevel=2)
        return probs

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Class predictions (Keras 2.0 Sequential): the argmax over the last axis when the output has several
        columns, else ``output > 0.5`` as int32 (shape (N, 1), as Keras)."""
        probs = self._single_output_predict("predict_classes", x, batch_size, verbose)
        if probs.shape[-1] > 1:
            return probs.argmax(axis=-1)
        return (probs > 0.5).astype("int32")

    def _single_output_predict(self, where, x, batch_size, verbose):
        if self._num_outputs != 1:
            raise TypeError(f"{where} needs a model with one output; this one has {self._num_outputs}: use predict")
        return self.predict(x, batch_size=batch_size, verbose=verbose)

    # ------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            **kwargs):
        """Train for ``epochs`` passes over the data. Returns the ``History`` callback (also ``model.history``).

        Arguments:
            x: array (N, ...) or list of arrays, one per input. y: likewise, one per output.
            batch_size: samples per gradient update (the last batch of an epoch may be smaller, except for a
                stateful model, which needs N % batch_size == 0 and raises ValueError otherwise).
            epochs: index of the last epoch (training runs epochs ``initial_epoch`` .. ``epochs - 1``); an int >= 0.
            verbose: 0 silent, 1 a progress bar per epoch (redrawn in place on a terminal, one finished line per
                epoch otherwise), 2 one line per epoch.
            callbacks: list of ``optim.callbacks.Callback``; ``model.stop_training = True`` ends training.
            validation_split: fraction in [0, 1) of the samples, taken from the end *before* shuffling, held out
                for validation. validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, val_sample_weight)``,
                overrides validation_split.
            shuffle: True reshuffles the sample order every epoch (from ``mg.get_rng()``, so ``mg.seed`` makes
                it reproducible); 'batch' shuffles whole batches; False keeps the order (required when stateful).
            class_weight: dict {class index: weight} (one per output: list or dict keyed by output name); each
                sample's loss is multiplied by the weight of its target's class (one-hot targets: the argmax;
                sparse targets: the index; one column: its 0/1 value). Every class in the targets needs a weight.
            sample_weight: array (N,) of weights >= 0, or (N, timesteps) with
                ``compile(sample_weight_mode='temporal')`` (one per output: list or dict). Given with
                class_weight, the two multiply.
            initial_epoch: epoch to start from (to resume a run).
        Logs per epoch: 'loss' (data loss + penalties, size-weighted mean of the batches), each metric, and
        'val_loss' / 'val_<metric>' with validation data. When a batch's loss or update is not finite, it is not
        applied, a RuntimeWarning says so and training stops (the model keeps its last finite weights).
        """
        epochs = _legacy_kwargs("fit", kwargs, epochs)
        self._require_compiled()
        batch_size = _check_positive_int("batch_size", 32 if batch_size is None else batch_size)
        epochs = _checks.integer("fit", "epochs", epochs)
        initial_epoch = _checks.integer("fit", "initial_epoch", initial_epoch)
        verbose = _check_verbose("fit", verbose)
        if isinstance(shuffle, np.bool_):
            shuffle = bool(shuffle)
        shuffle = _checks.one_of("fit", "shuffle", shuffle, (True, False, "batch"))
        validation_split = _checks.real("fit", "validation_split", validation_split, low=0., high=1., high_open=True)
        user_callbacks = cbks_module.CallbackList(callbacks).callbacks
        xs, ys, ws = self._standardize_data("fit", x, y, sample_weight, class_weight)

        val = None
        if validation_data is not None:
            val = self._validation_arrays("fit", validation_data)
        elif validation_split:
            n_all = len(xs[0])
            split_at = int(n_all * (1. - validation_split))
            if split_at == 0 or split_at == n_all:
                raise ValueError(f"validation_split={validation_split} of {n_all} samples leaves an empty "
                                 "training or validation set")
            val_ws = None if ws is None else [None if w is None else w[split_at:] for w in ws]
            val = ([a[split_at:] for a in xs], [a[split_at:] for a in ys], val_ws)
            xs, ys = [a[:split_at] for a in xs], [a[:split_at] for a in ys]
            ws = None if ws is None else [None if w is None else w[:split_at] for w in ws]
        n = len(xs[0])
        self._check_stateful_samples(n, batch_size)
        if val is not None:
            self._check_stateful_samples(len(val[0][0]), batch_size)
        self._check_stateful_shuffle("fit", shuffle)

        def epoch_batches(epoch):
            index = None
            if shuffle == "batch":
                index = _batch_shuffle(np.arange(n), batch_size, mg.get_rng())
            elif shuffle:
                index = mg.get_rng().permutation(n)
            for start, end in _batches(n, batch_size):
                pick = slice(start, end) if index is None else index[start:end]  # a slice is a view: no copy
                yield ([a[pick] for a in xs], [a[pick] for a in ys],
                       None if ws is None else [None if w is None else w[pick] for w in ws])

        validate = None if val is None else (lambda: self._test_loop(*val, batch_size))
        params = {"batch_size": batch_size, "epochs": epochs, "steps": None, "samples": n, "verbose": verbose,
                  "do_validation": val is not None}
        if verbose and val is not None:
            print(f"Train on {n} samples, validate on {len(val[0][0])} samples")
        return self._train_loop("fit", epoch_batches, epochs, initial_epoch, user_callbacks, verbose, params,
                                validate, "samples", _callback_validation_data(val))

    def _train_loop(self, where, epoch_batches, epochs, initial_epoch, user_callbacks, verbose, params, validate,
                    count_mode, validation_data=None):
        """The epoch loop shared by fit and fit_generator. ``epoch_batches(epoch)`` yields (xs, ys, ws) batches;
        ``validate()`` (or None) returns the validation values in ``metrics_names`` order; ``validation_data``
        (validation arrays, or None) is handed to every callback as ``callback.validation_data`` (Keras 2.0)."""
        out_names = list(self.metrics_names)
        aliases = self._log_aliases()
        self.history = cbks_module.History()
        cbk_list = [cbks_module.BaseLogger(), *user_callbacks, self.history]
        if verbose:
            cbk_list.append(cbks_module.ProgbarLogger(count_mode=count_mode))
        cbks = cbks_module.CallbackList(cbk_list)
        cbks.set_model(self)
        names = out_names + (["val_" + k for k in out_names] if validate is not None else [])
        cbks.set_params({**params, "metrics": names, "metric_aliases": aliases})
        if validation_data is not None:
            for cb in cbks:
                cb.validation_data = validation_data

        self.stop_training = False
        cbks.on_train_begin()
        # fixed for the run, as Keras 2.0 fixes them at compile (a change of `trainable` needs a new fit)
        fixed = (self.trainable_weights, self.weights, self._logit_plan())
        for epoch in range(initial_epoch, epochs):
            cbks.on_epoch_begin(epoch)
            epoch_logs = cbks_module.Logs(aliases=aliases)
            completed = True
            try:
                for b, (xs, ys, ws) in enumerate(epoch_batches(epoch)):
                    batch_logs = cbks_module.Logs({"batch": b, "size": len(xs[0])}, aliases=aliases)
                    cbks.on_batch_begin(b, batch_logs)
                    values, problem = self._train_batch(xs, ys, ws, fixed)
                    batch_logs.update(zip(out_names, values))
                    cbks.on_batch_end(b, batch_logs)
                    if problem is not None:
                        warnings.warn(f"{where}: epoch {epoch + 1}, batch {b}: {problem}. The update of this batch "
                                      "was not applied and training stops; the model keeps its last finite weights "
                                      "(lower the learning rate or clip gradients with clipnorm, then fit again)",
                                      RuntimeWarning, stacklevel=3)
                        self.stop_training = True
                    if self.stop_training:
                        completed = False
                        break
            except _OutOfData as e:
                warnings.warn(f"{where}: {e} in epoch {epoch + 1}, before the batches asked for; training stops "
                              "(a generator must yield steps_per_epoch * epochs batches)", RuntimeWarning,
                              stacklevel=3)
                self.stop_training = True
                completed = False
            if completed and validate is not None:
                epoch_logs.update(("val_" + k, v) for k, v in zip(out_names, validate()))
            cbks.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbks.on_train_end()
        return self.history

    # ------------------------------------------------------------ generators
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, class_weight=None, max_queue_size=10, workers=1,
                      use_multiprocessing=False, shuffle=True, initial_epoch=0, **kwargs):
        """Train on batches drawn from a Python generator or a ``Sequence`` (Keras 2.0 signature).

        Arguments:
            generator: yields (or, a Sequence, returns by index) ``(x, y)`` or ``(x, y, sample_weight)`` batches,
                each as ``train_on_batch`` takes them. A Python generator must loop over its data indefinitely
                (it is drawn from ``steps_per_epoch * epochs`` times); if it stops early, a RuntimeWarning says
                so and training stops.
            steps_per_epoch: batches per epoch (an int >= 1); required for a generator, ``len(sequence)`` by
                default for a Sequence.
            epochs, verbose, callbacks, initial_epoch, class_weight: as in ``fit`` (verbose counts batches).
            validation_data: a generator or Sequence (with ``validation_steps``, default ``len`` of a
                Sequence), or a tuple ``(x_val, y_val)`` / ``(x_val, y_val, val_sample_weight)``.
            shuffle: for a Sequence, visit its batches in a new random order each pass (a stateful model
                needs False); ignored for a generator.
            max_queue_size, workers, use_multiprocessing: accepted for compatibility and checked, but batches
                are always drawn in the calling thread, in order (numpy does the heavy work; no process pool).
        Returns: the ``History`` callback.
        """
        epochs = _legacy_kwargs("fit_generator", kwargs, epochs)
        where = "fit_generator"
        self._require_compiled()
        feed = _Feed(generator, "generator", shuffle=_checks.boolean(where, "shuffle", shuffle))
        steps_per_epoch = feed.steps(where, "steps_per_epoch", steps_per_epoch)
        epochs = _checks.integer(where, "epochs", epochs)
        initial_epoch = _checks.integer(where, "initial_epoch", initial_epoch)
        verbose = _check_verbose(where, verbose)
        _check_generator_options(where, max_queue_size, workers, use_multiprocessing)
        user_callbacks = cbks_module.CallbackList(callbacks).callbacks
        for label, cw in zip(_labels("class_weight", self._output_names()),
                             _weights_per_output(class_weight, self._output_names(), "class_weight")):
            if cw is not None:
                _check_class_weight(label, cw)  # early, not at the first batch
        if feed.is_sequence:
            self._check_stateful_shuffle(where, feed.shuffle)

        validate = callback_val = None
        last_size = [None]
        if validation_data is not None:
            if _is_feed(validation_data):
                val_feed = _Feed(validation_data, "validation_data")
                validation_steps = val_feed.steps(where, "validation_steps", validation_steps)
                def validate():
                    return self._evaluate_feed(where, val_feed, validation_steps)
            else:
                val = self._validation_arrays(where, validation_data)
                callback_val = _callback_validation_data(val)
                # Keras 2.0 evaluates array validation data in batches of the last training batch's size
                def validate():
                    return self._test_loop(*val, last_size[0] or len(val[0][0]))

        def epoch_batches(epoch):
            for _ in range(steps_per_epoch):
                x, y, w = _unpack_batch(where, feed.next())
                xs, ys, ws = self._standardize_data(where, x, y, w, class_weight)
                last_size[0] = len(xs[0])
                yield xs, ys, ws

        params = {"epochs": epochs, "steps": steps_per_epoch, "verbose": verbose, "do_validation": validate is not None}
        return self._train_loop(where, epoch_batches, epochs, initial_epoch, user_callbacks, verbose, params, validate,
                                "steps", callback_val)

    def _evaluate_feed(self, where, feed, steps, verbose=0):
        """Size-weighted means of the loss and metrics over ``steps`` batches of a feed."""
        bar = cbks_module.Progbar(steps, verbose=verbose) if verbose else None
        totals, seen = None, 0
        for step in range(steps):
            try:
                x, y, w = _unpack_batch(where, feed.next())
            except _OutOfData as e:
                raise ValueError(f"{where}: {e}, but steps={steps} were asked for") from None
            xs, ys, ws = self._standardize_data(where, x, y, w)
            values = self._test_batch(xs, ys, ws)
            size = len(xs[0])
            seen += size
            totals = [v * size for v in values] if totals is None else [t + v * size for t, v in zip(totals, values)]
            if bar is not None:
                bar.update(step + 1)
        return [t / seen for t in totals]

    def evaluate_generator(self, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                           verbose=0):
        """Loss and metrics over ``steps`` batches from a generator or Sequence (``steps`` defaults to the
        Sequence's length), as ``evaluate`` returns them: the size-weighted means of the batch values. Batches are
        ``(x, y)`` or ``(x, y, sample_weight)``; a generator that stops early raises ValueError. See
        ``fit_generator`` for max_queue_size, workers, use_multiprocessing (accepted, run in-thread)."""
        where = "evaluate_generator"
        self._require_compiled()
        feed = _Feed(generator, "generator")
        steps = feed.steps(where, "steps", steps)
        _check_generator_options(where, max_queue_size, workers, use_multiprocessing)
        return self._format(self._evaluate_feed(where, feed, steps, _check_verbose(where, verbose)))

    def predict_generator(self, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                          verbose=0):
        """Outputs for ``steps`` batches from a generator or Sequence (``steps`` defaults to the Sequence's
        length), concatenated: an ndarray, or a list with several outputs. A batch is ``x``, or a tuple
        ``(x, y)`` / ``(x, y, sample_weight)`` whose targets are ignored; a generator that stops early raises
        ValueError. max_queue_size, workers, use_multiprocessing: accepted, run in-thread."""
        where = "predict_generator"
        feed = _Feed(generator, "generator")
        steps = feed.steps(where, "steps", steps)
        _check_generator_options(where, max_queue_size, workers, use_multiprocessing)
        verbose = _check_verbose(where, verbose)
        bar = cbks_module.Progbar(steps, verbose=verbose) if verbose else None
        chunks = None
        for step in range(steps):
            try:
                item = feed.next()
            except _OutOfData as e:
                raise ValueError(f"{where}: {e}, but steps={steps} were asked for") from None
            if isinstance(item, tuple):
                if len(item) not in (2, 3):
                    raise ValueError(f"{where}: a batch given as a tuple must be (x, y) or (x, y, sample_weight), "
                                     f"got {len(item)} items")
                item = item[0]
            outs = self._predict_batch(_standardize(item, self._num_inputs, "inputs",
                                                    getattr(self, "input_names", None)))
            chunks = [[o] for o in outs] if chunks is None else [c + [o] for c, o in zip(chunks, outs)]
            if bar is not None:
                bar.update(step + 1)
        return self._format([np.concatenate(c, axis=0) for c in chunks])


def _data(x):
    return x.data if isinstance(x, mg.Tensor) else x


def _callback_validation_data(val):
    """Keras 2.0's ``callback.validation_data``: the validation inputs, targets and sample weights (ones for an
    output without weights) in one list, or None without validation arrays."""
    if val is None:
        return None
    xs, ys, ws = val
    ws = ws or [None] * len(ys)
    return [*xs, *ys, *(np.ones(len(y)) if w is None else w for y, w in zip(ys, ws))]


def _takes_reduction(fn):
    """Whether a metric function takes ``reduction=`` (then it can return per-sample values, which the loop masks)."""
    try:
        return "reduction" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _metric_value(value, mask):
    """A metric's value for the batch: a scalar as it is; per-sample values averaged over the unmasked positions
    when a mask of their shape reaches the output (Keras 2.0 masks metrics as it masks the loss), else over all."""
    if isinstance(value, mg.Tensor):
        value = value.data
    value = np.asarray(value, dtype=np.float64)
    if value.ndim == 0:
        return float(value)
    if mask is not None and np.shape(mask) == value.shape:
        kept = np.count_nonzero(mask)
        return float(np.sum(value * mask) / kept) if kept else 0.
    return float(np.mean(value))


def _dedup(names):
    """Keras 2.0's labels for repeated names: every copy of a name that occurs k > 1 times becomes name_1 .. name_k."""
    out = []
    for i, name in enumerate(names):
        if names.count(name) > 1:
            name = f"{name}_{names[:i].count(name) + 1}"
        out.append(name)
    return out
