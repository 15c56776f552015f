#!/usr/bin/env python
"""Speed and memory of the recurrent layers, side by side with PyTorch and HIPS autograd, in one run.

    python benchmarks/rnn_benchmark.py                       # the full table (1 and 2 threads)
    python benchmarks/rnn_benchmark.py --quick               # a fast look: impl 0, fewer repeats, no memory
    python benchmarks/rnn_benchmark.py --threads 1 --layers lstm --shapes 32,50,64,128 --repeats 9
    python benchmarks/rnn_benchmark.py --markdown benchmarks/RESULTS-table.md --json /tmp/rnn.json

What is measured (float32 throughout; every number is a median of repeats after warm-up):

* fwd: one inference forward (no gradient recorded: ``mg.no_grad()`` / ``torch.no_grad()`` / plain numpy).
* fwd+bwd: a training-mode forward (``training=True``, the tape recording) plus the full backward pass for the
  input and every weight, seeded with a fixed random cotangent of the output sequence (return_sequences=True).
* paths of ours: implementation 0/1/2 x unroll False ("fused": one tape entry, the hand-written BPTT of
  layers/rnn_kernels.py) / True ("unroll": every step recorded on minigrad's tape).
* user cell (LSTM only): ``RNN(UserLSTMCell(units))``, an LSTM cell as a user writes it (its step in a few
  minigrad ops, no fused kernel), with the built-in LSTM's weights, on its two paths: "user cell scan" (the
  default: the step traced once and replayed over time as one tape entry, minigrad/scan.py) and "user cell tape"
  (``unroll=True``: every op of every step recorded). Both are checked against the fused LSTM first (and the scan
  path for being taken: one ``Scan`` entry on the tape), then timed beside it (``--no-user-cell`` leaves them
  out).
* torch: nn.LSTM / nn.GRU / nn.RNN(tanh), batch_first, weights copied from ours (LSTM/RNN outputs and gradients
  are checked against ours; PyTorch's GRU applies the reset gate after the recurrent product, a different
  function, so for the GRU only times are compared). autograd: HIPS autograd differentiating an LSTM written in
  plain numpy with the same equations (LSTM only).
* FLOP floor: the matmul FLOPs of fwd+bwd, 6*B*T*k*U*(D+U) (k = 4 LSTM, 3 GRU, 1 RNN: the input and recurrent
  products forward, and the input, weight and recurrent-state gradients backward), divided by numpy's sgemm rate
  measured here at 1024^3 at that thread count (the best of the measurements taken before and between the groups;
  printed in the header).
* Threads: numpy's BLAS limited with threadpoolctl (or, without it, each thread count runs in a child process
  with OPENBLAS/OMP/MKL_NUM_THREADS set), torch with torch.set_num_threads. Timings are taken in rounds (every
  path of a group once per round, interleaved); the reported value is the best round's median, because on a
  shared or 2-core machine whole seconds can run many times slower. "cpu" is the process CPU time of the same
  calls (all threads summed): at 1 thread it is insensitive to other processes taking the core away.
* peak memory: each measurement in a fresh child process (1 thread): after a warm-up call at a tiny shape (code
  paths loaded) and with our buffer pool emptied, the peak resident set size is reset (Linux
  /proc/self/clear_refs) and the growth of the peak RSS over the RSS just before ONE fwd+bwd is reported: the same
  method for ours, PyTorch and autograd (it counts whatever the library allocates: arrays, caches, workspaces).
  For ours, tracemalloc's peak of the same call (numpy's own allocations, exact) is shown too.
* tape overhead: 100k float32 multiplies on 4-element arrays recorded on the tape, against the same numpy calls;
  and the reverse pass over them, per op.

Before any timing, every path is checked for the same outputs and gradients (float32 tolerance), and ours against
PyTorch (LSTM, RNN) and autograd (LSTM) with copied weights; a mismatch makes the run exit with status 1.
torch, autograd and threadpoolctl are optional: missing ones are skipped (their columns left empty).
"""
import argparse
import datetime
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (ROOT, HERE):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import numpy as np  # noqa: E402
from _environment import blas_env, blas_info, cpu_model, dist_version, loadavg, thread_limit, threadpoolctl  # noqa: E402
from _environment import optional as _optional  # noqa: E402

import minigrad as mg  # noqa: E402
from layers import GRU, LSTM, RNN, Layer, SimpleRNN, activations, rnn_kernels  # noqa: E402

LAYERS = {"lstm": (LSTM, 4, "LSTM"), "gru": (GRU, 3, "GRU"), "simple_rnn": (SimpleRNN, 1, "SimpleRNN")}
DEFAULT_SHAPES = [(32, 50, 64, 128), (64, 100, 128, 256), (16, 200, 32, 64)]
F32 = np.float32
TOL = 2e-4  # max |a - b| / max |b| for float32 results of different summation orders


# ============================================================================================ environment

def machine_info(torch, autograd):
    env = blas_env()
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "torch": getattr(torch, "__version__", None),
        "torch_onednn": bool(torch and torch.backends.mkldnn.is_available()),
        "autograd": (dist_version("autograd") or "?") if autograd else None,
        "threadpoolctl": getattr(threadpoolctl, "__version__", None),
        "env": env,
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
    }


# ============================================================================================ timing

def measure(fn, repeats):
    """Medians of wall and CPU time of `repeats` calls, in ms."""
    wall, cpu = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        w1, c1 = time.perf_counter(), time.process_time()
        wall.append(w1 - w0)
        cpu.append(c1 - c0)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def time_group(entries, rounds, repeats, budget_s):
    """entries: {name: {'fwd': fn, 'fb': fn}}. Rounds interleave the entries; per entry and kind, the round with
    the lowest median wall time is kept. Returns {name: {'fwd': (wall, cpu), 'fb': (wall, cpu)}}."""
    reps = {}
    for name, fns in entries.items():          # warm-up, and a first estimate of the cost of a call
        for kind, fn in fns.items():
            fn()
            t0 = time.perf_counter()
            fn()
            est = time.perf_counter() - t0
            reps[name, kind] = max(3, min(repeats, int(budget_s / max(est, 1e-6))))
    best = {}
    for _ in range(rounds):
        for name, fns in entries.items():
            for kind, fn in fns.items():
                gc.collect()
                wall, cpu = measure(fn, reps[name, kind])
                if (name, kind) not in best or wall < best[name, kind][0]:
                    best[name, kind] = (wall, cpu)
    out = {}
    for (name, kind), v in best.items():
        out.setdefault(name, {})[kind] = v
    return out


def sgemm_rate(rounds, repeats=8, n=1024):
    """GFLOP/s of a float32 n^3 product (best round's median)."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(F32)
    b = np.random.default_rng(1).standard_normal((n, n)).astype(F32)
    out = np.empty((n, n), F32)
    for _ in range(3):
        np.matmul(a, b, out=out)
    best = min(measure(lambda: np.matmul(a, b, out=out), repeats)[0] for _ in range(max(rounds, 2)))
    return 2.0 * n ** 3 / (best * 1e-3) / 1e9


def matmul_flops(k, shape):
    B, T, D, U = shape
    return 6.0 * B * T * k * U * (D + U)


# ============================================================================================ the models

def problem(layer, shape, seed=0):
    """Inputs, cotangent and weights (Keras layout, gate order of ours) shared by every implementation."""
    cls, k, _ = LAYERS[layer]
    B, T, D, U = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, D)).astype(F32)
    dy = rng.standard_normal((B, T, U)).astype(F32)
    lim = np.sqrt(6.0 / (D + k * U))
    W = rng.uniform(-lim, lim, (D, k * U)).astype(F32)
    R = np.concatenate([np.linalg.qr(rng.standard_normal((U, U)))[0] for _ in range(k)], axis=1).astype(F32)
    b = (0.1 * rng.standard_normal(k * U)).astype(F32)
    if layer == "lstm":
        b[U:2 * U] += 1.0  # unit_forget_bias
    return x, dy, [W, R, b]


class Ours:
    """One of our layers on one path, with fwd / fwd+bwd closures and the results of the last fwd+bwd."""

    def __init__(self, layer, shape, weights, x, dy, implementation, unroll, recurrent_activation):
        cls = LAYERS[layer][0]
        kw = {} if layer == "simple_rnn" else {"recurrent_activation": recurrent_activation}
        self.layer = cls(shape[3], return_sequences=True, unroll=unroll, implementation=implementation, **kw)
        self.x = mg.Tensor(x, requires_grad=True)
        with mg.no_grad():
            self.layer(np.zeros((1, 1, shape[2]), F32))  # build (at a tiny shape: no full-size work before timing)
        self.layer.set_weights(weights)
        self.dy = dy
        self.params = self.layer.weights

    def fwd(self):
        with mg.no_grad():
            return self.layer(self.x, training=False)

    def fb(self):
        for p in self.params:
            p.grad = None
        self.x.grad = None
        y = self.layer(self.x, training=True)
        y.backward(self.dy)
        return y

    def results(self):
        y = self.fb()
        return {"y": y.data, "dx": self.x.grad, "dW": self.params[0].grad, "dR": self.params[1].grad,
                "db": self.params[2].grad}


class Torch:
    """nn.LSTM / nn.GRU / nn.RNN(tanh), batch_first, weights copied from ours (one bias = ours, the other 0)."""

    def __init__(self, torch, layer, shape, weights, x, dy):
        self.torch = torch
        B, T, D, U = shape
        W, R, b = weights
        if layer == "lstm":
            m, order = torch.nn.LSTM(D, U, batch_first=True), [0, 1, 2, 3]   # i,f,g,o = Keras i,f,c,o
        elif layer == "gru":
            m, order = torch.nn.GRU(D, U, batch_first=True), [1, 0, 2]       # r,z,n from Keras z,r,h
        else:
            m, order = torch.nn.RNN(D, U, batch_first=True, nonlinearity="tanh"), [0]
        self.order, self.U = order, U

        def perm(a):
            return np.concatenate([a[..., g * U:(g + 1) * U] for g in order], axis=-1)
        with torch.no_grad():
            m.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(perm(W).T)))
            m.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(perm(R).T)))
            m.bias_ih_l0.copy_(torch.from_numpy(perm(b)))
            m.bias_hh_l0.zero_()
        self.m = m.float()
        self.x = torch.from_numpy(x.copy()).requires_grad_(True)
        self.dy = torch.from_numpy(dy.copy())

    def fwd(self):
        with self.torch.no_grad():
            return self.m(self.x)[0]

    def fb(self):
        for p in self.m.parameters():
            p.grad = None
        self.x.grad = None
        y, _ = self.m(self.x)
        y.backward(self.dy)
        return y

    def results(self):
        y = self.fb()
        U, inv = self.U, np.argsort(self.order)

        def unperm(a):  # (..., kU) torch gate order -> ours
            return np.concatenate([a[..., g * U:(g + 1) * U] for g in inv], axis=-1)
        m = self.m
        return {"y": y.detach().numpy(), "dx": self.x.grad.numpy(),
                "dW": unperm(m.weight_ih_l0.grad.numpy().T), "dR": unperm(m.weight_hh_l0.grad.numpy().T),
                "db": unperm(m.bias_ih_l0.grad.numpy())}


class AutogradLSTM:
    """HIPS autograd differentiating an LSTM written in plain numpy (same equations, sigmoid gates)."""

    def __init__(self, autograd, shape, weights, x, dy):
        import autograd.numpy as anp
        B, T, D, U = shape

        def sig(a):
            return 0.5 * anp.tanh(0.5 * a) + 0.5

        def lstm(W, R, b, x):
            xw = anp.reshape(anp.dot(anp.reshape(x, (B * T, D)), W), (B, T, 4 * U)) + b
            h = c = np.zeros((B, U), F32)
            outs = []
            for t in range(T):
                z = xw[:, t] + anp.dot(h, R)
                i, f, g, o = sig(z[:, :U]), sig(z[:, U:2 * U]), anp.tanh(z[:, 2 * U:3 * U]), sig(z[:, 3 * U:])
                c = f * c + i * g
                h = o * anp.tanh(c)
                outs.append(h)
            return anp.stack(outs, axis=1)

        def loss(W, R, b, x):
            return anp.sum(lstm(W, R, b, x) * dy)

        self.lstm, self.args = lstm, (weights[0], weights[1], weights[2], x)
        self.vg = autograd.value_and_grad(loss, argnum=[0, 1, 2, 3])
        self.dy = dy

    def fwd(self):
        return self.lstm(*self.args)

    def fb(self):
        return self.vg(*self.args)

    def results(self):
        _, (dW, dR, db, dx) = self.fb()
        return {"y": self.fwd(), "dx": dx, "dW": dW, "dR": dR, "db": db}


class UserLSTMCell(Layer):
    """The LSTM step as a user would write it with minigrad ops (gate order i, f, c, o; weights in the built-in
    LSTM's layout), to time a user's cell (scan and tape paths) against the built-in fused kernel."""

    def __init__(self, units, recurrent_activation="sigmoid", **kwargs):
        super().__init__(**kwargs)
        self.units, self.state_size = units, [units, units]
        self.recurrent_activation = activations.get(recurrent_activation)

    def build(self, input_shape):
        u = self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], 4 * u), "glorot_uniform")
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (u, 4 * u), "orthogonal")
        self.bias = self.add_weight("bias", (4 * u,), "zeros")

    def call(self, inputs, states, training=False):
        h, c = states
        i, f, g, o = mg.split(inputs @ self.kernel + h @ self.recurrent_kernel + self.bias, 4, axis=-1)
        sig = self.recurrent_activation
        c = sig(f) * c + sig(i) * mg.tanh(g)
        h = sig(o) * mg.tanh(c)
        return h, [h, c]


class UserCell(Ours):
    """``RNN(UserLSTMCell(units))`` with the built-in LSTM's weights; unroll=True records every op (the tape
    path), else the step is replayed (the scan path)."""

    def __init__(self, shape, weights, x, dy, recurrent_activation, unroll=False):
        self.layer = RNN(UserLSTMCell(shape[3], recurrent_activation), return_sequences=True, unroll=unroll)
        self.x = mg.Tensor(x, requires_grad=True)
        with mg.no_grad():
            self.layer(np.zeros((1, 1, shape[2]), F32))
        self.layer.set_weights(weights)
        self.dy = dy
        self.params = self.layer.weights


def ours_paths(impls, paths):
    return [(kind, i) for kind in ("fused", "unroll") if kind in paths for i in impls]


def path_name(kind, impl):
    return "%s impl%d" % (kind, impl)


# ============================================================================================ checks

def rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def compare(ref, other):
    """(worst relative error over y and the gradients, name of that array, all float32?)."""
    worst, where, f32 = 0.0, "", True
    for key in ("y", "dx", "dW", "dR", "db"):
        e = rel_err(other[key], ref[key])
        f32 &= np.asarray(other[key]).dtype == F32
        if e > worst or not where:
            worst, where = e, key
    return worst, where, f32


def run_checks(args, layers, shapes, torch, autograd, log):
    """Every path, torch and autograd against fused impl0 at every benchmarked shape."""
    ok = True
    rows = []
    for layer in layers:
        for shape in shapes:
            x, dy, weights = problem(layer, shape)
            with thread_limit(1, torch):
                models = {path_name(k, i): Ours(layer, shape, weights, x, dy, i, k == "unroll",
                                                args.recurrent_activation)
                          for k, i in ours_paths([0, 1, 2], ("fused", "unroll"))}
                ref = models.pop("fused impl0").results()
                results = {n: m.results() for n, m in models.items()}
                if torch is not None and (layer != "gru"):
                    if args.recurrent_activation == "sigmoid" or layer == "simple_rnn":
                        results["torch"] = Torch(torch, layer, shape, weights, x, dy).results()
                if autograd is not None and layer == "lstm" and args.recurrent_activation == "sigmoid":
                    results["autograd"] = AutogradLSTM(autograd, shape, weights, x, dy).results()
                if layer == "lstm" and args.user_cell:
                    for path in ("scan", "tape"):
                        user = UserCell(shape, weights, x, dy, args.recurrent_activation, unroll=path == "tape")
                        results["user cell " + path] = user.results()
                        ops = [e.op for e in mg.tape(user.layer(user.x, training=True))]
                        if ("Scan" in ops) != (path == "scan"):   # the path measured must be the path named
                            results["user cell " + path]["wrong path"] = True
            ref_f32 = all(np.asarray(v).dtype == F32 for v in ref.values())
            for name, res in results.items():
                err, where, f32 = compare(ref, res)
                # PyTorch's float32 sums differ from numpy's in order, its activations from ours in rounding
                tol = TOL if name.startswith(("fused", "unroll", "user")) else 5 * TOL
                good = err <= tol and (f32 or name in ("torch", "autograd")) and ref_f32 and "wrong path" not in res
                ok &= good
                rows.append((LAYERS[layer][2], ",".join(map(str, shape)), name, err, where, f32 and ref_f32, good))
                log("  check %-9s %-16s %-12s vs fused impl0: max rel err %.1e (%s)%s  %s"
                    % (LAYERS[layer][2], ",".join(map(str, shape)), name, err, where,
                       "" if f32 else " [not float32]", "ok" if good else "MISMATCH"))
    return ok, rows


# ============================================================================================ memory

def _status_kb(field):
    with open("/proc/self/status") as f:
        m = re.search(r"^%s:\s+(\d+) kB" % field, f.read(), re.M)
    return int(m.group(1)) if m else None


def memory_child(spec):
    """Runs in a fresh process: peak RSS growth (and tracemalloc peak for ours) of ONE fwd+bwd."""
    import resource
    layer, shape, who = spec["layer"], tuple(spec["shape"]), spec["who"]
    B, T, D, U = shape
    tiny = (2, 3, D, U)

    def make(sh):
        x, dy, weights = problem(layer, sh)
        if who == "torch":
            import torch
            torch.set_num_threads(1)
            return Torch(torch, layer, sh, weights, x, dy)
        if who == "autograd":
            import autograd
            return AutogradLSTM(autograd, sh, weights, x, dy)
        return Ours(layer, sh, weights, x, dy, spec["impl"], spec["unroll"], spec["recurrent_activation"])

    make(tiny).fb()                       # load every code path once
    model = make(shape)                   # (nothing at the full shape has run yet)
    rnn_kernels.clear_buffer_pool()
    gc.collect()
    out = {}
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")                      # reset the peak RSS (VmHWM) to the current RSS
        base = _status_kb("VmRSS")
        y = model.fb()
        out["rss_peak_mb"] = (_status_kb("VmHWM") - base) / 1024.0
        out["method"] = "VmHWM reset"
    except OSError:
        base = _status_kb("VmRSS") or 0
        y = model.fb()
        out["rss_peak_mb"] = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024.0
        out["method"] = "ru_maxrss (not reset: a lower bound)"
    del y
    if who == "ours":
        import tracemalloc
        rnn_kernels.clear_buffer_pool()
        gc.collect()
        tracemalloc.start()
        model.fb()
        out["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2 ** 20
        tracemalloc.stop()
    print(json.dumps(out))


def measure_memory(spec, log):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, os.path.abspath(__file__), "--_memory-child", json.dumps(spec)]
    res = None
    try:
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        return json.loads(res.stdout.strip().splitlines()[-1])
    except Exception as e:  # noqa: BLE001
        log("  memory measurement failed for %s: %s %s" % (spec, e, res.stderr[-500:] if res is not None else ""))
        return {}


# ============================================================================================ tape overhead

def tape_child(n):
    """Runs in a fresh process (numpy and minigrad only, as a user of the framework has them): the tape's cost."""
    print(json.dumps(_tape_overhead(n)))


def tape_overhead(n, torch, log):
    """Measured in a child process: Python's garbage collector walks every live container object, so the tape's
    per-op cost grows with whatever else is loaded (importing torch roughly doubles it)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--_tape-child", str(n)]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        best = json.loads(res.stdout.strip().splitlines()[-1])
    except Exception as e:  # noqa: BLE001
        log("  tape measurement in a child process failed (%s); measuring here" % e)
        best = _tape_overhead(n)
    if torch is not None:
        _torch_per_op(n, torch, best)
    return best


def _tape_overhead(n):
    a = np.random.default_rng(0).random(4).astype(F32)
    c = np.full(4, 1.0000001, F32)
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        y = a
        for _ in range(n):
            y = np.multiply(y, c)
        t_np = (time.perf_counter() - t0) / n
        x, w = mg.Tensor(a, requires_grad=True), mg.Tensor(c)
        t0 = time.perf_counter()
        y = x
        for _ in range(n):
            y = y * w
        t_rec = (time.perf_counter() - t0) / n
        t0 = time.perf_counter()
        y.backward(np.ones(4, F32))
        t_bwd = (time.perf_counter() - t0) / n
        del y
        with mg.no_grad():
            t0 = time.perf_counter()
            y = x
            for _ in range(n):
                y = y * w
            t_ng = (time.perf_counter() - t0) / n
        r = {"numpy_us": t_np * 1e6, "recorded_us": t_rec * 1e6, "overhead_us": (t_rec - t_np) * 1e6,
             "no_grad_us": t_ng * 1e6, "backward_us": t_bwd * 1e6}
        gc.disable()                       # the same chain with the garbage collector off, for reference
        try:
            t0 = time.perf_counter()
            y = x
            for _ in range(n):
                y = y * w
            r["recorded_nogc_us"] = (time.perf_counter() - t0) / n * 1e6
            t0 = time.perf_counter()
            y.backward(np.ones(4, F32))
            r["backward_nogc_us"] = (time.perf_counter() - t0) / n * 1e6
            del y
        finally:
            gc.enable()
        if best is None or r["recorded_us"] + r["backward_us"] < best["recorded_us"] + best["backward_us"]:
            best = r
    return best


def _torch_per_op(n, torch, best):
    a = np.random.default_rng(0).random(4).astype(F32)
    c = np.full(4, 1.0000001, F32)
    if True:
        with thread_limit(1, torch):
            tx = torch.from_numpy(a.copy()).requires_grad_(True)
            tw = torch.from_numpy(c.copy())
            tt = []
            for _ in range(3):
                t0 = time.perf_counter()
                y = tx
                for _ in range(n):
                    y = y * tw
                t_rec = (time.perf_counter() - t0) / n
                t0 = time.perf_counter()
                y.backward(torch.ones(4))
                tt.append((t_rec, (time.perf_counter() - t0) / n))
                del y
            t_rec, t_bwd = min(tt, key=sum)
            best["torch_recorded_us"], best["torch_backward_us"] = t_rec * 1e6, t_bwd * 1e6


def ops_per_step(layer, recurrent_activation):
    """Tape entries per timestep of the unrolled path (counted at timesteps 8 and 16)."""
    counts = []
    for T in (8, 16):
        shape = (2, T, 3, 4)
        x, dy, weights = problem(layer, shape)
        m = Ours(layer, shape, weights, x, dy, 0, True, recurrent_activation)
        y = m.layer(m.x, training=True)
        counts.append(len(mg.toposort([y._node])))
    return (counts[1] - counts[0]) / 8.0


# ============================================================================================ the run

def run_threads(args, nthreads, layers, shapes, torch, autograd, log):
    """Every timing at one thread count: {'sgemm': GFLOP/s, 'groups': [...]}."""
    with thread_limit(nthreads, torch):
        # the floor should be the machine's best: the sgemm rate is measured again after every group and the
        # highest is kept (a busy second core or a slow stretch would otherwise lower the floor)
        rate = sgemm_rate(args.rounds)
        log("threads=%d: sgemm 1024^3 %.1f GFLOP/s" % (nthreads, rate))
        groups = []
        for layer in layers:
            for shape in shapes:
                x, dy, weights = problem(layer, shape)
                entries = {}
                for kind, impl in ours_paths(args.impls, args.paths):
                    m = Ours(layer, shape, weights, x, dy, impl, kind == "unroll", args.recurrent_activation)
                    entries[path_name(kind, impl)] = {"fwd": m.fwd, "fb": m.fb}
                if torch is not None:
                    t = Torch(torch, layer, shape, weights, x, dy)
                    entries["torch"] = {"fwd": t.fwd, "fb": t.fb}
                    if args.torch_native:
                        def native(fn):
                            def run():
                                with torch.backends.mkldnn.flags(enabled=False):
                                    return fn()
                            return run
                        entries["torch native"] = {"fwd": native(t.fwd), "fb": native(t.fb)}
                if autograd is not None and layer == "lstm":
                    a = AutogradLSTM(autograd, shape, weights, x, dy)
                    entries["autograd"] = {"fwd": a.fwd, "fb": a.fb}
                if layer == "lstm" and args.user_cell:
                    for path in ("scan", "tape"):
                        u = UserCell(shape, weights, x, dy, args.recurrent_activation, unroll=path == "tape")
                        entries["user cell " + path] = {"fwd": u.fwd, "fb": u.fb}
                load0 = loadavg()[0]
                res = time_group(entries, args.rounds, args.repeats, args.budget)
                groups.append({"layer": layer, "shape": shape, "threads": nthreads, "times": res,
                               "load": (load0, loadavg()[0])})
                log("  %-9s %-16s threads=%d  %s" % (LAYERS[layer][2], ",".join(map(str, shape)), nthreads,
                                                    "  ".join("%s %.2f" % (n, v["fb"][0]) for n, v in res.items())))
                del entries
                gc.collect()
                rate = max(rate, sgemm_rate(1))
        for g in groups:
            g["floor_ms"] = matmul_flops(LAYERS[g["layer"]][1], g["shape"]) / (rate * 1e9) * 1e3
        log("threads=%d: best sgemm 1024^3 rate seen %.1f GFLOP/s (the FLOP floors use it)" % (nthreads, rate))
    return {"sgemm": rate, "groups": groups}


def worker_main(args):
    """Child mode (no threadpoolctl): one thread count, set through the environment; results as JSON."""
    torch = None if args.no_torch else _optional("torch")
    autograd = None if args.no_autograd else _optional("autograd")
    n = int(args._worker_threads)
    out = run_threads(args, n, args.layers, args.shapes, torch, autograd, lambda s: print(s, file=sys.stderr))
    with open(args._worker_out, "w") as f:
        json.dump(_jsonable(out), f)


def _jsonable(o):
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return o


# ============================================================================================ report

def fmt(v, spec="%.2f"):
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else spec % v


def ratio(a, b):
    return None if a is None or b is None or not b else a / b


def build_report(info, args, checks, check_rows, per_thread, memory, tape, opsps, load_start, load_end):
    L = []
    w = L.append
    w("# Recurrent layers benchmark")
    w("")
    w("- date: %s" % info["date"])
    w("- command: `%s`" % info["command"])
    w("- CPU: %s; %s logical CPUs (%s usable)" % (info["cpu"], info["logical_cpus"], info["usable_cpus"]))
    w("- Python %s, numpy %s, BLAS: %s" % (info["python"], info["numpy"], info["blas"]))
    w("- torch: %s%s; HIPS autograd: %s; threadpoolctl: %s" % (
        info["torch"] or "not installed (columns skipped)", " (oneDNN available)" if info["torch_onednn"] else "",
        info["autograd"] or "not installed (column skipped)", info["threadpoolctl"] or "not installed"))
    env = ", ".join("%s=%s" % kv for kv in sorted(info["env"].items()))
    w("- BLAS/threading environment: %s" % (env or "none set"))
    w("- load average (1 min) at start %.2f, at end %.2f; per group in the JSON output" % (load_start, load_end))
    w("- sgemm 1024^3 (numpy; the best of the measurements taken before and between the groups; the FLOP floors "
      "use it): " + ", ".join("%d thread%s %.1f GFLOP/s" % (n, "s" if n > 1 else "", r["sgemm"])
                              for n, r in sorted(per_thread.items())))
    w("- recurrent_activation=%r for GRU/LSTM (PyTorch's gates are sigmoid); float32; fwd = inference forward, "
      "fwd+bwd = training forward + backward for the input and all weights; best round's median of %d rounds "
      "(up to %d repeats each)" % (args.recurrent_activation, args.rounds, args.repeats))
    w("")
    w("## Correctness checks (before timing): %s" % ("all passed" if checks else "FAILED"))
    w("")
    w("max |a - b| / max |b| over the outputs and the gradients of x, W, R, b, against fused impl0 "
      "(tolerance %.0e ours, %.0e torch/autograd); every result float32." % (TOL, 5 * TOL))
    w("")
    w("| layer | B,T,D,U | path | max rel err | worst in | float32 | ok |")
    w("|---|---|---|---|---|---|---|")
    for r in check_rows:
        w("| %s | %s | %s | %.1e | %s | %s | %s |" % (r[0], r[1], r[2], r[3], r[4], "yes" if r[5] else "NO",
                                                     "ok" if r[6] else "**MISMATCH**"))
    w("")
    # ---------------------------------------------------------------- summary
    w("## Summary (fwd+bwd, ms; default path = fused impl0)")
    w("")
    w("| layer | B,T,D,U | thr | FLOP floor | torch | fused | unroll | autograd | fused/torch | fused/floor | "
      "unroll/fused | autograd/fused | peak MB fused | unroll | torch | autograd |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n, res in sorted(per_thread.items()):
        for g in res["groups"]:
            t = g["times"]
            fb = {k: v["fb"][0] for k, v in t.items()}
            fused, unroll = fb.get("fused impl0"), fb.get("unroll impl0")
            torch_, ag = fb.get("torch"), fb.get("autograd")
            key = (g["layer"], tuple(g["shape"]))
            mem = memory.get(key, {}) if n == 1 else {}
            w("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                LAYERS[g["layer"]][2], ",".join(map(str, g["shape"])), n, fmt(g["floor_ms"]), fmt(torch_),
                fmt(fused), fmt(unroll), fmt(ag), fmt(ratio(fused, torch_)), fmt(ratio(fused, g["floor_ms"])),
                fmt(ratio(unroll, fused)), fmt(ratio(ag, fused), "%.1f"),
                *(fmt(mem.get(path, {}).get("rss_peak_mb"), "%.1f")
                  for path in ("fused", "unroll", "torch", "autograd"))))
    w("")
    # ---------------------------------------------------------------- full table
    w("## Every path")
    w("")
    w("fwd / fwd+bwd: wall ms (best round's median); cpu: process CPU ms of fwd+bwd (all threads summed); "
      "x torch, x floor: fwd+bwd ratios; peak MB: RSS growth of one fwd+bwd in a fresh process (1 thread), "
      "tracemalloc peak in brackets (ours only).")
    w("")
    w("| layer | B,T,D,U | thr | path | fwd | fwd+bwd | cpu | x torch | x floor | peak MB |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for n, res in sorted(per_thread.items()):
        for g in res["groups"]:
            t = g["times"]
            torch_fb = t.get("torch", {}).get("fb", (None,))[0]
            key = (g["layer"], tuple(g["shape"]))
            for name, v in t.items():
                mem = ""
                m = memory.get(key, {}).get({"fused impl0": "fused", "unroll impl0": "unroll"}.get(name, name)) \
                    if n == 1 else None
                if m:
                    mem = fmt(m.get("rss_peak_mb"), "%.1f")
                    if m.get("tracemalloc_peak_mb") is not None:
                        mem += " (%.1f)" % m["tracemalloc_peak_mb"]
                w("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                    LAYERS[g["layer"]][2], ",".join(map(str, g["shape"])), n, name, fmt(v["fwd"][0]), fmt(v["fb"][0]),
                    fmt(v["fb"][1]), fmt(ratio(v["fb"][0], torch_fb)), fmt(ratio(v["fb"][0], g["floor_ms"])), mem))
            w("| %s | %s | %d | *FLOP floor* |  | %s |  |  | 1.00 |  |" % (
                LAYERS[g["layer"]][2], ",".join(map(str, g["shape"])), n, fmt(g["floor_ms"])))
    w("")
    # ---------------------------------------------------------------- a user's cell
    user = [(n, g) for n, res in sorted(per_thread.items()) for g in res["groups"] if "user cell scan" in g["times"]]
    if user:
        w("## A user-written cell (RNN over an LSTM cell in minigrad ops) vs the built-in fused LSTM")
        w("")
        w("Same weights and equations (checked above); wall ms, best round's median. \"scan\": the user's step "
          "traced once and replayed over time as one tape entry (the default for a user's cell); \"tape\": "
          "unroll=True, every op of every step recorded; \"fused\": the built-in LSTM, one tape entry with "
          "hand-written BPTT.")
        w("")
        w("| B,T,D,U | thr | fused fwd | scan fwd | tape fwd | fused fwd+bwd | scan fwd+bwd | tape fwd+bwd | "
          "scan / fused | tape / fused |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for n, g in user:
            t = g["times"]
            f, sc, tp = t.get("fused impl0"), t["user cell scan"], t.get("user cell tape")
            w("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                ",".join(map(str, g["shape"])), n, fmt(f and f["fwd"][0]), fmt(sc["fwd"][0]),
                fmt(tp and tp["fwd"][0]), fmt(f and f["fb"][0]), fmt(sc["fb"][0]), fmt(tp and tp["fb"][0]),
                fmt(ratio(sc["fb"][0], f and f["fb"][0]), "%.2fx"),
                fmt(ratio(tp and tp["fb"][0], f and f["fb"][0]), "%.2fx")))
        w("")
    # ---------------------------------------------------------------- tape
    if tape:
        w("## Tape overhead (100k-op chain of float32 multiplies on 4-element arrays, best of 3)")
        w("")
        w("- measured in a fresh process (numpy + minigrad only): numpy call %.2f us; recorded op %.2f us, so the "
          "tape adds **%.2f us per op**; under no_grad %.2f us; reverse pass **%.2f us per op**"
          % (tape["numpy_us"], tape["recorded_us"], tape["overhead_us"], tape["no_grad_us"], tape["backward_us"]))
        if "recorded_nogc_us" in tape:
            w("- with Python's garbage collector off: %.2f us per recorded op, %.2f us per op backward (the "
              "difference is the collector walking the tape's objects)" % (tape["recorded_nogc_us"],
                                                                          tape["backward_nogc_us"]))
        if "torch_recorded_us" in tape:
            w("- PyTorch, same chain: %.2f us per recorded op, %.2f us per op backward"
              % (tape["torch_recorded_us"], tape["torch_backward_us"]))
        if opsps:
            w("- tape entries per timestep of the unrolled path: " + ", ".join(
                "%s %.0f" % (LAYERS[k][2], v) for k, v in opsps.items()))
        w("")
    # ---------------------------------------------------------------- targets
    w("## Targets")
    w("")
    for line in targets(per_thread, memory, tape):
        w("- " + line)
    w("")
    return "\n".join(L)


def targets(per_thread, memory, tape):
    out = []
    shapes = {tuple(g["shape"]) for r in per_thread.values() for g in r["groups"]} | {k[1] for k in memory}
    if not shapes:
        return out
    largest = max(shapes, key=lambda s: s[0] * s[1] * s[3] * (s[2] + s[3]))
    for n, res in sorted(per_thread.items()):
        for g in res["groups"]:
            fb = {k: v["fb"][0] for k, v in g["times"].items()}
            name = "%s %s %d thr" % (LAYERS[g["layer"]][2], ",".join(map(str, g["shape"])), n)
            fused, unroll, torch_, ag = (fb.get(k) for k in ("fused impl0", "unroll impl0", "torch", "autograd"))
            if fused is not None and torch_ is not None:
                out.append("%s: fused <= torch: %s (%.2f vs %.2f ms, %.2fx)" % (
                    name, "MET" if fused <= torch_ else "MISSED", fused, torch_, fused / torch_))
            if fused is not None and tuple(g["shape"]) == largest:
                r = fused / g["floor_ms"]
                out.append("%s: fused within 1.5x of the FLOP floor: %s (%.2fx: %.2f vs %.2f ms)" % (
                    name, "MET" if r <= 1.5 else "MISSED", r, fused, g["floor_ms"]))
            if fused is not None and unroll is not None:
                r = unroll / fused
                out.append("%s: unroll within 3x of fused: %s (%.2fx)" % (name, "MET" if r <= 3 else "MISSED", r))
            scan = fb.get("user cell scan")
            if fused is not None and scan is not None:
                r = scan / fused
                out.append("%s: a user's LSTM cell (scan path) within 2x of the fused LSTM: %s (%.2fx)" % (
                    name, "MET" if r <= 2 else "MISSED", r))
            if fused is not None and ag is not None:
                r = ag / fused
                out.append("%s: >= 5x faster than HIPS autograd: %s (%.1fx)" % (name, "MET" if r >= 5 else "MISSED", r))
    for (layer, shape), m in sorted(memory.items()):
        if shape == largest and "torch" in m and "fused" in m:
            a, b = m["fused"].get("rss_peak_mb"), m["torch"].get("rss_peak_mb")
            if a is not None and b is not None:
                out.append("%s %s: peak memory of fused fwd+bwd <= torch: %s (%.1f vs %.1f MB)" % (
                    LAYERS[layer][2], ",".join(map(str, shape)), "MET" if a <= b else "MISSED", a, b))
    if tape:
        out.append("tape overhead per recorded op in single-digit microseconds: %s (%.2f us record, %.2f us reverse)"
                   % ("MET" if tape["overhead_us"] < 10 and tape["backward_us"] < 10 else "MISSED",
                      tape["overhead_us"], tape["backward_us"]))
    return out


# ============================================================================================ main

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="impl 0 only, 1 round of 3 repeats, no memory, 20k-op tape")
    p.add_argument("--threads", default="1,2", help="thread counts, e.g. 1,2 (default 1,2)")
    p.add_argument("--layers", default="lstm,gru,simple_rnn", help="lstm,gru,simple_rnn (default all)")
    p.add_argument("--shapes", nargs="+", default=None, metavar="B,T,D,U",
                   help="batch,timesteps,input,units (default 32,50,64,128 64,100,128,256 16,200,32,64)")
    p.add_argument("--impls", default="0,1,2", help="implementations of ours (default 0,1,2)")
    p.add_argument("--paths", default="fused,unroll", help="fused,unroll (default both)")
    p.add_argument("--repeats", type=int, default=7, help="max repeats per round (default 7)")
    p.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    p.add_argument("--budget", type=float, default=1.5, help="seconds per path and round that set fewer repeats "
                                                              "for slow paths (min 3 repeats; default 1.5)")
    p.add_argument("--recurrent-activation", default="sigmoid", choices=["sigmoid", "hard_sigmoid"],
                   help="GRU/LSTM gate activation of ours (default sigmoid, as PyTorch)")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--no-autograd", action="store_true")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--no-user-cell", dest="user_cell", action="store_false",
                   help="leave out RNN(UserLSTMCell): a user-written LSTM cell, scan and tape paths")
    p.add_argument("--no-timing", action="store_true", help="only the checks, memory and tape overhead")
    p.add_argument("--torch-native", action="store_true", help="also time PyTorch with oneDNN disabled")
    p.add_argument("--tape-ops", type=int, default=100000, help="ops in the tape-overhead chain (default 100000)")
    p.add_argument("--markdown", metavar="FILE", help="write the report as markdown to FILE")
    p.add_argument("--json", metavar="FILE", help="write the raw numbers as JSON to FILE")
    p.add_argument("--_memory-child", help=argparse.SUPPRESS)
    p.add_argument("--_tape-child", type=int, help=argparse.SUPPRESS)
    p.add_argument("--_worker-threads", help=argparse.SUPPRESS)
    p.add_argument("--_worker-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.impls, args.rounds, args.repeats, args.no_memory = "0", 1, 3, True
        args.tape_ops = min(args.tape_ops, 20000)
    args.threads = [int(t) for t in str(args.threads).split(",") if t]
    args.layers = [s.strip() for s in args.layers.split(",") if s.strip()]
    for layer in args.layers:
        if layer not in LAYERS:
            p.error("unknown layer %r (known: %s)" % (layer, ", ".join(LAYERS)))
    args.shapes = [tuple(int(v) for v in s.replace("x", ",").split(",")) for s in args.shapes] \
        if args.shapes else list(DEFAULT_SHAPES)
    for s in args.shapes:
        if len(s) != 4:
            p.error("a shape is B,T,D,U, got %r" % (s,))
    args.impls = [int(i) for i in str(args.impls).split(",") if i]
    args.paths = [s.strip() for s in args.paths.split(",") if s.strip()]
    if "fused" in args.paths and 0 not in args.impls:
        args.impls = [0] + args.impls   # the reference path of the ratios
    return args


def main(argv=None):
    args = parse_args(argv)
    if args._memory_child:
        memory_child(json.loads(args._memory_child))
        return 0
    if args._tape_child:
        tape_child(args._tape_child)
        return 0
    if args._worker_threads:
        worker_main(args)
        return 0

    def log(s):
        print(s, flush=True)

    torch = None if args.no_torch else _optional("torch")
    autograd = None if args.no_autograd else _optional("autograd")
    # The objects of the modules loaded so far (torch's are many) are moved out of the garbage collector's
    # reach: otherwise every collection triggered by the tape's allocations walks them, which would charge the
    # comparators' import to our unrolled path (a user of this framework does not import torch).
    gc.collect()
    gc.freeze()
    info = machine_info(torch, autograd)
    load_start = loadavg()[0]
    log("# %s | %s | numpy %s | %s | torch %s | autograd %s" % (info["date"], info["cpu"], info["numpy"], info["blas"],
                                                               info["torch"], info["autograd"]))
    log("# load average %.2f %.2f %.2f; env %s" % (loadavg() + (info["env"] or "none",)))
    if os.environ.get("OPENBLAS_CORETYPE"):
        log("# note: OPENBLAS_CORETYPE=%s forces OpenBLAS's kernels for that CPU type (numbers may be far from this "
            "CPU's best)" % os.environ["OPENBLAS_CORETYPE"])

    log("\n## correctness checks")
    checks, check_rows = run_checks(args, args.layers, args.shapes, torch, autograd, log)
    if not checks:
        log("CORRECTNESS CHECK FAILED: timings follow, but the run exits with status 1")

    log("\n## timings")
    per_thread = {}
    for n in ([] if args.no_timing else args.threads):
        if threadpoolctl is not None:
            per_thread[n] = run_threads(args, n, args.layers, args.shapes, torch, autograd, log)
        else:   # numpy's BLAS threads are fixed at start-up: one child process per thread count
            out = "/tmp/rnn_benchmark_%d_%d.json" % (os.getpid(), n)
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(n), OMP_NUM_THREADS=str(n), MKL_NUM_THREADS=str(n))
            argv2 = [a for a in (argv if argv is not None else sys.argv[1:])]
            subprocess.run([sys.executable, os.path.abspath(__file__)] + argv2 +
                           ["--_worker-threads", str(n), "--_worker-out", out], env=env, check=True)
            with open(out) as f:
                r = json.load(f)
            os.unlink(out)
            for g in r["groups"]:
                g["shape"] = tuple(g["shape"])
                g["times"] = {k: {kk: tuple(vv) for kk, vv in v.items()} for k, v in g["times"].items()}
            per_thread[n] = r

    memory = {}
    if not args.no_memory:
        log("\n## peak memory (fresh process per measurement, 1 thread)")
        for layer in args.layers:
            for shape in args.shapes:
                key = (layer, tuple(shape))
                memory[key] = {}
                whos = [("fused", dict(who="ours", impl=0, unroll=False))]
                if "unroll" in args.paths:
                    whos.append(("unroll", dict(who="ours", impl=0, unroll=True)))
                if torch is not None:
                    whos.append(("torch", dict(who="torch")))
                if autograd is not None and layer == "lstm":
                    whos.append(("autograd", dict(who="autograd")))
                for name, spec in whos:
                    spec.update(layer=layer, shape=list(shape), recurrent_activation=args.recurrent_activation)
                    memory[key][name] = measure_memory(spec, log)
                log("  %-9s %-16s %s" % (LAYERS[layer][2], ",".join(map(str, shape)), "  ".join(
                    "%s %s MB%s" % (n, fmt(m.get("rss_peak_mb"), "%.1f"),
                                    " (tracemalloc %.1f)" % m["tracemalloc_peak_mb"]
                                    if "tracemalloc_peak_mb" in m else "")
                    for n, m in memory[key].items())))

    log("\n## tape overhead")
    tape = tape_overhead(args.tape_ops, torch, log)
    log("  numpy %.2f us/op, recorded %.2f us/op (tape adds %.2f), no_grad %.2f, backward %.2f us/op%s" % (
        tape["numpy_us"], tape["recorded_us"], tape["overhead_us"], tape["no_grad_us"], tape["backward_us"],
        "; torch %.2f recorded, %.2f backward" % (tape["torch_recorded_us"], tape["torch_backward_us"])
        if "torch_recorded_us" in tape else ""))
    opsps = {layer: ops_per_step(layer, args.recurrent_activation) for layer in args.layers}
    log("  tape entries per unrolled timestep: " + ", ".join("%s %.0f" % (LAYERS[k][2], v) for k, v in opsps.items()))

    load_end = loadavg()[0]
    report = build_report(info, args, checks, check_rows, per_thread, memory, tape, opsps, load_start, load_end)
    print("\n" + report)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(_jsonable({"info": info, "checks": checks, "check_rows": check_rows,
                                 "per_thread": per_thread, "memory": {"%s %s" % k: v for k, v in memory.items()},
                                 "tape": tape, "ops_per_step": opsps}), f, indent=1)
    return 0 if checks else 1


if __name__ == "__main__":
    sys.exit(main())
