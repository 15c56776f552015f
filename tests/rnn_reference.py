"""The one forward reference of the recurrent cells that the tests compare against: a plain per-step numpy loop
written from the step equations (docs/recurrent-semantics.md), Keras gate order, batch-major, nothing fused or
permuted. It never calls the project's code.

    outputs, finals = reference('LSTM', x, [W, R, b], [h0, c0], mask=..., x_masks=..., h_masks=...)

cell: 'SimpleRNN' / 'GRU' / 'LSTM' (or the kernels' names 'simple_rnn' / 'gru' / 'lstm').
weights: [W (D,kU), R (U,kU)] or [W, R, b] with b (kU,), or (2, 3U) for a GRU with reset_after=True.
Dropout masks: None, one (B,n) shared by the gates, or (k,B,n) one per gate. Returns (outputs (B,T,U) in
processing order, [final states]).
"""
import numpy as np

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

ACT = {
    "tanh": np.tanh,
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "hard_sigmoid": lambda a: np.clip(0.2 * a + 0.5, 0.0, 1.0),
    "relu": lambda a: np.maximum(a, 0.0),
    "linear": lambda a: a,
    None: lambda a: a,
    "softsign": lambda a: a / (1.0 + np.abs(a)),
    "softplus": lambda a: np.log(1.0 + np.exp(a)),
    "elu": lambda a: np.where(a > 0, a, np.exp(a) - 1.0),
    "selu": lambda a: SELU_SCALE * np.where(a > 0, a, SELU_ALPHA * (np.exp(a) - 1.0)),
}
N_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
_NAMES = {"simple_rnn": "SimpleRNN", "gru": "GRU", "lstm": "LSTM"}


def _per_gate(m, k, shape):
    """None / shared (B,n) / per-gate (k,B,n) -> a list of k masks."""
    if m is None:
        return [np.ones(shape)] * k
    m = np.asarray(m)
    return [m] * k if m.ndim == 2 else list(m)


def reference(cell, x, weights, states, activation="tanh", recurrent_activation="hard_sigmoid", mask=None,
              go_backwards=False, x_masks=None, h_masks=None, reset_after=False):
    """(outputs (B,T,U) in processing order, [final states]) of a Keras cell; see the module docstring.

    activation / recurrent_activation: a name in ACT or a numpy function.
    """
    cell = _NAMES.get(cell, cell)
    act = ACT[activation] if activation in ACT else activation
    sig = ACT[recurrent_activation] if recurrent_activation in ACT else recurrent_activation
    W, R = weights[0], weights[1]
    units = R.shape[0]
    k = N_GATES[cell]
    b = weights[2] if len(weights) == 3 and weights[2] is not None else None
    b_in = np.zeros(k * units) if b is None else (b[0] if reset_after else b)
    b_rec = np.zeros(k * units) if b is None or not reset_after else b[1]
    n_batch, n_steps, n_in = x.shape
    mx = _per_gate(x_masks, k, (n_batch, n_in))
    mh = _per_gate(h_masks, k, (n_batch, units))

    def block(M, g):
        return M[..., g * units:(g + 1) * units]

    h = np.array(states[0], dtype=float)
    c = np.array(states[1], dtype=float) if cell == "LSTM" else None
    outputs = []
    for t in (range(n_steps - 1, -1, -1) if go_backwards else range(n_steps)):
        x_t = x[:, t]

        def inp(g, x_t=x_t):  # (x_t ⊙ m_x^g) W_g + b_g
            return (x_t * mx[g]) @ block(W, g) + block(b_in, g)

        def rec(g, h_in):  # (h_in ⊙ m_h^g) R_g (+ b'_g with reset_after)
            return (h_in * mh[g]) @ block(R, g) + block(b_rec, g)

        if cell == "SimpleRNN":
            new = [act(inp(0) + rec(0, h))]
        elif cell == "GRU":
            z = sig(inp(0) + rec(0, h))
            r = sig(inp(1) + rec(1, h))
            if reset_after:
                h_cand = act(inp(2) + r * rec(2, h))   # reset applied after the recurrent product
            else:
                h_cand = act(inp(2) + rec(2, r * h))   # reset applied before it (Keras 2.0)
            new = [z * h + (1 - z) * h_cand]           # z weights the old state
        else:
            i = sig(inp(0) + rec(0, h))
            f = sig(inp(1) + rec(1, h))
            c_new = f * c + i * act(inp(2) + rec(2, h))
            o = sig(inp(3) + rec(3, h))
            new = [o * act(c_new), c_new]
        old = [h] if cell != "LSTM" else [h, c]
        if mask is not None:  # a masked step is computed, then discarded: every state carries over
            keep = np.asarray(mask)[:, t:t + 1]
            new = [np.where(keep, n, s) for n, s in zip(new, old)]
        h = new[0]
        c = new[1] if cell == "LSTM" else None
        outputs.append(h)
    return np.stack(outputs, axis=1), ([h] if cell != "LSTM" else [h, c])
