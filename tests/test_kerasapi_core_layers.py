"""RepeatVector, Reshape, Permute and Lambda: values, gradients, shapes (eager, Sequential, functional), configs."""
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import layers
import minigrad as mg
from layers import (
    LSTM,
    Dense,
    Embedding,
    Input,
    Lambda,
    Model,
    Permute,
    RepeatVector,
    Reshape,
    Sequential,
    TimeDistributed,
)

rng = np.random.default_rng(0)


def json_of(config):
    return json.loads(json.dumps(config))


def T(a):
    return mg.Tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


# ============================================================ RepeatVector

@given(batch=st.integers(1, 3), features=st.integers(1, 4), n=st.integers(1, 5), seed=st.integers(0, 100))
def test_repeat_vector(batch, features, n, seed):
    x = np.random.default_rng(seed).normal(size=(batch, features))
    layer = RepeatVector(n)
    out = layer(T(x))
    assert out.shape == (batch, n, features) == layer.compute_output_shape((batch, features))
    np.testing.assert_array_equal(out.data, np.repeat(x[:, None, :], n, axis=1))
    assert mg.gradcheck(layer, [T(x)])


def test_repeat_vector_seq2seq_in_sequential_trains():
    # Keras 2.0's addition_rnn pattern: encoder -> RepeatVector -> decoder -> per-step softmax
    mg.seed(0)
    model = Sequential([LSTM(16, input_shape=(5, 3)), RepeatVector(4), LSTM(16, return_sequences=True),
                        TimeDistributed(Dense(3, activation="softmax"))])
    assert model.output_shape == (None, 4, 3)
    x = rng.normal(size=(32, 5, 3)).astype("float32")
    y = np.eye(3)[rng.integers(0, 3, size=(32, 4))]
    model.compile("adam", "categorical_crossentropy")
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# ============================================================ Reshape

@pytest.mark.parametrize("target, shape, want", [
    ((3, 4), (2, 12), (2, 3, 4)), ((-1, 2), (2, 12), (2, 6, 2)), ((2, -1, 3), (2, 3, 4), (2, 2, 2, 3)),
    ((12,), (2, 3, 2, 2), (2, 12)), ((-1,), (1, 5, 2), (1, 10))])
def test_reshape(target, shape, want):
    x = rng.normal(size=shape)
    layer = Reshape(target)
    out = layer(T(x))
    assert out.shape == want == layer.compute_output_shape(shape)
    np.testing.assert_array_equal(out.data, x.reshape(want))
    assert mg.gradcheck(layer, [T(x)])


def test_reshape_shapes_with_unknown_sizes():
    assert Reshape((-1, 2, 2)).compute_output_shape((None, None, 4)) == (None, None, 2, 2)
    assert Reshape((4, -1)).compute_output_shape((None, 8)) == (None, 4, 2)
    seq = Input(shape=(None, 4))
    out = Reshape((-1, 2, 2))(seq)
    assert out.shape == (None, None, 2, 2)
    model = Model(seq, out)
    assert model.predict(np.ones((3, 5, 4))).shape == (3, 5, 2, 2)
    fixed = Reshape((3, 3))(seq)  # the size is checked when the data arrives
    with pytest.raises(ValueError, match=r"reshape.*\(5, 4\).*20 values.*\(3, 3\)"):
        Model(seq, fixed).predict(np.ones((1, 5, 4)))


def test_reshape_size_mismatch_is_caught_at_build():
    with pytest.raises(ValueError, match=r"12 values.*\(5, 2\).*10 values"):
        Sequential([Dense(12, input_shape=(3,)), Reshape((5, 2))])
    with pytest.raises(ValueError, match="not a multiple of 5"):
        Reshape((-1, 5))(Input(shape=(12,)))
    with pytest.raises(ValueError, match="total size must be unchanged"):
        Reshape((5,))(np.ones((2, 4)))


# ============================================================ Permute

@pytest.mark.parametrize("dims", [(1,), (2, 1), (1, 3, 2), (3, 1, 2)])
def test_permute(dims):
    shape = (2,) + tuple(range(3, 3 + len(dims)))
    x = rng.normal(size=shape)
    layer = Permute(dims)
    out = layer(T(x))
    np.testing.assert_array_equal(out.data, np.transpose(x, (0,) + dims))
    assert out.shape == layer.compute_output_shape(shape)
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + out.shape[1:]
    assert mg.gradcheck(layer, [T(x)])


def test_permute_in_sequential():
    model = Sequential([Permute((2, 1), input_shape=(10, 64)), Dense(8)])
    assert model.output_shape == (None, 64, 8)  # Keras 2.0's docstring example
    assert model.predict(np.ones((2, 10, 64))).shape == (2, 64, 8)


# ============================================================ Lambda

def last_step(x):
    return x[:, -1]


def scaled(x, factor=1.0, w=None, mask=None, training=False):
    return x * (factor * (2.0 if training else 1.0))


def keep_mask(inputs, mask):
    return mask


def test_lambda_eager_and_gradients():
    x = rng.normal(size=(2, 5, 3))
    layer = Lambda(last_step)
    np.testing.assert_array_equal(layer(T(x)).data, x[:, -1])
    assert mg.gradcheck(Lambda(lambda t: mg.tanh(t) * t), [T(x)])
    pair = Lambda(lambda ts: ts[0] * ts[1])  # a list of inputs
    np.testing.assert_allclose(pair([T(x), T(2 * x)]).data, 2 * x * x)
    assert mg.gradcheck(lambda a, b: pair([a, b]), [T(x), T(x + 1)])


def test_lambda_arguments_mask_and_training():
    x = rng.normal(size=(2, 3))
    layer = Lambda(scaled, arguments={"factor": 3.0})
    np.testing.assert_allclose(layer(T(x)).data, 3 * x)
    np.testing.assert_allclose(layer(T(x), training=True).data, 6 * x)  # the function takes training=
    assert layer.arguments == {"factor": 3.0}  # calls do not leak mask/training into the stored arguments
    seen = {}

    def record(t, mask=None):
        seen["mask"] = mask
        return t

    masked = Lambda(record, mask=keep_mask)
    m = np.array([[True, False, True], [True, True, False]])
    masked(T(rng.normal(size=(2, 3, 4))), mask=m)
    assert seen["mask"] is m
    assert masked.compute_mask(None, m) is m
    with pytest.raises(TypeError, match="does not support masking"):
        Lambda(last_step)(T(x), mask=m)  # Keras 2.0: without a mask function a masked input is an error


def test_lambda_masks_in_a_graph():
    ids = Input(shape=(4,))
    emb = Embedding(10, 3, mask_zero=True)(ids)
    kept = Lambda(lambda t: t * 2, mask=keep_mask)(emb)
    assert kept.has_mask
    with pytest.raises(TypeError, match="does not support masking"):
        Lambda(lambda t: t * 2)(emb)
    model = Model(ids, LSTM(2, return_sequences=True)(kept))
    out = model.predict(np.array([[1, 2, 0, 0]]))
    np.testing.assert_array_equal(out[0, 2], out[0, 1])  # the mask reached the LSTM


def test_lambda_output_shapes():
    seq = Input(shape=(None, 3))
    assert Lambda(last_step)(seq).shape == (None, 3)  # inferred by probing
    assert Lambda(lambda t: t.sum(axis=1, keepdims=True))(seq).shape == (None, 1, 3)
    assert Lambda(lambda t: mg.concatenate([t, t], axis=1))(seq).shape == (None, None, 3)
    assert Lambda(last_step, output_shape=(3,))(seq).shape == (None, 3)
    assert Lambda(last_step, output_shape=lambda s: (s[0], s[2]))(seq).shape == (None, 3)
    split = Lambda(lambda t: [t[:, :, :1], t[:, :, 1:]])(seq)
    assert [s.shape for s in split] == [(None, None, 1), (None, None, 2)]
    model = Sequential([Dense(4, input_shape=(3,)), Lambda(lambda t: t[:, :2])])
    assert model.output_shape == (None, 2)
    with pytest.raises(ValueError, match="could not infer its output shape.*output_shape"):
        Lambda(lambda t: t.reshape(7, -1))(seq)


def test_lambda_must_return_tensors():
    with pytest.raises(TypeError, match="returned ndarray.*minigrad Tensor"):
        Lambda(lambda t: np.tanh(t.data))(T(np.ones((2, 2))))


# ============================================================ configs

INPUT_SHAPES = {"rv": (4,), "flat_pairs": (4,), "swap": (3, 4), "flatten_2x2": (2, 2)}  # without the batch axis


@pytest.mark.parametrize("layer", [RepeatVector(3, name="rv"), Reshape((-1, 2), name="flat_pairs"),
                                   Permute((2, 1), name="swap"), Reshape((4,), input_shape=(2, 2), name="flatten_2x2")],
                         ids=lambda layer: layer.name)
def test_shape_layer_configs_round_trip(layer):
    config = layer.get_config()
    config = json_of(config)  # JSON-safe: it survives a round trip (tuples become lists)
    again = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert type(again) is type(layer) and json_of(again.get_config()) == config
    x = rng.normal(size=(2,) + INPUT_SHAPES[layer.name])
    np.testing.assert_array_equal(again(x).data, layer(x).data)


def test_lambda_config_names_functions_and_never_holds_code():
    layer = Lambda(scaled, output_shape=(3,), mask=keep_mask, arguments={"factor": np.float32(2.), "w": np.ones(2)},
                   name="scale")
    config = layer.get_config()
    config = json_of(config)  # JSON-safe: it survives a round trip (tuples become lists)
    assert (config["function"], config["function_type"], config["mask"]) == ("scaled", "function", "keep_mask")
    assert config["arguments"] == {"factor": 2.0, "w": {"type": "ndarray", "value": [1.0, 1.0]}}
    with pytest.raises(ValueError, match=r"function 'scaled'.*custom_objects=\{'scaled': \.\.\.\}"):
        Lambda.from_config(config)
    again = layers.deserialize(layers.serialize(layer), custom_objects={"scaled": scaled, "keep_mask": keep_mask})
    assert json_of(again.get_config()) == config and again.function is scaled and again.mask is keep_mask
    np.testing.assert_array_equal(again.arguments["w"], np.ones(2))
    x = rng.normal(size=(2, 3))
    np.testing.assert_array_equal(again(x).data, layer(x).data)


def test_lambda_of_a_lambda_is_restored_by_layer_name():
    fn = lambda t: t * 3  # noqa: E731
    layer = Lambda(fn, output_shape=lambda s: s, name="triple")
    config = layer.get_config()
    assert config["function"] == "<lambda>" and config["function_type"] == "lambda"
    with pytest.raises(ValueError, match=r"anonymous function.*custom_objects=\{'triple': \.\.\.\}"):
        Lambda.from_config(config)
    again = Lambda.from_config(config, custom_objects={"triple": fn, "triple.output_shape": lambda s: s})
    assert again.function is fn
    with pytest.raises(TypeError, match="not a function"):
        Lambda.from_config(config, custom_objects={"triple": 3, "triple.output_shape": lambda s: s})


def test_keras2_lambda_bytecode_is_never_loaded():
    bytecode = "4wEAAAAAAAAAAQAAAAIAAABTAAAAcwgAAAB8AGQBFABTACkC"
    keras2 = {"name": "lambda_1", "trainable": True, "function": [bytecode, None, None],
              "function_type": "lambda", "output_shape": None, "output_shape_type": "raw", "arguments": {}}
    with pytest.raises(ValueError, match="bytecode is never loaded.*'lambda_1'"):
        Lambda.from_config(keras2)
    layer = Lambda.from_config(keras2, custom_objects={"lambda_1": last_step})
    assert layer.function is last_step and layer.name == "lambda_1"


def test_exported_names():
    for name in ("RepeatVector", "Reshape", "Permute", "Lambda"):
        assert getattr(layers, name) is getattr(layers.core, name)
        assert name in layers.__all__
