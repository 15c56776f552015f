"""The adding problem: SimpleRNN vs GRU vs LSTM as the sequence gets longer (Hochreiter & Schmidhuber 1997).

    python examples/adding_problem.py                          # about 20 s on 2 cores
    python examples/adding_problem.py --lengths 10,50,100 --epochs 30
    python examples/adding_problem.py --layers LSTM --units 16 --out out/lstm_only

Each input is a sequence of T steps with two channels: a random value in [0, 1] and a marker that is 1 at
exactly two steps (one in the first half of the sequence, one in the second half) and 0 elsewhere. The target is
the sum of the two marked values:

    value   0.31  0.87  0.05  0.62  0.44  0.93  ...  0.18
    marker  0     1     0     0     0     1     ...  0        ->  target 0.87 + 0.93 = 1.80

To solve it a network must notice the first marked value, carry it across up to T steps of distracting input and
add the second one. Always answering 1.0 (the mean of the target) scores MSE 1/6 = 0.167: the baseline. A model
that does not beat it has learned nothing about the markers.

For each length T and each layer type it trains layer(units) -> Dense(1) with mean squared error, then reports
the MSE on held-out sequences. Typically all three solve T = 10, while the SimpleRNN, whose gradient through time
vanishes, is stuck at the baseline from T = 25 on; the gated GRU and LSTM carry the value across 50 steps.

Writes adding_problem.png (test MSE against T, and the training curves) and results.csv to --out. Exits with
status 1 if no model clearly beats the baseline (MSE below half of it) at the shortest length.
"""
import _common  # first: puts the repository on sys.path and limits BLAS threads (see _common.py)

import os
import sys
import time

import numpy as np

import minigrad as mg
from layers import GRU, LSTM, Dense, Sequential, SimpleRNN
from optim import Adam

NAME = "adding_problem"
DEFAULT_EPOCHS = 20
LAYERS = {"SimpleRNN": SimpleRNN, "GRU": GRU, "LSTM": LSTM}
COLORS = {"SimpleRNN": "tab:red", "GRU": "tab:green", "LSTM": "tab:blue"}
BEAT = 0.5  # "clearly beats the baseline": a test MSE below this fraction of the baseline's


def adding_data(n, length, rng):
    """n sequences of the adding problem: x (n, length, 2) float32, y (n, 1) float32.

    x[..., 0] holds uniform values in [0, 1); x[..., 1] is 1 at one step of the first half and one step of the
    second half; y is the sum of the two marked values.
    """
    x = np.zeros((n, length, 2), np.float32)
    x[:, :, 0] = rng.uniform(0, 1, (n, length))
    rows = np.arange(n)
    first = rng.integers(0, length // 2, n)
    second = rng.integers(length // 2, length, n)
    x[rows, first, 1] = 1
    x[rows, second, 1] = 1
    y = x[rows, first, 0] + x[rows, second, 0]
    return x, y[:, None]


def train_one(layer_name, length, data, args):
    """Train layer(units) -> Dense(1) on one length; returns (test MSE, training loss per epoch)."""
    x, y, x_test, y_test = data
    mg.seed(args.seed + 1)  # every model starts from the same seed, whichever others run
    model = Sequential([LAYERS[layer_name](args.units, input_shape=(length, 2)), Dense(1)])
    model.compile(Adam(lr=args.lr, clipnorm=1.0), "mse")
    history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=args.verbose)
    return model.evaluate(x_test, y_test, batch_size=500, verbose=0), history.history["loss"]


def plot(path, lengths, layer_names, results, baselines):
    plt = _common.pyplot()
    if plt is None:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name in layer_names:
        left.plot(lengths, [results[name, t][0] for t in lengths], "o-", color=COLORS[name], label=name)
    left.plot(lengths, [baselines[t] for t in lengths], "--", color="gray", label="baseline: always 1.0")
    left.set(xlabel="sequence length T", ylabel="test MSE (log scale)", yscale="log", xticks=lengths,
             title="held-out error after training")
    left.legend()
    styles = ["-", "--", ":", "-."]
    for name in layer_names:
        for i, t in enumerate(lengths):
            losses = results[name, t][1]
            right.plot(np.arange(1, len(losses) + 1), losses, styles[i % len(styles)], color=COLORS[name],
                       label=f"{name}, T={t}")
    right.axhline(1 / 6, color="gray", ls="--", lw=1)  # the baseline's expected MSE
    right.set(xlabel="epoch", ylabel="training MSE (log scale)", yscale="log", title="training curves")
    right.xaxis.get_major_locator().set_params(integer=True)
    right.legend(fontsize="small", ncol=len(layer_names), loc="upper center", bbox_to_anchor=(0.5, -0.2))
    fig.suptitle("The adding problem")
    _common.save_figure(fig, path)


def parse_list(text, convert):
    return [convert(item) for item in text.split(",") if item.strip()]


def main(argv=None):
    p = _common.make_parser(NAME, __doc__, DEFAULT_EPOCHS)
    p.add_argument("--lengths", default="10,25,50", help="comma-separated sequence lengths T (default: %(default)s)")
    p.add_argument("--layers", default="SimpleRNN,GRU,LSTM",
                   help="comma-separated layer types to compare (default: %(default)s)")
    p.add_argument("--samples", type=_common.positive_int, default=3000,
                   help="training sequences per length (default: %(default)s)")
    p.add_argument("--test", type=_common.positive_int, default=1000,
                   help="held-out sequences per length (default: %(default)s)")
    p.add_argument("--units", type=_common.positive_int, default=32, help="recurrent units (default: %(default)s)")
    p.add_argument("--batch-size", type=_common.positive_int, default=50, help="(default: %(default)s)")
    p.add_argument("--lr", type=float, default=0.01, help="Adam learning rate (default: %(default)s)")
    p.add_argument("--verbose", type=int, choices=[0, 1, 2], default=0,
                   help="fit's verbosity: 0 one line per model, 1 progress bars, 2 a line per epoch")
    args = p.parse_args(argv)
    try:
        lengths = sorted(set(parse_list(args.lengths, int)))
    except ValueError:
        p.error(f"--lengths must be comma-separated integers, got {args.lengths!r}")
    if not lengths or min(lengths) < 2:
        p.error("--lengths needs at least one length, each >= 2 (two markers must fit)")
    layer_names = parse_list(args.layers, str.strip)
    unknown = [name for name in layer_names if name not in LAYERS]
    if not layer_names or unknown:
        p.error(f"--layers: unknown {unknown}; choose from {', '.join(LAYERS)}")

    start_time = time.perf_counter()
    out = _common.out_dir(args.out)
    results, baselines = {}, {}
    for t in lengths:
        mg.seed(args.seed)  # the same data for every layer type
        rng = mg.get_rng()
        x, y = adding_data(args.samples, t, rng)
        x_test, y_test = adding_data(args.test, t, rng)
        baselines[t] = float(np.mean((y_test - 1.0) ** 2))
        print(f"T = {t}: {args.samples} training / {args.test} test sequences, "
              f"baseline MSE (always 1.0) {baselines[t]:.4f}")
        for name in layer_names:
            tic = time.perf_counter()
            results[name, t] = train_one(name, t, (x, y, x_test, y_test), args)
            print(f"  {name:<9}  test MSE {results[name, t][0]:.4f}   ({time.perf_counter() - tic:.1f} s)")

    # --- the table
    header = f"{'T':>5}  {'baseline':>9}  " + "  ".join(f"{name:>10}" for name in layer_names)
    print(f"\nTest MSE after {args.epochs} epochs ({args.units} units; * = below {BEAT} x baseline):")
    print(header)
    rows = [["T", "layer", "test_mse", "baseline_mse", "final_train_mse"]]
    for t in lengths:
        cells = []
        for name in layer_names:
            mse, losses = results[name, t]
            cells.append(f"{mse:>9.4f}{'*' if mse < BEAT * baselines[t] else ' '}")
            rows.append([t, name, f"{mse:.6f}", f"{baselines[t]:.6f}", f"{losses[-1]:.6f}"])
        print(f"{t:>5}  {baselines[t]:>9.4f}  " + "  ".join(cells))
    with open(os.path.join(out, "results.csv"), "w") as f:
        f.write("\n".join(",".join(str(v) for v in row) for row in rows) + "\n")
    print(f"wrote {os.path.join(out, 'results.csv')}")
    plot(os.path.join(out, "adding_problem.png"), lengths, layer_names, results, baselines)
    print(f"total time {time.perf_counter() - start_time:.1f} s")

    shortest = lengths[0]
    best = min(layer_names, key=lambda name: results[name, shortest][0])
    if not results[best, shortest][0] < BEAT * baselines[shortest]:
        print(f"FAILED: at T = {shortest} no model beats the baseline: the best, {best}, has test MSE "
              f"{results[best, shortest][0]:.4f} against {baselines[shortest]:.4f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
