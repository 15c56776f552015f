"""mg.scan: a loop of identical steps replayed as one tape entry equals the same loop recorded op by op.

Oracle: ``mg.scan(..., unroll=True)``, the loop with every op of every step on the tape (minigrad's own reverse
pass differentiates it), and float64 central differences (mg.gradcheck, mg.gradgradcheck). Property: for any
step program drawn from a small grammar of ops (products with weights, sums with biases, activations, splits,
masks, constants, a user's op), the replay gives the same outputs and the same gradients of every input.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg

RTOL, ATOL = 1e-10, 1e-12


def rand(rng, *shape, grad=True):
    return mg.Tensor(rng.standard_normal(shape), requires_grad=grad)


def ops_of(*tensors):
    return [e.op for e in mg.tape([t for t in tensors if isinstance(t, mg.Tensor) and t.requires_grad])]


def run(step, init, xs, reverse, unroll, leaves, seed=7):
    """Outputs and the gradients of every leaf of a loss that weighs every output with fixed random numbers."""
    for t in leaves:
        t.grad = None
    carry, ys = mg.scan(step, init, xs, reverse=reverse, unroll=unroll)
    outs = [c for c in (carry if isinstance(carry, list) else [carry])]
    outs += [] if ys is None else ys if isinstance(ys, list) else [ys]
    rng = np.random.default_rng(seed)
    loss = None
    for o in outs:
        if o.requires_grad:
            term = (o * rng.standard_normal(o.shape)).sum()
            loss = term if loss is None else loss + term
    ops = ops_of(loss) if loss is not None else []
    if loss is not None:
        loss.backward()
    return [o.data.copy() for o in outs], [None if t.grad is None else t.grad.copy() for t in leaves], ops


def assert_same_loop(step, init, xs, leaves, reverse=False, scanned=True):
    """The replayed loop equals the op-by-op loop: outputs and every gradient."""
    want, want_grads, tape_ops = run(step, init, xs, reverse, True, leaves)
    got, got_grads, scan_ops = run(step, init, xs, reverse, False, leaves)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    for a, b in zip(got_grads, want_grads):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    if scanned:
        assert scan_ops.count("Scan") == 1 and len(scan_ops) < len(tape_ops)
    else:
        assert "Scan" not in scan_ops
    return scan_ops


# ------------------------------------------------------------------------------------------------------------
# A fixed LSTM step: the plan, the replay, and the function of every argument
# ------------------------------------------------------------------------------------------------------------

B, T, D, U = 3, 5, 4, 2


def lstm_problem(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    W, R, b = rand(rng, D, 4 * U), rand(rng, U, 4 * U), rand(rng, 4 * U)
    for w in (W, R, b):
        w.data = (0.5 * w.data).astype(dtype)
    x = mg.Tensor(rng.standard_normal((T, B, D)).astype(dtype), requires_grad=True)
    h0 = mg.Tensor(rng.standard_normal((B, U)).astype(dtype), requires_grad=True)
    c0 = mg.Tensor(rng.standard_normal((B, U)).astype(dtype), requires_grad=True)

    def step(carry, x_t):
        h, c = carry
        i, f, g, o = mg.split(x_t[0] @ W + h @ R + b, 4, axis=-1)
        c = mg.sigmoid(f) * c + mg.sigmoid(i) * mg.tanh(g)
        h = mg.sigmoid(o) * mg.tanh(c)
        return [h, c], h

    return step, [h0, c0], x, [x, h0, c0, W, R, b]


@pytest.mark.parametrize("reverse", [False, True])
def test_an_lstm_step_replayed_equals_the_loop_recorded_op_by_op(reverse):
    step, init, x, leaves = lstm_problem()
    ops = assert_same_loop(step, init, x, leaves, reverse=reverse)
    assert ops.count("Scan") == 1 and "Sigmoid" not in ops          # one tape entry for the whole loop


def test_the_forward_values_are_bitwise_those_of_the_loop():
    step, init, x, _ = lstm_problem(np.float32)
    (h, c), ys = mg.scan(step, init, x)
    (h2, c2), ys2 = mg.scan(step, init, x, unroll=True)
    for a, b in ((h, h2), (c, c2), (ys, ys2)):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a.data, b.data)


def test_the_plan_runs_the_input_product_over_time_and_the_weight_gradients_after_the_loop():
    step, init, x, _ = lstm_problem()
    plan = mg.scan_plan(step, init, x)
    rows = {line.split()[0]: line for line in str(plan).splitlines()[1:] if line.split()[0].isdigit()}
    assert "MatMul" in rows["0"] and "over time" in rows["0"]                     # x_t @ W for all steps at once
    assert "MatMul" in rows["1"] and "per step" in rows["1"] and "after the loop" in rows["1"]   # dR: one product
    assert "after the loop" in rows["3"]                                          # db: one sum
    assert sum("per step" in r for r in rows.values()) == 13
    assert "def forward" in plan.source and "def backward" in plan.source


def test_gradcheck_and_second_derivatives_through_a_scan():
    step, init, x, leaves = lstm_problem()

    def f(x_, h_, c_, *weights):
        (_, c), ys = mg.scan(step, [h_, c_], x_)
        return [ys, c]

    assert mg.gradcheck(f, leaves, atol=1e-7, rtol=1e-5)
    # create_graph differentiates the scan through its op-by-op form
    g_W, = mg.gradients((mg.scan(step, init, x)[1] ** 2).sum(), [leaves[3]], create_graph=True)
    g_W_ref, = mg.gradients((mg.scan(step, init, x, unroll=True)[1] ** 2).sum(), [leaves[3]], create_graph=True)
    v = np.random.default_rng(3).standard_normal(g_W.shape)
    hv = mg.gradients((g_W * v).sum(), leaves)
    hv_ref = mg.gradients((g_W_ref * v).sum(), leaves)
    for a, b in zip(hv, hv_ref):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-10, atol=1e-12)
    small = [mg.Tensor(t.data[:2] if t is x else t.data, requires_grad=True) for t in leaves]
    assert mg.gradgradcheck(lambda x_, h_, c_, *w: mg.scan(step, [h_, c_], x_)[1], small[:3], atol=1e-6, rtol=1e-4)


def test_without_gradient_nothing_is_recorded_and_the_values_are_the_same():
    step, init, x, _ = lstm_problem()
    with mg.no_grad():
        _, ys = mg.scan(step, init, x)
    assert not ys.requires_grad and ys._node is None
    np.testing.assert_array_equal(ys.data, mg.scan(step, init, x, unroll=True)[1].data)


def test_under_the_op_monitor_every_op_is_recorded():
    step, init, x, _ = lstm_problem()
    with mg.track_ops():
        ys = mg.scan(step, init, x)[1]
    ops = ops_of(ys)
    assert "Scan" not in ops and ops.count("Sigmoid") == 3 * T


# ------------------------------------------------------------------------------------------------------------
# Forms of a step: carries passed through, several xs, masks, outputs that are inputs, a user's op
# ------------------------------------------------------------------------------------------------------------

class Cube(mg.Function):
    """A user's op (numpy backward only)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a ** 3

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return 3 * a * a * g


class Pair(mg.Function):
    """A user's op with two outputs, one of them unused by the step; its backward returns None for an input."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b, a + b

    @staticmethod
    def backward(ctx, g_prod, g_sum):
        _, b = ctx.saved_tensors
        return g_prod * b + g_sum, None


def test_carry_passed_through_ys_as_list_and_xs_with_a_mask():
    rng = np.random.default_rng(1)
    R, p = rand(rng, U, U), rand(rng, U)
    x = rand(rng, T, B, U)
    keep = mg.Tensor(rng.random((T, B, 1)) > 0.4)
    a0, b0, k0 = rand(rng, B, U), rand(rng, B, U), rand(rng, B, U)

    def step(carry, x_t):
        a, b, k = carry
        new = mg.tanh(x_t[0] + a @ R) * p + Cube.apply(b) * 0.1
        new = mg.where(x_t[1], new, a)
        prod, _ = Pair.apply(new, b)
        return [new, mg.tanh(prod), k], [a, k, new * 2.0]     # k unchanged; ys: a carry input, k and a value

    ops = assert_same_loop(step, [a0, b0, k0], [x, keep], [x, a0, b0, k0, R, p])
    assert ops.count("Scan") == 1
    assert_same_loop(step, [a0, b0, k0], [x, keep], [x, a0, b0, k0, R, p], reverse=True)


def test_ops_on_loop_invariants_run_once_and_their_gradients_are_summed():
    rng = np.random.default_rng(2)
    R, W = rand(rng, U, 2 * U), rand(rng, D, U)
    x, h0 = rand(rng, T, B, D), rand(rng, B, U)

    def step(carry, x_t):
        (h,) = carry
        left, right = R[:, :U], R[:, U:]                      # slices of a weight at every step: run once
        h = mg.tanh(x_t[0] @ W + h @ left) + mg.sigmoid(h @ right) * mg.exp(mg.clip(h, -1, 1))
        return [h], None

    assert_same_loop(step, [h0], x, [x, h0, R, W])
    plan = mg.scan_plan(step, [h0], x)
    assert sum(" once " in line for line in str(plan).splitlines()) == 2


def test_an_input_without_gradient_and_a_float32_loop():
    rng = np.random.default_rng(4)
    R = mg.Tensor(rng.standard_normal((U, U)).astype(np.float32), requires_grad=True)
    x = mg.Tensor(rng.standard_normal((T, B, U)).astype(np.float32))
    h0 = mg.Tensor(np.zeros((B, U), np.float32))

    def step(carry, x_t):
        h = mg.tanh(x_t[0] + carry[0] @ R)
        return [h], h

    want, want_grads, _ = run(step, [h0], x, False, True, [R])
    got, got_grads, _ = run(step, [h0], x, False, False, [R])
    for a, b in zip(got + got_grads, want + want_grads):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6)


def test_a_single_tensor_carry_and_a_single_tensor_y():
    rng = np.random.default_rng(5)
    R, x, h0 = rand(rng, U, U), rand(rng, T, B, U), rand(rng, B, U)
    carry, ys = mg.scan(lambda h, x_t: (mg.tanh(x_t[0] + h[0] @ R), None), h0, x)
    assert isinstance(carry, mg.Tensor) and ys is None and carry.shape == (B, U)
    carry, ys = mg.scan(lambda h, x_t: ([h[0] * 0.5], [x_t[0], h[0]]), [h0], x)
    assert isinstance(ys, list) and [y.shape for y in ys] == [(T, B, U), (T, B, U)]
    np.testing.assert_array_equal(ys[0].data, x.data)


# ------------------------------------------------------------------------------------------------------------
# Steps that are not one fixed program run op by op, with the same result
# ------------------------------------------------------------------------------------------------------------

def control_flow_step(R):
    def step(carry, x_t):
        (h,) = carry
        if float(x_t[0].data.sum()) > 0:                       # Python control flow on the step's values
            h = mg.tanh(h @ R + x_t[0])
        else:
            h = mg.sigmoid(h @ R - x_t[0])
        return [h], h
    return step


def fresh_array_step(R):
    def step(carry, x_t):
        (h,) = carry
        return [mg.where(h.data > 0, mg.tanh(h @ R), h * 0.5) + x_t[0]], None   # an array computed from data
    return step


def random_step(R):
    def step(carry, x_t):
        (h,) = carry
        return [mg.tanh(h @ R) * np.random.default_rng().random(h.shape) + x_t[0]], None
    return step


@pytest.mark.parametrize("make", [control_flow_step, fresh_array_step, random_step])
def test_a_step_that_is_not_the_same_program_at_every_step_runs_op_by_op(make):
    rng = np.random.default_rng(6)
    R, h0 = rand(rng, U, U), rand(rng, B, U)
    x = mg.Tensor(np.stack([np.ones((B, U)), -np.ones((B, U)), np.ones((B, U)), -np.ones((B, U))]),
                  requires_grad=True)
    step = make(R)
    with pytest.raises(mg.NotScannable):
        mg.scan_plan(step, [h0], x)
    if make is random_step:
        _, ys = mg.scan(step, [h0], x)
        assert "Scan" not in ops_of(ys)
    else:
        assert_same_loop(step, [h0], x, [x, h0, R], scanned=False)


def test_a_loop_of_one_step_runs_op_by_op():
    rng = np.random.default_rng(7)
    R, h0, x = rand(rng, U, U), rand(rng, B, U), rand(rng, 1, B, U)
    assert_same_loop(lambda c, x_t: ([mg.tanh(c[0] @ R + x_t[0])], c[0]), [h0], x, [x, h0, R], scanned=False)


def test_an_error_in_the_step_is_the_error_of_the_loop():
    rng = np.random.default_rng(8)
    h0, x = rand(rng, B, U), rand(rng, T, B, U)
    with pytest.raises(ValueError, match="matmul: shapes"):
        mg.scan(lambda c, x_t: ([c[0] @ x_t[0]], None), [h0], x)
    with pytest.raises(TypeError, match="returned a int as y"):
        mg.scan(lambda c, x_t: (c, [3]), [h0], x)


# ------------------------------------------------------------------------------------------------------------
# Property: any step drawn from a grammar of ops is replayed exactly
# ------------------------------------------------------------------------------------------------------------

INSTRUCTIONS = ["x_in", "recurrent", "add", "sub", "mul", "bias", "scale", "rsub", "tanh", "sigmoid", "relu",
                "exp", "split_join", "where", "row_sum", "weight_slice", "cube", "divide", "hard_sigmoid", "maximum"]


def instruction(op, a, b, x_t, w):
    """The value one instruction of a step program makes from the values a and b (and x_t, the weights w)."""
    if op == "x_in":
        return x_t[0] @ w["W"]
    if op == "recurrent":
        return a @ w["R"]
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "bias":
        return a + w["bias"]
    if op == "scale":
        return w["p"] * a
    if op == "rsub":
        return 1.0 - a
    if op == "tanh":
        return mg.tanh(a)
    if op == "sigmoid":
        return mg.sigmoid(a)
    if op == "relu":
        return mg.relu(a)
    if op == "exp":
        return mg.exp(mg.clip(a, -2.0, 2.0))
    if op == "split_join":
        return mg.concatenate(mg.split(a, 2, axis=-1)[::-1], axis=-1)
    if op == "where":
        return mg.where(x_t[1], a, b)
    if op == "row_sum":
        return a.sum(axis=-1, keepdims=True) * b
    if op == "weight_slice":
        return a @ w["R2"][:, w["u"]:]
    if op == "cube":
        return Cube.apply(mg.tanh(a))
    if op == "divide":
        return a / (1.5 + mg.tanh(b))
    if op == "hard_sigmoid":
        return mg.hard_sigmoid(a)
    assert op == "maximum"
    return mg.maximum(a, b * 0.5)


@st.composite
def programs(draw):
    n = draw(st.integers(2, 9))
    program = []
    for k in range(n):
        op = draw(st.sampled_from(INSTRUCTIONS))
        # operands: indices into the values made so far (0: carry a, 1: carry b, then each instruction's result)
        program.append((op, draw(st.integers(0, k + 1)), draw(st.integers(0, k + 1))))
    new_a = draw(st.integers(0, n + 1))
    new_b = draw(st.integers(0, n + 1))
    ys = draw(st.lists(st.integers(0, n + 1), max_size=2))
    return program, new_a, new_b, ys


@given(programs(), st.integers(2, 5), st.integers(1, 3), st.booleans(), st.integers(0, 10 ** 6))
def test_property_any_step_program_replays_as_its_loop(prog, steps, batch, reverse, seed):
    program, new_a, new_b, y_values = prog
    rng = np.random.default_rng(seed)
    u, d = 4, 3
    W, R, R2 = rand(rng, d, u), rand(rng, u, u), rand(rng, u, 2 * u)
    bias, p = rand(rng, u), rand(rng, u)
    x = rand(rng, steps, batch, d)
    keep = mg.Tensor(rng.random((steps, batch, 1)) > 0.3)
    a0, b0 = rand(rng, batch, u), rand(rng, batch, u)
    for w in (W, R, R2):
        w.data *= 0.5

    weights = {"W": W, "R": R, "R2": R2, "bias": bias, "p": p, "u": u}

    def step(carry, x_t):
        values = list(carry)
        for op, i, j in program:
            values.append(instruction(op, values[i], values[j], x_t, weights))
        # the carry is squashed so that long loops stay finite
        return [mg.tanh(values[new_a]), values[new_b] * 0.5], [values[k] for k in y_values]

    assert_same_loop(step, [a0, b0], [x, keep], [x, a0, b0, W, R, R2, bias, p], reverse=reverse)
