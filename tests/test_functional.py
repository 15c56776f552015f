"""The functional API: Input placeholders, symbolic layer calls and Model (layers/graph.py, layers/functional.py).

Oracles: a Sequential model with the same weights (outputs, gradients and a training run must match exactly),
float64 central differences (mg.gradcheck) for the encoder-decoder, and hand-summed gradients for shared layers.
"""
import numpy as np
import pytest

import minigrad as mg
from layers import GRU, LSTM, Dense, Dropout, Embedding, SimpleRNN, TimeDistributed
from layers.functional import Input, Model
from layers.graph import SymbolicTensor
from layers.sequential import Sequential


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


def rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def grads(weights):
    return [None if w.grad is None else w.grad.copy() for w in weights]


def zero_grads(weights):
    for w in weights:
        w.grad = None


def encoder_decoder(units=3, dim=2, out_dim=3, dtype="float32", cell=LSTM):
    """[enc_in (b, Te, dim), dec_in (b, Td, dim)] -> (b, Td, out_dim): the decoder starts from the encoder's
    final states."""
    enc_in = Input(shape=(None, dim), dtype=dtype)
    _, *states = cell(units, return_state=True)(enc_in)
    dec_in = Input(shape=(None, dim), dtype=dtype)
    seq = cell(units, return_sequences=True)(dec_in, initial_state=states)
    out = TimeDistributed(Dense(out_dim, activation="softmax"))(seq)
    return Model([enc_in, dec_in], out)


# ================================================================ symbolic calls

def test_symbolic_shapes_and_nothing_computed():
    x = Input(shape=(None, 16))
    assert isinstance(x, SymbolicTensor) and x.shape == (None, None, 16)
    out, h, c = LSTM(8, return_state=True, return_sequences=True)(x)
    assert (out.shape, h.shape, c.shape) == ((None, None, 8), (None, 8), (None, 8))
    y = TimeDistributed(Dense(4))(out)
    assert y.shape == (None, None, 4) and y.dtype == "float32"
    assert Input(batch_shape=(32, 10, 16)).shape == (32, 10, 16)
    assert Input(shape=5).shape == (None, 5)
    assert Input(shape=(7,), batch_size=3).shape == (3, 7)
    with pytest.raises(TypeError, match="has no values"):
        np.asarray(x)


def test_layer_built_from_symbolic_shape():
    layer = LSTM(6)
    assert not layer.built
    layer(Input(shape=(None, 4)))
    assert layer.built and [w.shape for w in layer.weights] == [(4, 24), (6, 24), (24,)]


def test_model_attributes():
    model = encoder_decoder(units=4, dim=2, out_dim=5)
    assert model.input_shape == [(None, None, 2), (None, None, 2)]
    assert model.output_shape == (None, None, 5)
    names = [type(layer).__name__ for layer in model.layers]
    assert names.count("InputLayer") == 2 and names.count("LSTM") == 2 and "TimeDistributed" in names
    assert len(model.weights) == 3 + 3 + 2 and len(model.trainable_weights) == 8
    x = Input(shape=(3,))
    identity = Model(x, x)
    assert identity.output_shape == (None, 3) and identity.layers[0].name == x.layer.name
    np.testing.assert_array_equal(identity(np.ones((2, 3))).data, np.ones((2, 3)))


# ================================================================ against Sequential

@pytest.mark.parametrize("cell", [SimpleRNN, GRU, LSTM])
def test_mirrors_sequential_outputs_gradients_and_training(cell):
    seq = Sequential([cell(5, return_sequences=True, input_shape=(None, 3)),
                      TimeDistributed(Dense(4, activation="softmax"))])
    inp = Input(shape=(None, 3))
    out = TimeDistributed(Dense(4, activation="softmax"))(cell(5, return_sequences=True)(inp))
    fm = Model(inp, out)
    fm.set_weights(seq.get_weights())
    x, v = rand(6, 7, 3), rand(6, 7, 4, seed=1)

    ys, yf = seq(x), fm(x)
    np.testing.assert_array_equal(ys.data, yf.data)
    (ys * v).sum().backward()
    (yf * v).sum().backward()
    for gs, gf in zip(grads(seq.weights), grads(fm.weights)):
        np.testing.assert_array_equal(gs, gf)

    # the shared training loop gives the same run (logits path included) for both
    y = np.eye(4, dtype=np.float32)[np.random.default_rng(2).integers(0, 4, (6, 7))]
    for m in (seq, fm):
        zero_grads(m.weights)
        m.compile("sgd", "categorical_crossentropy", metrics=["acc"])
    hs = seq.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
    hf = fm.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0)
    assert hs.history == hf.history
    for a, b in zip(seq.get_weights(), fm.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(seq.predict(x), fm.predict(x))


def test_masks_propagate_like_sequential_and_padding_is_ignored():
    ids = np.array([[3, 1, 2, 0, 0], [4, 4, 5, 5, 1], [2, 0, 0, 0, 0]])
    seq = Sequential([Embedding(6, 4, mask_zero=True, input_shape=(None,)), LSTM(3)])
    inp = Input(shape=(None,), dtype="int64")
    emb = Embedding(6, 4, mask_zero=True)(inp)
    out = LSTM(3)(emb)
    assert emb.has_mask and not out.has_mask
    fm = Model(inp, out)
    fm.set_weights(seq.get_weights())
    np.testing.assert_array_equal(seq(ids).data, fm(ids).data)
    # a padded sequence gives the result of the unpadded one
    np.testing.assert_allclose(fm(ids[:1, :3]).data, fm(ids[:1]).data, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fm(ids[2:, :1]).data, fm(ids[2:]).data, rtol=1e-6, atol=1e-7)


def test_mask_reaches_the_loss_of_a_sequence_output():
    inp = Input(shape=(None,))
    seq = LSTM(3, return_sequences=True)(Embedding(6, 4, mask_zero=True)(inp))
    out = TimeDistributed(Dense(2))(seq)
    assert seq.has_mask and out.has_mask
    model = Model(inp, out)
    ids = np.array([[3, 1, 0], [2, 0, 0]])
    _, masks = model._forward([ids])
    np.testing.assert_array_equal(masks[0], ids != 0)
    model.compile("sgd", "mse")
    y = rand(2, 3, 2)
    base = model.evaluate(ids, y, verbose=0)
    y2 = y.copy()
    y2[ids == 0] += 100.0  # targets at padded steps do not count
    assert model.evaluate(ids, y2, verbose=0) == pytest.approx(base)


# ================================================================ gradients through the graph

def test_encoder_decoder_gradcheck_reaches_the_encoder():
    model = encoder_decoder(units=2, dim=2, out_dim=3, dtype="float64")
    xe, xd = rand(2, 3, 2, dtype=np.float64), rand(2, 2, 2, seed=1, dtype=np.float64)
    weights = model.weights
    assert mg.gradcheck(lambda *ws: model([xe, xd]), weights, atol=1e-6)

    # a real loss on the decoder's output puts a nonzero gradient on every encoder weight, via the states only
    zero_grads(weights)
    target = rand(2, 2, 3, seed=3)
    ((model([xe, xd]) - target) ** 2).sum().backward()
    encoder = model.layers[2]  # Keras' order, as lstm_seq2seq_restore reads it: both Inputs, then the encoder
    assert isinstance(encoder, LSTM) and encoder.return_state
    for w in encoder.weights:
        assert w.grad is not None and np.abs(w.grad).max() > 1e-8, w.name


def test_shared_layer_listed_once_and_gradients_add_up():
    dense = Dense(3)
    a, b = Input(shape=(4,)), Input(shape=(4,))
    model = Model([a, b], [dense(a), dense(b)])
    assert len(model.weights) == 2 and sum(layer is dense for layer in model.layers) == 1
    xa, xb, va, vb = rand(5, 4), rand(5, 4, seed=1), rand(5, 3, seed=2), rand(5, 3, seed=3)
    oa, ob = model([xa, xb])
    ((oa * va).sum() + (ob * vb).sum()).backward()
    np.testing.assert_allclose(dense.kernel.grad, xa.T @ va + xb.T @ vb, rtol=1e-5)
    np.testing.assert_allclose(dense.bias.grad, va.sum(0) + vb.sum(0), rtol=1e-5)


def test_shared_rnn_gradient_is_the_sum_of_both_uses():
    rnn = GRU(4)
    a, b = Input(shape=(None, 3)), Input(shape=(None, 3))
    model = Model([a, b], [rnn(a), rnn(b)])
    xa, xb, va, vb = rand(2, 5, 3), rand(2, 6, 3, seed=1), rand(2, 4, seed=2), rand(2, 4, seed=3)
    oa, ob = model([xa, xb])
    ((oa * va).sum() + (ob * vb).sum()).backward()
    both = grads(rnn.weights)
    zero_grads(rnn.weights)
    (rnn(xa) * va).sum().backward()
    first = grads(rnn.weights)
    zero_grads(rnn.weights)
    (rnn(xb) * vb).sum().backward()
    for g, g1, g2 in zip(both, first, grads(rnn.weights)):
        np.testing.assert_allclose(g, g1 + g2, rtol=1e-5, atol=1e-7)


def test_nested_model_as_a_layer():
    enc_in = Input(shape=(None, 2))
    _, h, c = LSTM(3, return_state=True)(enc_in)
    encoder = Model(enc_in, [h, c])
    outer_in = Input(shape=(None, 2))
    h2, c2 = encoder(outer_in)  # a Model called on symbolic tensors, like a layer
    assert h2.shape == (None, 3) and c2.shape == (None, 3)
    dec_in = Input(shape=(None, 2))
    dec = LSTM(3)
    out = dec(dec_in, initial_state=[h2, c2])
    nested = Model([outer_in, dec_in], out)
    flat = Model([enc_in, dec_in], dec(dec_in, initial_state=[h, c]))
    assert len(nested.weights) == len(flat.weights) == 6
    xe, xd = rand(2, 4, 2), rand(2, 3, 2, seed=1)
    np.testing.assert_allclose(nested([xe, xd]).data, flat([xe, xd]).data, rtol=1e-6)
    nested([xe, xd]).sum().backward()
    assert all(w.grad is not None for w in encoder.weights)


def test_training_flag_reaches_the_layers():
    inp = Input(shape=(20,))
    model = Model(inp, Dropout(0.5)(inp))
    x = np.ones((4, 20), np.float32)
    np.testing.assert_array_equal(model(x).data, x)
    assert (model(x, training=True).data == 0).any()


# ================================================================ stateful

def test_stateful_model_from_batch_shape_keeps_and_resets_states():
    inp = Input(batch_shape=(2, None, 3))
    rnn = LSTM(4, stateful=True, return_sequences=True)
    model = Model(inp, rnn(inp))
    assert model.stateful
    ref = LSTM(4, return_sequences=True)
    x = rand(2, 6, 3)
    ref(x)
    ref.set_weights(rnn.get_weights())
    full = ref(x).data
    first = model.predict(x[:, :3], batch_size=2)
    second = model.predict(x[:, 3:], batch_size=2)
    np.testing.assert_allclose(np.concatenate([first, second], 1), full, rtol=1e-5, atol=1e-6)
    model.reset_states()
    np.testing.assert_allclose(model.predict(x[:, :3], batch_size=2), first, rtol=1e-6)
    with pytest.raises(ValueError, match=r"\(2, None, 3\).*\(3, 3, 3\)"):
        model.predict(rand(3, 3, 3), batch_size=3)


def test_stateful_without_batch_shape_raises_at_construction():
    with pytest.raises(ValueError, match="batch_shape"):
        LSTM(4, stateful=True)(Input(shape=(None, 3)))


# ================================================================ training plumbing

def two_in_two_out():
    seq_in = Input(shape=(5, 4), name="seq_in")
    ctx_in = Input(shape=(3,), name="ctx_in")
    h0 = Dense(6, activation="tanh")(ctx_in)
    h = SimpleRNN(6)(seq_in, initial_state=[h0])
    reg = Dense(1, name="reg")(h)
    cls = Dense(3, activation="softmax", name="cls")(h)
    return Model([seq_in, ctx_in], [reg, cls])


def test_multi_input_multi_output_fit_predict_evaluate():
    model = two_in_two_out()
    assert model.input_shape == [(None, 5, 4), (None, 3)]
    assert model.output_shape == [(None, 1), (None, 3)]
    model.compile("adam", ["mse", "categorical_crossentropy"], metrics=["acc"])
    xs, xc = rand(20, 5, 4), rand(20, 3, seed=1)
    yr = rand(20, 1, seed=2)
    yc = np.eye(3, dtype=np.float32)[np.random.default_rng(3).integers(0, 3, 20)]
    hist = model.fit([xs, xc], [yr, yc], batch_size=8, epochs=3, verbose=0, validation_data=([xs, xc], [yr, yc]))
    assert {"loss", "reg_loss", "cls_loss", "reg_acc", "cls_acc", "val_loss"} <= set(hist.history)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    loss, reg_loss, cls_loss, *_ = model.evaluate([xs, xc], [yr, yc], verbose=0)
    assert loss == pytest.approx(reg_loss + cls_loss, rel=1e-5)  # the total is the sum of per-output losses
    pr, pc = model.predict([xs, xc], batch_size=7)
    assert pr.shape == (20, 1) and pc.shape == (20, 3)
    np.testing.assert_allclose(pc.sum(1), 1, rtol=1e-5)
    eager = model([xs, xc])
    np.testing.assert_allclose(eager[1].data, pc, rtol=1e-5, atol=1e-6)


def test_weights_roundtrip_and_files(tmp_path):
    m1, m2 = two_in_two_out(), two_in_two_out()
    xs, xc = rand(4, 5, 4), rand(4, 3, seed=1)
    m2.set_weights(m1.get_weights())
    for a, b in zip(m1.predict([xs, xc]), m2.predict([xs, xc])):
        np.testing.assert_array_equal(a, b)
    m3 = two_in_two_out()
    path = tmp_path / "w.npz"
    m1.save_weights(str(path))
    m3.load_weights(str(path))
    for a, b in zip(m1.predict([xs, xc]), m3.predict([xs, xc])):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        encoder_decoder().load_weights(str(path))


def test_summary_has_connected_to_column():
    lines = []
    encoder_decoder().summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text and "Total params" in text
    lstm_names = [ln.split()[0] for ln in lines if "(LSTM)" in ln]
    enc = lstm_names[0]
    assert f"{enc}[0][1]" in text and f"{enc}[0][2]" in text  # the decoder's initial states are listed


def test_logits_path_keeps_probabilities_for_downstream_layers():
    # an output layer the loss reads as logits (softmax + crossentropy) that also feeds another layer: that layer
    # must still see the probabilities
    x = Input(shape=(4,))
    probs = Dense(3, activation="softmax", name="probs")(x)
    score = Dense(1, name="score")(probs)
    model = Model(x, [probs, score])
    model.compile("sgd", ["categorical_crossentropy", "mse"])
    xs, yc, ys = rand(6, 4), np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2]], rand(6, 1, seed=1)
    total, ce, mse = model.evaluate(xs, [yc, ys], verbose=0)
    p, s = model.predict(xs)
    assert mse == pytest.approx(float(np.mean((s - ys) ** 2)), rel=1e-5)
    assert ce == pytest.approx(float(np.mean(-np.log(p[np.arange(6), yc.argmax(1)]))), rel=1e-4)
    assert total == pytest.approx(ce + mse, rel=1e-5)


def test_nested_model_carries_masks():
    ids_in = Input(shape=(None,))
    inner = Model(ids_in, LSTM(3, return_sequences=True)(Embedding(6, 4, mask_zero=True)(ids_in)))
    outer_in = Input(shape=(None,))
    seq = inner(outer_in)
    assert seq.has_mask
    last = LSTM(2)
    nested = Model(outer_in, last(seq))
    flat = Model(ids_in, last(inner.outputs[0]))
    ids = np.array([[3, 1, 2, 0, 0], [2, 0, 0, 0, 0]])
    np.testing.assert_array_equal(nested(ids).data, flat(ids).data)
    np.testing.assert_allclose(nested(ids[:1, :3]).data, nested(ids[:1]).data, rtol=1e-6, atol=1e-7)


def test_training_pinned_at_graph_construction():
    inp = Input(shape=(50,))
    model = Model(inp, Dropout(0.5)(inp, training=True))  # Keras: a call with training=True always drops
    assert (model(np.ones((2, 50), np.float32)).data == 0).any()


def test_keras1_argument_names():
    x = Input(shape=(3,))
    with pytest.warns(DeprecationWarning) as record:
        model = Model(input=x, output=Dense(2)(x))
    assert {"`inputs`", "`outputs`"} <= {word for r in record for word in str(r.message).split()}
    assert model.output_shape == (None, 2)
