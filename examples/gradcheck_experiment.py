"""Gradient-check every recurrent layer, implementation, path and option against central differences.

    python examples/gradcheck_experiment.py                   # 126 checks + truncated BPTT, ~5 s on 2 cores
    python examples/gradcheck_experiment.py --quick           # 12 checks + truncated BPTT, ~1 s (the smoke test)
    python examples/gradcheck_experiment.py --layers LSTM --options plain dropout --mode vjp --out out/gc_lstm

For every layer (SimpleRNN, GRU, LSTM) x implementation (0, 1, 2) x path (unroll=False: the fused kernel with its
hand-written BPTT; unroll=True: every step on the tape, minigrad's generic reverse pass) x option, the tape's
gradient with respect to the input x and every trainable weight is compared with float64 central differences by
``layers.tools.gradcheck_layer`` / ``mg.gradcheck_report``. Default mode 'full': every entry of the Jacobian of
every output element with respect to every element of x and of the weights (one reverse pass per output element
against central differences with eps=1e-6); --mode vjp checks one seeded random vector-Jacobian product instead,
--mode projection 8 random directional derivatives per input. A check passes when
|analytic - numeric| <= 1e-5 + 1e-3 |numeric| for every compared entry. Tiny sizes: batch 2, 4 timesteps, 3 input
features, 3 units. The layers are float32 (the default) and checked by the checker's float64 replay.

The options (each one alone on top of the defaults):

    plain          return_sequences=False: the last output
    go_backwards   go_backwards=True, return_sequences=True: the reversed sequence
    masked         a (batch, timesteps) mask with two masked steps (one of them the last), return_sequences=True
    dropout        dropout=0.25, recurrent_dropout=0.25, training=True; the masks of a first pass are recorded
                   and replayed on every pass of the check (``record_dropout``/``replay_dropout``)
    init_state     return_sequences=True with initial_state=[h0 (, c0)]; the initial states are checked too
    stateful       stateful=True, after one call that left non-zero carried states; every pass restarts from them
    no_bias        use_bias=False

Then truncated BPTT (``check_truncated_bptt``), for an LSTM with truncate_gradient=2 and return_sequences=True
over 6 timesteps: the layer's gradient must equal that of BPTT(2) (pass), and must NOT equal that of BPTT(3), a
deliberately wrong depth (the check must fail: "expected failure detected").

Prints the table (layer, impl, unroll, option, max abs error, max rel error, pass/FAIL, time) and writes
results.md and results.csv to --out. "max rel error" is the largest |analytic - numeric| / |numeric| over the
entries with |numeric| > 1e-6 (below that the relative error of a difference quotient is noise); max abs error is
over all entries. Exits with status 1 if any check fails (or the wrong-depth check passes).
--epochs is accepted for symmetry with the other examples and unused: nothing is trained here.
"""
import _common  # first: puts the repository on sys.path and limits BLAS threads (see _common.py)

import csv
import os
import sys
import time

import numpy as np

import minigrad as mg
from layers import GRU, LSTM, SimpleRNN
from layers.tools import check_truncated_bptt, gradcheck_layer

NAME = "gradcheck_experiment"
CELLS = {"SimpleRNN": SimpleRNN, "GRU": GRU, "LSTM": LSTM}
OPTIONS = ("plain", "go_backwards", "masked", "dropout", "init_state", "stateful", "no_bias")
QUICK_OPTIONS = ("plain", "dropout")
MODES = ("vjp", "full", "projection")
B, T, D, U = 2, 4, 3, 3
REL_FLOOR = 1e-6   # entries with |numeric| below this are left out of the max relative error
CHECK = dict(eps=1e-6, atol=1e-5, rtol=1e-3)


def parse_args(argv):
    p = _common.make_parser(NAME, __doc__, epochs=1)
    p._option_string_actions["--epochs"].help = "unused (nothing is trained); accepted like every example's"
    p.add_argument("--quick", action="store_true",
                   help=f"implementation 0 and options {', '.join(QUICK_OPTIONS)} only (12 checks, a few seconds)")
    p.add_argument("--layers", nargs="+", choices=list(CELLS), default=list(CELLS), help="layers to check")
    p.add_argument("--implementations", nargs="+", type=int, choices=(0, 1, 2), default=[0, 1, 2])
    p.add_argument("--options", nargs="+", choices=OPTIONS, default=list(OPTIONS), help="options to check")
    p.add_argument("--mode", choices=MODES, default="full",
                   help="gradcheck mode: 'vjp' (one random cotangent), 'full' (every Jacobian entry) or "
                        "'projection' (8 random directions per input) (default: %(default)s)")
    args = p.parse_args(argv)
    if args.quick:
        args.implementations = [0]
        args.options = [o for o in args.options if o in QUICK_OPTIONS] or list(QUICK_OPTIONS)
    return args


# ------------------------------------------------------------------ one check

def data(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def run_check(cell, implementation, unroll, option, seed, mode="full"):
    """Gradient-check one configuration; returns the ``mg.GradcheckReport``."""
    mg.seed(seed)  # weights and dropout masks: the same configuration always checks the same point
    kw = dict(implementation=implementation, unroll=unroll)
    kw.update({"plain": {}, "go_backwards": dict(go_backwards=True, return_sequences=True),
               "masked": dict(return_sequences=True), "dropout": dict(dropout=0.25, recurrent_dropout=0.25),
               "init_state": dict(return_sequences=True), "stateful": dict(stateful=True),
               "no_bias": dict(use_bias=False)}[option])
    layer = CELLS[cell](U, **kw)
    x = data((B, T, D), seed + 1)
    with mg.no_grad():
        layer(x)  # build; a stateful layer now carries non-zero states into the check
    if option == "init_state":
        # the initial states are checked inputs too, so gradcheck_layer (x and the weights) is not enough
        states = [mg.Tensor(0.5 * data((B, U), seed + 2 + i), requires_grad=True)
                  for i in range(len(layer.state_names))]
        xt = mg.Tensor(x, requires_grad=True)
        n = len(states)

        def f(xv, *rest):
            return layer(xv, initial_state=list(rest[:n]))

        return mg.gradcheck_report(f, [xt, *states, *layer.trainable_weights], seed=seed, mode=mode, **CHECK)
    mask = None
    if option == "masked":
        mask = np.ones((B, T), bool)
        mask[0, 1] = mask[1, T - 1] = False   # a masked step inside one sequence, the last step of the other
    return gradcheck_layer(layer, x, training=option == "dropout", mask=mask, report=True, seed=seed, mode=mode,
                           **CHECK)


def errors(report):
    """(max abs error, max rel error over |numeric| > REL_FLOOR) over every checked input of a report."""
    abs_err = max(float(np.max(c.abs_error, initial=0)) for c in report.inputs)
    rel = [c.rel_error[np.abs(c.numeric) > REL_FLOOR] for c in report.inputs]
    rel_err = max(float(np.max(r, initial=0)) for r in rel)
    return abs_err, rel_err


# ------------------------------------------------------------------ truncated BPTT

def truncation_checks(seed, mode):
    """[(description, expected to pass, report)] for BPTT(2) and the deliberately wrong BPTT(3)."""
    mg.seed(seed)
    layer = LSTM(U, truncate_gradient=2, return_sequences=True, dtype="float64")
    x, y = data((B, 6, D), seed + 1), data((B, 6, U), seed + 2)
    layer(x)
    out = []
    for k, expected in ((2, True), (3, False)):
        rep = check_truncated_bptt(layer, x, "mse", y=y, k=k, report=True, seed=seed, mode=mode, **CHECK)
        out.append((f"LSTM(truncate_gradient=2, return_sequences=True), T=6, vs BPTT({k})", expected, rep))
    return out


# ------------------------------------------------------------------ main

def main(argv=None):
    args = parse_args(argv)
    out = _common.out_dir(args.out)
    start = time.perf_counter()
    rows = []
    header = (f"{'layer':<10} {'impl':>4} {'unroll':>6} {'option':<13} {'max abs err':>11} {'max rel err':>11} "
              f"{'result':>6} {'time':>7}")
    print(f"gradient checks: batch {B}, {T} timesteps, {D} inputs, {U} units, float64 replay, mode {args.mode!r}, "
          f"eps={CHECK['eps']:g}, atol={CHECK['atol']:g}, rtol={CHECK['rtol']:g}, seed {args.seed}")
    print(header)
    print("-" * len(header))
    for cell in args.layers:
        for impl in args.implementations:
            for unroll in (False, True):
                for option in args.options:
                    t0 = time.perf_counter()
                    try:
                        report = run_check(cell, impl, unroll, option, args.seed, args.mode)
                        abs_err, rel_err = errors(report)
                        passed, note = report.passed, ("" if report.passed else report.message())
                    except Exception as e:  # a crash is a failed check, reported in the table, not a traceback
                        abs_err = rel_err = float("nan")
                        passed, note = False, f"{type(e).__name__}: {e}"
                    dt = time.perf_counter() - t0
                    row = dict(layer=cell, implementation=impl, unroll=unroll, option=option, max_abs_error=abs_err,
                               max_rel_error=rel_err, result="pass" if passed else "FAIL", seconds=dt, note=note)
                    rows.append(row)
                    print(f"{cell:<10} {impl:>4} {str(unroll):>6} {option:<13} {abs_err:>11.2e} {rel_err:>11.2e} "
                          f"{row['result']:>6} {dt:>6.2f}s", flush=True)
                    if note:
                        print(f"    {note}")

    print()
    print("truncated backprop through time (check_truncated_bptt):")
    truncation = []
    for what, expected, rep in truncation_checks(args.seed, args.mode):
        abs_err, rel_err = errors(rep)
        if expected:
            verdict, ok = ("pass" if rep.passed else "FAIL"), rep.passed
        else:
            verdict = "expected failure detected" if not rep.passed else "FAIL (a wrong truncation depth passed)"
            ok = not rep.passed
        truncation.append(dict(check=what, expected="pass" if expected else "fail", max_abs_error=abs_err,
                               max_rel_error=rel_err, result=verdict, ok=ok,
                               note="" if rep.passed else rep.message()))
        print(f"  {what}: max abs err {abs_err:.2e}, max rel err {rel_err:.2e} -> {verdict}")
        if not rep.passed:
            print(f"    {rep.message()}")

    elapsed = time.perf_counter() - start
    failed = [r for r in rows if r["result"] != "pass"] + [t for t in truncation if not t["ok"]]
    write_csv(os.path.join(out, "results.csv"), rows, truncation)
    write_md(os.path.join(out, "results.md"), rows, truncation, args, elapsed)
    print(f"\n{len(rows)} gradient checks, {sum(r['result'] == 'pass' for r in rows)} passed; truncated BPTT: "
          f"{sum(t['ok'] for t in truncation)} of {len(truncation)} as expected; {elapsed:.1f} s")
    print(f"wrote {os.path.join(out, 'results.md')} and {os.path.join(out, 'results.csv')}")
    if failed:
        print(f"FAILED: {len(failed)} check(s) did not come out as expected", file=sys.stderr)
        return 1
    return 0


def write_csv(path, rows, truncation):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["layer", "implementation", "unroll", "option", "max_abs_error", "max_rel_error", "result",
                    "seconds"])
        for r in rows:
            w.writerow([r["layer"], r["implementation"], r["unroll"], r["option"], f"{r['max_abs_error']:.3e}",
                        f"{r['max_rel_error']:.3e}", r["result"], f"{r['seconds']:.3f}"])
        for t in truncation:
            w.writerow(["LSTM", 0, "", f"truncated BPTT: {t['check']} (expected {t['expected']})",
                        f"{t['max_abs_error']:.3e}", f"{t['max_rel_error']:.3e}", t["result"], ""])


def write_md(path, rows, truncation, args, elapsed):
    lines = ["# Gradient checks of the recurrent layers", "",
             f"Batch {B}, {T} timesteps, {D} input features, {U} units; float32 layers checked in float64 replay; "
             f"mode {args.mode!r}, eps={CHECK['eps']:g}, "
             f"pass when |a - n| <= {CHECK['atol']:g} + {CHECK['rtol']:g} |n|; "
             f"seed {args.seed}. Max rel error: |a - n| / |n| over entries with |n| > {REL_FLOOR:g}. "
             f"Total time {elapsed:.1f} s.", "",
             "| layer | impl | unroll | option | max abs error | max rel error | result | time (s) |",
             "|---|---:|---|---|---:|---:|---|---:|"]
    for r in rows:
        lines.append(f"| {r['layer']} | {r['implementation']} | {r['unroll']} | {r['option']} | "
                     f"{r['max_abs_error']:.2e} | {r['max_rel_error']:.2e} | {r['result']} | {r['seconds']:.2f} |")
    lines += ["", "## Truncated backprop through time", "",
              "| check | expected | max abs error | max rel error | result |", "|---|---|---:|---:|---|"]
    for t in truncation:
        lines.append(f"| {t['check']} | {t['expected']} | {t['max_abs_error']:.2e} | {t['max_rel_error']:.2e} | "
                     f"{t['result']} |")
    notes = [r for r in rows if r["note"]] + [t for t in truncation if t["note"]]
    if notes:
        lines += ["", "## Messages of the failed checks (expected failures included)", ""]
        for n in notes:
            where = n.get("check") or f"{n['layer']} impl {n['implementation']} unroll {n['unroll']} {n['option']}"
            lines.append(f"* {where}: {n['note']}")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
