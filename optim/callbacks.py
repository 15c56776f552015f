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
"""
import math
import numbers
import sys
import time
import warnings

import numpy as np

__all__ = ["Callback", "CallbackList", "BaseLogger", "History", "EarlyStopping", "ModelCheckpoint",
           "LambdaCallback", "ReduceLROnPlateau", "ResetStatesCallback", "ProgbarLogger", "Progbar"]


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
        self.callbacks = list(callbacks or [])
        self.params = None
        self.model = None

    def append(self, callback):
        self.callbacks.append(callback)

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
    the list of epoch indices. Both are reset at ``on_train_begin``."""

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


def _monitor_op(owner, monitor, mode):
    """np.less or np.greater for a monitored quantity: 'auto' maximises names containing 'acc'."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{owner} mode {mode!r} is unknown, fallback to auto mode.", RuntimeWarning, stacklevel=3)
        mode = "auto"
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
        min_delta: minimum change that counts as an improvement (its sign is ignored).
        patience: number of epochs without improvement after which training stops.
        verbose: 1 prints "Epoch 00005: early stopping" at the end of training.
        mode: 'min', 'max' or 'auto' (maximise if 'acc' is in the name, else minimise).

    Attributes: ``best``, ``wait``, ``stopped_epoch`` (0-based epoch at which it stopped; 0 if it never did).
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto"):
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.monitor_op = _monitor_op("EarlyStopping", monitor, mode)
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
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
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
        # instance attributes shadow the base class's no-op methods only for the hooks that were given
        for name, fn in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_batch_begin", on_batch_begin), ("on_batch_end", on_batch_end),
                         ("on_train_begin", on_train_begin), ("on_train_end", on_train_end)):
            if fn is not None:
                setattr(self, name, fn)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when a monitored quantity has stopped improving.

    Patience counts as in ``EarlyStopping``: ``patience`` consecutive epochs without an improvement larger than
    ``epsilon`` are tolerated, and at the next one ``model.optimizer.lr = max(lr * factor, min_lr)``. The count
    then restarts from zero after ``cooldown`` epochs (Keras 2.0's code restarted it at one, so its later
    reductions came an epoch sooner than the first; that slip is not copied). Every epoch it also writes the
    learning rate in use into ``logs['lr']``, before any reduction (so History records it).

    Arguments:
        monitor: the logs key to watch.
        factor: float < 1, the multiplier.
        patience: epochs without improvement before the learning rate is reduced.
        verbose: 1 prints a line at each reduction.
        mode: 'min', 'max' or 'auto' (maximise if 'acc' is in the name, else minimise).
        epsilon: threshold for a significant change (Keras 2.0's name; ``min_delta`` is accepted for it).
        cooldown: epochs to wait after a reduction before resuming normal operation.
        min_lr: lower bound on the learning rate.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", epsilon=1e-4,
                 cooldown=0, min_lr=0, *, min_delta=None):
        super().__init__()
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0.")
        if min_delta is not None:
            if epsilon != 1e-4:
                raise TypeError("ReduceLROnPlateau: got both `epsilon` and `min_delta`; give only one")
            epsilon = min_delta
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.epsilon = epsilon
        self.cooldown = cooldown
        self.min_lr = min_lr
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


class Progbar:
    """A text progress bar, Keras style.

    verbose=1 redraws one line in place (``\\r``), at most every ``interval`` seconds unless forced::

         32/100 [=========>....................] - ETA: 0s - loss: 0.6931
        100/100 [==============================] - 0s 3ms/step - loss: 0.6931 - val_loss: 0.6900

    and ends it with a newline when ``current`` reaches ``target``. verbose=2 prints only that final line's
    summary (`` - 0s - loss: ...``); verbose=0 prints nothing.

    Values passed to ``update`` are averaged over the units of progress they cover (Keras's behaviour: the
    displayed loss is the running mean), except names in ``stateful_metrics``, shown as given;
    ``stateful_metrics=True`` shows every value as given.

    A "step" in the ms/step figure is one call of ``update`` that advanced ``current`` (one batch in fit).
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05, stateful_metrics=None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
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
            if force or done or now - self._last_draw >= self.interval:
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
        # pad with spaces so a shorter line fully covers the one it rewrites
        pad = " " * max(0, self._width_drawn - len(line))
        self._width_drawn = len(line)
        _write("\r" + line + pad + ("\n" if done else ""))


class ProgbarLogger(Callback):
    """Prints training progress to stdout.

    verbose=1 (from ``params['verbose']`` unless given here): "Epoch 1/5", then one line rewritten in place as
    batches end, finished at epoch end with the epoch's values (including 'val_*') and a newline.
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
        self._verbose_override = verbose

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
