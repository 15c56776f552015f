"""Bidirectional: the two directions against the shared numpy reference, Keras' weight / state / merge order,
masks, stateful layers, models, configs, and Keras 3 itself when installed."""
import json
import os

import numpy as np
import pytest
from rnn_reference import reference

import minigrad as mg
from layers import GRU, LSTM, RNN, Bidirectional, Dense, Embedding, Input, Layer, Model, Sequential, SimpleRNN
from layers.serialization import deserialize, register, serialize
from layers.wrappers import TimeDistributed as WrappersTimeDistributed

B, T, D, U = 2, 5, 3, 4
MASK = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1]], dtype=bool)
CELLS = {"SimpleRNN": SimpleRNN, "GRU": GRU, "LSTM": LSTM}
N_STATES = {"SimpleRNN": 1, "GRU": 1, "LSTM": 2}


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def built(layer, seed=0):
    layer._maybe_build((None, T, D))
    rng = np.random.default_rng(seed)
    layer.set_weights([0.5 * rng.standard_normal(w.shape) for w in layer.get_weights()])
    return layer


def directions(name, bi, x, states=None, mask=None):
    """The reference's forward and backward sequences (input order) and final states, from the wrapper's weights
    split in Keras order: the forward layer's, then the backward layer's."""
    weights = bi.get_weights()
    n = len(weights) // 2
    zeros = [np.zeros((B, U))] * N_STATES[name]
    fw_states, bw_states = (states[:N_STATES[name]], states[N_STATES[name]:]) if states else (zeros, zeros)
    fw_seq, fw_fin = reference(name, x, weights[:n], fw_states, mask=mask)
    bw_seq, bw_fin = reference(name, x, weights[n:], bw_states, mask=mask, go_backwards=True)
    return fw_seq, bw_seq[:, ::-1], fw_fin, bw_fin


MERGE = {"concat": lambda a, b: np.concatenate([a, b], axis=-1), "sum": lambda a, b: a + b,
         "mul": lambda a, b: a * b, "ave": lambda a, b: (a + b) / 2}


@pytest.mark.parametrize("merge_mode", list(MERGE) + [None])
@pytest.mark.parametrize("name", CELLS)
def test_outputs_merge_the_two_directions_in_input_order(name, merge_mode):
    bi = built(Bidirectional(CELLS[name](U, return_sequences=True, dtype="float64"), merge_mode=merge_mode))
    x = data(B, T, D, seed=1)
    out = bi(x, mask=MASK)
    fw, bw, _, _ = directions(name, bi, x, mask=MASK)
    if merge_mode is None:
        assert isinstance(out, list) and len(out) == 2
        np.testing.assert_allclose(out[0].data, fw, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(out[1].data, bw, rtol=1e-12, atol=1e-14)
    else:
        np.testing.assert_allclose(out.data, MERGE[merge_mode](fw, bw), rtol=1e-12, atol=1e-14)
    assert bi.compute_output_shape((None, T, D)) == (
        [(None, T, U)] * 2 if merge_mode is None else (None, T, 2 * U if merge_mode == "concat" else U))


@pytest.mark.parametrize("name", CELLS)
def test_return_state_order_and_initial_state_split_in_half(name):
    bi = built(Bidirectional(CELLS[name](U, return_state=True, dtype="float64")))
    n = N_STATES[name]
    x = data(B, T, D, seed=1)
    states = [data(B, U, seed=10 + i) for i in range(2 * n)]
    out = bi(x, initial_state=states, mask=MASK)
    fw, bw, fw_fin, bw_fin = directions(name, bi, x, states, mask=MASK)
    assert len(out) == 1 + 2 * n
    np.testing.assert_allclose(out[0].data, np.concatenate([fw_fin[0], bw_fin[0]], axis=-1), rtol=1e-12, atol=1e-14)
    for got, want in zip(out[1:], fw_fin + bw_fin):                  # [output, *forward, *backward]
        np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-14)
    again = bi([x, *states], mask=MASK)                             # the Keras list form
    np.testing.assert_array_equal(again[0].data, out[0].data)
    shapes = bi.compute_output_shape((None, T, D))
    assert shapes == [(None, 2 * U)] + [(None, U)] * (2 * n)
    none = built(Bidirectional(CELLS[name](U, return_state=True, dtype="float64"), merge_mode=None))
    assert len(none(x)) == 2 + 2 * n                                 # [fw output, bw output, *fw, *bw]
    with pytest.raises(ValueError, match=rf"{2 * n} initial states.*passed {2 * n - 1}"):
        bi(x, initial_state=states[:-1])


def test_weights_are_the_forward_layers_then_the_backward_layers():
    lstm = LSTM(U, name="enc")
    bi = Bidirectional(lstm)
    bi(data(B, T, D).astype(np.float32))
    assert [w.name for w in bi.weights] == [f"{d}_enc/{n}" for d in ("forward", "backward")
                                            for n in ("kernel", "recurrent_kernel", "bias")]
    assert bi.count_params() == 2 * lstm.cell.n_gates * U * (D + U + 1)
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards and not lstm.built
    weights = [data(*w.shape, seed=i) for i, w in enumerate(bi.weights)]
    given = Bidirectional(LSTM(U), weights=weights)
    given(data(B, T, D).astype(np.float32))
    for got, want in zip(given.forward_layer.get_weights() + given.backward_layer.get_weights(), weights):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_masks_each_direction_carries_and_the_mask_is_handed_on_unchanged():
    bi = built(Bidirectional(GRU(U, return_sequences=True, dtype="float64")))
    x = data(B, T, D, seed=1)
    padded = np.concatenate([x, np.full((B, 2, D), 7.0)], axis=1)
    mask = np.concatenate([np.ones((B, T), bool), np.zeros((B, 2), bool)], axis=1)
    out = bi(padded, mask=mask)
    np.testing.assert_allclose(out.data[:, :T], bi(x).data, rtol=1e-12, atol=1e-14)    # padding changes nothing
    np.testing.assert_array_equal(bi.compute_mask(x, mask), mask)
    none = Bidirectional(GRU(U, return_sequences=True), merge_mode=None)
    assert [m is mask for m in none.compute_mask(x, mask)] == [True, True]
    assert Bidirectional(GRU(U)).compute_mask(x, mask) is None


def test_stateful_carries_both_directions():
    bi = Bidirectional(SimpleRNN(U, stateful=True, dtype="float64"), batch_input_shape=(B, T, D))
    bi._maybe_build((B, T, D))
    x = data(B, T, D)
    first = bi(x).data
    assert not np.allclose(bi(x).data, first)
    bi.reset_states()
    np.testing.assert_allclose(bi(x).data, first)
    states = [data(B, U, seed=1), data(B, U, seed=2)]
    bi.reset_states(states)
    np.testing.assert_array_equal(bi.states[1], states[1])
    with pytest.raises(ValueError, match="expects 2 states"):
        bi.reset_states(states[:1])


def test_gradients_match_central_differences():
    bi = built(Bidirectional(LSTM(U, return_sequences=True, dtype="float64"), merge_mode="mul"))
    x = mg.Tensor(data(B, T, D, seed=1), requires_grad=True)
    states = [mg.Tensor(data(B, U, seed=5 + i), requires_grad=True) for i in range(4)]
    assert mg.gradcheck(lambda x_, *rest: bi(x_, initial_state=list(rest[:4]), mask=MASK), [x, *states, *bi.weights],
                        atol=1e-7, rtol=1e-5)


def test_in_sequential_as_in_the_keras_imdb_example_with_summary(capsys):
    mg.seed(0)
    model = Sequential()
    model.add(Embedding(20, 8, input_length=T, mask_zero=True))
    model.add(Bidirectional(LSTM(6)))
    model.add(Dense(1, activation="sigmoid"))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    ids = np.random.default_rng(0).integers(1, 20, (16, T))
    ids[:8, 3:] = 0
    y = (ids[:, 0] > 10).astype(np.float32)[:, None]
    history = model.fit(ids, y, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    model.summary()
    text = capsys.readouterr().out
    row = next(line for line in text.splitlines() if line.startswith(model.layers[1].name))
    assert "(Bidi" in row and "(None, 12)" in row and row.split()[-1] == f"{2 * 4 * 6 * (8 + 6 + 1):,}"
    first = Sequential([Bidirectional(GRU(3, return_sequences=True), input_shape=(T, D)), Dense(2)])
    assert first.output_shape == (None, T, 2)
    inner = Sequential([Bidirectional(GRU(3, input_shape=(T, D)))])   # the shape may sit on the wrapped layer
    assert inner.output_shape == (None, 6)


def test_functional_with_symbolic_states_and_returned_states():
    enc_in, dec_in = Input(shape=(None, D)), Input(shape=(None, D))
    out, h_f, c_f, h_b, c_b = Bidirectional(LSTM(U, return_state=True))(enc_in)
    seq = Bidirectional(LSTM(U, return_sequences=True), merge_mode="sum")(dec_in, initial_state=[h_f, c_f, h_b, c_b])
    model = Model([enc_in, dec_in], [out, seq])
    a, b = model.predict([data(B, T, D).astype(np.float32), data(B, 2, D, seed=1).astype(np.float32)])
    assert a.shape == (B, 2 * U) and b.shape == (B, 2, U)
    with pytest.raises(ValueError, match=r"state"):
        Bidirectional(LSTM(U))(dec_in, initial_state=[h_f, c_f])


def test_config_round_trip_and_the_backward_copy_from_the_config():
    bi = Bidirectional(GRU(3, go_backwards=True, reset_after=True, return_sequences=True), merge_mode="ave")
    config = json.loads(json.dumps(serialize(bi)))
    again = deserialize(config)
    assert serialize(again) == config
    assert again.merge_mode == "ave" and again.forward_layer.reset_after
    assert again.forward_layer.go_backwards and not again.backward_layer.go_backwards   # flipped from the layer's
    from layers import TimeDistributed
    assert WrappersTimeDistributed is TimeDistributed


def test_a_user_cell_is_wrapped_with_or_without_a_config():
    class Plain(Layer):                          # no get_config: the layer is copied instead
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units, self.state_size = units, units

        def build(self, input_shape):
            self.kernel = self.add_weight("kernel", (input_shape[-1] + self.units, self.units), "glorot_uniform")

        def call(self, inputs, states, training=False):
            h = mg.tanh(mg.concatenate([inputs, states[0]], axis=-1) @ self.kernel)
            return h, [h]

    @register
    class Configured(Plain):
        def get_config(self):
            return {**super().get_config(), "units": self.units}

    try:
        for cls in (Plain, Configured):
            bi = Bidirectional(RNN(cls(3), return_sequences=True))
            out = bi(data(B, T, D).astype(np.float32), mask=MASK)
            assert out.shape == (B, T, 6) and len(bi.weights) == 2
            assert bi.forward_layer.cell is not bi.backward_layer.cell
            assert bi.forward_layer.cell.name.startswith("forward_")
    finally:
        from layers import serialization
        serialization._REGISTRY.pop("Configured", None)


def test_bad_arguments():
    with pytest.raises(TypeError, match="recurrent layer.*Dense"):
        Bidirectional(Dense(3))
    with pytest.raises(ValueError, match="merge_mode 'max'"):
        Bidirectional(LSTM(3), merge_mode="max")


def _keras():
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras runs on another backend")
    return keras


@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # Keras' own numpy 2 warnings
def test_against_keras3_bidirectional_lstm_with_copied_weights():
    keras = _keras()
    x = data(B, T, D, seed=3).astype(np.float32)
    theirs = keras.layers.Bidirectional(keras.layers.LSTM(U, return_sequences=True, return_state=True),
                                        merge_mode="concat")
    want = theirs(x)
    ours = Bidirectional(LSTM(U, recurrent_activation="sigmoid", return_sequences=True, return_state=True))
    ours(x)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    ours.set_weights(theirs.get_weights())
    got = ours(x)
    assert len(got) == len(want) == 5
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.data, keras.ops.convert_to_numpy(w), rtol=1e-4, atol=1e-5)


def test_penalties_of_both_directions_reach_the_model():
    from layers import regularizers
    bi = Bidirectional(SimpleRNN(U, kernel_regularizer=regularizers.l2(0.1), activity_regularizer=regularizers.l1(0.01),
                                 dtype="float64"))
    x = data(B, T, D)
    out = bi(x)
    fw, bw = bi.forward_layer, bi.backward_layer
    kernels = [0.1 * np.sum(fw.kernel.data ** 2), 0.1 * np.sum(bw.kernel.data ** 2)]
    activity = [0.01 * np.abs(fw(x).data).sum(), 0.01 * np.abs(bw(x).data).sum()]
    bi(x)
    np.testing.assert_allclose(sorted(float(p.data) for p in bi.losses), sorted(kernels + activity), rtol=1e-12)
    assert out.shape == (B, 2 * U)
