"""Every layer class through the conformance harness (tests/conformance.py), with non-default arguments.

To add a layer: append a ``case(...)`` to CASES (a name, the class or a factory, its keyword arguments and an input
shape). ``XFAIL`` marks a check that fails on today's code for a known reason (strict: it must fail, so the mark
is removed as soon as the reason is fixed).
"""
import pytest
from conformance import CHECKS, Spec, run_check

import layers
from layers import (
    GRU,
    LSTM,
    Activation,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    Input,
    Layer,
    Masking,
    Model,
    Sequential,
    SimpleRNN,
    TimeDistributed,
    constraints,
    initializers,
    regularizers,
    serialization,
)

CASES = {}


def case(name, make, kwargs=None, input_shape=None, **options):
    CASES[name] = Spec(make, kwargs, input_shape, **options)


case("Dense", Dense, dict(units=3, activation="tanh", use_bias=True, kernel_initializer="he_normal",
                          bias_initializer=initializers.Constant(0.5), kernel_regularizer=regularizers.l2(0.01),
                          bias_regularizer=regularizers.l1(0.02), activity_regularizer="l1",
                          kernel_constraint=constraints.max_norm(2.0), bias_constraint="non_neg", name="dense_x"),
     (2, 4))
case("Dense-3d-float64", Dense, dict(units=2, use_bias=False, dtype="float64"), (2, 3, 4))
case("Activation", Activation, dict(activation="softsign"), (2, 3, 4))
case("Dropout", Dropout, dict(rate=0.3, noise_shape=(None, 1, 4), seed=7), (2, 3, 4))
case("Flatten", Flatten, {}, (2, 3, 4))
case("Flatten-channels_first", Flatten, dict(data_format="channels_first"), (2, 3, 4))
case("Masking", Masking, dict(mask_value=0.5), (2, 3, 4), mask_value=0.5)
case("Embedding", Embedding, dict(input_dim=12, output_dim=4, embeddings_initializer="glorot_normal",
                                  embeddings_regularizer=regularizers.l1_l2(0.01, 0.02),
                                  embeddings_constraint=constraints.unit_norm(axis=1), mask_zero=True,
                                  input_length=5), (2, 5), vocab=12)
case("TimeDistributed", lambda **kw: TimeDistributed(Dense(2, activation="relu", kernel_regularizer="l2"), **kw),
     {}, (2, 3, 4))
case("SimpleRNN", SimpleRNN, dict(units=3, activation="relu", return_sequences=True, go_backwards=True,
                                  kernel_initializer="lecun_uniform", implementation=1, dropout=0.2,
                                  recurrent_dropout=0.1), (2, 5, 4))
case("GRU", GRU, dict(units=3, recurrent_activation="sigmoid", return_sequences=True, unroll=True,
                      recurrent_initializer="glorot_uniform", recurrent_regularizer=regularizers.l2(0.01)),
     (2, 5, 4))
case("LSTM", LSTM, dict(units=3, unit_forget_bias=False, recurrent_activation="sigmoid", dtype="float64",
                        kernel_regularizer=regularizers.l2(0.01), implementation=2, truncate_gradient=-1),
     (2, 5, 4))
case("LSTM-return_state", LSTM, dict(units=3, return_state=True, return_sequences=True), (2, 5, 4),
     multi_output=True)
case("Sequential", lambda **kw: Sequential([Dense(4, input_shape=(3,), activation="relu"), Dropout(0.5),
                                            Dense(2)], **kw), {}, (2, 3))
case("Sequential-nested", lambda **kw: Sequential([Sequential([Dense(4, input_shape=(3,))]), Dense(2)], **kw),
     {}, (2, 3))


def _functional(**kw):
    x = Input(shape=(5, 3))
    seq, h, c = LSTM(4, return_sequences=True, return_state=True)(x)
    out = LSTM(2)(seq, initial_state=[Dense(2)(h), Dense(2)(c)])
    return Model(x, out, **kw)


case("Model", _functional, {}, (2, 5, 3))

# RNN over cells (built-in, stacked, a list), Bidirectional
case("RNN-LSTMCell", lambda **kw: layers.RNN(layers.LSTMCell(3, recurrent_activation="sigmoid", dropout=0.1), **kw),
     dict(return_sequences=True, go_backwards=True), (2, 5, 4))
case("RNN-stacked", lambda **kw: layers.RNN(layers.StackedRNNCells([layers.GRUCell(3, reset_after=True),
                                                                    layers.SimpleRNNCell(2)]), **kw),
     dict(return_state=True), (2, 5, 4), multi_output=True)
case("GRU-reset_after", GRU, dict(units=3, reset_after=True, implementation=2, use_bias=True), (2, 5, 4))
case("Bidirectional", lambda **kw: layers.Bidirectional(LSTM(3, return_sequences=True, unit_forget_bias=False),
                                                        **kw), dict(merge_mode="ave"), (2, 5, 4))
case("Bidirectional-return_state", lambda **kw: layers.Bidirectional(GRU(2, return_state=True), **kw),
     dict(merge_mode=None), (2, 5, 4), multi_output=True)

# Keras 2.0's shape layers, Lambda and the merge layers
case("RepeatVector", layers.RepeatVector, dict(n=3), (2, 4))
case("Reshape", layers.Reshape, dict(target_shape=(-1, 2)), (2, 3, 4))
case("Permute", layers.Permute, dict(dims=(2, 1)), (2, 3, 4))


def double(x):
    return 2 * x


case("Lambda", layers.Lambda, dict(function=double, output_shape=(3, 4)), (2, 3, 4),
     custom_objects={"double": double})
for _merge in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
    case(_merge, getattr(layers, _merge), {}, [(2, 3, 4), (2, 3, 4)])
case("Concatenate", layers.Concatenate, dict(axis=1), [(2, 3, 4), (2, 2, 4)])
case("Dot", layers.Dot, dict(axes=(2, 2), normalize=True), [(2, 3, 4), (2, 5, 4)])

XFAIL = {}

# Registered classes that are not layers to call on their own: bases, Input's layer, and the recurrent cells (one
# step, ``call(inputs, states)``), which are tested inside an RNN case.
NOT_STANDALONE = {"Layer", "Recurrent", "InputLayer", "SimpleRNNCell", "GRUCell", "LSTMCell", "StackedRNNCells"}


def _params():
    for name in CASES:
        for check in CHECKS:
            reason = XFAIL.get((name, check))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(name, check, marks=marks, id=f"{name}-{check}")


@pytest.mark.parametrize("name, check", list(_params()))
def test_conformance(name, check):
    run_check(CASES[name], check)


def test_every_layer_class_has_a_case():
    """A layer class of the package without a conformance case fails here: add one to CASES."""
    covered = {type(spec.layer()).__name__ for spec in CASES.values()}
    own = {n for n, cls in serialization.registered().items() if cls.__module__.split(".")[0] == "layers"}
    missing = sorted(own - covered - NOT_STANDALONE)
    assert not missing, f"layer classes without a conformance case in tests/test_layer_conformance.py: {missing}"


class Sum(Layer):
    """A layer on a list of inputs (as the merge layers are), to check the harness handles such layers."""
    supports_masking = True

    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs, mask=None, training=False):
        return (inputs[0] + inputs[1]) * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@pytest.mark.parametrize("check", CHECKS)
def test_harness_handles_layers_on_lists_of_inputs(check):
    serialization.register(Sum)
    try:
        run_check(Spec(Sum, dict(scale=0.5), [(2, 3), (2, 3)]), check)
    finally:
        serialization._REGISTRY.pop("Sum")


def test_harness_catches_a_lossy_config():
    """The harness is not vacuous: a layer whose config forgets an argument fails the config check."""
    class Forgetful(Dense):
        def get_config(self):
            config = super().get_config()
            config["activation"] = "linear"
            return config

    spec = Spec(Forgetful, dict(units=2, activation="tanh"), (2, 3))
    with pytest.raises(AssertionError):
        run_check(spec, "config")
    assert layers.Dense is Dense
