#!/usr/bin/env python
"""What higher-order differentiation costs, and what it leaves the first-order reverse pass costing.

    python benchmarks/autodiff_benchmark.py                          # this checkout: first order, HVP, JVP
    python benchmarks/autodiff_benchmark.py --baseline ../other      # first order here against another checkout
    python benchmarks/autodiff_benchmark.py --rounds 7 --repeats 9   # more rounds for a noisy machine

What is measured (1 BLAS thread; every figure is the best round's median of ``--repeats`` calls after a warm-up, in
process CPU time: with one thread it is the time the work took, and other processes taking the core away do not
inflate it):

* chain 20k: the reverse pass (``backward()``) over a recorded chain of 20,000 elementwise ops on a 4-element
  float64 array (``h = h * 1.0 + 0.0``, 10,000 times): the tape walker's own cost per op.
* LSTM unroll B,T,D,U: a training forward of ``LSTM(U, return_sequences=True, unroll=True)`` on float32 input
  (every step recorded on the tape) plus ``backward`` of the output sequence with a fixed cotangent, at the shapes
  of ``rnn_benchmark.py``.
* <Layer> fused B,T,D,U: the same training forward + backward through the default (fused) path of ``LSTM``,
  ``GRU`` and ``SimpleRNN`` (one tape entry per sequence, the hand-written BPTT), at the same shapes. The op-by-op
  form the fused op carries for second derivatives runs only in a ``create_graph`` pass, never here.
* RNN loss: a tanh RNN written with minigrad ops (B=16, T=20, D=8, H=32, float64; parameters W, R, b, V; the loss
  is the mean squared error of the last state's readout). Against one first-order forward+backward of it:
  ``mg.hvp`` over all parameters (forward, a recorded reverse pass, a reverse pass over that record), ``mg.jvp``
  along one direction in parameter space (the same three passes, by the double-VJP trick), and
  ``mg.gradients(..., create_graph=True)`` alone.
* HVP through the layers (``--hvp-shape``, float32, ``return_sequences=True``, loss sum(dy * outputs) with a fixed
  cotangent dy): the Hessian-vector product with respect to the layer's weights, reached through the layer as
  the contract writes it (``g = mg.gradients(loss, weights, create_graph=True)``, then the gradient of
  ``sum(g * v)``), on the fused path (the engine re-runs the sequence op by op and differentiates that) and on the
  tape path (``unroll=True``), each against one first-order fwd+bwd of the fused layer.

With ``--baseline DIR`` the first-order rows are also measured on the checkout at DIR (its ``minigrad`` and
``layers``), in child processes that alternate between the two checkouts round after round, so both see the same
machine load; the table gives both and their ratio (this checkout / baseline).

Run it with the BLAS settings of a user's machine: on machines that set OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE,
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/autodiff_benchmark.py``. Defaults take about a
minute (two with --baseline).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LSTM_SHAPES = ((32, 50, 64, 128), (64, 100, 128, 256), (16, 200, 32, 64))


def _best_median(fn, repeats, rounds=1):
    best = float("inf")
    for _ in range(rounds):
        times = []
        for _ in range(repeats):
            t0 = time.process_time()
            fn()
            times.append(time.process_time() - t0)
        best = min(best, statistics.median(times))
    return best


# ============================================================ the measurements (run inside one checkout)

def first_order(repeats, shapes):
    """{row name: seconds} for the first-order rows, measured with whatever minigrad/layers are importable."""
    import numpy as np

    import minigrad as mg
    from layers import GRU, LSTM, SimpleRNN

    results = {}
    x = mg.Tensor(np.ones(4), requires_grad=True)
    h = x
    for _ in range(10_000):
        h = h * 1.0 + 0.0
    y = h.sum()
    y.backward()  # warm-up

    def chain():
        x.grad = None
        y.backward()
    results["chain 20k: backward"] = _best_median(chain, repeats)

    for cls, unroll, label in ((LSTM, True, "unroll"), (LSTM, False, "fused"), (GRU, False, "fused"),
                               (SimpleRNN, False, "fused")):
        for shape in shapes:
            fwd_bwd, _ = _layer_problem(cls, shape, unroll)
            fwd_bwd()  # warm-up
            name = f"{cls.__name__} {label} {','.join(map(str, shape))}: fwd+bwd"
            results[name] = _best_median(fwd_bwd, max(3, repeats // 2) if unroll else repeats)
    return results


def _layer_problem(cls, shape, unroll):
    """A float32 recurrent layer at shape B,T,D,U with the loss sum(dy * outputs): (fwd_bwd(), hvp()).
    fwd_bwd is one training forward and ``backward``; hvp is the HVP with respect to the layer's weights along a
    fixed direction."""
    import numpy as np

    import minigrad as mg

    B, T, D, U = shape
    rng = np.random.default_rng(0)
    mg.seed(0)
    layer = cls(U, return_sequences=True, unroll=unroll)
    xs = mg.Tensor(rng.standard_normal((B, T, D)).astype(np.float32), requires_grad=True)
    dy = rng.standard_normal((B, T, U)).astype(np.float32)
    with mg.no_grad():
        layer(xs)  # builds the weights
    directions = [rng.standard_normal(w.shape).astype(np.float32) for w in layer.weights]

    def fwd_bwd():
        for p in layer.weights:
            p.grad = None
        xs.grad = None
        layer(xs, training=True).backward(dy)

    def hvp():
        weights = layer.weights
        loss = (layer(xs, training=True) * dy).sum()
        gs = mg.gradients(loss, weights, create_graph=True)
        inner = sum((g * v).sum() for g, v in zip(gs, directions))
        return mg.gradients(inner, weights)
    return fwd_bwd, hvp


def rnn_loss_problem():
    """A tanh RNN loss written with minigrad ops: (loss(W, R, b, V) -> scalar Tensor, parameter arrays)."""
    import numpy as np

    import minigrad as mg

    B, T, D, H = 16, 20, 8, 32
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((T, B, D))
    target = rng.standard_normal((B, 1))
    params = [rng.standard_normal((D, H)) * 0.3, rng.standard_normal((H, H)) * 0.2, np.zeros(H),
              rng.standard_normal((H, 1)) * 0.3]

    def loss(W, R, b, V):
        h = mg.Tensor(np.zeros((B, H)))
        for t in range(T):
            h = mg.tanh(xs[t] @ W + h @ R + b)
        return ((h @ V - target) ** 2).mean()
    return loss, params


def higher_order(repeats):
    """{row name: seconds} for the RNN loss: first order, create_graph gradient, HVP, JVP."""
    import numpy as np

    import minigrad as mg

    loss, params = rnn_loss_problem()
    leaves = [mg.Tensor(p, requires_grad=True) for p in params]
    vectors = [np.ones_like(p) for p in params]

    def fwd_bwd():
        for t in leaves:
            t.grad = None
        loss(*leaves).backward()

    def create_graph():
        mg.gradients(loss(*leaves), leaves, create_graph=True)

    rows = {"RNN loss: fwd+bwd": fwd_bwd, "RNN loss: gradients(create_graph=True)": create_graph,
            "RNN loss: hvp": lambda: mg.hvp(loss, params, vectors),
            "RNN loss: jvp": lambda: mg.jvp(loss, params, vectors)}
    results = {}
    for name, fn in rows.items():
        fn()
        results[name] = _best_median(fn, repeats)
    return results


def layer_hvp(repeats, shape):
    """{row name: seconds}: per layer, one fused first-order fwd+bwd and the HVP on the fused and tape paths."""
    from layers import GRU, LSTM, SimpleRNN

    results = {}
    for cls in (LSTM, GRU, SimpleRNN):
        fwd_bwd, fused_hvp = _layer_problem(cls, shape, unroll=False)
        _, unrolled_hvp = _layer_problem(cls, shape, unroll=True)
        for path, fn in (("fwd+bwd", fwd_bwd), ("hvp fused", fused_hvp), ("hvp unroll", unrolled_hvp)):
            fn()
            results[f"{cls.__name__} {path}"] = _best_median(fn, max(3, repeats // 2))
    return results


# ============================================================ driving and printing

def child(args):
    sys.path.insert(0, args.root)  # this checkout's packages, or the baseline's
    shapes = [tuple(int(v) for v in s.split(",")) for s in args.shapes]
    out = first_order(args.repeats, shapes)
    if args.higher:
        out.update(higher_order(args.repeats))
        out.update(layer_hvp(args.repeats, tuple(int(v) for v in args.hvp_shape.split(","))))
    print(json.dumps(out))


def run_child(root, args, higher):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--root", root, "--repeats", str(args.repeats),
           "--shapes", *args.shapes, "--hvp-shape", args.hvp_shape] + (["--higher"] if higher else [])
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=root)
    if done.returncode:
        sys.exit(f"benchmark child in {root} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--baseline", help="another checkout of the project to compare the first-order rows with")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (child processes) per checkout")
    p.add_argument("--repeats", type=int, default=7, help="timed calls per row and round")
    p.add_argument("--shapes", nargs="+", default=[",".join(map(str, s)) for s in LSTM_SHAPES],
                   help="LSTM shapes B,T,D,U")
    p.add_argument("--hvp-shape", default="16,50,32,64", metavar="B,T,D,U",
                   help="shape of the HVP rows through the recurrent layers (default: %(default)s)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--higher", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--root", default=ROOT, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rounds < 1 or args.repeats < 1:
        p.error("--rounds and --repeats must be at least 1")
    if args.child:
        return child(args)
    if args.baseline and not os.path.isdir(os.path.join(args.baseline, "minigrad")):
        p.error(f"--baseline {args.baseline!r} is not a checkout of this project (no minigrad/ in it)")

    here, base = {}, {}
    for _ in range(args.rounds):
        for k, v in run_child(ROOT, args, higher=True).items():
            here[k] = min(v, here.get(k, float("inf")))
        if args.baseline:
            for k, v in run_child(os.path.abspath(args.baseline), args, higher=False).items():
                base[k] = min(v, base.get(k, float("inf")))

    print(f"minigrad autodiff benchmark: best of {args.rounds} rounds x median of {args.repeats}, 1 thread")
    if args.baseline:
        print(f"{'first order':<42} {'baseline ms':>12} {'this ms':>10} {'this/base':>10}")
        for k in base:
            print(f"{k:<42} {base[k] * 1e3:>12.2f} {here[k] * 1e3:>10.2f} {here[k] / base[k]:>10.3f}")
    else:
        print(f"{'first order':<42} {'ms':>10}")
        for k, v in here.items():
            if ":" in k and not k.startswith("RNN loss"):
                print(f"{k:<42} {v * 1e3:>10.2f}")
    ref = here["RNN loss: fwd+bwd"]
    print(f"\n{'RNN loss (B16 T20 D8 H32, float64)':<42} {'ms':>10} {'x fwd+bwd':>10}")
    for k, v in here.items():
        if k.startswith("RNN loss"):
            print(f"{k:<42} {v * 1e3:>10.2f} {v / ref:>10.2f}")
    print(f"\n{'HVP w.r.t. the weights, ' + args.hvp_shape + ', float32':<42} {'ms':>10} {'x fwd+bwd':>10}")
    for name in ("LSTM", "GRU", "SimpleRNN"):
        ref = here[f"{name} fwd+bwd"]
        for path in ("fwd+bwd", "hvp fused", "hvp unroll"):
            v = here[f"{name} {path}"]
            print(f"{name + ' ' + path:<42} {v * 1e3:>10.2f} {v / ref:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
