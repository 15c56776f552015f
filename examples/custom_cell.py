"""Write your own recurrent cell: a peephole LSTM, gradient-checked in float64, trained beside the built-in LSTM.

    python examples/custom_cell.py                         # about 10 s on 2 cores
    python examples/custom_cell.py --length 30 --epochs 20 --units 16

A cell is one timestep written with minigrad ops. This one is the LSTM with peephole connections (Gers &
Schmidhuber 2000), which is not built in: its gates also look at the cell state, through one weight per unit,

    i = sig(x W_i + h R_i + p_i * c_{t-1} + b_i)        f = sig(x W_f + h R_f + p_f * c_{t-1} + b_f)
    c_t = f * c_{t-1} + i * tanh(x W_c + h R_c + b_c)
    o = sig(x W_o + h R_o + p_o * c_t + b_o)             h_t = o * tanh(c_t)

``RNN(PeepholeLSTMCell(units))`` gives it everything a recurrent layer has: sequences, masks, go_backwards,
stateful, initial and returned states, dropout masks drawn once per sequence, backprop through time and the
teaching tools. The script

1. checks the cell's gradients against float64 central differences (inputs, initial states and every weight, with a
   mask and going backwards), and fails if they disagree;
2. trains it and ``LSTM(units)`` on the adding problem (examples/adding_problem.py) from the same seed, and reports
   the held-out error of both and the time per epoch (the user's cell runs through minigrad's scan, its step traced
   once and replayed over time; the built-in LSTM through its hand-written fused kernel);
3. plots both training curves and the gradient reaching each timestep.

Writes custom_cell.png to --out. Exits with status 1 if the gradient check fails or the peephole LSTM does not
clearly beat the baseline (half the MSE of always answering 1.0).
"""
import _common  # first: puts the repository on sys.path and limits BLAS threads (see _common.py)

import os
import sys
import time

import numpy as np
from adding_problem import adding_data

import minigrad as mg
from layers import LSTM, RNN, Dense, Layer, Sequential, activations, register
from layers.tools import gradient_flow
from optim import Adam

NAME = "custom_cell"
DEFAULT_EPOCHS = 12
BEAT = 0.5


@register  # known by name to layers.deserialize, model_from_json and load_model
class PeepholeLSTMCell(Layer):
    """LSTM cell with peephole connections. States [h, c] (batch, units); output h.

    Weights: kernel (input_dim, 4 units) and recurrent_kernel (units, 4 units), gate order i, f, c, o as the
    built-in LSTM; peephole (3, units) for i, f, o; bias (4 units,), the forget gate's starting at 1.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units, units]          # h, c
        self.state_names = ("h", "c")
        self.activation = activations.tanh         # attributes, so that gradient_flow sees act(c_t) too
        self.recurrent_activation = activations.sigmoid

    def build(self, input_shape):                  # input_shape: (batch, input_dim)
        u = self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], 4 * u), "glorot_uniform")
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (u, 4 * u), "orthogonal")
        self.peephole = self.add_weight("peephole", (3, u), "zeros")
        self.bias = self.add_weight("bias", (4 * u,), value=np.r_[np.zeros(u), np.ones(u), np.zeros(2 * u)])

    def call(self, inputs, states, training=False):
        h, c = states
        z = inputs @ self.kernel + h @ self.recurrent_kernel + self.bias
        a_i, a_f, a_c, a_o = mg.split(z, 4, axis=-1)
        p_i, p_f, p_o = mg.split(self.peephole, 3)
        i = self.recurrent_activation(a_i + p_i * c)
        f = self.recurrent_activation(a_f + p_f * c)
        c = f * c + i * self.activation(a_c)
        o = self.recurrent_activation(a_o + p_o * c)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def gradcheck_cell(units, seed):
    """float64 central differences against the tape's BPTT through RNN(PeepholeLSTMCell): True or raises."""
    mg.seed(seed)
    layer = RNN(PeepholeLSTMCell(units, dtype="float64"), return_sequences=True, go_backwards=True)
    rng = mg.get_rng()
    x = mg.Tensor(rng.standard_normal((3, 6, 2)), requires_grad=True)
    h0, c0 = (mg.Tensor(0.5 * rng.standard_normal((3, units)), requires_grad=True) for _ in range(2))
    mask = np.ones((3, 6), bool)
    mask[0, 4:] = mask[2, :2] = False                  # right and left padding
    layer(x)
    layer.set_weights([w + 0.3 * rng.standard_normal(w.shape) for w in layer.get_weights()])  # peepholes non-zero
    return mg.gradcheck(lambda x_, h_, c_, *w: layer(x_, initial_state=[h_, c_], mask=mask),
                        [x, h0, c0, *layer.weights], eps=1e-6, atol=1e-6, rtol=1e-4)


def train(make_layer, length, data, args):
    """layer -> Dense(1) with mse; returns (test MSE, training loss per epoch, seconds per epoch, model)."""
    x, y, x_test, y_test = data
    mg.seed(args.seed + 1)
    model = Sequential([make_layer(length), Dense(1)])
    model.compile(Adam(lr=args.lr, clipnorm=1.0), "mse")
    tic = time.perf_counter()
    history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0)
    per_epoch = (time.perf_counter() - tic) / args.epochs
    return model.evaluate(x_test, y_test, batch_size=500, verbose=0), history.history["loss"], per_epoch, model


def plot(path, results, flows, baseline):
    plt = _common.pyplot()
    if plt is None:
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    colors = {"peephole LSTM (user cell)": "tab:purple", "LSTM (built in)": "tab:blue"}
    for name, (mse, losses, _, _) in results.items():
        left.plot(np.arange(1, len(losses) + 1), losses, "o-", color=colors[name], ms=3,
                  label=f"{name}: test MSE {mse:.4f}")
    left.axhline(baseline, color="gray", ls="--", lw=1, label="baseline: always 1.0")
    left.set(xlabel="epoch", ylabel="training MSE (log scale)", yscale="log", title="the adding problem")
    left.xaxis.get_major_locator().set_params(integer=True)
    left.legend(fontsize="small")
    for name, flow in flows.items():
        right.semilogy(np.arange(flow.timesteps), flow.dh_norm, color=colors[name], label=f"{name}: ||dL/dh_t||")
        right.semilogy(np.arange(flow.timesteps), flow.dc_norm, color=colors[name], ls="--",
                       label=f"{name}: ||dL/dc_t||")
    right.set(xlabel="timestep t", ylabel="gradient norm (log scale)", title="gradient reaching each step, trained")
    right.legend(fontsize="small")
    fig.suptitle("A user-written cell beside the built-in LSTM")
    _common.save_figure(fig, path)


def main(argv=None):
    p = _common.make_parser(NAME, __doc__, DEFAULT_EPOCHS)
    p.add_argument("--length", type=_common.positive_int, default=20, help="sequence length T (default: %(default)s)")
    p.add_argument("--samples", type=_common.positive_int, default=2000,
                   help="training sequences (default: %(default)s)")
    p.add_argument("--test", type=_common.positive_int, default=500, help="held-out sequences (default: %(default)s)")
    p.add_argument("--units", type=_common.positive_int, default=16, help="units of both cells (default: %(default)s)")
    p.add_argument("--batch-size", type=_common.positive_int, default=50, help="(default: %(default)s)")
    p.add_argument("--lr", type=float, default=0.01, help="Adam learning rate (default: %(default)s)")
    args = p.parse_args(argv)
    if args.length < 2:
        p.error("--length must be >= 2 (two markers must fit)")
    out = _common.out_dir(args.out)

    try:
        gradcheck_cell(4, args.seed)
    except mg.GradcheckError as e:
        print(f"FAILED: the peephole cell's gradients disagree with central differences:\n{e}", file=sys.stderr)
        return 1
    print("gradient check (float64, masked, go_backwards, initial states, every weight): passed")

    mg.seed(args.seed)
    rng = mg.get_rng()
    x, y = adding_data(args.samples, args.length, rng)
    x_test, y_test = adding_data(args.test, args.length, rng)
    baseline = float(np.mean((y_test - 1.0) ** 2))
    layers = {
        "peephole LSTM (user cell)": lambda t: RNN(PeepholeLSTMCell(args.units), input_shape=(t, 2)),
        "LSTM (built in)": lambda t: LSTM(args.units, recurrent_activation="sigmoid", input_shape=(t, 2)),
    }
    print(f"adding problem, T = {args.length}: {args.samples} training / {args.test} test sequences, baseline MSE "
          f"{baseline:.4f}")
    results, flows = {}, {}
    for name, make in layers.items():
        results[name] = train(make, args.length, (x, y, x_test, y_test), args)
        mse, losses, per_epoch, model = results[name]
        flows[name] = gradient_flow(model.layers[0], x_test[:32], "mse", y=y_test[:32], model=model)
        print(f"  {name:<26} test MSE {mse:.4f}   {per_epoch:6.2f} s/epoch")
    plot(os.path.join(out, "custom_cell.png"), results, flows, baseline)

    mse = results["peephole LSTM (user cell)"][0]
    if not mse < BEAT * baseline:
        print(f"FAILED: the peephole LSTM does not beat the baseline: test MSE {mse:.4f} against {baseline:.4f}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
