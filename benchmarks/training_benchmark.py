#!/usr/bin/env python
"""A whole training epoch, as a user feels it: this project's ``model.fit`` against a hand-written PyTorch loop and
Keras 3 ``fit``, on three small recurrent workloads.

    python benchmarks/training_benchmark.py                      # the table (1 thread, 7 rounds)
    python benchmarks/training_benchmark.py --breakdown          # also: where an epoch of ours goes
    python benchmarks/training_benchmark.py --workloads charlm --rounds 11 --threads 2
    python benchmarks/training_benchmark.py --markdown /tmp/train.md --json /tmp/train.json

The workloads (float32, Adam(lr=0.001, epsilon=1e-8), ``metrics=['accuracy']`` unless ``--no-metrics``):

* charlm: Embedding(45, 32) -> LSTM(128, return_sequences=True) -> TimeDistributed(Dense(45, softmax)), 816
  sequences of 40 characters (the targets are the next character), sparse categorical crossentropy, batch 32.
* classify64: LSTM(64) on 1024 x 50 x 16 -> Dense(1, sigmoid), binary crossentropy, batch 32.
* classify32: LSTM(32) on 512 x 200 x 8 -> Dense(1, sigmoid), binary crossentropy, batch 16.

The LSTMs use ``recurrent_activation='sigmoid'`` (PyTorch's gates, Keras 3's default). The same weights (ours,
copied) in every framework:

* ours: ``model.fit(x, y, batch_size, epochs=1, shuffle=True, verbose=0)`` per epoch, in a process of its own
  started fresh (numpy and this project only, as a user's script runs it; loading PyTorch and Keras into the same
  process changes how its heap and caches behave).
* PyTorch: the loop a user writes: nn.Embedding / nn.LSTM(batch_first) / nn.Linear, one ``torch.randperm`` per
  epoch and one indexed batch per step, ``zero_grad``, forward, ``cross_entropy`` / ``binary_cross_entropy_with_logits``
  on the logits, ``backward``, ``Adam.step``, and the batch's loss (and accuracy) read as floats, as a loop that
  reports progress does.
* Keras 3 (``KERAS_BACKEND=torch``, when keras is installed): ``fit(..., epochs=1, shuffle=True, verbose=0)``.

Correctness first: before any timing, the three compute the loss of one batch from the copied weights, and ours
and PyTorch's the gradient of every weight; any difference beyond float32 tolerance makes the run exit with status
1. Timing: one warm-up epoch each, then rounds that run one epoch of each framework in turn (interleaved, so a
slow stretch of a shared machine hits all of them); the table shows the median epoch (wall clock, and the process
CPU time, which at one thread is insensitive to other processes taking the core) and the min-max range. Threads:
numpy's BLAS limited with threadpoolctl, torch with ``torch.set_num_threads`` (1 by default).

``--breakdown`` then runs a few more epochs of ours with timers around every op's forward and backward, the
reverse pass, the optimizer step and the per-batch forward code, and prints where an epoch's time goes: the
recurrent kernel, the other ops, the Python around them (layers, the tape, the loss and metric code), the reverse
pass's bookkeeping, the optimizer, and the rest of the loop (batching, callbacks, freeing each batch's graph).
The timers add about a microsecond per op, so the parts add up to a little more than a plain epoch.

Environment: some machines set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (they pick slower BLAS kernels than a user's
machine gets); they are printed in the header, with a warning when set. Unset them for this command only:
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/training_benchmark.py``.
"""
import argparse
import collections
import contextlib
import datetime
import functools
import gc
import json
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (ROOT, HERE):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import numpy as np  # noqa: E402
from _environment import blas_env, blas_info, cpu_model, loadavg, thread_limit  # noqa: E402
from _environment import optional as _optional  # noqa: E402

import minigrad as mg  # noqa: E402
from layers import LSTM, Dense, Embedding, Sequential, TimeDistributed  # noqa: E402
from optim import Adam  # noqa: E402

F32 = np.float32
LOSS_RTOL = 2e-5      # |loss_a - loss_b| / |loss_b|: float32 sums in different orders
GRAD_TOL = 2e-4       # max |g_a - g_b| / max |g_b| per weight
SLOW_OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

WORKLOADS = {
    "charlm": dict(kind="charlm", samples=816, timesteps=40, vocab=45, embed=32, units=128, batch=32,
                   title="char LM: Embedding(45,32) -> LSTM(128, seq) -> TimeDistributed(Dense(45, softmax)), "
                         "816 x 40 tokens, batch 32"),
    "classify64": dict(kind="classify", samples=1024, timesteps=50, features=16, units=64, batch=32,
                       title="classify: LSTM(64) on 1024 x 50 x 16 -> Dense(1, sigmoid), batch 32"),
    "classify32": dict(kind="classify", samples=512, timesteps=200, features=8, units=32, batch=16,
                       title="classify: LSTM(32) on 512 x 200 x 8 -> Dense(1, sigmoid), batch 16"),
}


# ============================================================================================ environment

def machine_info(torch, keras, threads):
    env = blas_env(extra=("KERAS_BACKEND",))
    return {"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "cpu": cpu_model(), "logical_cpus": os.cpu_count(), "threads": threads,
            "python": platform.python_version(), "numpy": np.__version__, "blas": blas_info(),
            "torch": getattr(torch, "__version__", None), "keras": getattr(keras, "__version__", None),
            "env": env, "load_average": _loadavg(),
            "command": " ".join([os.path.basename(sys.executable)] + sys.argv)}


def _loadavg():
    return [round(v, 2) for v in loadavg()]


# ============================================================================================ data and models

def make_data(spec, seed=0):
    """(x, y) of a workload: learnable, so the losses move as in real training."""
    rng = np.random.default_rng(seed)
    n, t = spec["samples"], spec["timesteps"]
    if spec["kind"] == "charlm":
        # a text-like stream: runs of a few characters repeat, so the next character is partly predictable
        stream = np.cumsum(rng.integers(1, 4, n * t + 1)) % spec["vocab"]
        return stream[:-1].reshape(n, t).astype(np.int64), stream[1:].reshape(n, t).astype(np.int64)
    x = rng.standard_normal((n, t, spec["features"])).astype(F32)
    y = (x[:, :, 0].mean(axis=1) > 0).astype(F32)
    return x, y


def build_ours(spec, metrics, seed=0):
    mg.seed(seed)
    if spec["kind"] == "charlm":
        model = Sequential([Embedding(spec["vocab"], spec["embed"], input_length=spec["timesteps"]),
                            LSTM(spec["units"], return_sequences=True, recurrent_activation="sigmoid"),
                            TimeDistributed(Dense(spec["vocab"], activation="softmax"))])
        loss = "sparse_categorical_crossentropy"
    else:
        model = Sequential([LSTM(spec["units"], input_shape=(spec["timesteps"], spec["features"]),
                                 recurrent_activation="sigmoid"),
                            Dense(1, activation="sigmoid")])
        loss = "binary_crossentropy"
    model.compile(Adam(lr=1e-3, epsilon=1e-8), loss, metrics=list(metrics))
    return model


class TorchLoop:
    """The same model in PyTorch and the training loop a user writes for it (weights copied from ours)."""

    def __init__(self, torch, spec, weights, x, y, metrics, seed=0):
        nn = torch.nn
        self.torch, self.spec, self.metrics = torch, spec, bool(metrics)
        torch.manual_seed(seed)
        if spec["kind"] == "charlm":
            emb, W, R, b, Wd, bd = weights
            vocab, units = spec["vocab"], spec["units"]

            class CharLM(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.embed = nn.Embedding(vocab, spec["embed"])
                    self.lstm = nn.LSTM(spec["embed"], units, batch_first=True)
                    self.dense = nn.Linear(units, vocab)

                def forward(self, ids):
                    return self.dense(self.lstm(self.embed(ids))[0])      # logits (batch, time, vocab)

            self.model = CharLM()
            with torch.no_grad():
                self.model.embed.weight.copy_(torch.from_numpy(emb))
            lstm, dense = self.model.lstm, self.model.dense
            self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        else:
            W, R, b, Wd, bd = weights

            class Classifier(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.lstm = nn.LSTM(spec["features"], spec["units"], batch_first=True)
                    self.dense = nn.Linear(spec["units"], 1)

                def forward(self, x):
                    return self.dense(self.lstm(x)[0][:, -1])[:, 0]       # logits (batch,)

            self.model = Classifier()
            lstm, dense = self.model.lstm, self.model.dense
            self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        with torch.no_grad():  # Keras gate order i, f, c, o is PyTorch's i, f, g, o
            lstm.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            lstm.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(R.T)))
            lstm.bias_ih_l0.copy_(torch.from_numpy(b))
            lstm.bias_hh_l0.zero_()
            dense.weight.copy_(torch.from_numpy(np.ascontiguousarray(Wd.T)))
            dense.bias.copy_(torch.from_numpy(bd))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, eps=1e-8)

    def loss(self, logits, y):
        F = self.torch.nn.functional
        if self.spec["kind"] == "charlm":
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        return F.binary_cross_entropy_with_logits(logits, y)

    def accuracy(self, logits, y):
        if self.spec["kind"] == "charlm":
            return (logits.argmax(-1) == y).float().mean().item()
        return ((logits > 0).float() == y).float().mean().item()

    def epoch(self):
        torch, bs = self.torch, self.spec["batch"]
        model, opt = self.model, self.optimizer
        order = torch.randperm(len(self.x))
        for start in range(0, len(self.x), bs):
            idx = order[start:start + bs]
            xb, yb = self.x[idx], self.y[idx]
            opt.zero_grad()
            logits = model(xb)
            loss = self.loss(logits, yb)
            loss.backward()
            opt.step()
            loss.item()
            if self.metrics:
                self.accuracy(logits.detach(), yb)

    def batch_loss_and_grads(self, xb, yb):
        """(loss, gradients in ours' weight order and layout) of one batch."""
        self.model.zero_grad()
        loss = self.loss(self.model(self.torch.from_numpy(xb)), self.torch.from_numpy(yb))
        loss.backward()
        lstm, dense = self.model.lstm, self.model.dense
        grads = [lstm.weight_ih_l0.grad.numpy().T, lstm.weight_hh_l0.grad.numpy().T,
                 (lstm.bias_ih_l0.grad).numpy(), dense.weight.grad.numpy().T, dense.bias.grad.numpy()]
        if self.spec["kind"] == "charlm":
            grads.insert(0, self.model.embed.weight.grad.numpy())
        return loss.item(), grads


def build_keras(keras, spec, weights, metrics):
    L = keras.layers
    if spec["kind"] == "charlm":
        model = keras.Sequential([keras.Input((spec["timesteps"],), dtype="int32"),
                                  L.Embedding(spec["vocab"], spec["embed"]),
                                  L.LSTM(spec["units"], return_sequences=True),
                                  L.TimeDistributed(L.Dense(spec["vocab"], activation="softmax"))])
        loss = "sparse_categorical_crossentropy"
    else:
        model = keras.Sequential([keras.Input((spec["timesteps"], spec["features"])),
                                  L.LSTM(spec["units"]), L.Dense(1, activation="sigmoid")])
        loss = "binary_crossentropy"
    model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-8), loss=loss,
                  metrics=list(metrics))
    return model


# ============================================================================================ correctness

def ours_batch_loss_and_grads(model, xb, yb):
    """The loss ``fit`` minimises on one batch (training mode) and the gradient of every trainable weight."""
    params = model.trainable_weights
    for p in params:
        p.grad = None
    with mg.enable_grad():
        total, _ = model._run_batch([xb], [yb], training=True)
    total.backward()
    grads = [p.grad.copy() for p in params]
    for p in params:
        p.grad = None
    return float(total.data), grads


def check_same_function(name, ours, torch_loop, keras_model, x, y, batch):
    """Loss of the first batch in every framework (and gradients of ours and PyTorch's); returns (rows, ok)."""
    xb, yb = x[:batch], y[:batch]
    loss, grads = ours_batch_loss_and_grads(ours, xb, yb)
    rows, ok = [], True
    if torch_loop is not None:
        t_loss, t_grads = torch_loop.batch_loss_and_grads(xb, yb)
        gerr = max(float(np.max(np.abs(g - tg)) / max(float(np.max(np.abs(tg))), 1e-30))
                   for g, tg in zip(grads, t_grads))
        lerr = abs(loss - t_loss) / max(abs(t_loss), 1e-30)
        good = lerr <= LOSS_RTOL and gerr <= GRAD_TOL
        ok &= good
        rows.append((name, "PyTorch", loss, t_loss, lerr, gerr, good))
    if keras_model is not None:
        k_loss = keras_model.test_on_batch(xb, yb)
        k_loss = float(k_loss[0] if isinstance(k_loss, (list, tuple)) else k_loss)
        lerr = abs(loss - k_loss) / max(abs(k_loss), 1e-30)
        # Keras 3 takes the log of clipped probabilities (not of the logits): a little more than float32 rounding
        good = lerr <= 10 * LOSS_RTOL
        ok &= good
        rows.append((name, "Keras 3", loss, k_loss, lerr, None, good))
    return rows, ok


# ============================================================================================ timing

def _time_call(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    w1, c1 = time.perf_counter(), time.process_time()
    return w1 - w0, c1 - c0


def timed(fn):
    """An epoch function that returns its own (wall, cpu) seconds, measured after a garbage collection."""
    def run():
        gc.collect()
        return _time_call(fn)
    return run


def time_epochs(entries, rounds):
    """entries: {framework: function running one epoch and returning its (wall, cpu) seconds}. One warm-up epoch
    each, then ``rounds`` interleaved rounds. Returns {framework: {'wall': [s...], 'cpu': [s...]}}."""
    for fn in entries.values():
        fn()
    out = {name: {"wall": [], "cpu": []} for name in entries}
    for _ in range(rounds):
        for name, fn in entries.items():
            wall, cpu = fn()
            out[name]["wall"].append(wall)
            out[name]["cpu"].append(cpu)
    return out


class OursProcess:
    """This project's model in a process of its own, started fresh: numpy and this project only, as a user's
    training script, and not the process that has PyTorch and Keras loaded (their libraries change how the heap
    and the caches behave, which moved our epoch times by up to 20 %). ``epoch()`` runs one timed epoch there."""

    def __init__(self, name, metrics, threads):
        import multiprocessing
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_ours_worker, args=(child, name, tuple(metrics), threads), daemon=True)
        self.process.start()
        child.close()

    def _ask(self, *request):
        self.conn.send(request)
        answer = self.conn.recv()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def epoch(self):
        return self._ask("epoch")

    def breakdown(self, epochs):
        return self._ask("breakdown", epochs)

    def close(self):
        try:
            self.conn.send(("stop",))
        finally:
            self.process.join(timeout=30)


def _ours_worker(conn, name, metrics, threads):
    spec = WORKLOADS[name]
    with thread_limit(threads):
        x, y = make_data(spec)
        model = build_ours(spec, metrics)  # the same seed: the weights the parent checked against the others
        fit = timed(lambda: model.fit(x, y, batch_size=spec["batch"], epochs=1, verbose=0))
        while True:
            request = conn.recv()
            try:
                if request[0] == "epoch":
                    conn.send(fit())
                elif request[0] == "breakdown":
                    conn.send(breakdown(model, x, y, spec["batch"], request[1]))
                else:
                    return
            except Exception as e:  # noqa: BLE001 - handed to the parent, which raises it
                conn.send(e)


def summarize(samples):
    wall, cpu = samples["wall"], samples["cpu"]
    return {"median_ms": statistics.median(wall) * 1e3, "min_ms": min(wall) * 1e3, "max_ms": max(wall) * 1e3,
            "cpu_median_ms": statistics.median(cpu) * 1e3}


# ============================================================================================ breakdown

def _function_classes():
    seen, todo = [], [mg.Function]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


class Timers:
    """Exclusive wall time per key, for functions wrapped with ``wrap``: a wrapped call running inside another
    is subtracted from the outer one, so the times add up to the time spent inside all of them."""

    def __init__(self):
        self.stats = collections.defaultdict(lambda: [0, 0.0])
        self._stack = []
        self._undo = []

    def wrap(self, key, fn):
        stats, stack, clock = self.stats, self._stack, time.perf_counter

        def timed(*args, **kwargs):
            stack.append(0.0)
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                dt = clock() - t0
                inner = stack.pop()
                entry = stats[key]
                entry[0] += 1
                entry[1] += dt - inner
                if stack:
                    stack[-1] += dt
        return timed

    def patch(self, owner, attr, key, static=False):
        """Replace ``owner.attr`` (a class's staticmethod, a module's function or an object's method) by its
        timed version until ``restore``."""
        own = attr in vars(owner)
        original = vars(owner)[attr] if own else getattr(owner, attr)
        fn = original.__func__ if static else original
        wrapped = self.wrap(key, fn)
        setattr(owner, attr, staticmethod(wrapped) if static else wrapped)
        self._undo.append((owner, attr, original, own))

    def restore(self):
        for owner, attr, original, own in reversed(self._undo):
            if own:
                setattr(owner, attr, original)
            else:
                delattr(owner, attr)  # the instance attribute that shadowed the class's method
        self._undo.clear()


@contextlib.contextmanager
def instrumented(model):
    """Timers on every op's forward/backward, the reverse pass, the optimizer step and the batch's forward code."""
    from minigrad import tensor as tensor_module
    timers = Timers()
    try:
        for cls in _function_classes():
            for phase in ("forward", "backward"):
                if isinstance(cls.__dict__.get(phase), staticmethod):
                    timers.patch(cls, phase, (cls.__name__, phase), static=True)
        timers.patch(tensor_module, "run_backward", ("reverse pass", "engine"))
        timers.patch(model.optimizer, "step", ("optimizer", "step"))
        timers.patch(model, "_run_batch", ("forward code", "python"))
        yield timers
    finally:
        timers.restore()


KERNEL_OPS = ("FusedRNN",)


def breakdown(model, x, y, batch, epochs):
    """Where the time of ``epochs`` epochs of ``model.fit`` goes (per epoch, ms) and the per-op table."""
    fit = lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # noqa: E731
    fit()
    totals = []
    with instrumented(model) as timers:
        for _ in range(epochs):
            gc.collect()
            t0 = time.perf_counter()
            fit()
            totals.append(time.perf_counter() - t0)
    stats = {k: (n / epochs, s / epochs * 1e3) for k, (n, s) in timers.stats.items()}
    epoch_ms = sum(totals) / epochs * 1e3
    parts = collections.OrderedDict()
    parts["recurrent kernel forward"] = sum(v[1] for (op, ph), v in stats.items()
                                            if op in KERNEL_OPS and ph == "forward")
    parts["recurrent kernel backward"] = sum(v[1] for (op, ph), v in stats.items()
                                             if op in KERNEL_OPS and ph == "backward")
    parts["other ops forward"] = sum(v[1] for (op, ph), v in stats.items() if ph == "forward" and op not in KERNEL_OPS)
    parts["other ops backward"] = sum(v[1] for (op, ph), v in stats.items()
                                      if ph == "backward" and op not in KERNEL_OPS)
    parts["forward code (layers, tape, loss, metrics)"] = stats.get(("forward code", "python"), (0, 0.))[1]
    parts["reverse pass bookkeeping"] = stats.get(("reverse pass", "engine"), (0, 0.))[1]
    parts["optimizer step"] = stats.get(("optimizer", "step"), (0, 0.))[1]
    parts["rest of the loop (batches, callbacks, freeing graphs)"] = epoch_ms - sum(parts.values())
    ops = sorted(((op, ph, n, ms) for (op, ph), (n, ms) in stats.items() if ph in ("forward", "backward")),
                 key=lambda r: -r[3])
    return {"epoch_ms": epoch_ms, "parts": parts, "ops": ops}


# ============================================================================================ report

def _fmt(v, digits=1):
    return "" if v is None else ("%.*f" % (digits, v))


def report_lines(info, checks, results, breakdowns, markdown):
    out = []
    h = (lambda s: "## " + s) if markdown else (lambda s: "== " + s)
    out.append(("# " if markdown else "") + "Training epoch: this project's fit vs PyTorch (hand-written loop) and "
               "Keras 3 fit")
    out.append("")
    for key in ("date", "cpu", "logical_cpus", "threads", "python", "numpy", "blas", "torch", "keras",
                "load_average", "load_average_end", "command"):
        out.append(("- **%s**: %s" if markdown else "%-17s %s") % (key + ("" if markdown else ":"), info.get(key)))
    env = info["env"]
    out.append(("- **%s**: %s" if markdown else "%-17s %s") % ("env" + ("" if markdown else ":"),
                                                               env or "(no BLAS/thread variables set)"))
    out.append(("- " if markdown else "") + "ours runs in a fresh process of its own (numpy and this project "
               "only); PyTorch and Keras in this one")
    slow = [k for k in SLOW_OPENBLAS_VARS if k in env]
    if slow:
        out.append("")
        out.append(("**Warning**: " if markdown else "WARNING: ") + ", ".join(slow) + " set: numpy's BLAS runs "
                   "slower kernels than on a user's machine. Unset them for this command: env -u "
                   "OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python ...")
    out.append("")
    out.append(h("Same function (copied weights, loss of the first batch; gradients of every weight vs PyTorch)"))
    out.append("")
    rows = [["workload", "vs", "loss ours", "loss theirs", "rel. diff", "max grad diff", "ok"]]
    for name, other, a, b, lerr, gerr, good in checks:
        rows.append([name, other, "%.7f" % a, "%.7f" % b, "%.1e" % lerr, "" if gerr is None else "%.1e" % gerr,
                     "yes" if good else "NO"])
    out += _table(rows, markdown)
    out.append("")
    out.append(h("Epoch time, ms (median of the rounds [min-max]; cpu = process CPU time, median)"))
    out.append("")
    rows = [["workload", "ours", "PyTorch", "Keras 3", "ours/PyTorch", "Keras 3/PyTorch", "cpu: ours/PyTorch"]]
    for name, res in results.items():
        o, t, k = res.get("ours"), res.get("torch"), res.get("keras")
        cell = lambda s: "" if s is None else "%.1f [%.1f-%.1f]" % (s["median_ms"], s["min_ms"], s["max_ms"])  # noqa
        ratio = lambda a, b, key="median_ms": "" if a is None or b is None else "%.2f" % (a[key] / b[key])  # noqa
        rows.append([name, cell(o), cell(t), cell(k), ratio(o, t), ratio(k, t), ratio(o, t, "cpu_median_ms")])
    out += _table(rows, markdown)
    out.append("")
    for name in results:
        out.append(("- " if markdown else "  ") + "%s: %s" % (name, WORKLOADS[name]["title"]))
    for name, bd in breakdowns.items():
        out.append("")
        out.append(h("Where an epoch of ours goes: %s (ms per epoch, timers on; plain epoch above)" % name))
        out.append("")
        rows = [["part", "ms", "share"]]
        for part, ms in bd["parts"].items():
            rows.append([part, "%.1f" % ms, "%.0f%%" % (100 * ms / bd["epoch_ms"])])
        rows.append(["epoch (timed)", "%.1f" % bd["epoch_ms"], "100%"])
        outside = bd["epoch_ms"] - bd["parts"]["recurrent kernel forward"] - bd["parts"]["recurrent kernel backward"]
        rows.append(["of which outside the recurrent kernel", "%.1f" % outside,
                     "%.0f%%" % (100 * outside / bd["epoch_ms"])])
        torch_ms = results.get(name, {}).get("torch")
        if torch_ms is not None:
            rows.append(["PyTorch's whole epoch (table above)", "%.1f" % torch_ms["median_ms"], ""])
        out += _table(rows, markdown)
        out.append("")
        rows = [["op", "phase", "calls/epoch", "ms/epoch", "us/call"]]
        for op, phase, n, ms in bd["ops"][:14]:
            rows.append([op, phase, "%.0f" % n, "%.2f" % ms, "%.1f" % (1e3 * ms / n if n else 0.)])
        out += _table(rows, markdown)
    return out


def _table(rows, markdown):
    if markdown:
        lines = ["| " + " | ".join(map(str, rows[0])) + " |", "|" + "---|" * len(rows[0])]
        return lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows[1:]]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


# ============================================================================================ main

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   help="comma-separated subset of %s" % ", ".join(WORKLOADS))
    p.add_argument("--rounds", type=int, default=7, help="timed epochs per framework (after one warm-up epoch)")
    p.add_argument("--threads", type=int, default=1, help="BLAS / torch threads (default 1)")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    p.add_argument("--no-keras", action="store_true", help="leave Keras 3 out")
    p.add_argument("--no-metrics", action="store_true", help="compile without metrics=['accuracy']")
    p.add_argument("--breakdown", action="store_true", help="also show where an epoch of ours goes")
    p.add_argument("--breakdown-epochs", type=int, default=3, help="epochs timed for the breakdown")
    p.add_argument("--markdown", metavar="FILE", help="also write the report as markdown to FILE")
    p.add_argument("--json", metavar="FILE", help="also write the raw numbers as JSON to FILE")
    args = p.parse_args(argv)
    names = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown or not names:
        p.error("unknown workload(s) %s; choose from %s" % (unknown, ", ".join(WORKLOADS)))
    if args.rounds < 1 or args.threads < 1 or args.breakdown_epochs < 1:
        p.error("--rounds, --threads and --breakdown-epochs must be >= 1")
    args.names = names
    return args


def main(argv=None):
    args = parse_args(argv)
    torch = None if args.no_torch else _optional("torch")
    keras = None
    if not args.no_keras:
        os.environ.setdefault("KERAS_BACKEND", "torch")
        keras = _optional("keras")
    metrics = () if args.no_metrics else ("accuracy",)
    info = machine_info(torch, keras, args.threads)
    for k in SLOW_OPENBLAS_VARS:
        if k in os.environ:
            print("WARNING: %s=%s is set: numpy's BLAS runs slower kernels than on a user's machine; run this as "
                  "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python %s" % (k, os.environ[k], " ".join(sys.argv)),
                  file=sys.stderr)
    all_checks, results, breakdowns, ok = [], {}, {}, True
    with thread_limit(args.threads, torch):
        for name in args.names:
            spec = WORKLOADS[name]
            x, y = make_data(spec)
            ours = build_ours(spec, metrics)
            ours.predict(x[:2], batch_size=2)  # builds the weights
            weights = ours.get_weights()
            torch_loop = TorchLoop(torch, spec, weights, x, y, metrics) if torch is not None else None
            keras_model = build_keras(keras, spec, weights, metrics) if keras is not None else None
            rows, good = check_same_function(name, ours, torch_loop, keras_model, x, y, spec["batch"])
            all_checks += rows
            ok &= good
            if not good:
                print("MISMATCH in %s: %s" % (name, rows), file=sys.stderr)
                continue
            child = OursProcess(name, metrics, args.threads)
            try:
                entries = {"ours": child.epoch}
                if torch_loop is not None:
                    entries["torch"] = timed(torch_loop.epoch)
                if keras_model is not None:
                    entries["keras"] = timed(functools.partial(keras_model.fit, x, y, batch_size=spec["batch"],
                                                               epochs=1, verbose=0))
                samples = time_epochs(entries, args.rounds)
                results[name] = {k: summarize(v) for k, v in samples.items()}
                if args.breakdown:
                    breakdowns[name] = child.breakdown(args.breakdown_epochs)
            finally:
                child.close()
    info["load_average_end"] = _loadavg()
    print("\n".join(report_lines(info, all_checks, results, breakdowns, markdown=False)))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(report_lines(info, all_checks, results, breakdowns, markdown=True)) + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"info": info, "checks": all_checks, "results": results,
                       "breakdowns": {k: {**v, "parts": dict(v["parts"])} for k, v in breakdowns.items()}},
                      f, indent=1, default=str)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
