"""Bad input to the Keras 2 conveniences: every case raises a clear exception naming the problem, and a failed call
changes nothing."""
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import Input, Lambda, Permute, RepeatVector, Reshape, merge
from layers.preprocessing.sequence import pad_sequences
from layers.utils import to_categorical
from optim import losses, metrics

rng = np.random.default_rng(0)
A, B = np.ones((4, 3)), np.ones((4, 3))


def raises(exc, match, fn, *args, **kwargs):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


# ============================================================ merge layers

@pytest.mark.parametrize("call, exc, match", [
    (lambda: merge.Add()(A), ValueError, r"should be called on a list of inputs, got a single input of shape \(4, 3\)"),
    (lambda: merge.Add()([A]), ValueError, "at least 2 inputs, got 1"),
    (lambda: merge.Add()([]), ValueError, "at least 2 inputs, got 0"),
    (lambda: merge.Subtract()([A, B, A]), ValueError, "exactly 2 inputs, got 3"),
    (lambda: merge.Dot(1)([A]), ValueError, "exactly 2 inputs, got 1"),
    (lambda: merge.Multiply()([A, np.ones((4, 4))]), ValueError, r"cannot be broadcast together"),
    (lambda: merge.Average()([A, np.ones((5, 3))]), ValueError, "different batch sizes"),
    (lambda: merge.Maximum()([A, np.ones((1, 3))]), ValueError, "different batch sizes"),
    (lambda: merge.Concatenate()([A, np.ones((4, 2, 3))]), ValueError, "one rank"),
    (lambda: merge.Concatenate(axis=1)([np.ones((4, 2, 3)), np.ones((4, 2, 4))]), ValueError,
     "matching shapes except for the concatenation axis"),
    (lambda: merge.Concatenate(axis=3)([A, B]), ValueError, "axis 3 is out of range"),
    (lambda: merge.Concatenate(axis=0)([A, B]), ValueError, "batch axis"),
    (lambda: merge.Concatenate(axis=-2)([A, B]), ValueError, "batch axis"),
    (lambda: merge.Concatenate(axis=1.0), TypeError, "axis must be an integer"),
    (lambda: merge.Dot(axes=1)([A, np.ones((4, 5))]), ValueError, "dimension incompatibility 3 != 5"),
    (lambda: merge.Dot(axes=0)([A, B]), ValueError, "contract the batch axis"),
    (lambda: merge.Dot(axes=(1, 3))([A, np.ones((4, 2, 3))]), ValueError, "axis 3 is out of range"),
    (lambda: merge.Dot(axes="1"), TypeError, "axes must be an integer or a pair"),
    (lambda: merge.Dot(axes=(1, 2, 3)), ValueError, "axes must be an integer or a pair"),
    (lambda: merge.Dot(axes=(1, 1.5)), ValueError, "axes must be an integer or a pair"),
    (lambda: merge.Dot(axes=True), TypeError, "axes must be an integer or a pair"),
    (lambda: merge.Dot(axes=1, normalize="yes"), TypeError, "normalize must be True or False"),
    (lambda: merge.Add()([A, np.array([["a", "b", "c"]] * 4)]), TypeError, "numeric"),
    (lambda: merge.Add(units=3), TypeError, "not understood: units"),
    (lambda: merge.Add()([A, B], mask=[None]), ValueError, "1 masks for 2 inputs"),
    (lambda: merge.Add().compute_mask([A, B], np.ones((4,), bool)), ValueError, "mask of a merge layer is a list"),
    (lambda: merge.Add().compute_mask([A, B], [np.ones((4, 2), bool), np.ones((4, 3), bool)]), ValueError,
     "incompatible shapes"),
    (lambda: merge.Concatenate().compute_mask([A, B], [np.ones((5,), bool), None]), ValueError,
     "does not fit its input"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_merge_misuse(call, exc, match):
    raises(exc, match, call)


def test_merge_misuse_in_a_graph_names_the_layer_and_leaves_no_node():
    a, b = Input((3,)), Input((4,))
    layer = merge.Add(name="sum_ab")
    with pytest.raises(ValueError, match=r"sum_ab.*\(None, 3\), \(None, 4\)"):
        layer([a, b])
    assert not getattr(layer, "_inbound_nodes", [])
    with pytest.raises(ValueError, match="should be called on a list"):
        merge.add(a)
    with pytest.raises(ValueError, match="different batch sizes"):
        merge.concatenate([Input(batch_shape=(2, 3)), Input(batch_shape=(5, 3))])
    out = layer([a, Input((3,))])  # the failed call left it usable
    assert out.shape == (None, 3)


# ============================================================ RepeatVector, Reshape, Permute

@pytest.mark.parametrize("make, exc, match", [
    (lambda: RepeatVector(0), ValueError, "n must be a positive integer, got 0"),
    (lambda: RepeatVector(2.0), ValueError, "n must be a positive integer"),
    (lambda: RepeatVector(True), ValueError, "n must be a positive integer"),
    (lambda: Reshape((3, 0)), ValueError, "positive integers or one -1"),
    (lambda: Reshape((-2, 3)), ValueError, "positive integers or one -1"),
    (lambda: Reshape((-1, -1)), ValueError, "only one unknown dimension"),
    (lambda: Reshape((2.0, 3)), ValueError, "positive integers or one -1"),
    (lambda: Reshape("12"), TypeError, "tuple of integers"),
    (lambda: Permute((0, 1)), ValueError, "permutation of 1..2"),
    (lambda: Permute((1, 1)), ValueError, "permutation of 1..2"),
    (lambda: Permute((1, 3)), ValueError, "permutation of 1..2"),
    (lambda: Permute((True, 2)), TypeError, "tuple of integers"),
    (lambda: Permute(2), TypeError, "tuple of integers"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_shape_layer_arguments(make, exc, match):
    raises(exc, match, make)


def test_shape_layers_check_their_inputs():
    raises(ValueError, r"RepeatVector\) expects input of ndim=2.*\(2, 3, 4\)", RepeatVector(2), np.ones((2, 3, 4)))
    raises(ValueError, r"ndim=3.*\(2, 3\)", Permute((2, 1)), np.ones((2, 3)))
    raises(ValueError, r"\(5,\).*5 values.*\(2, 2\)", Reshape((2, 2)), np.ones((3, 5)))
    raises(ValueError, "not a multiple of 3", Reshape((-1, 3)), np.ones((3, 5)))
    raises(ValueError, r"ndim=2", RepeatVector(2), Input((3, 4)))
    layer = RepeatVector(2)
    with pytest.raises(ValueError):
        layer(np.ones((2, 3, 4)))
    assert layer(np.ones((2, 3))).shape == (2, 2, 3)  # a failed first call leaves the layer usable
    raises(ValueError, "ndim=2", layer, np.ones((2, 3, 4)))


@given(sample=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       target=st.lists(st.sampled_from([-1, 1, 2, 3, 4, 6]), min_size=1, max_size=3))
def test_reshape_raises_exactly_when_numpy_cannot(sample, target):
    x = np.arange(2 * int(np.prod(sample)), dtype=float).reshape([2, *sample])
    if target.count(-1) > 1:
        raises(ValueError, "only one unknown dimension", Reshape, target)
        return
    try:
        want = x.reshape([2, *target])
    except ValueError:
        raises(ValueError, "Reshape", Reshape(target), x)
        raises(ValueError, "Reshape", Reshape(target).compute_output_shape, (None, *sample))
        return
    np.testing.assert_array_equal(Reshape(target)(x).data, want)


@given(dims=st.lists(st.integers(-1, 4), min_size=1, max_size=4))
def test_permute_accepts_exactly_the_permutations(dims):
    if sorted(dims) == list(range(1, len(dims) + 1)):
        x = rng.normal(size=(2, 3, 4, 5, 6)[:len(dims) + 1])
        np.testing.assert_array_equal(Permute(dims)(x).data, np.transpose(x, [0, *dims]).astype(np.float32))
    else:
        raises(ValueError, "permutation", Permute, dims)


# ============================================================ Lambda

@pytest.mark.parametrize("make, exc, match", [
    (lambda: Lambda(3), TypeError, "function must be callable"),
    (lambda: Lambda(mg.tanh, output_shape=3), TypeError, "output_shape must be a tuple"),
    (lambda: Lambda(mg.tanh, output_shape=(3, "a")), TypeError, "output_shape must be a tuple"),
    (lambda: Lambda(mg.tanh, output_shape=(-3,)), TypeError, "output_shape must be a tuple"),
    (lambda: Lambda(mg.tanh, mask=np.ones(3)), TypeError, "mask must be None or a function"),
    (lambda: Lambda(mg.tanh, arguments=[1]), TypeError, "arguments must be a dict"),
    (lambda: Lambda(mg.tanh, arguments={1: 2}), TypeError, "arguments must be a dict"),
    (lambda: Lambda(mg.tanh, arguments={"t": mg.Tensor(np.ones(2))}).get_config(), TypeError,
     "argument 't' of type Tensor cannot be written to a config"),
    (lambda: Lambda(lambda x: x.data)(np.ones((2, 2))), TypeError, "must return a minigrad Tensor"),
    (lambda: Lambda(lambda x: [x, 3])(np.ones((2, 2))), TypeError, "returned int"),
    (lambda: Lambda(mg.tanh, output_shape=lambda s: 3).compute_output_shape((None, 2)), ValueError,
     "must return a shape tuple"),
    (lambda: Lambda.from_config({"name": "l", "function": "tanh", "function_type": "code"}), ValueError,
     "unknown function_type 'code'"),
    (lambda: Lambda.from_config({"name": "l", "function": "tanh", "output_shape": "f", "output_shape_type": "?"},
                                custom_objects={"tanh": mg.tanh}), ValueError, "unknown output_shape_type"),
    (lambda: Lambda.from_config({"name": "l", "function": "tanh"}), ValueError,
     r"custom_objects=\{'tanh': \.\.\.\} or \{'l': \.\.\.\}"),
    (lambda: Lambda.from_config({"name": "l", "function": "tanh", "output_shape": "shape_fn",
                                 "output_shape_type": "function"}, custom_objects={"tanh": mg.tanh}), ValueError,
     "function 'shape_fn'"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_lambda_misuse(make, exc, match):
    raises(exc, match, make)


def test_failed_lambda_from_config_leaves_the_config_unchanged():
    config = Lambda(mg.tanh, output_shape=(2,), arguments={"w": np.ones(2)}, name="t").get_config()
    before = json.dumps(config, sort_keys=True)
    with pytest.raises(ValueError):
        Lambda.from_config(config)
    assert json.dumps(config, sort_keys=True) == before


# ============================================================ data utilities

@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(sequences=3), ValueError, "list of sequences, got int"),
    (dict(sequences=None), ValueError, "list of sequences, got NoneType"),
    (dict(sequences="ab"), ValueError, "list of sequences, got str"),
    (dict(sequences=[[1], 2]), ValueError, "element 1 is a int"),
    (dict(sequences=[[1]], padding=None), ValueError, "padding must be 'pre' or 'post'"),
    (dict(sequences=[[1]], truncating="end"), ValueError, "truncating must be 'pre' or 'post'"),
    (dict(sequences=[[1]], maxlen=True), ValueError, "maxlen"),
    (dict(sequences=[[1]], maxlen="3"), ValueError, "maxlen"),
    (dict(sequences=[[1]], dtype="datetime64[s]"), TypeError, "numeric"),
    (dict(sequences=[[1]], value=[0, 0]), ValueError, "value must be a number"),
    (dict(sequences=[[1, 2], [[3, 4]]]), ValueError, "samples of sequence 1"),
    (dict(sequences=[[0.5]]), ValueError, "int32 cannot represent 0.5"),
    (dict(sequences=[]), ValueError, "empty"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_pad_sequences_misuse(kwargs, exc, match):
    raises(exc, match, pad_sequences, **kwargs)


@pytest.mark.parametrize("args, exc, match", [
    (([-2],), ValueError, ">= 0"), (([0.5],), ValueError, "integer class ids"),
    (([np.inf],), ValueError, "integer class ids"), (([5], 5), ValueError, "out of range"),
    (([1], -1), ValueError, "positive integer"), (([1], "3"), ValueError, "positive integer"),
    ((["x"],), TypeError, "integer class ids"), (([[1, 2], [1]],), ValueError, "ragged"),
], ids=str)
def test_to_categorical_misuse(args, exc, match):
    raises(exc, match, to_categorical, *args)


# ============================================================ losses and metrics

@pytest.mark.parametrize("name", sorted(losses._BY_NAME))
def test_every_loss_checks_shapes_and_reduction(name):
    fn = losses.get(name)
    p = mg.Tensor(rng.uniform(0.1, 0.9, size=(4, 3)))
    raises(ValueError, "shape", fn, np.zeros((3, 3)), p)
    raises(ValueError, "reduction", fn, np.zeros((4,) if name.startswith("sparse") else (4, 3)), p, reduction="max")


@pytest.mark.parametrize("identifier, exc, match", [
    ("nope", ValueError, "Unknown loss 'nope'; valid names"), (3, TypeError, "loss identifier"),
    (None, TypeError, "loss identifier")])
def test_loss_lookup(identifier, exc, match):
    raises(exc, match, losses.get, identifier)


@pytest.mark.parametrize("name", ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
                                  "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
                                  "acc", "mse", "kld"])
def test_every_metric_checks_shapes(name):
    fn = metrics.get(name, "categorical_crossentropy")
    raises(ValueError, "shape", fn, np.zeros((3, 3)), rng.random((4, 3)))


def test_metric_lookup():
    raises(ValueError, "Unknown metric 'f2'", metrics.get, "f2")
    raises(TypeError, "metric identifier", metrics.get, 2.5)


def test_merge_layer_in_a_sequential_model_is_refused_clearly():
    from layers import Dense, Sequential
    model = Sequential([Dense(3, input_shape=(2,))])
    with pytest.raises(ValueError, match=r"cannot add layer.*should be called on a list of inputs, got a single input"):
        model.add(merge.Add())
    assert len(model.layers) == 1


def test_merge_shapes_may_be_given_as_lists():
    assert merge.Add().compute_output_shape([[None, 3], (None, 1)]) == (None, 3)
    layer = merge.Concatenate()
    assert layer.compute_output_shape(((2, 3), (2, 4))) == (2, 7)
    assert layer.input_shape == [(2, 3), (2, 4)] and layer.output_shape == (2, 7)
    with pytest.raises(AttributeError, match="no known input shape"):
        merge.Add().input_shape  # noqa: B018 - the property is what is tested
