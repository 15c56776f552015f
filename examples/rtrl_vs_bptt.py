"""Real-time recurrent learning against backprop through time: one gradient, computed forward and backward in time.

    python examples/rtrl_vs_bptt.py                              # hidden sizes 2, 4, 6, 8; 20 steps; a few seconds
    python examples/rtrl_vs_bptt.py --units 2 4 8 12 --timesteps 40 --out out/rtrl
    python examples/rtrl_vs_bptt.py --epochs 20                  # then train the smallest network with RTRL

The network is a tanh RNN written with minigrad ops, h_t = tanh(x_t W + h_{t-1} R + b), with a loss at every
step, l_t = mean((h_t V - y_t)^2), and L = sum_t l_t. Its parameters theta = (W, R, b, V) have
P = D H + H H + H + H entries for D inputs and H units.

BPTT (the tape): one forward pass records every step, one reverse pass from L carries dL/dh_t backward from
t = T to t = 1 and gives all P gradient entries at once. Its cost grows with T, not with P.

RTRL (Williams & Zipser 1989): forward-mode accumulation through time. For one direction e in parameter space it
carries the sensitivity s_t = dh_t/dtheta . e forward with the state: (h_t, l_t) and their directional derivatives
(s_t, dl_t) come from one ``mg.jvp`` of the step function at (h_{t-1}, theta) along (s_{t-1}, e), and
dL/dtheta . e = sum_t dl_t is known as soon as step T is done: no stored history, which is why RTRL learns online.
One such forward-mode pass per direction, P passes for the whole gradient: its cost grows as P T, i.e. as H^2
(the classic RTRL carries all P directions at once, as an H x P matrix, at the same O(H^2 P) cost per step).

``mg.jvp`` gets the forward-mode derivative from reverse mode: the VJP u -> J^T u is linear in u, and
differentiating <J^T u, t> with respect to u gives J t.

Printed and written to --out: a table per hidden size (P, time of BPTT and of RTRL, their ratio, RTRL's time per
direction, the largest difference between the two gradients), results.csv, and rtrl_vs_bptt.png (time against P
for both; the difference of every gradient entry). Exits with status 1 if the two gradients differ by more than
1e-10 relative to the gradient's largest entry (float64: they agree to rounding), or if --epochs N of gradient
descent with RTRL's gradient do not lower the loss.
"""
import _common  # first: puts the repository on sys.path and limits BLAS threads (see _common.py)

import csv
import functools
import os
import sys
import time

import numpy as np

import minigrad as mg

NAME = "rtrl_vs_bptt"
TOLERANCE = 1e-10


def parse_args(argv):
    p = _common.make_parser(NAME, __doc__, epochs=0, epochs_help=(
        "gradient-descent steps on the smallest network with RTRL's gradient, each checked against BPTT's "
        "(default: %(default)s, no training)"))
    p.add_argument("--units", type=_common.positive_int, nargs="+", default=[2, 4, 6, 8], metavar="H",
                   help="hidden sizes to compare (default: %(default)s)")
    p.add_argument("--timesteps", type=_common.positive_int, default=20, metavar="T",
                   help="sequence length (default: %(default)s)")
    p.add_argument("--inputs", type=_common.positive_int, default=2, metavar="D",
                   help="input features per step (default: %(default)s)")
    p.add_argument("--batch", type=_common.positive_int, default=4, metavar="B",
                   help="sequences per batch (default: %(default)s)")
    p.add_argument("--lr", type=_common.positive_float, default=0.01,
                   help="learning rate for --epochs (default: %(default)s)")
    return p.parse_args(argv)


def step(h, x_t, y_t, W, R, b, V):
    """One timestep: the new state and this step's loss."""
    h = mg.tanh(x_t @ W + h @ R + b)
    return h, ((h @ V - y_t) ** 2).mean()


def bptt_gradient(params, xs, ys):
    """dL/dtheta by one recorded forward pass and one reverse pass. Returns (L, [dW, dR, db, dV])."""
    theta = [mg.Tensor(p, requires_grad=True) for p in params]
    h = mg.Tensor(np.zeros((xs.shape[1], params[1].shape[0])))
    loss = 0.0
    for x_t, y_t in zip(xs, ys):
        h, l_t = step(h, x_t, y_t, *theta)
        loss = loss + l_t
    loss.backward()
    return loss.item(), [t.grad for t in theta]


def rtrl_directional(params, tangent, xs, ys):
    """dL/dtheta . tangent, by forward-mode accumulation through time (one mg.jvp per step)."""
    h = np.zeros((xs.shape[1], params[1].shape[0]))
    s = np.zeros_like(h)  # dh_0/dtheta . tangent: the initial state does not depend on theta
    total = 0.0
    for x_t, y_t in zip(xs, ys):
        def f(h_, *theta, x_t=x_t, y_t=y_t):  # this step's input and target
            return step(h_, x_t, y_t, *theta)
        (h, _), (s, dl) = mg.jvp(f, (h, *params), (s, *tangent))
        total += float(dl)
    return total


def rtrl_gradient(params, xs, ys):
    """dL/dtheta, one forward-mode pass per parameter entry (P directions)."""
    grads = [np.zeros_like(p) for p in params]
    for k, p in enumerate(params):
        for j in range(p.size):
            tangent = [np.zeros_like(q) for q in params]
            tangent[k].reshape(-1)[j] = 1.0
            grads[k].reshape(-1)[j] = rtrl_directional(params, tangent, xs, ys)
    return grads


def problem(units, args, rng):
    """Parameters (W, R, b, V) and a batch (xs (T, B, D), ys (T, B, 1)) for a network of ``units`` units."""
    D, T, B = args.inputs, args.timesteps, args.batch
    params = [rng.standard_normal((D, units)) / np.sqrt(D), rng.standard_normal((units, units)) * 0.5 / np.sqrt(units),
              rng.standard_normal(units) * 0.1, rng.standard_normal((units, 1)) / np.sqrt(units)]
    xs = rng.standard_normal((T, B, D))
    ys = np.cumsum(xs[..., :1], axis=0) / np.sqrt(np.arange(1, T + 1))[:, None, None]  # a running mean to track
    return params, xs, ys


def timed(fn, repeats=1):
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def compare(args):
    rng = np.random.default_rng(args.seed)
    rows, worst_entries = [], None
    print(f"{'H':>3} {'P':>5} {'BPTT ms':>9} {'RTRL ms':>10} {'RTRL/BPTT':>10} {'RTRL ms/dir':>12} "
          f"{'max |diff|':>11} {'rel':>9}")
    for units in args.units:
        params, xs, ys = problem(units, args, rng)
        t_bptt, (_, g_bptt) = timed(functools.partial(bptt_gradient, params, xs, ys), repeats=3)
        t_rtrl, g_rtrl = timed(functools.partial(rtrl_gradient, params, xs, ys))
        P = sum(p.size for p in params)
        diff = np.concatenate([np.abs(a - b).reshape(-1) for a, b in zip(g_rtrl, g_bptt)])
        scale = max(np.abs(g).max() for g in g_bptt)
        rows.append({"units": units, "directions": P, "bptt_ms": 1e3 * t_bptt, "rtrl_ms": 1e3 * t_rtrl,
                     "ratio": t_rtrl / t_bptt, "rtrl_ms_per_direction": 1e3 * t_rtrl / P,
                     "max_abs_diff": diff.max(), "rel_diff": diff.max() / scale})
        r = rows[-1]
        print(f"{units:>3} {P:>5} {r['bptt_ms']:>9.2f} {r['rtrl_ms']:>10.1f} {r['ratio']:>10.0f} "
              f"{r['rtrl_ms_per_direction']:>12.2f} {r['max_abs_diff']:>11.2e} {r['rel_diff']:>9.1e}")
        worst_entries = diff
    return rows, worst_entries


def train(args):
    """--epochs steps of gradient descent on the smallest network with RTRL's gradient; returns the losses."""
    params, xs, ys = problem(min(args.units), args, np.random.default_rng(args.seed + 1))
    losses = []
    for epoch in range(args.epochs):
        loss, g_bptt = bptt_gradient(params, xs, ys)
        g_rtrl = rtrl_gradient(params, xs, ys)
        agree = max(np.abs(a - b).max() for a, b in zip(g_rtrl, g_bptt)) <= TOLERANCE * max(
            np.abs(g).max() for g in g_bptt)
        losses.append(loss)
        print(f"epoch {epoch + 1:3d}  loss {loss:.6f}  RTRL = BPTT: {'yes' if agree else 'NO'}")
        if not agree:
            return losses, False
        params = [p - args.lr * g for p, g in zip(params, g_rtrl)]
    losses.append(bptt_gradient(params, xs, ys)[0])
    return losses, True


def write_outputs(rows, entries, losses, out):
    with open(os.path.join(out, "results.csv"), "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {os.path.join(out, 'results.csv')}")
    plt = _common.pyplot()
    if plt is None:
        return
    panels = 3 if losses else 2
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4))
    P = [r["directions"] for r in rows]
    ax = axes[0]
    ax.loglog(P, [r["rtrl_ms"] for r in rows], "o-", label="RTRL (one jvp pass per direction)")
    ax.loglog(P, [r["bptt_ms"] for r in rows], "s-", label="BPTT (one reverse pass)")
    ax.set_xlabel("parameter entries P (directions)")
    ax.set_ylabel("time for the whole gradient (ms)")
    ax.set_title("cost: RTRL grows with P, BPTT does not")
    ax.legend()
    ax = axes[1]
    ax.semilogy(np.maximum(entries, 1e-20), ".")
    ax.axhline(1e-20, color="gray", lw=0.5)
    ax.set_xlabel(f"gradient entry (H = {rows[-1]['units']})")
    ax.set_ylabel("|RTRL - BPTT| (0 drawn at 1e-20)")
    ax.set_title("the two gradients agree to rounding")
    if losses:
        axes[2].plot(range(len(losses)), losses, "o-")
        axes[2].set_xlabel("gradient-descent step (RTRL's gradient)")
        axes[2].set_ylabel("loss L")
        axes[2].set_title("online-learnable: training with RTRL")
    _common.save_figure(fig, os.path.join(out, "rtrl_vs_bptt.png"))


def main(argv=None):
    args = parse_args(argv)
    out = _common.out_dir(args.out)
    rows, entries = compare(args)
    losses, trained = train(args) if args.epochs else ([], True)
    write_outputs(rows, entries, losses, out)
    failed = [r for r in rows if not r["rel_diff"] <= TOLERANCE]
    if failed:
        print(f"FAILED: RTRL and BPTT differ by {failed[0]['rel_diff']:.2e} (relative) at H = {failed[0]['units']}",
              file=sys.stderr)
        return 1
    if not trained or (losses and not losses[-1] < losses[0]):
        print("FAILED: training with RTRL's gradient did not lower the loss (or the gradients disagreed)",
              file=sys.stderr)
        return 1
    print(f"RTRL's gradient equals BPTT's to {max(r['rel_diff'] for r in rows):.1e} (relative) at every size; "
          f"RTRL took {rows[-1]['ratio']:.0f}x BPTT's time at P = {rows[-1]['directions']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
