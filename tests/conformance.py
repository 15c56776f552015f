"""The layer conformance harness, in the spirit of Keras' ``layer_test``: one helper every layer passes.

    layer_test(Dense, dict(units=3, activation="tanh"), input_shape=(2, 4))
    layer_test(lambda **kw: Sequential([Dense(4, input_shape=(3,)), Dense(2)], **kw), input_shape=(2, 3))

``layer_test`` builds the layer from ``kwargs`` (``make`` is a layer class or any factory ``make(**kwargs)``) and
runs every check of ``CHECKS`` on it, each of which is also callable alone (``run_check``):

``call``        an eager call on an array: a Tensor of ``compute_output_shape``'s shape (and ``expected_shape``) in
                the layer's float dtype; ``set_weights(get_weights())`` a no-op before and after the build
``symbolic``    a call on ``Input``: the symbolic shape agrees with ``compute_output_shape``
``functional``  ``Model(inp, layer(inp))`` predicts what the eager call gives (same weights)
``sequential``  the layer as the first layer of a ``Sequential`` model (declaring the input shape) predicts what
                the same layer called eagerly gives
``config``      ``get_config()`` is JSON-safe and holds every argument given, as given; ``from_config`` of its JSON
                gives a layer with the same config and, with the weights copied, the same outputs;
                ``layers.deserialize(layers.serialize(layer))`` too
``json``        a model holding the layer survives ``model_from_json(model.to_json())`` (weights copied)
``save``        ... and ``model.save`` / ``layers.load_model`` (``.npz``, and HDF5 when h5py is installed): same
                weights, same predictions

Inputs are random floats of ``input_shape`` (batch axis first), or integer ids below ``vocab`` when it is given.
Every comparison is exact: the same weights on the same data must give the same numbers.
"""
import json
import os
import tempfile

import numpy as np

import layers
import minigrad as mg
from layers import Input, Model, Sequential, serialization

CHECKS = ("call", "symbolic", "functional", "sequential", "config", "json", "save")


class Spec:
    """What ``layer_test`` needs to know about one layer under test."""

    def __init__(self, make, kwargs=None, input_shape=None, vocab=None, input_data=None, expected_shape=None,
                 multi_output=False, sequential=True, mask_value=None, custom_objects=None):
        self.make, self.kwargs = make, dict(kwargs or {})
        self.custom_objects = custom_objects  # what from_config / load_model need for the user's own functions
        # a list of shapes: a layer called on a list of inputs (a merge layer)
        self.multi_input = isinstance(input_shape, list)
        self.input_shape = [tuple(s) for s in input_shape] if self.multi_input else tuple(input_shape)
        self.vocab = vocab
        self.input_data, self.expected_shape = input_data, expected_shape
        self.multi_output = multi_output   # the layer returns a list (return_state=True)
        self.sequential = sequential and not multi_output and not self.multi_input
        self.mask_value = mask_value       # some timesteps of the data take this value (Masking)

    def layer(self, **extra):
        return self.make(**{**self.kwargs, **extra})

    def data(self):
        """The input: an array, or a list of arrays for a multi-input layer."""
        if self.input_data is not None:
            return [np.asarray(a) for a in self.input_data] if self.multi_input else np.asarray(self.input_data)
        if self.multi_input:
            return [self._array(shape, seed) for seed, shape in enumerate(self.input_shape)]
        return self._array(self.input_shape, 0)

    def _array(self, shape, seed):
        rng = np.random.default_rng(seed)
        if self.vocab is not None:
            x = rng.integers(0, self.vocab, shape)
            x[:, :1] = 0  # a padded step, for layers that mask id 0
            return x
        x = rng.standard_normal(shape).astype(np.float32)
        if self.mask_value is not None:
            x[:, :1] = self.mask_value
        return x


def _outputs(value):
    """A layer's or model's output(s) as a list of ndarrays."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return [np.asarray(v.data if isinstance(v, mg.Tensor) else v) for v in items]


def _assert_same(got, want, what):
    got, want = _outputs(got), _outputs(want)
    assert len(got) == len(want), f"{what}: {len(got)} outputs, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, f"{what}: output {i} has shape {g.shape}, expected {w.shape}"
        np.testing.assert_array_equal(g, w, err_msg=f"{what}: output {i} differs")


def _shapes_match(found, expected):
    return len(found) == len(expected) and all(e is None or f is None or e == f for f, e in zip(found, expected))


def _shape(x):
    return [a.shape for a in x] if isinstance(x, list) else x.shape


def _symbolic_input(spec, x):
    """An Input per input array (a list for a multi-input layer)."""
    dtype = "int32" if spec.vocab is not None else "float32"
    if isinstance(x, list):
        return [Input(batch_shape=(None,) + a.shape[1:], dtype=dtype) for a in x]
    return Input(batch_shape=(None,) + x.shape[1:], dtype=dtype)


def _model_of(spec, layer, x):
    inp = _symbolic_input(spec, x)
    return Model(inp, layer(inp))


def _json_normal(config):
    return json.loads(json.dumps(config))


# ---------------------------------------------------------------- the checks

def check_call(spec):
    layer = spec.layer()
    assert layer.get_weights() == [] or layer.built
    layer.set_weights(layer.get_weights())  # before the build: a no-op, as in Keras
    x = spec.data()
    out = layer(x)
    items = out if isinstance(out, list) else [out]
    assert all(isinstance(o, mg.Tensor) for o in items), f"the call returned {type(out).__name__}"
    shape = layer.compute_output_shape(_shape(x))
    shapes = shape if isinstance(shape, list) else [shape]
    assert isinstance(out, list) == isinstance(shape, list) == spec.multi_output
    for o, s in zip(items, shapes):
        assert _shapes_match(o.shape, s), f"output shape {o.shape}, compute_output_shape says {s}"
        assert o.dtype == layer.dtype, f"output dtype {o.dtype}, the layer's is {layer.dtype}"
    if spec.expected_shape is not None:
        expected = spec.expected_shape if isinstance(spec.expected_shape, list) else [spec.expected_shape]
        assert [tuple(o.shape) for o in items] == [tuple(e) for e in expected]
    before = layer.get_weights()
    layer.set_weights(before)
    _assert_same(layer(x), out, "a second call")
    return layer, x, out


def check_symbolic(spec):
    layer = spec.layer()
    x = spec.data()
    inp = _symbolic_input(spec, x)
    out = layer(inp)
    shape = layer.compute_output_shape(_shape(inp))
    outs = out if isinstance(out, list) else [out]
    shapes = shape if isinstance(shape, list) else [shape]
    assert [tuple(o.shape) for o in outs] == [tuple(s) for s in shapes]


def check_functional(spec):
    layer = spec.layer()
    x = spec.data()
    model = _model_of(spec, layer, x)
    _assert_same(model.predict(x), layer(x), "Model(inp, layer(inp)).predict vs the eager call")


def check_sequential(spec):
    if not spec.sequential:
        return
    x = spec.data()
    probe = spec.layer()
    extra = {} if probe.batch_input_shape is not None else {"input_shape": x.shape[1:]}
    layer = spec.layer(**extra)
    model = Sequential([layer])
    assert model.layers == [layer] and len(model.weights) == len(layer.weights)
    _assert_same(model.predict(x), layer(x), "Sequential([layer]).predict vs the eager call")


_OBJECT_KINDS = (("activation", layers.activations), ("initializer", layers.initializers),
                 ("regularizer", layers.regularizers), ("constraint", layers.constraints))


def _as_configured(key, value):
    """How the argument ``key=value`` must appear in a config (JSON form)."""
    for kind, module in _OBJECT_KINDS:
        if key.endswith(kind):
            return _json_normal(serialization.serialize_object(module.get(value), kind))
    if key == "dtype":
        return np.dtype(value).name
    if callable(value):  # a user's function is stored by name and found again through custom_objects
        return value.__name__
    return _json_normal(value)


def check_config(spec):
    layer = spec.layer()
    x = spec.data()
    out = layer(x)
    config = layer.get_config()
    text = json.dumps(config)  # JSON-safe
    stored = json.loads(text)
    for key, value in spec.kwargs.items():  # every argument given is in the config, as given
        assert key in stored, f"get_config() lacks the constructor argument {key!r}"
        assert stored[key] == _as_configured(key, value), \
            f"get_config()[{key!r}] is {stored[key]!r}, the layer was given {value!r}"
    twin = type(layer).from_config(json.loads(text), custom_objects=spec.custom_objects)
    assert type(twin) is type(layer)
    assert _json_normal(twin.get_config()) == _json_normal(config), "get_config after from_config differs"
    again = serialization.deserialize(_json_normal(serialization.serialize(layer)), spec.custom_objects)
    assert type(again) is type(layer) and _json_normal(again.get_config()) == _json_normal(config)
    twin(x)  # build
    twin.set_weights(layer.get_weights())
    _assert_same(twin(x), out, "from_config(get_config()) with copied weights")


def _roundtrip(spec, rebuild):
    layer = spec.layer()
    x = spec.data()
    model = _model_of(spec, layer, x)
    want = model.predict(x)
    other = rebuild(model)
    assert [type(layer) for layer in other.layers] == [type(layer) for layer in model.layers]
    for got, saved in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, saved)
    _assert_same(other.predict(x), want, "the rebuilt model")


def check_json(spec):
    def rebuild(model):
        other = layers.model_from_json(model.to_json(), custom_objects=spec.custom_objects)
        other.set_weights(model.get_weights())
        return other
    _roundtrip(spec, rebuild)


def check_save(spec):
    suffixes = [".npz"]
    try:
        import h5py  # noqa: F401
        suffixes.append(".h5")
    except ImportError:
        pass
    def save_and_load(model, path):
        model.save(path)
        return layers.load_model(path, custom_objects=spec.custom_objects)

    with tempfile.TemporaryDirectory() as d:
        for suffix in suffixes:
            path = os.path.join(d, "model" + suffix)
            _roundtrip(spec, lambda model, path=path: save_and_load(model, path))


_CHECKS = {"call": check_call, "symbolic": check_symbolic, "functional": check_functional,
           "sequential": check_sequential, "config": check_config, "json": check_json, "save": check_save}


def run_check(spec, check):
    """Run one check of ``CHECKS`` on ``spec`` (seeded, so a failure reproduces)."""
    mg.seed(0)
    _CHECKS[check](spec)


def layer_test(make, kwargs=None, input_shape=None, checks=CHECKS, **spec_options):
    """Run ``checks`` (default: all of ``CHECKS``) on the layer ``make(**kwargs)`` fed inputs of ``input_shape``
    (batch axis first). ``spec_options``: ``vocab`` (integer ids below it), ``input_data``, ``expected_shape``,
    ``multi_output`` (the layer returns a list), ``sequential=False`` (skip the Sequential check),
    ``mask_value`` (some steps of the data take it), ``custom_objects`` (the user's functions a config names).
    Returns the ``Spec`` it tested."""
    spec = Spec(make, kwargs, input_shape, **spec_options)
    for check in checks:
        run_check(spec, check)
    return spec
