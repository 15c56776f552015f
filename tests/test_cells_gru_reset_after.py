"""GRU(reset_after=True): the convention of Keras 2.1.3+, Keras 3, cuDNN and PyTorch (reset gate applied after the
recurrent product, bias (2, 3 units)), in the fused kernel and in the cell; checked against the shared reference,
central differences, the tape path, and Keras 3 and PyTorch with copied weights when they are installed."""
import os

import numpy as np
import pytest
from rnn_reference import reference

import minigrad as mg
from layers import GRU, RNN, GRUCell
from layers.tools import record_dropout, replay_dropout

B, T, D, U = 3, 5, 4, 3
MASK = np.array([[1, 1, 0, 1, 1], [0, 0, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=bool)


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def gru(seed=0, **kw):
    layer = GRU(U, reset_after=True, dtype="float64", **kw)
    layer._maybe_build((None, T, D))
    rng = np.random.default_rng(seed)
    layer.set_weights([0.5 * rng.standard_normal(w.shape) for w in layer.get_weights()])
    return layer


def test_bias_shape_and_default():
    assert GRU(2).reset_after is False and GRUCell(2).reset_after is False
    layer = GRU(U, reset_after=True, bias_initializer="ones")
    layer._maybe_build((None, T, D))
    assert [w.shape for w in layer.get_weights()] == [(D, 3 * U), (U, 3 * U), (2, 3 * U)]
    np.testing.assert_array_equal(layer.get_weights()[2], 1.0)
    assert layer.cell.reset_after and layer.get_config()["reset_after"] is True


@pytest.mark.parametrize("unroll", [False, True])
@pytest.mark.parametrize("implementation", [0, 1, 2])
@pytest.mark.parametrize("options", [dict(), dict(go_backwards=True, mask=True), dict(use_bias=False),
                                     dict(activation="relu", recurrent_activation="sigmoid", mask=True)])
def test_outputs_match_the_reference_and_gradients_central_differences(options, implementation, unroll):
    options = dict(options)
    masked = options.pop("mask", False)
    layer = gru(implementation=implementation, unroll=unroll, return_sequences=True, **options)
    x, h0 = data(B, T, D, seed=1), data(B, U, seed=2)
    mask = MASK if masked else None
    out = layer(x, initial_state=h0, mask=mask)
    want, _ = reference("GRU", x, layer.get_weights(), [h0], activation=options.get("activation", "tanh"),
                        recurrent_activation=options.get("recurrent_activation", "hard_sigmoid"), mask=mask,
                        go_backwards=options.get("go_backwards", False), reset_after=True)
    np.testing.assert_allclose(out.data, want, rtol=1e-10, atol=1e-12)
    xt, ht = mg.Tensor(x, requires_grad=True), mg.Tensor(h0, requires_grad=True)
    assert mg.gradcheck(lambda x_, h_, *w: layer(x_, initial_state=h_, mask=mask), [xt, ht, *layer.weights],
                        atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("implementation", [0, 2])
def test_fused_bptt_matches_tape_bptt_with_dropout(implementation):
    fused, taped = (gru(implementation=implementation, unroll=u, return_sequences=True, dropout=0.3,
                        recurrent_dropout=0.3) for u in (False, True))
    x = data(B, T, D, seed=1)
    mg.seed(0)
    with record_dropout() as record:
        fused(x, training=True)
    grads = []
    for layer in (fused, taped):
        xt = mg.Tensor(x, requires_grad=True)
        with replay_dropout(record):
            out = layer(xt, training=True, mask=MASK)
        (out * data(B, T, U, seed=3)).sum().backward()
        grads.append([out.data, xt.grad] + [w.grad for w in layer.weights])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_reset_after_differs_from_reset_before():
    before = GRU(U, dtype="float64")
    after = gru()
    before._maybe_build((None, T, D))
    before.set_weights([after.get_weights()[0], after.get_weights()[1], after.get_weights()[2][0]])
    after.set_weights(after.get_weights()[:2] + [np.stack([after.get_weights()[2][0], np.zeros(3 * U)])])
    x = data(B, T, D, seed=1)
    assert not np.allclose(before(x).data, after(x).data)


@pytest.mark.parametrize("unroll", [False, True])
def test_rnn_over_the_cell_is_the_layer(unroll):
    layer = gru(return_sequences=True)
    rnn = RNN(GRUCell(U, reset_after=True, dtype="float64"), return_sequences=True, unroll=unroll)
    x = data(B, T, D, seed=1)
    rnn(x)
    rnn.set_weights(layer.get_weights())
    np.testing.assert_allclose(rnn(x, mask=MASK).data, layer(x, mask=MASK).data, rtol=1e-12, atol=1e-14)


def test_against_pytorch_gru_with_copied_weights():
    torch = pytest.importorskip("torch")
    layer = gru(recurrent_activation="sigmoid", return_sequences=True, return_state=True)
    W, R, b = layer.get_weights()
    x, h0 = data(B, T, D, seed=1), data(B, U, seed=2)

    def torch_rows(M):  # ours (n, 3U) columns z, r, h -> torch (3U, n) rows r, z, n
        z, r, h = np.split(M, 3, axis=-1)
        return np.concatenate([r, z, h], axis=-1).T

    net = torch.nn.GRU(D, U, batch_first=True).double()
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.from_numpy(torch_rows(W)))
        net.weight_hh_l0.copy_(torch.from_numpy(torch_rows(R)))
        net.bias_ih_l0.copy_(torch.from_numpy(torch_rows(b[0][None])[:, 0]))
        net.bias_hh_l0.copy_(torch.from_numpy(torch_rows(b[1][None])[:, 0]))
    xt = torch.tensor(x, requires_grad=True)
    seq, h_n = net(xt, torch.tensor(h0)[None])
    ours_x = mg.Tensor(x, requires_grad=True)
    out, h = layer(ours_x, initial_state=h0)
    np.testing.assert_allclose(out.data, seq.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.data, h_n[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    v = data(B, T, U, seed=4)
    (seq * torch.from_numpy(v)).sum().backward()
    (out * v).sum().backward()
    np.testing.assert_allclose(ours_x.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(torch_rows(layer.recurrent_kernel.grad), net.weight_hh_l0.grad.numpy(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(torch_rows(layer.bias.grad[1][None])[:, 0], net.bias_hh_l0.grad.numpy(), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # Keras' own numpy 2 warnings
@pytest.mark.parametrize("unroll", [False, True])
def test_against_keras3_gru_reset_after_with_copied_weights(unroll):
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras runs on another backend")
    x = data(B, T, D, seed=1).astype(np.float32)
    theirs = keras.layers.GRU(U, reset_after=True, return_sequences=True, go_backwards=True)
    want = keras.ops.convert_to_numpy(theirs(x))
    ours = GRU(U, reset_after=True, recurrent_activation="sigmoid", return_sequences=True, go_backwards=True,
               unroll=unroll)
    ours(x)
    rng = np.random.default_rng(5)
    theirs.set_weights([w + 0.3 * rng.standard_normal(w.shape).astype(np.float32) for w in theirs.get_weights()])
    want = keras.ops.convert_to_numpy(theirs(x))
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x).data, want, rtol=1e-4, atol=1e-5)
