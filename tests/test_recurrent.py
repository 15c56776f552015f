"""Numerical tests of the recurrent layers (layers/recurrent.py): SimpleRNN, GRU, LSTM.

Oracles, independent of the code under test:
  * forward: ``reference`` (tests/rnn_reference.py), a per-step numpy loop written from the equations
    (Keras gate order, slicing W[:, g*U:(g+1)*U]); it never calls the project's code;
  * gradients: float64 central differences (``mg.gradcheck``) of x, the initial states and every weight;
  * the hand-written BPTT of the fused path (unroll=False) against minigrad's tape (unroll=True).

One table, CELLS x MODES x OPTIONS, drives the reference, gradcheck and fused-vs-tape tests. Sizes are tiny
(batch 2, timesteps 4, input 3, units 2) and everything is float64.
"""
import numpy as np
import pytest
from rnn_reference import reference

import minigrad as mg
from layers import GRU, LSTM, SimpleRNN, regularizers

B, T, D, U = 2, 4, 3, 2
CELLS = {"SimpleRNN": SimpleRNN, "GRU": GRU, "LSTM": LSTM}
N_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
N_STATES = {"SimpleRNN": 1, "GRU": 1, "LSTM": 2}
MODES = [(impl, unroll) for impl in (0, 1, 2) for unroll in (False, True)]
# sample 0: a hole and right padding; sample 1: left padding
MASK = np.array([[1, 0, 1, 0], [0, 0, 1, 1]], dtype=bool)
DROPOUT_SEED = 1234

# ------------------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------------------

CALL_OPTIONS = ("mask", "initial_state", "training")


def make_layer(cell, implementation=0, unroll=False, weight_seed=0, scale=0.5, **ctor):
    """A float64 layer built for (B, T, D) with N(0, scale^2) weights (small enough to keep hard_sigmoid
    away from its kinks)."""
    if cell == "SimpleRNN":
        ctor.pop("recurrent_activation", None)
    layer = CELLS[cell](U, implementation=implementation, unroll=unroll, dtype="float64", **ctor)
    layer._maybe_build((B, T, D))
    rng = np.random.default_rng(weight_seed)
    layer.set_weights([scale * rng.standard_normal(w.shape) for w in layer.get_weights()])
    return layer


def as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def random_inputs(cell, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, D))
    states = [0.5 * rng.standard_normal((B, U)) for _ in range(N_STATES[cell])]
    return x, states


def run(layer, x, states, call):
    """Call the layer as the table row asks; re-seed first so that dropout draws the same masks every time."""
    kw = {"mask": call.get("mask"), "training": call.get("training", False)}
    if call.get("initial_state"):
        kw["initial_state"] = list(states)
    mg.seed(DROPOUT_SEED)
    return as_list(layer(x, **kw))


def expected(cell, layer, x, states, ctor, call):
    """What the reference says the layer returns, in the layer's return format."""
    x_masks = h_masks = None
    if call.get("training"):  # the masks the layer draws after the same re-seed
        mg.seed(DROPOUT_SEED)
        masks = layer.draw_dropout_masks(mg.Tensor(x), True)
        x_masks, h_masks = masks.get("inputs"), masks.get("states")
    init = states if call.get("initial_state") else [np.zeros((B, U))] * N_STATES[cell]
    seq, finals = reference(cell, x, layer.get_weights(), init, activation=ctor.get("activation", "tanh"),
                            recurrent_activation=ctor.get("recurrent_activation", "hard_sigmoid"),
                            mask=call.get("mask"), go_backwards=ctor.get("go_backwards", False),
                            x_masks=x_masks, h_masks=h_masks)
    out = seq if ctor.get("return_sequences") else finals[0]
    return [out, *finals] if ctor.get("return_state") else [out]


OPTIONS = {
    "sequences": dict(return_sequences=True),
    "last_output_initial_state": dict(initial_state=True),
    "backwards_masked": dict(go_backwards=True, return_sequences=True, mask=MASK),
    "no_bias_other_activations": dict(use_bias=False, activation="softsign", recurrent_activation="sigmoid",
                                      return_sequences=True, initial_state=True),
    "masked_return_state": dict(return_state=True, mask=MASK, initial_state=True),
    "backwards_return_state": dict(go_backwards=True, return_state=True, return_sequences=True,
                                   initial_state=True),
    "dropout_training": dict(dropout=0.3, recurrent_dropout=0.4, training=True, return_sequences=True,
                             initial_state=True, mask=MASK),
}


def split(options):
    ctor = {k: v for k, v in options.items() if k not in CALL_OPTIONS}
    call = {k: v for k, v in options.items() if k in CALL_OPTIONS}
    return ctor, call


TABLE = [pytest.param(cell, impl, unroll, opt, id=f"{cell}-impl{impl}-{'unroll' if unroll else 'fused'}-{opt}")
         for cell in CELLS for impl, unroll in MODES for opt in OPTIONS]


# ------------------------------------------------------------------------------------------------------------
# The table: reference outputs, gradcheck, fused BPTT against tape BPTT
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, impl, unroll, opt", TABLE)
def test_outputs_match_numpy_reference(cell, impl, unroll, opt):
    ctor, call = split(OPTIONS[opt])
    layer = make_layer(cell, impl, unroll, **ctor)
    x, states = random_inputs(cell)
    got = run(layer, x, states, call)
    want = expected(cell, layer, x, states, ctor, call)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == np.float64
        np.testing.assert_allclose(g.data, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell, impl, unroll, opt", TABLE)
def test_gradients_match_central_differences(cell, impl, unroll, opt):
    ctor, call = split(OPTIONS[opt])
    layer = make_layer(cell, impl, unroll, **ctor)
    x, states = random_inputs(cell)
    xt = mg.Tensor(x, requires_grad=True)
    st = [mg.Tensor(s, requires_grad=True) for s in states] if call.get("initial_state") else []
    n = len(st)

    def f(x_, *rest):  # rest = initial states, then the weights (reached by the layer through its attributes)
        return run(layer, x_, rest[:n], call)

    assert mg.gradcheck(f, [xt, *st, *layer.weights], eps=1e-6, atol=1e-7, rtol=1e-5)


def _tape_gradients(layer, x, states, call, cotangent_seed=7):
    xt = mg.Tensor(x, requires_grad=True)
    st = [mg.Tensor(s, requires_grad=True) for s in states]
    for w in layer.weights:
        w.grad = None
    outs = run(layer, xt, st, call)
    rng = np.random.default_rng(cotangent_seed)
    loss = sum((o * rng.standard_normal(o.shape)).sum() for o in outs)
    loss.backward()
    grads = [xt.grad] + ([s.grad for s in st] if call.get("initial_state") else []) + [w.grad for w in layer.weights]
    return [g.copy() for g in grads]


@pytest.mark.parametrize("cell, impl, opt", [pytest.param(c, i, o, id=f"{c}-impl{i}-{o}")
                                             for c in CELLS for i in (0, 1, 2) for o in OPTIONS])
def test_fused_bptt_matches_tape_bptt(cell, impl, opt):
    ctor, call = split(OPTIONS[opt])
    x, states = random_inputs(cell)
    fused, taped = (make_layer(cell, impl, unroll, **ctor) for unroll in (False, True))
    g_fused, g_tape = (_tape_gradients(layer, x, states, call) for layer in (fused, taped))
    for a, b in zip(g_fused, g_tape):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_implementations_compute_the_same_function(cell):
    x, states = random_inputs(cell)
    outs = [make_layer(cell, impl, unroll, return_sequences=True)(x).data for impl, unroll in MODES]
    for o in outs[1:]:
        np.testing.assert_allclose(o, outs[0], rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------------------------------------
# Weight layout and gate order, set from outside as Keras would
# ------------------------------------------------------------------------------------------------------------

def test_lstm_gate_order_i_f_c_o():
    # zero weights, bias only: i = 1, f = 0 (the old c = 5 is forgotten), candidate tanh(0.7), o = 1
    layer = LSTM(1, dtype="float64", return_state=True)
    layer._maybe_build((None, 3, 2))
    layer.set_weights([np.zeros((2, 4)), np.zeros((1, 4)), np.array([10.0, -10.0, 0.7, 10.0])])
    h, _, c = layer(np.ones((1, 3, 2)), initial_state=[np.full((1, 1), 0.3), np.full((1, 1), 5.0)])
    np.testing.assert_allclose(c.data, [[np.tanh(0.7)]])
    np.testing.assert_allclose(h.data, [[np.tanh(np.tanh(0.7))]])
    # f = 1, i = 0: the cell keeps c0, and o = 0.5 (hard_sigmoid(0)) scales the output
    layer.set_weights([np.zeros((2, 4)), np.zeros((1, 4)), np.array([-10.0, 10.0, 0.7, 0.0])])
    h, _, c = layer(np.ones((1, 3, 2)), initial_state=[np.full((1, 1), 0.3), np.full((1, 1), 0.8)])
    np.testing.assert_allclose(c.data, [[0.8]])
    np.testing.assert_allclose(h.data, [[0.5 * np.tanh(0.8)]])


def test_gru_gate_order_z_r_h():
    layer = GRU(1, dtype="float64")
    layer._maybe_build((None, 3, 2))
    h0 = np.full((1, 1), 0.4)
    # z block saturated at 1: the old state is kept whatever the candidate
    layer.set_weights([np.zeros((2, 3)), np.ones((1, 3)), np.array([10.0, 0.0, 0.5])])
    np.testing.assert_allclose(layer(np.ones((1, 3, 2)), initial_state=h0).data, h0)
    # z = 0, r = 0: h = tanh(b_h + (r*h) R_h) = tanh(b_h): the reset gate acts before R_h
    layer.set_weights([np.zeros((2, 3)), np.ones((1, 3)), np.array([-10.0, -10.0, 0.5])])
    np.testing.assert_allclose(layer(np.ones((1, 3, 2)), initial_state=h0).data, [[np.tanh(0.5)]])


@pytest.mark.parametrize("cell", CELLS)
def test_weights_constructor_argument_applied_after_build(cell):
    rng = np.random.default_rng(3)
    k = N_GATES[cell]
    weights = [0.5 * rng.standard_normal(s) for s in ((D, k * U), (U, k * U), (k * U,))]
    layer = CELLS[cell](U, weights=weights, dtype="float64")
    x, _ = random_inputs(cell)
    out = layer(x)
    for got, want in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(out.data, reference(cell, x, weights, [np.zeros((B, U))] * N_STATES[cell])[1][0])
    # without a bias the list has two entries
    layer = CELLS[cell](U, weights=weights[:2], use_bias=False, dtype="float64")
    np.testing.assert_allclose(layer(x).data,
                               reference(cell, x, weights[:2], [np.zeros((B, U))] * N_STATES[cell])[1][0])


# ------------------------------------------------------------------------------------------------------------
# Masking
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("impl, unroll", MODES)
def test_left_padding_outputs_the_initial_state_then_matches_unpadded(cell, impl, unroll):
    layer = make_layer(cell, impl, unroll, return_sequences=True, return_state=True)
    x, states = random_inputs(cell)
    pad = 2
    padded = np.concatenate([np.full((B, pad, D), 9.0), x], axis=1)
    mask = np.arange(T + pad) >= pad
    mask = np.broadcast_to(mask, (B, T + pad))
    seq, *finals = layer(padded, mask=mask, initial_state=states)
    for t in range(pad):  # masked leading steps output the (non-zero) initial h
        np.testing.assert_allclose(seq.data[:, t], states[0])
    seq_u, *finals_u = layer(x, initial_state=states)
    np.testing.assert_allclose(seq.data[:, pad:], seq_u.data, rtol=1e-12)
    for f, fu in zip(finals, finals_u):
        np.testing.assert_allclose(f.data, fu.data, rtol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("impl, unroll", MODES)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_right_padding_last_output_is_last_valid_h_and_matches_unpadded(cell, impl, unroll, go_backwards):
    layer = make_layer(cell, impl, unroll, return_state=True, go_backwards=go_backwards)
    x, states = random_inputs(cell)
    padded = np.concatenate([x, np.full((B, 3, D), -7.0)], axis=1)
    mask = np.broadcast_to(np.arange(T + 3) < T, (B, T + 3))
    xp = mg.Tensor(padded, requires_grad=True)
    xu = mg.Tensor(x, requires_grad=True)
    out, *finals = layer(xp, mask=mask, initial_state=states)
    out_u, *finals_u = layer(xu, initial_state=states)
    np.testing.assert_allclose(out.data, out_u.data, rtol=1e-12)
    for f, fu in zip(finals, finals_u):
        np.testing.assert_allclose(f.data, fu.data, rtol=1e-12)
    # the padded steps get no gradient; the valid ones get the unpadded gradient
    (out * np.arange(1, U + 1)).sum().backward()
    (out_u * np.arange(1, U + 1)).sum().backward()
    np.testing.assert_allclose(xp.grad[:, T:], 0.0)
    np.testing.assert_allclose(xp.grad[:, :T], xu.grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
def test_padded_sequences_per_sample_match_unpadded(cell):
    """A batch mixing left and right padding: each sample equals its own unpadded run."""
    for impl, unroll in MODES:
        layer = make_layer(cell, impl, unroll)
        x, _ = random_inputs(cell)
        padded = np.zeros((B, T + 2, D))
        padded[0, :T], padded[1, 2:] = x[0], x[1]            # sample 0 right-padded, sample 1 left-padded
        mask = np.zeros((B, T + 2), dtype=bool)
        mask[0, :T], mask[1, 2:] = True, True
        np.testing.assert_allclose(layer(padded, mask=mask).data, layer(x).data, rtol=1e-12)


def test_fully_masked_sequence_keeps_the_initial_state():
    layer = make_layer("LSTM", return_state=True)
    x, states = random_inputs("LSTM")
    out, h, c = layer(x, mask=np.zeros((B, T), dtype=bool), initial_state=states)
    np.testing.assert_allclose(h.data, states[0])
    np.testing.assert_allclose(c.data, states[1])


# ------------------------------------------------------------------------------------------------------------
# go_backwards
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("unroll", [False, True])
def test_go_backwards_returns_outputs_in_processing_order(cell, unroll):
    x, _ = random_inputs(cell)
    backward = make_layer(cell, unroll=unroll, go_backwards=True, return_sequences=True)
    forward = make_layer(cell, unroll=unroll, return_sequences=True)
    np.testing.assert_allclose(backward(x).data, forward(x[:, ::-1]).data, rtol=1e-12)


def test_go_backwards_compute_mask_reverses_the_mask():
    mask = np.array([[1, 1, 1, 0], [0, 1, 1, 1]], dtype=bool)
    seq = LSTM(2, go_backwards=True, return_sequences=True)
    np.testing.assert_array_equal(seq.compute_mask(None, mask), mask[:, ::-1])
    fwd = LSTM(2, return_sequences=True)
    np.testing.assert_array_equal(fwd.compute_mask(None, mask), mask)
    assert LSTM(2, go_backwards=True).compute_mask(None, mask) is None
    assert LSTM(2).compute_mask(None, mask) is None
    with_state = LSTM(2, go_backwards=True, return_sequences=True, return_state=True).compute_mask(None, mask)
    assert len(with_state) == 3 and with_state[1] is None and with_state[2] is None
    np.testing.assert_array_equal(with_state[0], mask[:, ::-1])


# ------------------------------------------------------------------------------------------------------------
# return_state
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("return_sequences", [False, True])
def test_return_state(cell, return_sequences):
    layer = make_layer(cell, return_state=True, return_sequences=return_sequences)
    x, _ = random_inputs(cell)
    outs = layer(x)
    assert isinstance(outs, list) and len(outs) == 1 + N_STATES[cell]
    out, h = outs[0], outs[1]
    last = out.data[:, -1] if return_sequences else out.data
    np.testing.assert_array_equal(last, h.data)
    want = reference(cell, x, layer.get_weights(), [np.zeros((B, U))] * N_STATES[cell])[1]
    for got, w in zip(outs[1:], want):
        np.testing.assert_allclose(got.data, w, rtol=1e-12)
    shapes = layer.compute_output_shape((None, T, D))
    assert shapes[0] == ((None, T, U) if return_sequences else (None, U))
    assert shapes[1:] == [(None, U)] * N_STATES[cell]


# ------------------------------------------------------------------------------------------------------------
# Stateful
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("impl, unroll", MODES)
def test_stateful_two_chunks_equal_one_call(cell, impl, unroll):
    x, _ = random_inputs(cell)
    stateful = make_layer(cell, impl, unroll, stateful=True, return_sequences=True, batch_input_shape=(B, None, D))
    plain = make_layer(cell, impl, unroll, return_sequences=True, return_state=True)
    first, second = stateful(x[:, :1]), stateful(x[:, 1:])
    whole, *finals = plain(x)
    np.testing.assert_allclose(np.concatenate([first.data, second.data], axis=1), whole.data, rtol=1e-12)
    for s, f in zip(stateful.states, finals):
        np.testing.assert_allclose(s, f.data, rtol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_stateful_reset_states_zeroes_and_sets(cell):
    x, states = random_inputs(cell)
    stateful = make_layer(cell, stateful=True)
    plain = make_layer(cell)
    fresh = stateful(x).data
    np.testing.assert_allclose(fresh, plain(x).data)
    assert not np.allclose(stateful(x).data, fresh)        # carried over
    stateful.reset_states()
    for s in stateful.states:
        np.testing.assert_array_equal(s, np.zeros((B, U)))
    np.testing.assert_allclose(stateful(x).data, fresh)
    stateful.reset_states(states if cell == "LSTM" else states[0])  # a single array for a one-state layer
    for s, want in zip(stateful.states, states):
        np.testing.assert_array_equal(s, want)
    np.testing.assert_allclose(stateful(x).data, plain(x, initial_state=states).data)


@pytest.mark.parametrize("unroll", [False, True])
def test_stateful_states_carry_no_gradient_across_calls(unroll):
    layer = make_layer("LSTM", unroll=unroll, stateful=True)
    x, _ = random_inputs("LSTM")
    x1, x2 = mg.Tensor(x, requires_grad=True), mg.Tensor(x, requires_grad=True)
    layer(x1)
    assert all(isinstance(s, np.ndarray) for s in layer.states)
    layer(x2).sum().backward()
    assert x1.grad is None and x2.grad is not None


def test_explicit_initial_state_overrides_the_carried_state():
    x, states = random_inputs("GRU")
    stateful, plain = make_layer("GRU", stateful=True), make_layer("GRU")
    stateful(x)
    np.testing.assert_allclose(stateful(x, initial_state=states[0]).data, plain(x, initial_state=states).data)


# ------------------------------------------------------------------------------------------------------------
# Dropout (variational: one mask per sequence, reused at every timestep)
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("impl", [0, 1, 2])
def test_dropout_mask_helper_shapes_and_values(cell, impl):
    layer = make_layer(cell, impl, dropout=0.25, recurrent_dropout=0.5)
    x = mg.Tensor(np.zeros((5, T, D)))
    masks = layer.draw_dropout_masks(x, True)
    x_masks, h_masks = masks["inputs"], masks["states"]
    k = 1 if impl == 2 else N_GATES[cell]
    lead = () if impl == 2 else (k,)               # implementation 2: one mask shared by all gates
    assert x_masks.shape == lead + (5, D) and h_masks.shape == lead + (5, U)
    assert set(np.unique(x_masks)) <= {0.0, 1 / 0.75} and set(np.unique(h_masks)) <= {0.0, 2.0}
    assert layer.draw_dropout_masks(x, False) == {}
    assert make_layer(cell, impl).draw_dropout_masks(x, True) == {}


def _linear_rnn(impl, unroll, n, **kw):
    layer = SimpleRNN(n, activation=None, implementation=impl, unroll=unroll, dtype="float64",
                      return_sequences=True, **kw)
    layer._maybe_build((None, T, n))
    return layer


@pytest.mark.parametrize("impl, unroll", MODES)
def test_input_dropout_mask_constant_over_time_fraction_and_scale(impl, unroll):
    p, n, batch = 0.3, 50, 200
    layer = _linear_rnn(impl, unroll, n, dropout=p)
    layer.set_weights([np.eye(n), np.zeros((n, n)), np.zeros(n)])  # h_t = x_t ⊙ m_x
    mg.seed(0)
    out = layer(np.ones((batch, T, n)), training=True).data
    for t in range(1, T):
        np.testing.assert_array_equal(out[:, t], out[:, 0])
    assert abs(np.mean(out[:, 0] == 0) - p) < 0.03
    np.testing.assert_allclose(out[:, 0][out[:, 0] != 0], 1 / (1 - p))
    np.testing.assert_array_equal(layer(np.ones((batch, T, n))).data, 1.0)  # inference: no dropout, no scaling


@pytest.mark.parametrize("impl, unroll", MODES)
def test_recurrent_dropout_mask_constant_over_time_fraction_and_scale(impl, unroll):
    p, n, batch = 0.4, 50, 200
    layer = _linear_rnn(impl, unroll, n, recurrent_dropout=p)
    layer.set_weights([np.zeros((n, n)), np.eye(n), np.zeros(n)])  # h_t = h_{t-1} ⊙ m_h = m_h^t
    mg.seed(0)
    out = layer(np.ones((batch, T, n)), training=True, initial_state=np.ones((batch, n))).data
    m = out[:, 0]
    for t in range(T):
        np.testing.assert_allclose(out[:, t], m ** (t + 1))
    assert abs(np.mean(m == 0) - p) < 0.03
    np.testing.assert_allclose(m[m != 0], 1 / (1 - p))


@pytest.mark.parametrize("cell, impl", [(c, i) for c in ("GRU", "LSTM") for i in (0, 1, 2)])
def test_gated_input_dropout_is_per_sequence_and_per_gate_or_shared(cell, impl):
    """Perturb feature j of sample i at EVERY timestep: the output is unchanged exactly when that feature is
    dropped for the whole sequence in every gate. So the unchanged fraction is p with one shared, time-constant
    mask (implementation 2), p^k with k independent gate masks (0, 1), and would be about p^T if masks were
    redrawn per step."""
    p, batch, n_in, steps = 0.5, 64, 8, 6
    layer = CELLS[cell](4, implementation=impl, dropout=p, dtype="float64")
    layer._maybe_build((None, steps, n_in))
    x = np.random.default_rng(0).standard_normal((batch, steps, n_in))
    mg.seed(5)
    base = layer(x, training=True).data
    unchanged = np.zeros((batch, n_in), dtype=bool)
    for j in range(n_in):
        x2 = x.copy()
        x2[:, :, j] += 1.0
        mg.seed(5)
        unchanged[:, j] = np.all(np.isclose(layer(x2, training=True).data, base, rtol=0, atol=1e-13), axis=1)
    want = p if impl == 2 else p ** N_GATES[cell]
    assert abs(unchanged.mean() - want) < 0.08, (unchanged.mean(), want)


@pytest.mark.parametrize("cell", ("GRU", "LSTM"))
def test_per_gate_masks_are_really_used(cell):
    """Implementation 0/1 draw one mask per gate and use them all: a reference fed only gate 0's mask disagrees."""
    layer = make_layer(cell, 1, dropout=0.5, recurrent_dropout=0.5, return_sequences=True)
    x, _ = random_inputs(cell)
    mg.seed(DROPOUT_SEED)
    masks = layer.draw_dropout_masks(mg.Tensor(x), True)
    xm, hm = masks["inputs"], masks["states"]
    assert any(not np.array_equal(xm[0], xm[g]) for g in range(1, len(xm)))
    got = run(layer, x, [], {"training": True})[0].data
    zeros = [np.zeros((B, U))] * N_STATES[cell]
    np.testing.assert_allclose(got, reference(cell, x, layer.get_weights(), zeros, x_masks=xm, h_masks=hm)[0])
    shared = reference(cell, x, layer.get_weights(), zeros, x_masks=xm[0], h_masks=hm[0])[0]
    assert not np.allclose(got, shared)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("impl, unroll", MODES)
def test_dropout_absent_at_inference_and_reproducible_with_a_seed(cell, impl, unroll):
    x, _ = random_inputs(cell)
    dropped = make_layer(cell, impl, unroll, dropout=0.5, recurrent_dropout=0.5, return_sequences=True)
    plain = make_layer(cell, impl, unroll, return_sequences=True)
    want = plain(x).data
    np.testing.assert_array_equal(dropped(x).data, want)                  # training defaults to False
    np.testing.assert_array_equal(dropped(x, training=False).data, want)
    mg.seed(11)
    a = dropped(x, training=True).data
    mg.seed(11)
    np.testing.assert_array_equal(dropped(x, training=True).data, a)      # same seed -> same masks
    assert not np.allclose(a, want)
    mg.seed(12)
    assert not np.allclose(dropped(x, training=True).data, a)             # another seed -> other masks


# ------------------------------------------------------------------------------------------------------------
# Regularizers, dtypes, custom activations
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("return_sequences, return_state", [(False, False), (True, False), (True, True)])
def test_activity_regularizer_applies_to_every_output(cell, return_sequences, return_state):
    layer = make_layer(cell, activity_regularizer=regularizers.l2(0.01), return_sequences=return_sequences,
                       return_state=return_state)
    x, _ = random_inputs(cell)
    outs = as_list(layer(x, mask=MASK))
    assert len(layer.losses) == len(outs)
    for loss, out in zip(layer.losses, outs):
        np.testing.assert_allclose(float(loss.data), 0.01 * np.sum(out.data ** 2), rtol=1e-12)
    if return_sequences:
        assert outs[0].shape == (B, T, U)


@pytest.mark.parametrize("cell", CELLS)
def test_weight_regularizers_in_losses(cell):
    layer = make_layer(cell, kernel_regularizer=regularizers.l1(0.1), recurrent_regularizer=regularizers.l2(0.2),
                       bias_regularizer=regularizers.l1_l2(0.3, 0.4))
    W, R, b = layer.get_weights()
    want = [0.1 * np.abs(W).sum(), 0.2 * (R ** 2).sum(), 0.3 * np.abs(b).sum() + 0.4 * (b ** 2).sum()]
    np.testing.assert_allclose([float(v.data) for v in layer.losses], want, rtol=1e-12)
    # the penalty is differentiable with respect to its weight
    layer.losses[1].backward()
    np.testing.assert_allclose(layer.recurrent_kernel.grad, 0.4 * R)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("impl, unroll", MODES)
def test_float32_in_float32_out_and_float32_gradients(cell, impl, unroll):
    layer = CELLS[cell](U, implementation=impl, unroll=unroll, return_state=True)   # default dtype float32
    x, states = random_inputs(cell)
    xt = mg.Tensor(x.astype(np.float32), requires_grad=True)
    st = [mg.Tensor(s.astype(np.float32), requires_grad=True) for s in states]
    outs = layer(xt, initial_state=st, mask=MASK)
    assert all(o.dtype == np.float32 for o in outs)
    sum(o.sum() for o in outs).backward()
    for g in [xt.grad] + [s.grad for s in st] + [w.grad for w in layer.weights]:
        assert g is not None and g.dtype == np.float32
    ref = reference(cell, x.astype(np.float32).astype(float), [w.astype(float) for w in layer.get_weights()],
                    states, mask=MASK)[1][0]
    np.testing.assert_allclose(outs[1].data, ref, rtol=1e-4, atol=1e-5)


def _scaled_tanh(a):  # not one of the built-in activations: the fused kernels cannot run it
    return mg.tanh(a) * 0.9


def _ref_scaled_tanh(a):
    return np.tanh(a) * 0.9


def _ref_sig(a):
    return 1 / (1 + np.exp(-a))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("impl", [0, 1, 2])
def test_unknown_activation_falls_back_to_the_tape_and_agrees(cell, impl):
    kw = {} if cell == "SimpleRNN" else {"recurrent_activation": lambda a: mg.sigmoid(a)}
    layer = make_layer(cell, impl, activation=_scaled_tanh, return_sequences=True, go_backwards=True, **kw)
    assert layer.cell.fused_kernel() is None
    x, states = random_inputs(cell)
    out = layer(x, initial_state=states, mask=MASK)
    want = reference(cell, x, layer.get_weights(), states, activation=_ref_scaled_tanh,
                     recurrent_activation=_ref_sig, mask=MASK, go_backwards=True)[0]
    np.testing.assert_allclose(out.data, want, rtol=1e-12)
    xt = mg.Tensor(x, requires_grad=True)
    assert mg.gradcheck(lambda x_, *w: layer(x_, initial_state=states), [xt, *layer.weights], atol=1e-7, rtol=1e-5)


def test_an_activation_named_like_a_builtin_is_not_mistaken_for_it():
    def tanh(a):
        return mg.tanh(a) * 0.5
    layer = make_layer("SimpleRNN", activation=tanh)
    x, _ = random_inputs("SimpleRNN")
    np.testing.assert_allclose(layer(x).data, reference("SimpleRNN", x, layer.get_weights(), [np.zeros((B, U))],
                                                        activation=lambda a: np.tanh(a) * 0.5)[1][0])


# ------------------------------------------------------------------------------------------------------------
# Results are the caller's: no later call, backward pass or garbage collection changes them
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("unroll", [False, True])
def test_results_are_not_overwritten_by_later_calls(cell, unroll):
    import gc
    lower = make_layer(cell, unroll=unroll, return_sequences=True, weight_seed=1)
    upper = CELLS[cell](U, unroll=unroll, dtype="float64", return_state=True)
    upper._maybe_build((B, T, U))
    rng = np.random.default_rng(3)
    upper.set_weights([0.5 * rng.standard_normal(w.shape) for w in upper.get_weights()])
    xs = [rng.standard_normal((B, T, D)) for _ in range(3)]

    def forward_backward(x):
        xt = mg.Tensor(x, requires_grad=True)
        seq = lower(xt)
        outs = upper(seq)
        sum((o * o).sum() for o in outs).backward()
        return [seq, *outs], xt

    first, x_first = forward_backward(xs[0])
    snapshot = [o.data.copy() for o in first] + [x_first.grad.copy()]
    for x in xs[1:]:
        forward_backward(x)
        del x
        gc.collect()
    for kept, copy in zip([o.data for o in first] + [x_first.grad], snapshot):
        np.testing.assert_array_equal(kept, copy)
    again, x_again = forward_backward(xs[0])
    for got, copy in zip([o.data for o in again] + [x_again.grad], snapshot):
        np.testing.assert_array_equal(got, copy)


# ------------------------------------------------------------------------------------------------------------
# The unrolled path's tape stays small: the input product is made once and cut into steps, and each step adds
# it to ONE recurrent product for all gates (no per-gate slices of x W or of R at every step)
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, per_step", [("SimpleRNN", 3), ("GRU", 13), ("LSTM", 12)])
def test_unrolled_step_records_a_fixed_small_number_of_tape_entries(cell, per_step):
    def entries(timesteps):
        layer = CELLS[cell](U, unroll=True, dtype="float64")
        x = mg.Tensor(np.random.default_rng(0).standard_normal((B, timesteps, D)), requires_grad=True)
        return len(mg.toposort([layer(x)._node]))
    assert entries(9) - entries(5) == 4 * per_step
