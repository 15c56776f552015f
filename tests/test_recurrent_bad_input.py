"""A sweep over the recurrent entry points with bad input: constructors (layers, cells, RNN, StackedRNNCells,
Bidirectional), calls (shapes, dtypes, states, masks), cells that break the protocol, and the tools. Every case
must raise a clear exception naming what was expected and what was found, and change nothing. Then the degenerate
inputs that have a correct answer (an empty batch, integer inputs, states of another float type, the list form
``layer([x, *states])``) get it."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import GRU, LSTM, RNN, Bidirectional, Dense, GRUCell, Input, Layer, LSTMCell, Model, SimpleRNN
from layers.recurrent import SimpleRNNCell, StackedRNNCells
from layers.tools import check_truncated_bptt, gradient_flow, truncated_forward, truncated_objective

B, T, D, U = 2, 4, 3, 2
LAYER_CLASSES = [SimpleRNN, GRU, LSTM, SimpleRNNCell, GRUCell, LSTMCell]


def x(batch=B, steps=T, dim=D, dtype=np.float32):
    return np.random.default_rng(0).standard_normal((batch, steps, dim)).astype(dtype)


class Cell(Layer):
    """A user cell whose call returns whatever ``result(h)`` says (a correct step by default)."""

    def __init__(self, units=U, state_size=None, result=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units if state_size is None else state_size
        self.result = result

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), "glorot_uniform")

    def call(self, inputs, states, training=False):
        h = mg.tanh(inputs @ self.kernel + states[0])
        return (h, [h]) if self.result is None else self.result(h)


class NoStateSize(Layer):
    def call(self, inputs, states, training=False):
        return inputs, states


class DropoutSpecCell(Cell):
    def __init__(self, spec, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec

    def dropout_spec(self, batch_size, input_dim):
        return self.spec(batch_size, input_dim)

    def call(self, inputs, states, training=False, dropout_masks=None):
        return super().call(inputs, states, training)


def built(layer, shape=(None, T, D)):
    layer._maybe_build(shape)
    return layer


def stateful_lstm():
    return built(LSTM(U, stateful=True, batch_input_shape=(B, None, D)), (B, T, D))


# ------------------------------------------------------------------------------------------------ constructors

CONSTRUCTORS = []
for cls in LAYER_CLASSES:
    n = cls.__name__
    CONSTRUCTORS += [
        (f"{n} units=0", lambda c=cls: c(0), ValueError, r"units.*positive integer.*0"),
        (f"{n} units=-3", lambda c=cls: c(-3), ValueError, r"units.*-3"),
        (f"{n} units=2.5", lambda c=cls: c(2.5), ValueError, r"units.*2\.5"),
        (f"{n} units=True", lambda c=cls: c(True), ValueError, r"units.*True"),
        (f"{n} units='4'", lambda c=cls: c("4"), ValueError, r"units.*'4'"),
        (f"{n} dropout=1.0", lambda c=cls: c(2, dropout=1.0), ValueError, r"dropout.*\[0, 1\).*1\.0"),
        (f"{n} recurrent_dropout=-0.5", lambda c=cls: c(2, recurrent_dropout=-0.5), ValueError,
         r"recurrent_dropout.*\[0, 1\).*-0\.5"),
        (f"{n} dropout=True", lambda c=cls: c(2, dropout=True), ValueError, r"dropout.*True"),
        (f"{n} dropout=nan", lambda c=cls: c(2, dropout=math.nan), ValueError, r"dropout.*nan"),
        (f"{n} dropout='0.1'", lambda c=cls: c(2, dropout="0.1"), ValueError, r"dropout.*'0\.1'"),
        (f"{n} implementation=3", lambda c=cls: c(2, implementation=3), ValueError, r"implementation.*3"),
        (f"{n} implementation=True", lambda c=cls: c(2, implementation=True), ValueError, r"implementation.*True"),
        (f"{n} implementation=1.0", lambda c=cls: c(2, implementation=1.5), ValueError, r"implementation.*1\.5"),
        (f"{n} use_bias='no'", lambda c=cls: c(2, use_bias="no"), ValueError, r"use_bias.*'no'"),
        (f"{n} activation='tanhh'", lambda c=cls: c(2, activation="tanhh"), ValueError, r"Unknown activation 'tanhh'"),
        (f"{n} kernel_initializer='glorot'", lambda c=cls: c(2, kernel_initializer="glorot"), ValueError,
         r"Unknown initializer 'glorot'"),
        (f"{n} bias_regularizer='l3'", lambda c=cls: c(2, bias_regularizer="l3"), ValueError,
         r"Unknown regularizer 'l3'"),
        (f"{n} recurrent_constraint=3", lambda c=cls: c(2, recurrent_constraint=3), ValueError, r"constraint.*3"),
        (f"{n} unknown keyword", lambda c=cls: c(2, forget_gate=True), TypeError, r"forget_gate"),
    ]
for cls in (SimpleRNN, GRU, LSTM):
    n = cls.__name__
    CONSTRUCTORS += [
        (f"{n} truncate_gradient=0", lambda c=cls: c(2, truncate_gradient=0), ValueError, r"truncate_gradient.*0"),
        (f"{n} truncate_gradient=2.5", lambda c=cls: c(2, truncate_gradient=2.5), ValueError,
         r"truncate_gradient.*2\.5"),
        (f"{n} truncate_gradient=True", lambda c=cls: c(2, truncate_gradient=True), ValueError,
         r"truncate_gradient.*True"),
        (f"{n} return_sequences='yes'", lambda c=cls: c(2, return_sequences="yes"), ValueError,
         r"return_sequences.*'yes'"),
        (f"{n} go_backwards=2", lambda c=cls: c(2, go_backwards=2), ValueError, r"go_backwards.*2"),
        (f"{n} two positional arguments", lambda c=cls: c(2, 3), TypeError, r"positional"),
    ]
CONSTRUCTORS += [
    ("GRU reset_after=2", lambda: GRU(2, reset_after=2), ValueError, r"reset_after.*2"),
    ("LSTMCell unit_forget_bias='yes'", lambda: LSTMCell(2, unit_forget_bias="yes"), ValueError,
     r"unit_forget_bias.*'yes'"),
    ("SimpleRNN recurrent_activation", lambda: SimpleRNN(2, recurrent_activation="tanh"), TypeError,
     r"recurrent_activation"),
    ("SimpleRNNCell recurrent_activation", lambda: SimpleRNNCell(2, recurrent_activation="tanh"), TypeError,
     r"recurrent_activation"),
    ("GRU unit_forget_bias", lambda: GRU(2, unit_forget_bias=True), TypeError, r"unit_forget_bias"),
    ("LSTM reset_after", lambda: LSTM(2, reset_after=True), TypeError, r"reset_after"),
    ("RNN of a Dense", lambda: RNN(Dense(3)), TypeError, r"no state_size"),
    ("RNN of a string", lambda: RNN("lstm"), TypeError, r"cell must be a Layer.*str"),
    ("RNN of a cell without state_size", lambda: RNN(NoStateSize()), TypeError, r"no state_size"),
    ("RNN of a cell with state_size 0", lambda: RNN(Cell(state_size=0)), ValueError, r"state_size.*0"),
    ("RNN of a cell with state_size []", lambda: RNN(Cell(state_size=[])), ValueError, r"state_size.*\[\]"),
    ("RNN of a cell with state_size [2, True]", lambda: RNN(Cell(state_size=[2, True])), ValueError,
     r"state_size.*True"),
    ("RNN truncate_gradient=-2", lambda: RNN(LSTMCell(2), truncate_gradient=-2), ValueError,
     r"truncate_gradient.*-2"),
    ("RNN stateful without batch", lambda: RNN(LSTMCell(2), stateful=True, input_shape=(T, D)), ValueError,
     r"stateful.*batch"),
    ("StackedRNNCells of nothing", lambda: StackedRNNCells([]), ValueError, r"non-empty list"),
    ("StackedRNNCells of a string", lambda: StackedRNNCells([LSTMCell(2), "gru"]), TypeError, r"cell 1.*str"),
    ("StackedRNNCells of a Dense", lambda: StackedRNNCells([Dense(2)]), TypeError, r"no state_size"),
    ("StackedRNNCells with one cell twice", lambda: (lambda c: StackedRNNCells([c, c]))(GRUCell(2)), ValueError,
     r"twice"),
    ("Bidirectional of a Dense", lambda: Bidirectional(Dense(2)), TypeError, r"recurrent layer.*Dense"),
    ("Bidirectional of a cell", lambda: Bidirectional(LSTMCell(2)), TypeError, r"recurrent layer.*LSTMCell"),
    ("Bidirectional merge_mode='max'", lambda: Bidirectional(LSTM(2), merge_mode="max"), ValueError,
     r"merge_mode 'max'"),
]


@pytest.mark.parametrize("thunk, exc, pattern", [pytest.param(*row[1:], id=row[0]) for row in CONSTRUCTORS])
def test_bad_constructor_arguments(thunk, exc, pattern):
    with pytest.raises(exc, match=pattern):
        thunk()


@given(st.one_of(st.integers(max_value=0), st.floats(allow_nan=True), st.booleans(), st.text(max_size=3)))
def test_units_that_are_not_positive_integers_are_refused_everywhere(units):
    for cls in LAYER_CLASSES:
        with pytest.raises(ValueError, match="units"):
            cls(units)


@given(st.one_of(st.floats(max_value=-1e-12), st.floats(min_value=1.0), st.just(math.nan), st.booleans()))
def test_rates_outside_the_unit_interval_are_refused_everywhere(rate):
    for cls in LAYER_CLASSES:
        for arg in ("dropout", "recurrent_dropout"):
            with pytest.raises(ValueError, match=arg):
                cls(2, **{arg: rate})


# ------------------------------------------------------------------------------------------------ calls

def _wrong_count(h):
    return h, [h, h]


def _wrong_shape(h):
    return h, [h[:, :1]]


def _not_a_pair(h):
    return h


def _array_state(h):
    return h, [h.data]


def _wide_output(h):
    return mg.concatenate([h, h], axis=-1), [h]


CALLS = [
    ("2-D input", lambda: LSTM(U)(np.zeros((B, D))), ValueError, r"3-D.*ndim=2.*return_sequences=True"),
    ("4-D input", lambda: GRU(U)(np.zeros((B, T, D, 1))), ValueError, r"3-D.*ndim=4"),
    ("another input_dim", lambda: built(LSTM(U))(x(dim=D + 1)), ValueError, rf"input_dim={D}.*\({B}, {T}, {D + 1}\)"),
    ("declared input_dim", lambda: LSTM(U, input_dim=4)(x()), ValueError,
     r"declared with input shape \(None, None, 4\)"),
    ("declared timesteps", lambda: GRU(U, input_shape=(T + 1, D))(x()), ValueError,
     rf"declared with input shape \(None, {T + 1}, {D}\)"),
    ("zero timesteps, fused", lambda: LSTM(U)(x(steps=0)), ValueError, r"at least one timestep.*timesteps=0"),
    ("zero timesteps, unrolled", lambda: GRU(U, unroll=True)(x(steps=0)), ValueError, r"timesteps=0"),
    ("zero timesteps, a user cell", lambda: RNN(Cell())(x(steps=0)), ValueError, r"timesteps=0"),
    ("string input", lambda: LSTM(U)(np.array([[["a"]]])), TypeError, r"numeric"),
    ("too few initial states", lambda: built(LSTM(U))(x(), initial_state=np.zeros((B, U))), ValueError,
     r"2 state.*passed 1"),
    ("too many initial states", lambda: built(GRU(U))(x(), initial_state=[np.zeros((B, U))] * 2), ValueError,
     r"1 state.*passed 2"),
    ("initial state of another size", lambda: built(LSTM(U))(x(), initial_state=[np.zeros((B, U)),
                                                                                 np.zeros((B, U + 1))]),
     ValueError, rf"state 1 \(c\).*expected shape \({B}, {U}\).*found shape \({B}, {U + 1}\)"),
    ("initial state of another batch", lambda: built(SimpleRNN(U))(x(), initial_state=np.zeros((B + 1, U))),
     ValueError, rf"expected shape \({B}, {U}\).*found shape \({B + 1}, {U}\)"),
    ("initial state of strings", lambda: built(SimpleRNN(U))(x(), initial_state=np.full((B, U), "a")), TypeError,
     r"numeric"),
    ("initial states twice", lambda: built(GRU(U))([x(), np.zeros((B, U))], initial_state=np.zeros((B, U))),
     ValueError, r"one way"),
    ("mask of another shape", lambda: built(LSTM(U))(x(), mask=np.ones((B, T + 1), bool)), ValueError,
     rf"mask of shape \({B}, {T + 1}\).*\({B}, {T}\)"),
    ("stateful, batch of another size", lambda: stateful_lstm()(x(batch=B + 1)), ValueError,
     rf"batches of {B} .*batch of {B + 1}"),
    ("reset_states, wrong count", lambda: stateful_lstm().reset_states([np.zeros((B, U))]), ValueError,
     r"expects 2 state.*received 1"),
    ("reset_states, not stateful", lambda: built(LSTM(U)).reset_states(), AttributeError, r"not stateful"),
    ("cell returns too many states", lambda: RNN(Cell(result=_wrong_count))(x()), ValueError,
     r"1 state\(s\) \(h\).*returned 2"),
    ("cell returns a state of another shape", lambda: RNN(Cell(result=_wrong_shape))(x()), ValueError,
     rf"new state 0 \(h\) has shape \({B}, 1\).*\({B}, {U}\)"),
    ("cell returns no pair", lambda: RNN(Cell(result=_not_a_pair))(x()), TypeError, r"\(output, new_states\)"),
    ("cell returns an array state", lambda: RNN(Cell(result=_array_state))(x()), TypeError,
     r"minigrad Tensor.*ndarray"),
    ("cell output of another size", lambda: RNN(Cell(result=_wide_output))(x()), ValueError,
     rf"output has shape \({B}, {2 * U}\), expected \({B}, {U}\)"),
    ("dropout_spec rate 1", lambda: RNN(DropoutSpecCell(lambda b, d: {"x": ((b, d), 1.0)}))(x(), training=True),
     ValueError, r"mask 'x' the rate 1\.0"),
    ("dropout_spec shape without the batch",
     lambda: RNN(DropoutSpecCell(lambda b, d: {"x": ((d,), 0.5)}))(x(), training=True), ValueError,
     r"mask 'x' the shape.*batch"),
    ("Bidirectional, odd initial states", lambda: Bidirectional(LSTM(U))(x(), initial_state=[np.zeros((B, U))] * 3),
     ValueError, r"4 initial states.*passed 3"),
    ("Bidirectional, wrong input_dim", lambda: built(Bidirectional(GRU(U)))(x(dim=D + 2)), ValueError,
     rf"input_dim={D}"),
    ("Bidirectional reset_states, not stateful", lambda: Bidirectional(GRU(U)).reset_states(), AttributeError,
     r"not stateful"),
    ("a cell built for another input_dim", lambda: (lambda c: (RNN(c)(x()), RNN(c)(x(dim=D + 1))))(LSTMCell(U)),
     ValueError, rf"cell .* built for input_dim={D}"),
    ("a masked input reaching a symbolic call with mask=", lambda: LSTM(U)(Input(shape=(T, D)), mask=np.ones((1, T))),
     TypeError, r"mask"),
    ("symbolic and concrete states mixed",
     lambda: LSTM(U)(Input(shape=(T, D)), initial_state=[Input(shape=(U,)), np.zeros((B, U))]),
     ValueError, r"mix of symbolic"),
]


@pytest.mark.parametrize("thunk, exc, pattern", [pytest.param(*row[1:], id=row[0]) for row in CALLS])
def test_bad_calls(thunk, exc, pattern):
    with pytest.raises(exc, match=pattern):
        thunk()


def test_a_failed_call_changes_no_state_and_no_weight():
    layer = stateful_lstm()
    layer.reset_states([np.ones((B, U)), np.full((B, U), 2.0)])
    weights = layer.get_weights()
    for bad in (lambda: layer(x(batch=B + 1)), lambda: layer(x(), initial_state=[np.zeros((B, U))]),
                lambda: layer.reset_states([np.zeros((B, U)), np.zeros((B + 1, U))])):
        with pytest.raises(ValueError):
            bad()
    np.testing.assert_array_equal(layer.states[0], 1.0)
    np.testing.assert_array_equal(layer.states[1], 2.0)
    for got, want in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------------------------------------ the tools

@pytest.mark.parametrize("k", [2.5, 0, -3, True, "2"])
def test_truncation_lengths_that_are_not_whole_steps_are_refused(k):
    layer = built(SimpleRNN(U, dtype="float64"))
    with pytest.raises(ValueError, match=r"k must be an integer"):
        truncated_forward(layer, x(), k)
    with pytest.raises(ValueError, match=r"k must be an integer"):
        truncated_objective(layer, x(), k=k)
    with pytest.raises(ValueError, match=r"k must be an integer"):
        check_truncated_bptt(layer, x(), k=k)


def test_tools_refuse_layers_that_are_not_recurrent():
    with pytest.raises(TypeError, match="recurrent"):
        gradient_flow(built(Dense(2), (None, D)), np.zeros((B, D)))
    with pytest.raises(TypeError, match="recurrent"):
        truncated_forward(Dense(2), x(), 2)
    with pytest.raises(ValueError, match=r"mask of shape"):
        truncated_forward(built(GRU(U)), x(), 2, mask=np.ones((B, T + 1), bool))


# ------------------------------------------------------------------------------------------------ degenerate inputs
# with a correct answer

@pytest.mark.parametrize("cls, kw", [(cls, kw) for cls in (SimpleRNN, GRU, LSTM)
                                     for kw in (dict(), dict(unroll=True), dict(implementation=2))]
                         + [(GRU, dict(reset_after=True))])
def test_an_empty_batch_gives_empty_results_and_zero_gradients(cls, kw):
    layer = cls(U, return_sequences=True, return_state=True, dropout=0.2, recurrent_dropout=0.2, **kw)
    xt = mg.Tensor(x(batch=0), requires_grad=True)
    out = layer(xt, training=True, mask=np.zeros((0, T), bool))
    assert [o.shape for o in out] == [(0, T, U)] + [(0, U)] * (len(out) - 1)
    sum(o.sum() for o in out).backward()
    assert xt.grad.shape == (0, T, D)
    for w in layer.weights:
        np.testing.assert_array_equal(w.grad, 0.0)


@pytest.mark.parametrize("unroll", [False, True])
def test_integer_inputs_and_float64_states_give_float32_outputs(unroll):
    layer = LSTM(U, return_state=True, unroll=unroll)                    # float32
    ids = np.random.default_rng(0).integers(0, 5, (B, T, D))
    out = layer(ids)
    assert all(o.dtype == np.float32 for o in out)
    h = mg.Tensor(np.ones((B, U)), requires_grad=True)                   # float64
    c = np.ones((B, U))
    out = layer(ids, initial_state=[h, c])
    assert all(o.dtype == np.float32 for o in out)
    out[0].sum().backward()
    assert h.grad.dtype == np.float64 and np.all(np.isfinite(h.grad))
    # a float64 sequence computes in float64, as numpy promotes (so gradcheck of x alone is exact)
    float64_x = mg.Tensor(x(dtype=np.float64), requires_grad=True)
    assert layer(float64_x)[0].dtype == np.float64
    assert mg.gradcheck(lambda x_: layer(x_)[0], [float64_x])           # the float32 weights only in a closure


def test_the_list_form_is_the_initial_state_form_eager_and_symbolic():
    layer = built(LSTM(U, return_state=True))
    xs, h, c = x(), np.full((B, U), 0.5, np.float32), np.full((B, U), -0.5, np.float32)
    for a, b in zip(layer([xs, h, c]), layer(xs, initial_state=[h, c])):
        np.testing.assert_array_equal(a.data, b.data)
    assert layer([xs])[0].shape == (B, U)
    inp, h_in, c_in = Input(shape=(T, D)), Input(shape=(U,)), Input(shape=(U,))
    model = Model([inp, h_in, c_in], layer([inp, h_in, c_in])[0])
    np.testing.assert_allclose(model.predict([xs, h, c]), layer(xs, initial_state=[h, c])[0].data, rtol=1e-6)
    nested = SimpleRNN(U)([[[1.0] * D] * T] * B)                        # a nested list of numbers is data
    assert nested.shape == (B, U)
