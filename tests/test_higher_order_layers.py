"""Second (and third) derivatives through the recurrent layers, on both paths:

* the tape path (``unroll=True``, a user's cell): every step is built from ops of the table, each with its graph
  rule;
* the fused path (the default): one ``FusedRNN`` tape entry per sequence and level, whose first-order backward is
  the hand-written numpy BPTT; a ``create_graph`` pass re-runs its sequence op by op (the cell's own step, same
  mask, order and dropout masks) and differentiates that (``Function.apply_with_reference``).

Three oracles, in float64, for every configuration of the table (SimpleRNN, GRU with reset_after False and True,
LSTM x sequences / last output / masks / go_backwards / initial and final states / variational dropout in
implementations 0, 1, 2 / stateful / no bias with other activations), for stacked cells, Bidirectional and a
user's cell:

(a) ``mg.gradgradcheck``: the gradients of the layer's VJP against central differences of the VJP, which the
    numpy rules compute (so the fused path's second derivatives are checked against its own first-order BPTT);
(b) Hessian-vector products of a loss, fused path against tape path, equal to float64 rounding;
(c) the same HVPs against central differences of first-order gradients.

The HVPs are taken with respect to everything at once: the input, the initial states and the layer's weights, the
weights reached through the layer (``mg.gradients(loss, [layer.recurrent_kernel, ...], create_graph=True)``), as
the API contract writes it. ``implementation`` changes only how the dropout masks are drawn (one per gate, or one
shared), so it is varied with dropout on. Dropout masks are recorded once (``layers.tools.record_dropout``) and
replayed in every call, so each checked function is deterministic and both paths see the same masks; a stateful
layer starts every call from the same carried states.
"""
import contextlib
from dataclasses import dataclass

import numpy as np
import pytest

import minigrad as mg
from layers import GRU, LSTM, RNN, Bidirectional, GRUCell, Layer, LSTMCell, SimpleRNN, SimpleRNNCell, StackedRNNCells
from layers.recurrent import FusedRNN
from layers.tools import record_dropout, replay_dropout

B, T, D, U = 2, 4, 2, 2
# sample 0: a hole and a masked last step; sample 1: two leading masked steps
MASK = np.array([[1, 0, 1, 0], [0, 0, 1, 1]], dtype=bool)


# ------------------------------------------------------------------------------------------------ the cases

@dataclass
class Case:
    """One configuration: ``make(unroll)`` -> an unbuilt float64 layer; ``n_states`` initial states passed (and
    differentiated), of the first ``state_sizes``; the call's ``mask`` and ``training``; ``stateful`` layers start
    every call from the same carried states."""
    make: object
    n_states: int = 0
    state_sizes: tuple = ()
    mask: object = None
    training: bool = False
    stateful: bool = False


class Twin:
    """A built layer of one path, with the inputs of the checked function: x, the initial states, the weights."""

    def __init__(self, layer, case, record, carried):
        self.layer, self.case, self.record, self.carried = layer, case, record, carried

    def __call__(self, x, *states):
        """The layer's outputs (a list) on x and the initial states, with the recorded dropout masks and the
        saved carried states."""
        if self.carried is not None:
            self.layer.states = list(self.carried)
        kw = {"training": self.case.training}
        if self.case.mask is not None:
            kw["mask"] = self.case.mask
        if states:
            kw["initial_state"] = list(states)
        with replay_dropout(self.record) if self.record is not None else contextlib.nullcontext():
            out = self.layer(x, **kw)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    @property
    def weights(self):
        return self.layer.weights


def twins(case, seed=0):
    """The fused and the unrolled layer of ``case`` with the same weights (N(0, 0.5^2): hard_sigmoid away from its
    kinks), the same dropout masks and the same carried states; and the data inputs (x, initial states)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, D))
    states = [0.5 * rng.standard_normal((B, n)) for n in case.state_sizes[:case.n_states]]
    fused, unrolled = case.make(False), case.make(True)
    with mg.no_grad():
        fused(x)  # builds
        fused.set_weights([0.5 * rng.standard_normal(w.shape) for w in fused.get_weights()])
        unrolled(x)
        unrolled.set_weights(fused.get_weights())
        carried = None
        if case.stateful:  # start from carried states that are not zero
            fused.reset_states()
            fused(x)
            carried = [s.copy() for s in fused.states]
        record = None
        if case.training:
            with record_dropout() as record:
                fused(x, training=True, mask=case.mask)
    data = [mg.Tensor(x, requires_grad=True)] + [mg.Tensor(s, requires_grad=True) for s in states]
    return Twin(fused, case, record, carried), Twin(unrolled, case, record, carried), data


def _cell_case(name, ctor, n_states=0, mask=None, training=False):
    cls, kwargs = {"SimpleRNN": (SimpleRNN, {}), "GRU": (GRU, {}), "GRU_reset_after": (GRU, {"reset_after": True}),
                   "LSTM": (LSTM, {})}[name]
    ctor = dict(ctor)
    if cls is SimpleRNN:
        ctor.pop("recurrent_activation", None)
    sizes = (U, U) if cls is LSTM else (U,)
    return Case(lambda unroll: cls(U, unroll=unroll, dtype="float64", **kwargs, **ctor),
                n_states=len(sizes) if n_states == "all" else n_states, state_sizes=sizes, mask=mask,
                training=training, stateful=bool(ctor.get("stateful")))


CELLS = ("SimpleRNN", "GRU", "GRU_reset_after", "LSTM")
OPTIONS = {
    "sequences": (dict(return_sequences=True), {}),
    "last_output": (dict(implementation=1), {}),
    "masked": (dict(return_sequences=True, implementation=2), dict(mask=MASK)),
    "backwards_masked": (dict(go_backwards=True, return_sequences=True), dict(mask=MASK)),
    "initial_and_final_states": (dict(return_sequences=True, return_state=True), dict(n_states="all", mask=MASK)),
    **{f"dropout_impl{k}": (dict(dropout=0.3, recurrent_dropout=0.4, implementation=k, return_sequences=True),
                            dict(training=True, mask=MASK)) for k in (0, 1, 2)},
    "stateful": (dict(stateful=True, batch_input_shape=(B, T, D), return_sequences=True), {}),
    "no_bias_other_activations": (dict(use_bias=False, activation="softsign", recurrent_activation="sigmoid",
                                       return_state=True, go_backwards=True), dict(n_states="all")),
}
TABLE = [pytest.param(c, o, id=f"{c}-{o}") for c in CELLS for o in OPTIONS]


def table_case(cell, option):
    ctor, call = OPTIONS[option]
    return _cell_case(cell, ctor, **call)


# ------------------------------------------------------------------------------------------------ the oracles

def loss_of(outputs, seed=3):
    """A loss with curvature of its own in every output: sum(c * o + o^2 / 2), c fixed by the seed."""
    rng = np.random.default_rng(seed)
    total = None
    for o in outputs:
        term = (o * rng.standard_normal(o.shape) + 0.5 * o * o).sum()
        total = term if total is None else total + term
    return total


def _directions(inputs, seed=5):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(t.shape) for t in inputs]


def hvp(twin, data, vectors):
    """H v of the loss with respect to (x, initial states, weights), by differentiating the recorded gradient."""
    inputs = data + twin.weights
    gs = mg.gradients(loss_of(twin(*data)), inputs, create_graph=True)
    inner = sum((g * v).sum() for g, v in zip(gs, vectors))
    return [np.zeros(t.shape) if h is None else h.data
            for h, t in zip(mg.gradients(inner, inputs, allow_unused=True), inputs)]


def hvp_by_differences(twin, data, vectors, eps=1e-6):
    """H v by central differences of first-order gradients (each computed by the path's own first-order rules)."""
    inputs = data + twin.weights
    saved = [t.data for t in inputs]

    def gradient_at(sign):
        for t, d, v in zip(inputs, saved, vectors):
            t.data = d + sign * eps * v
        try:
            return [g.data for g in mg.gradients(loss_of(twin(*data)), inputs)]
        finally:
            for t, d in zip(inputs, saved):
                t.data = d
    plus, minus = gradient_at(1), gradient_at(-1)
    return [(p - m) / (2 * eps) for p, m in zip(plus, minus)]


def assert_same_hvp(fused, unrolled, data):
    vectors = _directions(data + fused.weights)
    got, want = hvp(fused, data, vectors), hvp(unrolled, data, vectors)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)
    assert max(np.abs(w).max() for w in want) > 1e-3  # a Hessian that is not (nearly) zero


def assert_hvp_matches_differences(twin, data):
    vectors = _directions(data + twin.weights)
    for g, w in zip(hvp(twin, data, vectors), hvp_by_differences(twin, data, vectors)):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-8)


def assert_gradgradcheck(twin, data):
    n = len(data)
    assert mg.gradgradcheck(lambda *a: twin(*a[:n]), data + twin.weights, atol=1e-6, rtol=1e-4)


def one_fused_entry_per_level(twin, data, levels=1):
    outs = twin(*data)
    nodes = mg.toposort([o._node for o in outs if o._node is not None])
    return sum(node.fn is FusedRNN for node in nodes) == levels


# ------------------------------------------------------------------------------------------------ the table

@pytest.mark.parametrize("cell, option", TABLE)
def test_fused_and_tape_hvps_agree(cell, option):
    fused, unrolled, data = twins(table_case(cell, option))
    assert one_fused_entry_per_level(fused, data)
    assert_same_hvp(fused, unrolled, data)


@pytest.mark.parametrize("path", ["fused", "unroll"])
@pytest.mark.parametrize("cell, option", TABLE)
def test_hvp_matches_differences_of_gradients(cell, option, path):
    fused, unrolled, data = twins(table_case(cell, option))
    assert_hvp_matches_differences(fused if path == "fused" else unrolled, data)


@pytest.mark.parametrize("path", ["fused", "unroll"])
@pytest.mark.parametrize("cell, option", TABLE)
def test_gradgradcheck(cell, option, path):
    fused, unrolled, data = twins(table_case(cell, option))
    assert_gradgradcheck(fused if path == "fused" else unrolled, data)


# ------------------------------------------------------------------------------------------------ stacks, wrappers

STACKS = {
    "list_lstm_gru": (lambda: [LSTMCell(U), GRUCell(3, reset_after=True)], (U, U, 3)),
    "stacked_cells_simple_lstm_dropout": (
        lambda: StackedRNNCells([SimpleRNNCell(3, dropout=0.3, recurrent_dropout=0.2),
                                 LSTMCell(U, recurrent_dropout=0.3, implementation=2)]), (3, U, U)),
}


def _stack_case(name, go_backwards=False, mask=None, n_states=0, return_state=False):
    cells, sizes = STACKS[name]
    return Case(lambda unroll: RNN(cells(), return_sequences=True, return_state=return_state,
                                   go_backwards=go_backwards, unroll=unroll, dtype="float64"),
                n_states=len(sizes) if n_states == "all" else n_states, state_sizes=sizes, mask=mask,
                training="dropout" in name)


STACK_TABLE = [pytest.param(name, opts, id=f"{name}-{label}") for name in STACKS for label, opts in (
    ("plain", {}), ("backwards_masked", dict(go_backwards=True, mask=MASK)),
    ("states", dict(n_states="all", return_state=True, mask=MASK)))]


@pytest.mark.parametrize("name, opts", STACK_TABLE)
def test_stacked_cells_fused_per_level_and_tape_agree(name, opts):
    fused, unrolled, data = twins(_stack_case(name, **opts))
    assert one_fused_entry_per_level(fused, data, levels=2)
    assert_same_hvp(fused, unrolled, data)
    assert_hvp_matches_differences(fused, data)
    assert_gradgradcheck(fused, data)


def _bidirectional_case(cell, merge_mode, return_state=False, training=False):
    cls = {"SimpleRNN": SimpleRNN, "GRU": GRU, "LSTM": LSTM}[cell]
    extra = dict(dropout=0.3, recurrent_dropout=0.3) if training else {}
    sizes = ((U, U) if cls is LSTM else (U,)) * 2
    return Case(lambda unroll: Bidirectional(cls(U, return_sequences=True, return_state=return_state,
                                                 unroll=unroll, dtype="float64", **extra),
                                             merge_mode=merge_mode),
                n_states=len(sizes) if return_state else 0, state_sizes=sizes, mask=MASK, training=training)


BIDIRECTIONAL_TABLE = [
    pytest.param("LSTM", "concat", False, False, id="LSTM-concat"),
    pytest.param("GRU", "mul", False, True, id="GRU-mul-dropout"),
    pytest.param("SimpleRNN", "ave", True, False, id="SimpleRNN-ave-states"),
    pytest.param("LSTM", None, True, False, id="LSTM-none-states"),
    pytest.param("GRU", "sum", True, False, id="GRU-sum-states"),
]


@pytest.mark.parametrize("cell, merge_mode, return_state, training", BIDIRECTIONAL_TABLE)
def test_bidirectional_fused_and_tape_agree(cell, merge_mode, return_state, training):
    fused, unrolled, data = twins(_bidirectional_case(cell, merge_mode, return_state, training))
    assert one_fused_entry_per_level(fused, data, levels=2)  # one per direction
    assert_same_hvp(fused, unrolled, data)
    assert_hvp_matches_differences(fused, data)
    assert_gradgradcheck(fused, data)


class MinimalRNNCell(Layer):
    """A user's cell (no fused kernel: the scan path, or the tape with ``unroll=True``), with input dropout."""

    def __init__(self, units, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.state_size, self.dropout = units, units, dropout

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), "glorot_uniform")
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, self.units), "orthogonal")

    def dropout_spec(self, batch_size, input_dim):
        return {"inputs": ((batch_size, input_dim), self.dropout)}

    def call(self, inputs, states, training=False, dropout_masks=None):
        m = (dropout_masks or {}).get("inputs")
        x = inputs if m is None else inputs * m
        h = mg.tanh(x @ self.kernel + states[0] @ self.recurrent_kernel)
        return h, [h]


USER_TABLE = {
    "masked_backwards_states": Case(
        lambda unroll: RNN(MinimalRNNCell(U, dtype="float64"), return_sequences=True, return_state=True,
                           go_backwards=True, unroll=unroll), n_states=1, state_sizes=(U,), mask=MASK),
    "dropout": Case(lambda unroll: RNN(MinimalRNNCell(U, dropout=0.3, dtype="float64"), return_sequences=True,
                                       unroll=unroll), training=True, mask=MASK),
    "stacked_with_lstm": Case(lambda unroll: RNN([LSTMCell(U, dtype="float64"), MinimalRNNCell(U, dtype="float64")],
                                                 return_sequences=True, unroll=unroll), mask=MASK),
}


@pytest.mark.parametrize("name", USER_TABLE)
def test_a_user_cell_is_differentiated_twice_on_the_tape(name):
    fused, unrolled, data = twins(USER_TABLE[name])
    assert one_fused_entry_per_level(fused, data, levels=0)  # a stack holding a user's cell runs on the tape
    assert_same_hvp(fused, unrolled, data)
    assert_hvp_matches_differences(fused, data)
    assert_gradgradcheck(fused, data)


# ------------------------------------------------------------------------------------------------ the API's form

@pytest.mark.parametrize("cls", [SimpleRNN, GRU, LSTM])
def test_gradient_of_a_gradient_reached_through_the_layer_as_the_contract_writes_it(cls):
    mg.seed(0)
    x = np.random.default_rng(0).standard_normal((3, 6, 4))
    layer = cls(5, dtype="float64")     # the default: fused
    twin = cls(5, dtype="float64", unroll=True)
    layer(x), twin(x)
    twin.set_weights(layer.get_weights())
    v = np.random.default_rng(1).standard_normal(layer.recurrent_kernel.shape)

    def hv_of(lay):
        loss = (lay(x) ** 2).sum()
        g, = mg.gradients(loss, [lay.recurrent_kernel], create_graph=True)
        assert g.requires_grad
        hv, = mg.gradients((g * v).sum(), [lay.recurrent_kernel])
        return hv.data
    np.testing.assert_allclose(hv_of(layer), hv_of(twin), rtol=1e-9, atol=1e-13)
    assert np.abs(hv_of(layer)).max() > 0


def test_a_float32_lstm_hvp_is_float32_and_matches_float64():
    mg.seed(2)
    x = np.random.default_rng(2).standard_normal((4, 7, 3)).astype(np.float32)
    lstm = LSTM(6, return_sequences=True)
    lstm(x)
    R = lstm.recurrent_kernel
    v = np.random.default_rng(3).standard_normal(R.shape).astype(np.float32)

    def hv_of(xs):
        g, = mg.gradients((lstm(xs, training=True) ** 2).sum(), [R], create_graph=True)
        hv, = mg.gradients((g * v).sum(), [R])
        return hv
    hv32 = hv_of(x)
    assert hv32.dtype == np.float32
    saved = [w.data for w in lstm.weights]
    try:
        for w in lstm.weights:
            w.data = w.data.astype(np.float64)
        hv64 = hv_of(x.astype(np.float64)).data
    finally:
        for w, d in zip(lstm.weights, saved):
            w.data = d
    np.testing.assert_allclose(hv32.data, hv64, rtol=1e-3, atol=1e-4 * np.abs(hv64).max())


@pytest.mark.parametrize("cls", [GRU, LSTM])
def test_third_derivatives_through_the_fused_path_match_the_tape(cls):
    """d/dR of u . H(R) v: a create_graph pass over a graph that already holds a re-run of the sequence."""
    case = _cell_case(cls.__name__, dict(return_sequences=True, recurrent_activation="sigmoid"), mask=MASK)
    fused, unrolled, data = twins(case)
    rng = np.random.default_rng(9)
    u, v = (rng.standard_normal(fused.layer.recurrent_kernel.shape) for _ in range(2))

    def third(twin):
        R = twin.layer.recurrent_kernel
        g, = mg.gradients(loss_of(twin(*data)), [R], create_graph=True)
        hv, = mg.gradients((g * v).sum(), [R], create_graph=True)
        t, = mg.gradients((hv * u).sum(), [R])
        return t.data
    got, want = third(fused), third(unrolled)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert np.abs(want).max() > 1e-3


def test_mg_hvp_and_hessian_through_a_fused_layer():
    """The functional forms: the weights as arguments, put into the layer for the call."""
    fused, unrolled, data = twins(_cell_case("LSTM", dict(return_sequences=True), mask=MASK))

    def as_function(twin):
        R = twin.layer.recurrent_kernel

        def f(r):
            held = twin.layer.cell.recurrent_kernel
            twin.layer.cell.recurrent_kernel = r
            try:
                return loss_of(twin(*data))
            finally:
                twin.layer.cell.recurrent_kernel = held
        return f, R.data
    (f, r), (f_tape, _) = as_function(fused), as_function(unrolled)
    v = np.random.default_rng(4).standard_normal(r.shape)
    np.testing.assert_allclose(mg.hvp(f, r, v), mg.hvp(f_tape, r, v), rtol=1e-9, atol=1e-12)
    H = mg.hessian(f)(r)
    np.testing.assert_allclose(H, mg.hessian(f_tape)(r), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(H.reshape(r.size, r.size), H.reshape(r.size, r.size).T, atol=1e-12)


# ------------------------------------------------------------------------------------------------ first order untouched

def test_first_order_passes_never_run_the_op_by_op_sequence(monkeypatch):
    """The reference is run only by a create_graph pass: backward() and plain mg.gradients use the numpy BPTT."""
    fused, _, data = twins(_cell_case("LSTM", dict(return_sequences=True), mask=MASK, training=False))
    cell = fused.layer.cell
    weights = (cell.kernel, cell.recurrent_kernel, cell.bias)
    calls = []
    step = type(cell).step
    monkeypatch.setattr(type(cell), "step", lambda self, *a: calls.append(1) or step(self, *a))
    loss = loss_of(fused(*data))
    loss.backward()
    mg.gradients(loss_of(fused(*data)), fused.weights)
    assert calls == []
    mg.gradients(loss_of(fused(*data)), fused.weights, create_graph=True)
    assert len(calls) == T  # one re-run of the sequence, step by step
    assert (cell.kernel, cell.recurrent_kernel, cell.bias) == weights  # the cell's own weights are back


def test_the_reference_computes_from_the_inputs_the_op_was_applied_to():
    """A cell whose weight attributes point elsewhere by the time the second derivative is taken (a tool swapped
    them, say) still gets the derivative of what was computed."""
    fused, unrolled, data = twins(_cell_case("GRU", dict(return_sequences=True)))
    vectors = _directions(data + fused.weights)
    want = hvp(unrolled, data, vectors)
    cell = fused.layer.cell
    inputs = data + fused.weights
    gs_loss = loss_of(fused(*data))
    held = cell.kernel, cell.recurrent_kernel, cell.bias
    cell.kernel, cell.recurrent_kernel, cell.bias = (mg.Tensor(np.zeros(w.shape)) for w in held)
    try:
        gs = mg.gradients(gs_loss, inputs, create_graph=True)
    finally:
        cell.kernel, cell.recurrent_kernel, cell.bias = held
    got = mg.gradients(sum((g * v).sum() for g, v in zip(gs, vectors)), inputs)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.data, w, rtol=1e-9, atol=1e-12)


def test_the_readmes_hvp_through_an_lstm_runs_and_is_the_tapes():
    import os
    import re
    readme = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
    section = open(readme, encoding="utf-8").read().split("## Higher-order differentiation", 1)[1]
    code = re.findall(r"```python\n(.*?)```", section.split("\n## ", 1)[0], re.S)[1]
    scope = {"np": np, "mg": mg}
    exec(compile(code, "README.md", "exec"), scope)
    lstm, xs, v = scope["lstm"], scope["xs"], scope["v"]
    twin = LSTM(8, dtype="float64", unroll=True)
    twin(xs)
    twin.set_weights(lstm.get_weights())
    g, = mg.gradients((twin(xs) ** 2).sum(), [twin.recurrent_kernel], create_graph=True)
    hv, = mg.gradients((g * v).sum(), [twin.recurrent_kernel])
    np.testing.assert_allclose(scope["hv"].data, hv.data, rtol=1e-9, atol=1e-12)
