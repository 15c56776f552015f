"""Callbacks: hooks the training loop calls at the start and end of training, epochs and batches (Keras 2.0).

The loop drives them through a ``CallbackList``::

    cbks = CallbackList([BaseLogger(), *user_callbacks, history, ProgbarLogger()])
    cbks.set_model(model)
    cbks.set_params({'epochs': 5, 'samples': 1000, 'batch_size': 32, 'steps': None, 'verbose': 1,
                     'do_validation': True, 'metrics': ['loss', 'acc', 'val_loss', 'val_acc']})
    cbks.on_train_begin()
    for epoch in range(epochs):
        cbks.on_epoch_begin(epoch)
        for batch in ...:
            cbks.on_batch_begin(batch, {'batch': batch, 'size': n})
            ...
            cbks.on_batch_end(batch, {'batch': batch, 'size': n, 'loss': 0.69, 'acc': 0.5})
        epoch_logs = {'loss': ..., 'acc': ..., 'val_loss': ..., 'val_acc': ...}
        cbks.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    cbks.on_train_end()

One logs dict is passed to every callback of a call, in list order, so a callback may add entries that later
ones see (ReduceLROnPlateau adds 'lr', which History then records): put History and ProgbarLogger after the
user's callbacks, as Keras does.

Callbacks reach the model only through duck-typed attributes: ``model.stop_training`` (set to True to stop),
``model.save_weights(path)``, ``model.save(path)``, ``model.reset_states()`` and ``model.optimizer.lr``.

Metric names: the loop logs a metric under the name it was given (``'accuracy'`` for ``metrics=['accuracy']``,
as Keras 2.3+ does), and Keras 2.0 logged some under another name (``'acc'``). The logs dicts and
``History.history`` are ``Logs``, dicts that answer both spellings while listing each value once, so
``history.history['val_acc']`` and ``EarlyStopping(monitor='val_acc')`` work whichever name was given.
The loop passes the spellings in ``params['metric_aliases']`` (``{other spelling: logged name}``).

Arguments are checked where they are given: a bad number, mode or function raises ValueError naming it.
"""
import csv
import inspect
import math
import numbers
import os
import string
import sys
import time
import warnings

import numpy as np

from . import _checks

__all__ = ["Callback", "CallbackList", "Logs", "BaseLogger", "History", "EarlyStopping", "ModelCheckpoint",
           "LambdaCallback", "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger", "TerminateOnNaN",
           "ResetStatesCallback", "ProgbarLogger", "Progbar"]

_ABSENT = object()
_HOOKS = ("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end", "on_train_begin", "on_train_end")


class Logs(dict):
    """A dict of logged values that also answers each name's other spelling.

    ``Logs({'accuracy': [0.5]}, aliases={'acc': 'accuracy'})``: ``logs['acc']``, ``logs.get('acc')`` and
    ``'acc' in logs`` read the entry ``'accuracy'``, and ``logs['acc'] = v`` writes it. Only the logged names
    are keys: ``keys()``, iteration, ``len``, ``dict(logs)``, ``**logs`` and JSON see each value once. An alias
    is consulted only for a name that is not itself a key.
    """

    __slots__ = ("aliases",)

    def __init__(self, *args, aliases=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.aliases = dict(aliases or {})

    def _key(self, key):
        if not dict.__contains__(self, key):
            other = self.aliases.get(key)
            if other is not None and dict.__contains__(self, other):
                return other
        return key

    def __missing__(self, key):
        other = self.aliases.get(key)
        if other is not None and dict.__contains__(self, other):
            return dict.__getitem__(self, other)
        raise KeyError(key)

    def __contains__(self, key):
        return dict.__contains__(self, self._key(key))

    def __setitem__(self, key, value):
        dict.__setitem__(self, self._key(key), value)

    def __delitem__(self, key):
        dict.__delitem__(self, self._key(key))

    def get(self, key, default=None):
        value = dict.get(self, key, _ABSENT)
        return dict.get(self, self._key(key), default) if value is _ABSENT else value

    def update(self, *args, **kwargs):
        if not self.aliases:
            dict.update(self, *args, **kwargs)
            return
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, default=None):
        return dict.setdefault(self, self._key(key), default)

    def pop(self, key, *default):
        return dict.pop(self, self._key(key), *default)

    def copy(self):
        return Logs(self, aliases=self.aliases)

    def __reduce__(self):
        # pickles (and copies) as a Logs with its aliases, e.g. pickle.dump(history.history, f)
        return (_rebuild_logs, (dict(self), self.aliases))


def _rebuild_logs(items, aliases):
    return Logs(items, aliases=aliases)


def _is_callback(obj):
    return isinstance(obj, Callback) or (not isinstance(obj, type) and all(
        callable(getattr(obj, name, None)) for name in ("set_model", "set_params", *_HOOKS)))


def _check_callbacks(callbacks):
    """A list of callbacks, each a Callback (or an object with every hook); anything else raises TypeError."""
    if callbacks is None:
        return []
    if _is_callback(callbacks) or not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of Callback instances, got {type(callbacks).__name__}"
                        + (" (wrap it in a list: callbacks=[...])" if _is_callback(callbacks) else ""))
    for i, cb in enumerate(callbacks):
        if not _is_callback(cb):
            hint = (f" (a class: did you mean {cb.__name__}(...)?)" if isinstance(cb, type)
                    else "; pass instances of optim.callbacks.Callback, e.g. EarlyStopping(...)")
            raise TypeError(f"callbacks[{i}] is {cb!r} of type {type(cb).__name__}, not a Callback{hint}")
    return list(callbacks)


class Callback:
    """Base class: every hook does nothing. ``self.model`` and ``self.params`` are set by the training loop.

    Hooks: ``on_train_begin(logs)``, ``on_train_end(logs)``, ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``;
    ``epoch`` and ``batch`` count from 0; ``logs`` is a dict (batch logs hold 'batch', 'size' and the batch's
    loss and metrics; epoch-end logs hold the epoch's 'loss', metrics and 'val_*' values).
    """

    def __init__(self):
        self.validation_data = None
        self.model = None
        self.params = None

    def set_params(self, params):
        """Receive the training parameters (dict: 'epochs', 'samples', 'steps', 'batch_size', 'verbose',
        'do_validation', 'metrics')."""
        self.params = params

    def set_model(self, model):
        """Receive the model being trained."""
        self.model = model

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class CallbackList:
    """A list of callbacks called in order; each call hands the same logs dict to every callback."""

    def __init__(self, callbacks=None):
        self.callbacks = _check_callbacks(callbacks)
        self.params = None
        self.model = None

    def append(self, callback):
        self.callbacks.append(_check_callbacks([callback])[0])

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def set_params(self, params):
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        self.model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def on_epoch_begin(self, epoch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_batch_end(batch, logs)

    def on_train_begin(self, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs=None):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            cb.on_train_end(logs)


_NOT_METRICS = ("batch", "size")


class BaseLogger(Callback):
    """Averages the batch values of each metric over an epoch, weighted by batch size, into the epoch logs.

    At epoch end, for each name in ``params['metrics']`` (every batch-logged name if params has none) that the
    epoch logs do not already hold, ``logs[name] = sum(value * size) / sum(size)``. A loop that computes its own
    epoch averages can leave it out.
    """

    def on_epoch_begin(self, epoch, logs=None):
        self.seen = 0
        self.totals = {}

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = logs.get("size", 0)
        self.seen += size
        for k, v in logs.items():
            if k not in _NOT_METRICS:
                self.totals[k] = self.totals.get(k, 0.) + v * size

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or not self.seen:
            return
        names = (self.params or {}).get("metrics") or list(self.totals)
        for k in names:
            if k in self.totals and k not in logs:
                logs[k] = self.totals[k] / self.seen


class History(Callback):
    """Records the epoch logs: ``history.history[name]`` is a list with one value per epoch, ``history.epoch``
    the list of epoch indices. Both are reset at ``on_train_begin``.

    ``history.history`` is a ``Logs`` dict: it also answers the other spelling of a metric's name (``'acc'``
    and ``'val_acc'`` for a metric given as ``'accuracy'``, and the reverse), from ``params['metric_aliases']``.
    """

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = Logs()

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = Logs(aliases=(self.params or {}).get("metric_aliases"))

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def _monitor_op(owner, monitor, mode):
    """np.less or np.greater for a monitored quantity: 'auto' maximises names containing 'acc'.

    An unknown mode raises ValueError (Keras 2.0 warned and fell back to 'auto', which silently minimised a
    misspelt mode='maxx' accuracy)."""
    if not isinstance(monitor, str):
        raise ValueError(f"{owner}: `monitor` must be the name of a logged quantity (a str such as 'val_loss'), "
                         f"got {monitor!r}")
    _checks.one_of(owner, "mode", mode, ("auto", "min", "max"))
    if mode == "min":
        return np.less
    if mode == "max":
        return np.greater
    return np.greater if "acc" in monitor else np.less


class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving.

    After each epoch, ``logs[monitor]`` counts as an improvement when it beats the best value so far by more
    than ``min_delta``. ``patience`` consecutive epochs without improvement are tolerated; the next one sets
    ``model.stop_training = True`` (patience=0: the first epoch without improvement stops training). This is
    Keras 2.0's count; later 2.x releases stop one epoch sooner (there patience 0 and 1 act alike).

    Arguments:
        monitor: the logs key to watch.
        min_delta: minimum change that counts as an improvement (a finite number; its sign is ignored).
        patience: number of epochs without improvement after which training stops (an int >= 0).
        verbose: 1 prints "Epoch 00005: early stopping" at the end of training.
        mode: 'min', 'max' or 'auto' (maximise if 'acc' is in the name, else minimise); others raise ValueError.

    Attributes: ``best``, ``wait``, ``stopped_epoch`` (0-based epoch at which it stopped; 0 if it never did).
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto"):
        super().__init__()
        self.monitor = monitor
        self.patience = _checks.integer("EarlyStopping", "patience", patience)
        self.verbose = _checks.integer("EarlyStopping", "verbose", verbose)
        self.monitor_op = _monitor_op("EarlyStopping", monitor, mode)
        min_delta = _checks.real("EarlyStopping", "min_delta", min_delta)
        self.min_delta = abs(min_delta) if self.monitor_op is np.greater else -abs(min_delta)
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf if self.monitor_op is np.less else -np.inf

    def on_train_begin(self, logs=None):
        # reset, so one instance can serve several fit calls
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf if self.monitor_op is np.less else -np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Early stopping requires {self.monitor} available! Available logs: "
                          f"{', '.join(sorted(logs or {}))}", RuntimeWarning, stacklevel=2)
            return
        if self.monitor_op(current - self.min_delta, self.best):
            self.best = current
            self.wait = 0
        else:
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
            self.wait += 1

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            _write(f"Epoch {self.stopped_epoch + 1:05d}: early stopping\n")


class ModelCheckpoint(Callback):
    """Save the model's weights after every ``period`` epochs.

    The path is ``filepath.format(epoch=epoch + 1, **logs)`` (1-based epoch), e.g.
    ``'weights.{epoch:02d}-{val_loss:.2f}.npz'``.

    Arguments:
        filepath: str, a path or a format string as above.
        monitor: the logs key compared when ``save_best_only``.
        verbose: 1 prints a line per save (or per skipped save).
        save_best_only: save only when the monitored value improves on the best so far (a fixed filepath is
            then always the best model).
        save_weights_only: True (default) calls ``model.save_weights(path)``; False calls ``model.save(path)``:
            the whole model (architecture, weights, compile settings, optimizer state), which
            ``layers.load_model`` reads back to resume training exactly.
        mode: 'min', 'max' or 'auto' (maximise if 'acc' is in the name, else minimise).
        period: epochs between checkpoints.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=True,
                 mode="auto", period=1):
        super().__init__()
        self.filepath = filepath
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.period = period
        self.epochs_since_last_save = 0
        self.monitor_op = _monitor_op("ModelCheckpoint", monitor, mode)
        self.best = np.inf if self.monitor_op is np.less else -np.inf

    def _path(self, epoch, logs):
        values = Logs(logs, aliases=getattr(logs, "aliases", None))  # '{val_acc}' reads 'val_accuracy' too
        values["epoch"] = epoch + 1
        try:
            return string.Formatter().vformat(self.filepath, (), values)
        except KeyError as e:
            raise KeyError(f"ModelCheckpoint: filepath {self.filepath!r} names {e.args[0]!r}, which is not in "
                           f"the epoch logs (available: epoch, {', '.join(sorted(logs))})") from None

    def _save(self, path):
        if self.save_weights_only:
            self.model.save_weights(path)
        elif hasattr(self.model, "save"):
            self.model.save(path)
        else:
            raise NotImplementedError(f"ModelCheckpoint(save_weights_only=False): {type(self.model).__name__} "
                                      "cannot save a whole model, only its weights; pass save_weights_only=True")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epochs_since_last_save += 1
        if self.epochs_since_last_save < self.period:
            return
        self.epochs_since_last_save = 0
        path = self._path(epoch, logs)
        if not self.save_best_only:
            if self.verbose > 0:
                _write(f"Epoch {epoch + 1:05d}: saving model to {path}\n")
            self._save(path)
            return
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available, skipping.", RuntimeWarning,
                          stacklevel=2)
            return
        if self.monitor_op(current, self.best):
            if self.verbose > 0:
                _write(f"Epoch {epoch + 1:05d}: {self.monitor} improved from {self.best:0.5f} to "
                       f"{current:0.5f}, saving model to {path}\n")
            self.best = current
            self._save(path)
        elif self.verbose > 0:
            _write(f"Epoch {epoch + 1:05d}: {self.monitor} did not improve\n")


class LambdaCallback(Callback):
    """A callback built from plain functions.

    Arguments (each optional): ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``,
    ``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``, ``on_train_begin(logs)``,
    ``on_train_end(logs)``.
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None):
        super().__init__()
        hooks = (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                 ("on_batch_begin", on_batch_begin), ("on_batch_end", on_batch_end),
                 ("on_train_begin", on_train_begin), ("on_train_end", on_train_end))
        for name, fn in hooks:
            if fn is not None and not callable(fn):
                raise ValueError(f"LambdaCallback: `{name}` must be a function or None, got {fn!r}")
        # instance attributes shadow the base class's no-op methods only for the hooks that were given
        for name, fn in hooks:
            if fn is not None:
                setattr(self, name, fn)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch from a schedule.

    Arguments:
        schedule: a function ``schedule(epoch) -> lr`` (``epoch`` counts from 0), or ``schedule(epoch, lr)``
            (it then also receives the current learning rate, as in later Keras releases). It must return a
            finite number >= 0, else ValueError names the epoch and the value.
        verbose: 1 prints the learning rate set at each epoch.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ValueError(f"LearningRateScheduler: `schedule` must be a function epoch -> learning rate, "
                             f"got {schedule!r}")
        self.schedule = schedule
        self.verbose = _checks.integer("LearningRateScheduler", "verbose", verbose)
        self._takes_lr = _positional_arity(schedule) >= 2

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if not hasattr(optimizer, "lr"):
            raise ValueError("LearningRateScheduler: the model's optimizer has no `lr` attribute")
        lr = self.schedule(epoch, float(optimizer.lr)) if self._takes_lr else self.schedule(epoch)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr < 0:
            raise ValueError(f"LearningRateScheduler: the schedule returned {lr!r} for epoch {epoch}; it must "
                             "return a finite number >= 0")
        optimizer.lr = float(lr)
        if self.verbose > 0:
            _write(f"\nEpoch {epoch + 1:05d}: LearningRateScheduler setting learning rate to {float(lr)}.\n")


def _positional_arity(fn):
    """How many positional arguments ``fn`` takes (2 for ``*args``); 1 when its signature cannot be read."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    count = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return 2
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when a monitored quantity has stopped improving.

    Patience counts as in ``EarlyStopping``: ``patience`` consecutive epochs without an improvement larger than
    ``epsilon`` are tolerated, and at the next one ``model.optimizer.lr = max(lr * factor, min_lr)``. The count
    then restarts from zero after ``cooldown`` epochs (Keras 2.0's code restarted it at one, so its later
    reductions came an epoch sooner than the first; that slip is not copied). Every epoch it also writes the
    learning rate in use into ``logs['lr']``, before any reduction (so History records it).

    Arguments:
        monitor: the logs key to watch.
        factor: the multiplier, in (0, 1).
        patience: epochs without improvement before the learning rate is reduced (an int >= 0).
        verbose: 1 prints a line at each reduction.
        mode: 'min', 'max' or 'auto' (maximise if 'acc' is in the name, else minimise).
        epsilon: threshold (>= 0) for a significant change (Keras 2.0's name; ``min_delta`` is accepted for it).
        cooldown: epochs (an int >= 0) to wait after a reduction before resuming normal operation.
        min_lr: lower bound (>= 0) on the learning rate.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", epsilon=1e-4,
                 cooldown=0, min_lr=0, *, min_delta=None):
        super().__init__()
        owner = "ReduceLROnPlateau"
        if min_delta is not None:
            if epsilon != 1e-4:
                raise TypeError("ReduceLROnPlateau: got both `epsilon` and `min_delta`; give only one")
            epsilon = _checks.real(owner, "min_delta", min_delta, low=0.)
        self.monitor = monitor
        self.factor = _checks.real(owner, "factor", factor, low=0., high=1., low_open=True, high_open=True)
        self.patience = _checks.integer(owner, "patience", patience)
        self.verbose = _checks.integer(owner, "verbose", verbose)
        self.mode = mode
        self.epsilon = _checks.real(owner, "epsilon", epsilon, low=0.)
        self.cooldown = _checks.integer(owner, "cooldown", cooldown)
        self.min_lr = _checks.real(owner, "min_lr", min_lr, low=0.)
        _monitor_op(owner, monitor, mode)  # checks monitor and mode now, not at the first epoch
        self._reset()

    def _reset(self):
        op = _monitor_op("ReduceLROnPlateau", self.monitor, self.mode)
        if op is np.less:
            self.monitor_op = lambda a, b: np.less(a, b - self.epsilon)
            self.best = np.inf
        else:
            self.monitor_op = lambda a, b: np.greater(a, b + self.epsilon)
            self.best = -np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["lr"] = float(self.model.optimizer.lr)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Reduce LR on plateau conditioned on metric `{self.monitor}` which is not available. "
                          f"Available metrics are: {', '.join(sorted(logs))}", RuntimeWarning, stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            if self.wait < self.patience:
                self.wait += 1
                return
            old_lr = float(self.model.optimizer.lr)
            # the tolerance keeps float rounding from reducing an lr that already sits at min_lr
            if old_lr > self.min_lr + self.min_lr * 1e-4:
                new_lr = max(old_lr * self.factor, self.min_lr)
                self.model.optimizer.lr = new_lr
                if self.verbose > 0:
                    _write(f"\nEpoch {epoch + 1:05d}: reducing learning rate to {new_lr}.\n")
                self.cooldown_counter = self.cooldown
                self.wait = 0


class CSVLogger(Callback):
    """Write the epoch logs to a CSV file, one row per epoch (Keras 2.0).

    The columns are ``epoch`` (counting from 0) and the logged names, sorted, as found at the first epoch's end.
    When training stops early, missing values of the last row are written as ``NA``. Values that are sequences
    (e.g. an array) are written as a quoted list.

    Arguments:
        filename: path of the CSV file.
        separator: the one-character field separator.
        append: False overwrites the file at the start of training; True appends to it (no header is written
            if the file already has content), to continue a run.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise ValueError(f"CSVLogger: `filename` must be a path (str or os.PathLike), got {filename!r}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"CSVLogger: `separator` must be a single character, got {separator!r}")
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = _checks.boolean("CSVLogger", "append", append)
        self.writer = None
        self.keys = None
        self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        self.append_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, "r", newline="") as f:
                self.append_header = not f.readline()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = None
        self.keys = None

    @staticmethod
    def _cell(value):
        if isinstance(value, str):
            return value
        if isinstance(value, np.ndarray) and value.ndim == 0:
            return value.item()
        if isinstance(value, (list, tuple, np.ndarray)):
            return f"[{', '.join(map(str, value))}]"
        return value

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.writer is None:
            self.keys = sorted(logs.keys())
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, delimiter=self.sep)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        for key in self.keys:
            row[key] = self._cell(logs[key]) if key in logs else "NA"
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
            self.csv_file = None
        self.writer = None


class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or infinite (Keras 2.0).

    The training loop itself never applies an update whose loss or gradients are not finite, and stops with a
    warning when it meets one; this callback makes that stop explicit in a Keras 2.0 script, and prints
    ``Batch 3: Invalid loss, terminating training``.
    """

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            _write(f"Batch {batch}: Invalid loss, terminating training\n")
            self.model.stop_training = True


class ResetStatesCallback(Callback):
    """Calls ``model.reset_states()`` at the start of every epoch, so a stateful recurrent model starts each
    pass over the data from zero states instead of the last batch of the previous epoch."""

    def on_epoch_begin(self, epoch, logs=None):
        self.model.reset_states()


# ================================================================ progress display

def _write(text):
    # sys.stdout is looked up at each call, so redirections made after import (pytest's capsys) are honoured
    sys.stdout.write(text)
    sys.stdout.flush()


def _format_value(v):
    if isinstance(v, numbers.Real) or (isinstance(v, np.ndarray) and v.size == 1):
        v = float(v)
        # Keras's rule: 4 decimals, switching to scientific notation for tiny values so they do not read 0.0000
        return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"
    return str(v)


def _format_duration(seconds):
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:.0f}s"


def _format_per_step(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def _is_terminal():
    """True when stdout is a terminal (or a Jupyter kernel), where a line can be redrawn with a carriage return."""
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        return bool(isatty and isatty()) or "ipykernel" in sys.modules
    except ValueError:  # a closed stream
        return False


class Progbar:
    """A text progress bar, Keras style.

    verbose=1 redraws one line in place (``\\r``), at most every ``interval`` seconds unless forced::

         32/100 [=========>....................] - ETA: 0s - loss: 0.6931
        100/100 [==============================] - 0s 3ms/step - loss: 0.6931 - val_loss: 0.6900

    and ends it with a newline when ``current`` reaches ``target``. When stdout is not a terminal (a log file,
    CI, a pipe), where carriage returns would pile up, only that final line is printed. verbose=2 prints only
    the final line's summary (`` - 0s - loss: ...``); verbose=0 prints nothing.

    Values passed to ``update`` are averaged over the units of progress they cover (Keras's behaviour: the
    displayed loss is the running mean), except names in ``stateful_metrics``, shown as given;
    ``stateful_metrics=True`` shows every value as given.

    A "step" in the ms/step figure is one call of ``update`` that advanced ``current`` (one batch in fit).

    Arguments: ``target`` (an int >= 0, or None when unknown), ``width`` (an int >= 1), ``verbose`` (0, 1, 2),
    ``interval`` (seconds >= 0), ``stateful_metrics``, ``dynamic`` (None: redraw in place only on a terminal;
    True/False force it).
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05, stateful_metrics=None, dynamic=None):
        self.target = _checks.integer("Progbar", "target", target, none_ok=True)
        self.width = _checks.integer("Progbar", "width", width, low=1)
        self.verbose = _checks.one_of("Progbar", "verbose", verbose, (0, 1, 2))
        self.interval = _checks.real("Progbar", "interval", interval, low=0.)
        self.dynamic = _is_terminal() if dynamic is None else _checks.boolean("Progbar", "dynamic", dynamic)
        self.stateful_metrics = stateful_metrics if stateful_metrics is True else set(stateful_metrics or ())
        self._values = {}  # name -> [weighted sum, weight], or the value itself for stateful names
        self._order = []
        self._seen = 0
        self._steps = 0
        self._start = time.time()
        self._last_draw = 0.0
        self._width_drawn = 0

    def _is_stateful(self, name):
        return self.stateful_metrics is True or name in self.stateful_metrics

    def update(self, current, values=None, force=False):
        """Advance to ``current`` units done, record ``values`` (a dict or a list of (name, value) pairs) and
        redraw."""
        items = values.items() if isinstance(values, dict) else (values or [])
        advance = current - self._seen
        for name, v in items:
            if name not in self._order:
                self._order.append(name)
            if self._is_stateful(name):
                self._values[name] = v
            else:
                total = self._values.setdefault(name, [0.0, 0])
                total[0] += v * advance
                total[1] += advance
        if advance > 0:
            self._steps += 1
        self._seen = current
        done = self.target is not None and current >= self.target
        now = time.time()
        if self.verbose == 1:
            # off a terminal only finished lines are printed (or forced ones when the target is unknown)
            due = done or (force if not self.dynamic else force or now - self._last_draw >= self.interval)
            if due and (self.dynamic or done or self.target is None):
                self._draw(current, now, done)
                self._last_draw = now
        elif self.verbose == 2 and done:
            _write(f" - {now - self._start:.0f}s{self.format_values()}\n")

    def add(self, n, values=None):
        """``update(current + n, values)``."""
        self.update(self._seen + n, values)

    def format_values(self):
        """The current values as ' - name: value' pieces, in first-seen order."""
        parts = []
        for name in self._order:
            v = self._values[name]
            if isinstance(v, list):
                v = v[0] / max(1, v[1])
            parts.append(f" - {name}: {_format_value(v)}")
        return "".join(parts)

    def _bar(self, current):
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = int(math.floor(math.log10(self.target))) + 1 if self.target > 0 else 1
        bar = f"{current:{digits}d}/{self.target} ["
        filled = int(self.width * min(current / self.target, 1.0)) if self.target > 0 else self.width
        if filled > 0:
            bar += "=" * (filled - 1) + (">" if current < self.target else "=")
        bar += "." * (self.width - filled) + "]"
        return bar

    def _draw(self, current, now, done):
        elapsed = now - self._start
        if done or self.target is None:
            per_step = elapsed / max(1, self._steps)
            info = f" - {elapsed:.0f}s {_format_per_step(per_step)}"
        else:
            eta = elapsed / current * (self.target - current) if current else 0.0
            info = f" - ETA: {_format_duration(eta)}"
        line = self._bar(current) + info + self.format_values()
        if not self.dynamic:
            _write(line + "\n")
            return
        # pad with spaces so a shorter line fully covers the one it rewrites
        pad = " " * max(0, self._width_drawn - len(line))
        self._width_drawn = len(line)
        _write("\r" + line + pad + ("\n" if done else ""))


class ProgbarLogger(Callback):
    """Prints training progress to stdout.

    verbose=1 (from ``params['verbose']`` unless given here): "Epoch 1/5", then one line rewritten in place as
    batches end, finished at epoch end with the epoch's values (including 'val_*') and a newline; when stdout
    is not a terminal, only that finished line (see ``Progbar``).
    verbose=2: one line per epoch, ``Epoch 1/5 - 0s - loss: 0.6931 - acc: 0.5000 - val_loss: ...``.
    verbose=0: nothing.

    Arguments:
        count_mode: 'samples' (progress counts ``logs['size']`` of each batch against ``params['samples']``)
            or 'steps' (counts batches against ``params['steps']``).
        verbose: overrides ``params['verbose']``.

    During an epoch the values shown are the size-weighted running means of the batch values; at epoch end the
    epoch logs' values replace them. Only names in ``params['metrics']`` are shown when params lists them.
    """

    def __init__(self, count_mode="samples", verbose=None):
        super().__init__()
        if count_mode not in ("samples", "steps"):
            raise ValueError(f"Unknown `count_mode`: {count_mode!r} (expected 'samples' or 'steps')")
        self.use_steps = count_mode == "steps"
        self._verbose_override = None if verbose is None else _checks.one_of("ProgbarLogger", "verbose", verbose,
                                                                             (0, 1, 2))

    def _param(self, name, default=None):
        return (self.params or {}).get(name, default)

    def on_train_begin(self, logs=None):
        self.verbose = self._verbose_override if self._verbose_override is not None else self._param("verbose", 1)
        self.epochs = self._param("epochs")

    def _wanted(self, name):
        names = self._param("metrics")
        return name not in _NOT_METRICS and (not names or name in names)

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self, "verbose"):  # tolerate a loop that skipped on_train_begin
            self.on_train_begin()
        self.target = self._param("steps") if self.use_steps else self._param("samples")
        self.seen = 0
        self._sums = {}
        self._epoch_start = time.time()
        of = f"/{self.epochs}" if self.epochs is not None else ""
        self._header = f"Epoch {epoch + 1}{of}"
        if self.verbose == 1:
            _write(self._header + "\n")
            self.progbar = Progbar(self.target, verbose=1, stateful_metrics=True)

    def _means(self):
        return {k: s / max(1, w) for k, (s, w) in self._sums.items()}

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = 1 if self.use_steps else logs.get("size", 0)
        self.seen += size
        for k, v in logs.items():
            if self._wanted(k) and isinstance(v, (numbers.Real, np.ndarray)):
                total = self._sums.setdefault(k, [0.0, 0])
                total[0] += float(v) * size
                total[1] += size
        # the last batch is drawn at epoch end, once the validation values are known
        if self.verbose == 1 and (self.target is None or self.seen < self.target):
            self.progbar.update(self.seen, self._means())

    def on_epoch_end(self, epoch, logs=None):
        values = self._means()
        values.update({k: v for k, v in (logs or {}).items() if self._wanted(k)})
        if self.verbose == 1:
            target = self.target if self.target is not None else self.seen
            self.progbar.target = target
            self.progbar.update(max(self.seen, target), values, force=True)
        elif self.verbose == 2:
            pieces = "".join(f" - {k}: {_format_value(v)}" for k, v in values.items())
            _write(f"{self._header} - {time.time() - self._epoch_start:.0f}s{pieces}\n")
