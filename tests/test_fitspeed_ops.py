"""The faster numpy rules behind a training step (minigrad/ops.py, layers/core.py): adding rows back at integer ids
(the VJP of an embedding lookup) without np.add.at, the max of many short rows, and TimeDistributed folding a
time-major sequence without copies. Each against the plain numpy form it replaces."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from layers import LSTM, Activation, Dense, Dropout, Sequential, TimeDistributed
from minigrad import ops

# ============================================================ rows added back at integer ids

@st.composite
def lookups(draw):
    """(table shape, ids, cotangent): tables from 1 to 700 rows (both forms: one-hot product and sorted sums)."""
    vocab = draw(st.sampled_from([1, 3, 45, 64, 65, 300, 700]))
    rest = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4))
    ids_shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=12))
    ids = draw(hnp.arrays(np.int64, ids_shape, elements=st.integers(-vocab, vocab - 1)))
    g = draw(hnp.arrays(np.float64, ids_shape + rest, elements=st.floats(-3, 3, width=64)))
    return (vocab,) + rest, ids, g


@given(lookups())
def test_rows_added_at_ids_equal_np_add_at(case):
    shape, ids, g = case
    want = np.zeros(shape)
    np.add.at(want, ids, g)  # the definition: repeated ids add up, negative ids count from the end
    got = ops._scatter_add(g, shape, np.float64, ids)
    assert got.shape == shape and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("vocab", [45, 1000])  # the one-hot product and the sorted sums
@pytest.mark.parametrize("id_dtype", [np.int32, np.uint8, np.int64])
def test_rows_added_at_ids_float32_and_unsigned_ids(vocab, id_dtype):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, min(vocab, 255), (32, 40)).astype(id_dtype)
    g = rng.standard_normal((32, 40, 16)).astype(np.float32)
    want = np.zeros((vocab, 16))
    np.add.at(want, ids, g.astype(np.float64))
    got = ops._scatter_add(g, (vocab, 16), np.float32, ids)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("vocab", [7, 200])
def test_embedding_lookup_gradients_first_and_second_order(vocab):
    rng = np.random.default_rng(1)
    table = mg.Tensor(rng.standard_normal((vocab, 3)), requires_grad=True)
    ids = rng.integers(0, vocab, (4, 5))
    weights = rng.standard_normal((4, 5, 3))
    assert mg.gradcheck(lambda t: (t[ids] * weights).sum(), [table])
    assert mg.gradgradcheck(lambda t: (t[ids] * t[ids]).sum(), [table])  # the graph rule (ScatterAdd) agrees


def test_a_transposed_cotangent_is_added_back_correctly():
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 45, (8, 6))
    g = rng.standard_normal((6, 8, 4)).transpose(1, 0, 2)  # a strided view, as the recurrent kernel's dx
    want = np.zeros((45, 4))
    np.add.at(want, ids, g)
    np.testing.assert_allclose(ops._scatter_add(g, (45, 4), np.float64, ids), want, rtol=1e-12, atol=1e-12)


# ============================================================ max along one axis

@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=70),
                  elements=st.floats(allow_nan=True, allow_infinity=True, width=64)), st.data())
def test_max_keepdims_equals_numpy_max(a, data):
    axis = (data.draw(st.integers(0, a.ndim - 1)),)
    np.testing.assert_array_equal(ops.max_keepdims(a, axis), a.max(axis=axis, keepdims=True))


@pytest.mark.parametrize("shape,axis", [((1280, 45), 1), ((4096, 8), 1), ((32, 40, 45), 2), ((45, 1280), 0)])
def test_max_keepdims_of_many_short_rows_with_nan_and_ties(shape, axis):
    rng = np.random.default_rng(3)
    a = rng.integers(-3, 3, shape).astype(np.float32)  # many ties
    a.flat[::997] = np.nan
    np.testing.assert_array_equal(ops.max_keepdims(a, (axis,)), a.max(axis=axis, keepdims=True))


# ============================================================ TimeDistributed on a time-major sequence

def _time_major(x):
    """The same values as ``x`` (batch, time, ...), laid out time-major, as a recurrent layer returns them."""
    return np.ascontiguousarray(x.swapaxes(0, 1)).swapaxes(0, 1)


@pytest.mark.parametrize("make", [lambda: Dense(5, activation="softmax"), lambda: Activation("tanh"),
                                  lambda: Dense(2, use_bias=False)])
def test_time_distributed_over_a_time_major_view_computes_the_same(make):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 6))
    layer = TimeDistributed(make(), dtype="float64")
    g = rng.standard_normal((3, 4) + layer.compute_output_shape((3, 4, 6))[2:])
    results = []
    for data in (x, _time_major(x)):
        t = mg.Tensor(data, requires_grad=True)
        out = layer(t)
        out.backward(g)
        results.append((out.data, t.grad, [w.grad for w in layer.trainable_weights]))
        for w in layer.trainable_weights:
            w.grad = None
    (o1, dx1, dw1), (o2, dx2, dw2) = results
    np.testing.assert_allclose(o2, o1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx2, dx1, rtol=1e-12, atol=1e-12)
    for a, b in zip(dw2, dw1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert dx2.swapaxes(0, 1).flags.c_contiguous  # the gradient goes back time-major: no copy for the RNN


def test_time_distributed_gradient_reaches_the_recurrent_kernel_time_major(monkeypatch):
    from layers import recurrent
    seen = []
    backward = recurrent.FusedRNN.backward

    def spy(ctx, d_outputs, *d_states):
        seen.append(d_outputs.swapaxes(0, 1).flags.c_contiguous)
        return backward(ctx, d_outputs, *d_states)
    monkeypatch.setattr(recurrent.FusedRNN, "backward", staticmethod(spy))
    model = Sequential([LSTM(6, return_sequences=True, input_shape=(5, 3)), TimeDistributed(Dense(4))])
    model.compile("adam", "mse")
    model.train_on_batch(np.ones((2, 5, 3), np.float32), np.zeros((2, 5, 4), np.float32))
    assert seen == [True]


def test_time_distributed_dropout_keeps_the_batch_major_order():
    # a layer drawing random numbers sees its rows in the order it always did (batch-major), whatever the layout
    x = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4) + 1
    outs = []
    for data in (x, _time_major(x)):
        mg.seed(5)
        outs.append(TimeDistributed(Dropout(0.5))(data, training=True).data)
    np.testing.assert_array_equal(outs[0], outs[1])
