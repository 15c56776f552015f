"""Recurrent cells as a public API: RNN(cell) over the built-in cells and over a user's cell, StackedRNNCells.

Oracles: the built-in layers themselves (RNN(LSTMCell(u)) and LSTM(u) must be the same function with the same
weights), the shared numpy reference (tests/rnn_reference.py), a numpy loop written here for the user's cell, and
float64 central differences (mg.gradcheck).
"""
import numpy as np
import pytest
from rnn_reference import reference
from user_cells import ProjectedCell

import minigrad as mg
from layers import GRU, LSTM, RNN, Dense, GRUCell, Input, Layer, LSTMCell, Model, Sequential, SimpleRNN
from layers.recurrent import SimpleRNNCell, StackedRNNCells
from layers.tools import check_truncated_bptt, gradcheck_layer, gradient_flow, record_dropout, replay_dropout

B, T, D, U = 2, 5, 3, 4
MASK = np.array([[1, 0, 1, 1, 0], [0, 0, 1, 1, 1]], dtype=bool)   # a hole and right padding; left padding
LAYERS = {"SimpleRNN": (SimpleRNN, SimpleRNNCell), "GRU": (GRU, GRUCell), "LSTM": (LSTM, LSTMCell)}


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


class MinimalRNNCell(Layer):
    """The API document's user cell: h = tanh(x W + h R)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                      name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="orthogonal",
                                                name="recurrent_kernel")

    def call(self, inputs, states, training=False):
        h = mg.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)
        return h, [h]


class DropoutCell(MinimalRNNCell):
    """A user cell that asks the RNN for variational dropout masks on its inputs and on its state."""

    def __init__(self, units, dropout=0.0, recurrent_dropout=0.0, **kwargs):
        super().__init__(units, **kwargs)
        self.dropout, self.recurrent_dropout = dropout, recurrent_dropout
        self.calls = []

    def dropout_spec(self, batch_size, input_dim):
        return {"inputs": ((batch_size, input_dim), self.dropout),
                "state": ((batch_size, self.units), self.recurrent_dropout)}

    def call(self, inputs, states, training=False, dropout_masks=None):
        masks = dropout_masks or {}
        self.calls.append(masks)
        x, h = inputs, states[0]
        if masks.get("inputs") is not None:
            x = x * masks["inputs"]
        if masks.get("state") is not None:
            h = h * masks["state"]
        h = mg.tanh(x @ self.kernel + h @ self.recurrent_kernel)
        return h, [h]


def minimal_reference(x, W, R, h0, mask=None, go_backwards=False):
    """numpy loop of MinimalRNNCell under the masking rule; (outputs in processing order, final h)."""
    h, outs = np.array(h0, dtype=float), []
    for t in (range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])):
        new = np.tanh(x[:, t] @ W + h @ R)
        if mask is not None:
            new = np.where(mask[:, t:t + 1], new, h)
        h = new
        outs.append(h)
    return np.stack(outs, axis=1), h


def built_rnn(cell, seed=0, scale=0.6, **kw):
    layer = RNN(cell, dtype="float64", **kw)
    layer._maybe_build((None, T, D))
    rng = np.random.default_rng(seed)
    layer.set_weights([scale * rng.standard_normal(w.shape) for w in layer.get_weights()])
    return layer


# ------------------------------------------------------------------------------------------------------------
# The built-in layers are RNN over their cell
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", LAYERS)
def test_layer_cell_is_the_cell_and_attributes_read_through(name):
    layer_cls, cell_cls = LAYERS[name]
    kw = {} if name == "SimpleRNN" else {"recurrent_activation": "sigmoid"}
    layer = layer_cls(3, dropout=0.25, recurrent_dropout=0.5, implementation=2, **kw)
    assert isinstance(layer, RNN) and type(layer.cell) is cell_cls
    assert (layer.units, layer.dropout, layer.recurrent_dropout, layer.implementation) == (3, 0.25, 0.5, 2)
    layer(data(B, T, D).astype(np.float32))
    assert layer.weights == [layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias]
    assert layer.kernel is layer.cell.kernel and layer.bias is layer.cell.bias
    assert [w.name for w in layer.weights] == [f"{layer.name}/{n}" for n in ("kernel", "recurrent_kernel", "bias")]


CASES = {
    "plain": ({}, {}),
    "sequences_masked_backwards": (dict(return_sequences=True, go_backwards=True), dict(mask=MASK)),
    "state_in_and_out": (dict(return_state=True), dict(initial_state=True, mask=MASK)),
    "dropout_training": (dict(dropout=0.3, recurrent_dropout=0.3, return_sequences=True), dict(training=True)),
}


def _run(layer, x, states, call):
    kw = {"mask": call.get("mask"), "training": call.get("training", False)}
    if call.get("initial_state"):
        kw["initial_state"] = states
    mg.seed(3)
    return as_list(layer(x, **kw))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("unroll", [False, True])
@pytest.mark.parametrize("name", LAYERS)
def test_rnn_over_a_builtin_cell_is_the_builtin_layer(name, unroll, case):
    """RNN(LSTMCell(u, ...)) and LSTM(u, ...): same weights layout, same outputs, same gradients."""
    layer_cls, cell_cls = LAYERS[name]
    ctor, call = CASES[case]
    cell_kw = {k: v for k, v in ctor.items() if k in ("dropout", "recurrent_dropout")}
    seq_kw = {k: v for k, v in ctor.items() if k not in cell_kw}
    layer = layer_cls(U, unroll=unroll, dtype="float64", **ctor)
    rnn = RNN(cell_cls(U, dtype="float64", **cell_kw), unroll=unroll, **seq_kw)
    layer(data(B, T, D))
    rnn(data(B, T, D))
    assert [w.shape for w in rnn.get_weights()] == [w.shape for w in layer.get_weights()]
    rnn.set_weights(layer.get_weights())
    n_states = 2 if name == "LSTM" else 1
    outs = []
    for model in (layer, rnn):
        x = mg.Tensor(data(B, T, D, seed=1), requires_grad=True)
        states = [mg.Tensor(data(B, U, seed=2 + i), requires_grad=True) for i in range(n_states)]
        out = _run(model, x, states, call)
        loss = sum((o * data(*o.shape, seed=9)).sum() for o in out)
        loss.backward()
        outs.append([o.data for o in out] + [x.grad] + [w.grad for w in model.weights]
                    + ([s.grad for s in states] if call.get("initial_state") else []))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", LAYERS)
def test_a_builtin_cell_called_directly_is_one_step_of_the_reference(name):
    _, cell_cls = LAYERS[name]
    cell = cell_cls(U, dtype="float64")
    x_t = data(B, D)
    n_states = 2 if name == "LSTM" else 1
    states = [mg.Tensor(data(B, U, seed=5 + i)) for i in range(n_states)]
    out, new = cell(x_t, states)
    _, want = reference(name, x_t[:, None], cell.get_weights(), [s.data for s in states])
    np.testing.assert_allclose(out.data, want[0], rtol=1e-12)
    for got, w in zip(new, want):
        np.testing.assert_allclose(got.data, w, rtol=1e-12)


# ------------------------------------------------------------------------------------------------------------
# A user's cell gets the sequence machinery
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_user_cell_matches_its_numpy_loop(masked, go_backwards):
    layer = built_rnn(MinimalRNNCell(U), return_sequences=True, return_state=True, go_backwards=go_backwards)
    x, h0 = data(B, T, D, seed=1), data(B, U, seed=2)
    mask = MASK if masked else None
    seq, h = layer(x, initial_state=h0, mask=mask)
    want_seq, want_h = minimal_reference(x, *layer.get_weights(), h0, mask, go_backwards)
    np.testing.assert_allclose(seq.data, want_seq, rtol=1e-12)
    np.testing.assert_allclose(h.data, want_h, rtol=1e-12)
    if masked:  # leading masked steps repeat the initial state; final state after the last unmasked step
        if not go_backwards:
            np.testing.assert_allclose(seq.data[1, :2], [h0[1], h0[1]])
        assert layer.compute_mask(x, mask)[0].shape == (B, T)


@pytest.mark.parametrize("options", [dict(), dict(go_backwards=True, return_sequences=True),
                                     dict(return_state=True, return_sequences=True)])
def test_user_cell_gradients_match_central_differences(options):
    layer = built_rnn(MinimalRNNCell(U), **options)
    x = mg.Tensor(data(B, T, D, seed=1), requires_grad=True)
    h0 = mg.Tensor(data(B, U, seed=2), requires_grad=True)
    assert mg.gradcheck(lambda x_, h_, *w: layer(x_, initial_state=h_, mask=MASK), [x, h0, *layer.weights],
                        eps=1e-6, atol=1e-7, rtol=1e-5)
    assert gradcheck_layer(layer, data(B, T, D, seed=3), mask=MASK)


def test_user_cell_stateful_two_chunks_equal_one_call_and_reset_states():
    stateful = built_rnn(MinimalRNNCell(U), stateful=True, return_sequences=True, batch_input_shape=(B, None, D))
    plain = built_rnn(MinimalRNNCell(U), return_sequences=True, return_state=True)
    plain.set_weights(stateful.get_weights())
    x = data(B, T, D)
    first, second = stateful(x[:, :2]), stateful(x[:, 2:])
    whole, h = plain(x)
    np.testing.assert_allclose(np.concatenate([first.data, second.data], axis=1), whole.data, rtol=1e-12)
    np.testing.assert_allclose(stateful.states[0], h.data, rtol=1e-12)
    stateful.reset_states()
    np.testing.assert_array_equal(stateful.states[0], 0)
    np.testing.assert_allclose(stateful(x).data, whole.data, rtol=1e-12)


def test_states_of_different_sizes_and_an_output_of_its_own_size():
    layer = built_rnn(ProjectedCell(3, 2), return_sequences=True, return_state=True)
    assert layer.state_size == [3, 6] and layer.output_size == 2
    assert layer.compute_output_shape((None, T, D)) == [(None, T, 2), (None, 3), (None, 6)]
    x = data(B, T, D)
    a0, b0 = data(B, 3, seed=4), data(B, 6, seed=5)
    seq, a, b = layer(x, initial_state=[a0, b0], mask=MASK)
    assert seq.shape == (B, T, 2) and a.shape == (B, 3) and b.shape == (B, 6)
    # masked steps repeat the previous output; the leading ones (sample 1) output zeros, the output's size
    # differing from the first state's
    np.testing.assert_array_equal(seq.data[1, :2], 0)
    np.testing.assert_array_equal(seq.data[0, 1], seq.data[0, 0])
    np.testing.assert_array_equal(seq.data[0, 4], seq.data[0, 3])
    xt = mg.Tensor(x, requires_grad=True)
    assert mg.gradcheck(lambda x_, *w: layer(x_, initial_state=[a0, b0], mask=MASK), [xt, *layer.weights],
                        atol=1e-7, rtol=1e-5)


def test_user_cell_in_sequential_and_functional_models_with_symbolic_states():
    mg.seed(0)
    model = Sequential([RNN(MinimalRNNCell(U), input_shape=(T, D), return_sequences=True), RNN(MinimalRNNCell(2)),
                        Dense(1)])
    model.compile("adam", "mse")
    x, y = data(8, T, D).astype(np.float32), data(8, 1).astype(np.float32)
    losses = model.fit(x, y, epochs=3, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    inp, h_in = Input(shape=(None, D)), Input(shape=(U,))
    seq, h = RNN(MinimalRNNCell(U), return_sequences=True, return_state=True)(inp, initial_state=h_in)
    fmodel = Model([inp, h_in], [seq, h])
    out_seq, out_h = fmodel.predict([x, np.zeros((8, U), np.float32)])
    assert out_seq.shape == (8, T, U) and np.allclose(out_seq[:, -1], out_h)


def test_user_cell_dropout_masks_drawn_once_per_sequence_and_replayable():
    mg.seed(1)
    cell = DropoutCell(U, dropout=0.5, recurrent_dropout=0.5)
    layer = built_rnn(cell, return_sequences=True)
    x = data(B, T, D)
    with record_dropout() as record:
        a = layer(x, training=True).data
    assert [shape for shape, _, _ in record.masks] == [(B, D), (B, U)]     # one draw each for the sequence
    steps = cell.calls[-T:]
    assert all(s["inputs"] is steps[0]["inputs"] and s["state"] is steps[0]["state"] for s in steps)
    with replay_dropout(record):
        np.testing.assert_array_equal(layer(x, training=True).data, a)
    cell.calls.clear()
    layer(x)                                                                 # inference: no masks at all
    assert all(not s for s in cell.calls)
    assert gradcheck_layer(layer, x, training=True)                          # deterministic under replay


def test_user_cell_truncated_bptt_and_gradient_flow():
    layer = built_rnn(MinimalRNNCell(U), truncate_gradient=2, return_sequences=True)
    x, y = data(B, T, D, seed=1), data(B, T, U, seed=2)
    assert check_truncated_bptt(layer, x, "mse", y=y)
    with pytest.raises(mg.GradcheckError):
        check_truncated_bptt(layer, x, "mse", y=y, k=3)
    full = built_rnn(MinimalRNNCell(U), return_sequences=True)
    full.set_weights(layer.get_weights())
    flow = gradient_flow(full, x, loss=lambda out: (out ** 2).sum())
    assert flow.dh.shape == (B, T, U) and flow.dc is None and flow.cell == "RNN(MinimalRNNCell)"
    (full(x) ** 2).sum().backward()
    for name, w in zip(["kernel", "recurrent_kernel"], full.weights):
        np.testing.assert_allclose(flow.shares[name].sum(axis=0), w.grad, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------------------------------------
# StackedRNNCells
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("go_backwards", [False, True])
def test_stacked_cells_equal_stacked_layers(go_backwards):
    """RNN(StackedRNNCells([LSTMCell(4), GRUCell(3)])) is LSTM(4, return_sequences) then GRU(3) on its outputs:
    states flat in cell order, weights in cell order, the last cell's output."""
    stacked = RNN(StackedRNNCells([LSTMCell(4), GRUCell(3)]), return_state=True, return_sequences=True,
                  go_backwards=go_backwards, dtype="float64")
    lower = LSTM(4, return_sequences=True, return_state=True, go_backwards=go_backwards, dtype="float64")
    upper = GRU(3, return_sequences=True, return_state=True, dtype="float64")
    x, states = data(B, T, D), [data(B, 4, seed=1), data(B, 4, seed=2), data(B, 3, seed=3)]
    seq_lower, h1, c1 = lower(x, initial_state=states[:2], mask=MASK)
    seq, h2 = upper(seq_lower, initial_state=states[2], mask=lower.compute_mask(x, MASK)[0])
    stacked(x)
    assert stacked.state_size == [4, 4, 3] and stacked.output_size == 3
    assert [w.shape for w in stacked.get_weights()] == [w.shape for w in lower.get_weights() + upper.get_weights()]
    stacked.set_weights(lower.get_weights() + upper.get_weights())
    got = stacked(x, initial_state=states, mask=MASK)
    assert len(got) == 4
    for g, w in zip(got, [seq, h1, c1, h2]):
        np.testing.assert_allclose(g.data, w.data, rtol=1e-12, atol=1e-14)
    xt = mg.Tensor(x, requires_grad=True)
    assert mg.gradcheck(lambda x_, *w: stacked(x_, initial_state=states, mask=MASK), [xt, *stacked.weights],
                        mode="projection", atol=1e-7, rtol=1e-5)


def test_a_list_of_cells_is_a_stack_and_user_cells_stack_too():
    layer = RNN([MinimalRNNCell(3), LSTMCell(2), ProjectedCell(2, 5)], return_state=True)
    assert isinstance(layer.cell, StackedRNNCells)
    out = layer(data(B, T, D).astype(np.float32))
    assert [o.shape for o in out] == [(B, 5), (B, 3), (B, 2), (B, 2), (B, 2), (B, 4)]
    assert layer.state_names == ("h_0", "h_1", "c_1", "state_0_2", "state_1_2")


def test_stacked_dropout_masks_are_named_per_cell():
    mg.seed(0)
    layer = RNN(StackedRNNCells([LSTMCell(3, dropout=0.2, implementation=2), DropoutCell(2, recurrent_dropout=0.5)]))
    x = data(B, T, D)
    layer(x)
    masks = layer.draw_dropout_masks(mg.Tensor(x), training=True)
    assert sorted(masks) == ["0/inputs", "1/state"]
    assert masks["0/inputs"].shape == (B, D) and masks["1/state"].shape == (B, 2)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_a_stack_of_builtin_cells_runs_fused_level_by_level_as_the_tape_does(go_backwards):
    """RNN(StackedRNNCells of built-in cells) takes the fused kernels, one tape entry per level; the tape path
    (unroll=True), stepping the levels together, computes the same outputs and gradients, masks and dropout
    included."""
    def make(unroll):
        cells = [LSTMCell(4, dropout=0.2, recurrent_dropout=0.3), GRUCell(3, reset_after=True, implementation=2,
                                                                          dropout=0.25)]
        layer = RNN(StackedRNNCells(cells, dtype="float64"), return_sequences=True, return_state=True,
                    go_backwards=go_backwards, unroll=unroll)
        layer(data(B, T, D))
        return layer
    fused, taped = make(False), make(True)
    taped.set_weights(fused.get_weights())
    x = data(B, T, D, seed=1)
    mg.seed(2)
    with record_dropout() as record:
        fused(x, training=True)
    results = []
    for layer in (fused, taped):
        xt = mg.Tensor(x, requires_grad=True)
        with replay_dropout(record):
            out = layer(xt, mask=MASK, training=True)
        sum((o * data(*o.shape, seed=7)).sum() for o in out).backward()
        results.append([o.data for o in out] + [xt.grad] + [w.grad for w in layer.weights])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    xt = mg.Tensor(x, requires_grad=True)
    tape = fused(xt, mask=MASK)[0]
    assert [e.op for e in mg.tape(tape)] == ["FusedRNN", "FusedRNN"]   # one tape entry per level
