"""Merge layers: values against numpy references, gradients in float64, functional models, masks, configs."""
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import layers
import minigrad as mg
from layers import LSTM, Dense, Embedding, Input, Model, merge
from layers.merge import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract

rng = np.random.default_rng(0)


def json_of(config):
    return json.loads(json.dumps(config))

ELEMENTWISE = {  # layer class -> numpy reference on inputs of one rank
    Add: lambda xs: sum(xs[1:], xs[0]),
    Subtract: lambda xs: xs[0] - xs[1],
    Multiply: lambda xs: np.prod(np.broadcast_arrays(*xs), axis=0),
    Average: lambda xs: sum(xs[1:], xs[0]) / len(xs),
    Maximum: lambda xs: np.max(np.broadcast_arrays(*xs), axis=0),
    Minimum: lambda xs: np.min(np.broadcast_arrays(*xs), axis=0),
}
FUNCTIONS = {Add: merge.add, Subtract: merge.subtract, Multiply: merge.multiply, Average: merge.average,
             Maximum: merge.maximum, Minimum: merge.minimum}


def T(a):
    return mg.Tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def keras_aligned(xs):
    """Keras 2.0's alignment: an input of lower rank gets axes of size 1 right after its batch axis."""
    ndim = max(x.ndim for x in xs)
    return [x.reshape(x.shape[:1] + (1,) * (ndim - x.ndim) + x.shape[1:]) for x in xs]


# shapes of the non-batch axes that broadcast together, with ranks that may differ
compatible_shapes = st.lists(st.integers(1, 3), min_size=1, max_size=3).flatmap(
    lambda full: st.lists(st.tuples(st.integers(0, len(full) - 1), st.lists(st.booleans(), min_size=len(full),
                                                                            max_size=len(full))),
                          min_size=2, max_size=4).map(
        lambda picks: [tuple(1 if ones[i] else full[i] for i in range(drop, len(full))) for drop, ones in picks]))


@pytest.mark.parametrize("cls", list(ELEMENTWISE), ids=lambda c: c.__name__)
@given(shapes=compatible_shapes, batch=st.integers(1, 3), seed=st.integers(0, 1000))
def test_elementwise_values_and_gradients(cls, shapes, batch, seed):
    if cls is Subtract:
        shapes = shapes[:2]
    gen = np.random.default_rng(seed)
    xs = [gen.normal(size=(batch,) + s) for s in shapes]
    layer = cls()
    out = layer([T(x) for x in xs])
    want = ELEMENTWISE[cls](keras_aligned(xs))
    assert out.shape == want.shape == layer.compute_output_shape([x.shape for x in xs])
    np.testing.assert_allclose(out.data, want, rtol=1e-12)
    if cls in (Maximum, Minimum):  # keep the elements apart: max/min are not differentiable at ties
        xs = [x + 0.01 * i for i, x in enumerate(xs)]
    assert mg.gradcheck(lambda *ts: layer(list(ts)), [T(x) for x in xs], atol=1e-7, rtol=1e-6)
    np.testing.assert_allclose(FUNCTIONS[cls]([T(x) for x in xs]).data, ELEMENTWISE[cls](keras_aligned(xs)))


def reference_dot(x1, x2, a1, a2, normalize=False):
    if normalize:
        x1 = x1 / np.sqrt(np.maximum(np.sum(x1 * x1, axis=a1, keepdims=True), 1e-12))
        x2 = x2 / np.sqrt(np.maximum(np.sum(x2 * x2, axis=a2, keepdims=True), 1e-12))
    out = np.stack([np.tensordot(x1[i], x2[i], axes=(a1 - 1, a2 - 1)) for i in range(len(x1))])
    return out[:, None] if out.ndim == 1 else out


@given(rest1=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       rest2=st.lists(st.integers(1, 3), min_size=0, max_size=2),
       data=st.data(), normalize=st.booleans(), seed=st.integers(0, 1000))
def test_dot_is_a_per_sample_tensordot(rest1, rest2, data, normalize, seed):
    a1 = data.draw(st.integers(1, len(rest1)))
    a2 = data.draw(st.integers(1, len(rest2) + 1))
    k = rest1[a1 - 1]
    shape2 = list(rest2)
    shape2.insert(a2 - 1, k)
    gen = np.random.default_rng(seed)
    x1, x2 = gen.normal(size=(2, *rest1)), gen.normal(size=(2, *shape2))
    negative = data.draw(st.booleans())
    axes = (a1 - x1.ndim, a2 - x2.ndim) if negative else (a1, a2)
    layer = Dot(axes=axes, normalize=normalize)
    out = layer([T(x1), T(x2)])
    want = reference_dot(x1, x2, a1, a2, normalize)
    assert out.shape == want.shape == layer.compute_output_shape([x1.shape, x2.shape])
    np.testing.assert_allclose(out.data, want, rtol=1e-10, atol=1e-12)
    assert mg.gradcheck(lambda a, b: layer([a, b]), [T(x1), T(x2)], atol=1e-7, rtol=1e-6)


def test_dot_keras_examples():
    a, b = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    np.testing.assert_allclose(merge.dot([a, b], axes=1).data, np.sum(a * b, axis=1, keepdims=True), rtol=1e-6)
    cos = merge.dot([a, 2 * a], axes=1, normalize=True).data
    np.testing.assert_allclose(cos, np.ones((4, 1)), rtol=1e-6)
    zero = merge.dot([np.zeros((1, 3)), np.ones((1, 3))], axes=1, normalize=True)  # an all-zero vector stays 0
    assert zero.data.tolist() == [[0.]]
    s, q = rng.normal(size=(2, 6, 4)), rng.normal(size=(2, 3, 4))
    assert merge.dot([s, q], axes=2).shape == (2, 6, 3)  # attention scores: (batch, steps, queries)
    assert merge.dot([s, q], axes=[2, 2]).shape == (2, 6, 3)


def test_concatenate_values_gradients_and_axes():
    x1, x2, x3 = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 1)), rng.normal(size=(2, 3, 2))
    layer = Concatenate()
    out = layer([T(x1), T(x2), T(x3)])
    np.testing.assert_array_equal(out.data, np.concatenate([x1, x2, x3], axis=-1))
    assert mg.gradcheck(lambda *ts: layer(list(ts)), [T(x1), T(x2), T(x3)])
    y = rng.normal(size=(2, 5, 4))
    np.testing.assert_array_equal(merge.concatenate([x1, y], axis=1).data,
                                  np.concatenate([x1, y], axis=1).astype(np.float32))
    assert Concatenate(axis=-2).compute_output_shape([(None, 3, 4), (None, None, 4)]) == (None, None, 4)
    assert Concatenate(axis=1).compute_output_shape([(8, 3, 4), (None, 5, 4)]) == (8, 8, 4)


# ============================================================ functional models

def test_in_a_functional_model_symbolic_matches_eager_and_trains():
    mg.seed(0)
    i1, i2 = Input(shape=(5,)), Input(shape=(7,))
    h1, h2 = Dense(4, activation="tanh")(i1), Dense(4, activation="tanh")(i2)
    merged = [merge.add([h1, h2]), merge.subtract([h1, h2]), merge.multiply([h1, h2]), merge.average([h1, h2]),
              merge.maximum([h1, h2]), merge.minimum([h1, h2]), merge.concatenate([h1, h2]),
              merge.dot([h1, h2], axes=1, normalize=True)]
    joined = layers.concatenate(merged)
    assert joined.shape == (None, 6 * 4 + 8 + 1)
    out = Dense(1)(joined)
    model = Model([i1, i2], out)
    x1, x2 = rng.normal(size=(16, 5)).astype("float32"), rng.normal(size=(16, 7)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    e1, e2 = h1.layer(x1), h2.layer(x2)  # the same graph, called eagerly layer by layer
    eager = out.layer(joined.layer([t.layer([e1, e2]) for t in merged])).data
    np.testing.assert_allclose(model.predict([x1, x2]), eager, rtol=1e-5, atol=1e-6)
    model.compile("adam", "mse")
    before = model.evaluate([x1, x2], y, verbose=0)
    kernels = [h1.layer.get_weights()[0], h2.layer.get_weights()[0]]
    model.fit([x1, x2], y, epochs=20, batch_size=16, verbose=0)
    assert model.evaluate([x1, x2], y, verbose=0) < before
    for layer, kernel in zip((h1.layer, h2.layer), kernels):  # both branches are trained through the merges
        assert not np.allclose(layer.get_weights()[0], kernel)


def test_model_gradients_through_merges_match_finite_differences():
    i1, i2 = Input(shape=(3,)), Input(shape=(2, 3))
    out = merge.concatenate([merge.dot([i2, i1], axes=(2, 1)), layers.Flatten()(merge.multiply([i1, i2]))])
    assert out.shape == (None, 2 + 6)
    model = Model([i1, i2], out)
    x1, x2 = T(rng.normal(size=(2, 3))), T(rng.normal(size=(2, 2, 3)))
    assert mg.gradcheck(lambda a, b: model([a, b]), [x1, x2])


def test_shared_merge_layer_in_a_graph():
    add = merge.Add()
    a, b, c = Input((3,)), Input((3,)), Input((3,))
    model = Model([a, b, c], add([add([a, b]), c]))
    xs = [rng.normal(size=(2, 3)).astype("float32") for _ in range(3)]
    np.testing.assert_allclose(model.predict(xs), sum(xs), rtol=1e-6)


# ============================================================ masks

def test_masks_are_merged_as_keras_does():
    mg.seed(0)
    ids1, ids2 = Input(shape=(4,)), Input(shape=(4,))
    e1 = Embedding(10, 3, mask_zero=True)(ids1)
    e2 = Embedding(10, 3, mask_zero=True)(ids2)
    summed = merge.add([e1, e2])
    joined = merge.concatenate([e1, e2])
    in_time = merge.concatenate([e1, e2], axis=1)
    assert summed.has_mask and joined.has_mask and in_time.has_mask
    assert not merge.dot([e1, e2], axes=2).has_mask
    model = Model([ids1, ids2], [LSTM(2, return_sequences=True)(x) for x in (summed, joined, in_time)])
    x1 = np.array([[0, 1, 2, 3], [4, 5, 0, 0]])
    x2 = np.array([[1, 1, 0, 3], [4, 5, 6, 0]])
    outs = model.predict([x1, x2])
    both = (x1 != 0) & (x2 != 0)
    for out, mask in zip(outs[:2], (both, both)):
        for t in range(1, 4):  # a masked step repeats the previous output
            np.testing.assert_array_equal(out[~mask[:, t], t], out[~mask[:, t], t - 1])
    add, cat = summed.layer, joined.layer
    m1, m2 = x1 != 0, x2 != 0
    np.testing.assert_array_equal(add.compute_mask([None, None], [m1, m2]), both)
    np.testing.assert_array_equal(add.compute_mask([None, None], [m1, None]), m1)
    assert add.compute_mask([None, None], [None, None]) is None and add.compute_mask([None, None]) is None
    e = np.zeros((2, 4, 3))
    np.testing.assert_array_equal(cat.compute_mask([e, e], [m1, m2]), both)
    np.testing.assert_array_equal(cat.compute_mask([e, e], [m1, None]), m1)
    np.testing.assert_array_equal(in_time.layer.compute_mask([e, e], [m1, m2]), np.concatenate([m1, m2], axis=1))
    with pytest.raises(ValueError, match="2 masks for 3 inputs"):
        add.compute_mask([e, e, e], [m1, m2])


# ============================================================ configs

@pytest.mark.parametrize("layer", [Add(name="a1"), Subtract(), Multiply(), Average(), Maximum(), Minimum(),
                                   Concatenate(axis=1, name="cat"), Dot(axes=(1, 2), normalize=True),
                                   Dot(axes=-1)], ids=lambda layer: type(layer).__name__)
def test_config_round_trip(layer):
    config = layer.get_config()
    config = json_of(config)  # JSON-safe: it survives a round trip (tuples become lists)
    again = type(layer).from_config(json.loads(json.dumps(config)))
    assert type(again) is type(layer) and json_of(again.get_config()) == config
    again = layers.deserialize(layers.serialize(layer))
    assert json_of(again.get_config()) == config
    xs = [rng.normal(size=(2, 3, 3)) for _ in range(2)]
    np.testing.assert_array_equal(again(xs).data, layer(xs).data)


def test_exported_names():
    for name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
                 "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"):
        assert getattr(layers, name) is getattr(merge, name)
        assert name in layers.__all__
