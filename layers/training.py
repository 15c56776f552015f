"""The training machinery shared by ``Sequential`` and the functional ``Model``: compile, fit, evaluate, predict,
the ``*_on_batch`` methods, weights, states, summary and weight files (Keras 2.0 semantics).

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

Everything else (the loop, losses, metrics, callbacks, stateful checks, weight lists and files) lives here.

The loss minimised on each batch is ``sum_i w_i * loss_i + sum(penalties)``: ``loss_i`` the batch-mean loss of
output ``i`` (mean over unmasked positions), ``w_i`` its ``loss_weights`` entry (default 1), and the penalties every
layer's ``losses`` (weight regularisers and activity regularisers), *not* divided by the batch size (Keras 2.0).
The reported ``'loss'`` is that same total.
"""
import numbers
import warnings

import numpy as np

import minigrad as mg
from optim import callbacks as cbks_module
from optim import losses as losses_module
from optim import metrics as metrics_module
from optim import optimizers as optimizers_module

from . import activations
from .base import checked_weight_values, shape_str

__all__ = ["TrainingMixin", "logit_activation", "print_summary"]

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


def _standardize(data, count, what):
    """One array, or a list of ``count`` arrays -> a list of ``count`` ndarrays with one sample count."""
    if data is None:
        raise ValueError(f"no {what} given")
    if isinstance(data, dict):
        raise TypeError(f"{what} given as a dict; pass a list of arrays in the model's {what} order")
    is_list = isinstance(data, (list, tuple))
    if count == 1:
        # a list holding one array is that array; any other list is array-like data for the single input
        if is_list and len(data) == 1 and isinstance(data[0], (np.ndarray, mg.Tensor)):
            data = data[0]
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


def _batches(n, batch_size):
    """(start, end) pairs covering range(n) in order, all of ``batch_size`` but the last."""
    return [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


def _batch_shuffle(index, batch_size, rng):
    """Keras' shuffle='batch': permute whole batches (the tail that does not fill a batch stays last)."""
    full = len(index) // batch_size * batch_size
    blocks = index[:full].reshape(-1, batch_size)
    return np.concatenate([blocks[rng.permutation(len(blocks))].ravel(), index[full:]])


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


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


# ================================================================ summary

def print_summary(rows, headers, line_length, positions, trainable, non_trainable, print_fn=None):
    """Print a Keras-style table.

    rows: lists of fields (one per column; an empty first field continues the previous layer's row, as the
    functional summary's extra "Connected to" lines do); headers: the column titles; positions: each column's right edge as a
    fraction of ``line_length`` (or absolute ints); trainable / non_trainable: the parameter totals.
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
        self.optimizer = None
        self.loss = None
        self.loss_functions = None
        self.loss_weights = None
        self.metrics = []
        self.metrics_names = ["loss"]
        self._metric_fns = None
        self.stop_training = False
        self.history = None

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

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    def count_params(self):
        """Total number of scalars in all weights."""
        return int(sum(w.size for w in self.weights))

    def get_weights(self):
        """Copies of all weights as ndarrays, in Keras order (layer by layer, each layer's own order)."""
        return [w.data.copy() for w in self.weights]

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

    def compile(self, optimizer, loss, metrics=None, loss_weights=None, **kwargs):
        """Configure training.

        Arguments:
            optimizer: a name ('sgd', 'rmsprop', 'adagrad', 'adadelta', 'adam', 'adamax', 'nadam') or an
                ``optim`` Optimizer instance.
            loss: a name ('mse', 'mae', 'binary_crossentropy', 'categorical_crossentropy',
                'sparse_categorical_crossentropy') or a callable ``(y_true, y_pred) -> scalar Tensor``; with
                several outputs also a list (one per output) or a dict keyed by output layer name.
            metrics: list of metric names ('acc'/'accuracy', 'binary_accuracy', ..., loss names) or callables,
                applied to every output; or a dict {output name: list}. Logged under the name given (a
                callable under its ``__name__``), prefixed by ``<output name>_`` when there are several outputs.
            loss_weights: per-output multipliers of the losses (list or dict), default 1 each.
        """
        if kwargs.pop("sample_weight_mode", None) is not None:
            raise NotImplementedError("sample_weight_mode is not supported")
        if kwargs:
            raise TypeError(f"compile: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        names = self._output_names()
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        self.loss_functions = [losses_module.get(spec) for spec in _per_output(loss, names, "loss")]
        weights = _per_output(loss_weights, names, "loss_weights") if loss_weights is not None else [1.] * len(names)
        self.loss_weights = [1. if w is None else float(w) for w in weights]
        self.metrics = metrics or []
        if isinstance(self.metrics, (str,)) or callable(self.metrics):
            raise TypeError("metrics must be a list (or a dict of lists), e.g. metrics=['accuracy']")
        per_output = _per_output(self.metrics, names, "metrics") if isinstance(self.metrics, dict) \
            else [self.metrics] * len(names)
        self._metric_fns = []  # (output index, logged name, fn)
        for i, specs in enumerate(per_output):
            if isinstance(specs, str) or callable(specs):
                specs = [specs]
            for spec in specs or []:
                fn = metrics_module.get(spec, self.loss_functions[i])
                base = spec if isinstance(spec, str) else getattr(spec, "__name__", "metric")
                name = base if len(names) == 1 else f"{names[i]}_{base}"
                self._metric_fns.append((i, name, fn))
        loss_names = [f"{n}_loss" for n in names] if len(names) > 1 else []
        self.metrics_names = ["loss"] + loss_names + [name for _, name, _ in self._metric_fns]

    def _require_compiled(self):
        if self.optimizer is None or self.loss_functions is None:
            raise RuntimeError("the model must be compiled before training or evaluating: call "
                               "model.compile(optimizer, loss)")

    # ------------------------------------------------------------ one batch
    def _output_loss(self, i, y, out, mask, from_logits):
        """Batch-mean loss of output ``i``, averaged over the unmasked positions only."""
        fn = self.loss_functions[i]
        if fn in _BUILTIN_LOSSES:
            kw = {"from_logits": True} if from_logits else {}
            per_sample = fn(y, out, reduction="none", **kw)
        else:
            per_sample = fn(y, out)
            if not isinstance(per_sample, mg.Tensor):
                raise TypeError(f"loss {getattr(fn, '__name__', fn)!r} must return a minigrad Tensor, got "
                                f"{type(per_sample).__name__}")
            if per_sample.ndim == 0:
                return per_sample  # a custom loss that reduces itself cannot be masked
        if mask is None:
            return per_sample.mean()
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != per_sample.shape:
            raise ValueError(f"output {self._output_names()[i]!r}: the mask of shape {mask.shape} does not match "
                             f"the per-sample loss of shape {per_sample.shape}")
        # Keras: mean(loss * mask) / mean(mask), i.e. the mean over unmasked positions; an all-masked batch gives 0
        weight = mask.astype(per_sample.dtype)
        return (per_sample * weight).sum() / max(float(weight.sum()), 1.)

    def _run_batch(self, xs, ys, training):
        """Forward pass, total loss (data losses + penalties) and the logged values for one batch.

        Returns (total loss Tensor, list of floats in ``metrics_names`` order).
        """
        plan = [logit_activation(layer, fn) for layer, fn in zip(self._output_layers, self.loss_functions)]
        outputs, masks = self._forward(xs, training=training, logits=[a is not None for a in plan])
        preds = []
        for out, act, layer in zip(outputs, plan, self._output_layers):
            if act is None:
                preds.append(out)
            elif getattr(layer, "activity_regularizer", None) is not None:
                # the layer recorded its activity penalty on the logits; Keras penalises the activations
                probs = act(out)
                layer._record_activity(probs)
                preds.append(probs)
            else:
                with mg.no_grad():  # only the metrics need the probabilities
                    preds.append(act(out))
        data_losses = [self._output_loss(i, y, out, mask, act is not None)
                       for i, (y, out, mask, act) in enumerate(zip(ys, outputs, masks, plan))]
        total = data_losses[0] * self.loss_weights[0] if self.loss_weights[0] != 1. else data_losses[0]
        for loss_i, w in zip(data_losses[1:], self.loss_weights[1:]):
            total = total + (loss_i * w if w != 1. else loss_i)
        for penalty in self.losses:
            total = total + penalty
        values = [float(total.data)]
        if len(data_losses) > 1:
            values += [float(l.data) for l in data_losses]
        values += [float(fn(ys[i], preds[i].data)) for i, _, fn in self._metric_fns]
        return total, values

    def _train_batch(self, xs, ys):
        params = self.trainable_weights
        everything = self.weights
        for w in everything:
            w.grad = None
        with mg.enable_grad():
            total, values = self._run_batch(xs, ys, training=True)
        if total.requires_grad:  # a model with no trainable weights still reports its loss
            total.backward()
            self.optimizer.step(params)  # the optimizer applies each weight's constraint after its update
        for w in everything:  # frozen layers' weights may have received gradients too
            w.grad = None
        return values

    def _test_batch(self, xs, ys):
        with mg.no_grad():
            return self._run_batch(xs, ys, training=False)[1]

    def _predict_batch(self, xs):
        with mg.no_grad():
            outputs, _ = self._forward(xs, training=False, logits=None)
        return [np.asarray(o.data) for o in outputs]

    def _format(self, values):
        return values[0] if len(values) == 1 else values

    def _standardize_xy(self, x, y):
        xs = _standardize(x, self._num_inputs, "inputs")
        ys = _standardize(y, self._num_outputs, "targets")
        if len(xs[0]) != len(ys[0]):
            raise ValueError(f"input arrays must have the same number of samples as target arrays: found "
                             f"{len(xs[0])} input samples and {len(ys[0])} target samples")
        return xs, ys

    # ------------------------------------------------------------ single-batch API
    def train_on_batch(self, x, y, class_weight=None, sample_weight=None):
        """One gradient update on one batch. Returns the loss (with penalties), or [loss, ...] as in
        ``metrics_names`` when there are metrics or several outputs."""
        _no_weights(class_weight, sample_weight)
        self._require_compiled()
        xs, ys = self._standardize_xy(x, y)
        return self._format(self._train_batch(xs, ys))

    def test_on_batch(self, x, y, sample_weight=None):
        """Loss (and metrics) of one batch with ``training=False``, no update. Same return form as
        ``train_on_batch``."""
        _no_weights(None, sample_weight)
        self._require_compiled()
        xs, ys = self._standardize_xy(x, y)
        return self._format(self._test_batch(xs, ys))

    def predict_on_batch(self, x):
        """Outputs for one batch with ``training=False``: an ndarray, or a list with several outputs."""
        xs = _standardize(x, self._num_inputs, "inputs")
        return self._format(self._predict_batch(xs))

    # ------------------------------------------------------------ loops
    def _test_loop(self, xs, ys, batch_size, verbose=0):
        n = len(xs[0])
        bar = cbks_module.Progbar(n, verbose=verbose) if verbose else None
        totals = None
        for start, end in _batches(n, batch_size):
            values = self._test_batch([a[start:end] for a in xs], [a[start:end] for a in ys])
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
        Returns: the loss (float), or [loss, ...] in ``metrics_names`` order. Each value is the size-weighted
            mean of the batch values.
        """
        _no_weights(None, sample_weight)
        self._require_compiled()
        batch_size = _check_positive_int("batch_size", 32 if batch_size is None else batch_size)
        xs, ys = self._standardize_xy(x, y)
        self._check_stateful_samples(len(xs[0]), batch_size)
        return self._format(self._test_loop(xs, ys, batch_size, verbose))

    def predict(self, x, batch_size=32, verbose=0):
        """Outputs for ``x`` in batches with ``training=False`` (no tape is recorded).

        Arguments:
            x: array (batch, ...) or list of arrays, one per input.
            batch_size: samples per batch. A stateful model raises ValueError if N > batch_size and
                N % batch_size != 0.
        Returns: ndarray (N, ...) or, with several outputs, a list of them.
        """
        batch_size = _check_positive_int("batch_size", 32 if batch_size is None else batch_size)
        xs = _standardize(x, self._num_inputs, "inputs")
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

    def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            **kwargs):
        """Train for ``epochs`` passes over the data. Returns the ``History`` callback (also ``model.history``).

        Arguments:
            x: array (N, ...) or list of arrays, one per input. y: likewise, one per output.
            batch_size: samples per gradient update (the last batch of an epoch may be smaller, except for a
                stateful model, which needs N % batch_size == 0 and raises ValueError otherwise).
            epochs: index of the last epoch (training runs epochs ``initial_epoch`` .. ``epochs - 1``).
            verbose: 0 silent, 1 a live progress line per epoch, 2 one line per epoch.
            callbacks: list of ``optim.callbacks.Callback``; ``model.stop_training = True`` ends training.
            validation_split: fraction in [0, 1) of the samples, taken from the end *before* shuffling, held out
                for validation. validation_data: ``(x_val, y_val)``, overrides validation_split.
            shuffle: True reshuffles the sample order every epoch (from ``mg.get_rng()``, so ``mg.seed`` makes
                it reproducible); 'batch' shuffles whole batches; False keeps the order (needed when stateful).
            initial_epoch: epoch to start from (to resume a run).
        Logs per epoch: 'loss' (data loss + penalties, size-weighted mean of the batches), each metric, and
        'val_loss' / 'val_<metric>' with validation data.
        """
        if "nb_epoch" in kwargs:
            warnings.warn("fit: `nb_epoch` is the Keras 1 name, use `epochs`", DeprecationWarning, stacklevel=2)
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(f"fit: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        _no_weights(class_weight, sample_weight)
        self._require_compiled()
        batch_size = _check_positive_int("batch_size", 32 if batch_size is None else batch_size)
        if shuffle not in (True, False, "batch"):
            raise ValueError(f"shuffle must be True, False or 'batch', got {shuffle!r}")
        xs, ys = self._standardize_xy(x, y)

        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a tuple (x_val, y_val)")
            if len(validation_data) == 3 and validation_data[2] is not None:
                raise NotImplementedError("validation sample weights are not supported")
            val = self._standardize_xy(validation_data[0], validation_data[1])
        elif validation_split:
            if not 0. < validation_split < 1.:
                raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
            n_all = len(xs[0])
            split_at = int(n_all * (1. - validation_split))
            if split_at == 0 or split_at == n_all:
                raise ValueError(f"validation_split={validation_split} of {n_all} samples leaves an empty "
                                 "training or validation set")
            val = ([a[split_at:] for a in xs], [a[split_at:] for a in ys])
            xs, ys = [a[:split_at] for a in xs], [a[:split_at] for a in ys]
        n = len(xs[0])
        self._check_stateful_samples(n, batch_size)
        if val is not None:
            self._check_stateful_samples(len(val[0][0]), batch_size)

        out_names = list(self.metrics_names)
        names = out_names + (["val_" + k for k in out_names] if val is not None else [])
        self.history = cbks_module.History()
        cbk_list = [cbks_module.BaseLogger(), *(callbacks or []), self.history]
        if verbose:
            cbk_list.append(cbks_module.ProgbarLogger())
        cbks = cbks_module.CallbackList(cbk_list)
        cbks.set_model(self)
        cbks.set_params({"batch_size": batch_size, "epochs": epochs, "steps": None, "samples": n,
                         "verbose": verbose, "do_validation": val is not None, "metrics": names})
        if verbose and val is not None:
            print(f"Train on {n} samples, validate on {len(val[0][0])} samples")

        self.stop_training = False
        cbks.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            cbks.on_epoch_begin(epoch)
            index = np.arange(n)
            if shuffle == "batch":
                index = _batch_shuffle(index, batch_size, mg.get_rng())
            elif shuffle:
                index = mg.get_rng().permutation(n)
            epoch_logs = {}
            completed = True
            for b, (start, end) in enumerate(_batches(n, batch_size)):
                batch_logs = {"batch": b, "size": end - start}
                cbks.on_batch_begin(b, batch_logs)
                idx = index[start:end]
                values = self._train_batch([a[idx] for a in xs], [a[idx] for a in ys])
                batch_logs.update(zip(out_names, values))
                cbks.on_batch_end(b, batch_logs)
                if self.stop_training:
                    completed = False
                    break
            if completed and val is not None:
                val_values = self._test_loop(val[0], val[1], batch_size)
                epoch_logs.update(("val_" + k, v) for k, v in zip(out_names, val_values))
            cbks.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbks.on_train_end()
        return self.history


def _no_weights(class_weight, sample_weight):
    if class_weight is not None or sample_weight is not None:
        raise NotImplementedError("class_weight and sample_weight are not supported")
