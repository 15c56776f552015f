"""Bad arguments to every public minigrad entry point: each raises a clear exception (its type, and a message naming
the problem), never a silent wrong answer. One table drives most of it; hypothesis draws axes and shapes for the
classes of bug (axes out of range, shapes that do not broadcast). Also the silent wrong answers fixed in the core:
transpose with negative axes, matmul of vectors, a Function's backward returning the wrong gradients."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

X = np.ones((2, 3))


def t(*shape, grad=True):
    return mg.Tensor(np.random.default_rng(0).standard_normal(shape or (2, 3)), requires_grad=grad)


# (name, call, exception type, message pattern)
CASES = [
    # ---- construction and conversion
    ("tensor of objects", lambda: mg.Tensor(np.array([1, None])), TypeError, "numeric.*object"),
    ("tensor as object dtype", lambda: mg.Tensor([1.0], dtype=object), TypeError, "numeric.*object"),
    ("tensor of strings", lambda: mg.Tensor(["a", "b"]), TypeError, "numeric"),
    ("tensor of complex", lambda: mg.Tensor(np.ones(2, complex)), TypeError, "real.*complex"),
    ("ragged tensor", lambda: mg.Tensor([[1.0, 2.0], [3.0]]), TypeError, "numeric.*cannot convert"),
    ("int tensor requiring grad", lambda: mg.Tensor([1, 2], requires_grad=True), TypeError, "floating-point"),
    ("unknown dtype", lambda: mg.Tensor([1.0], dtype="foo"), TypeError, "foo"),
    ("ufunc on a Tensor", lambda: np.tanh(t()), TypeError, "ufunc"),
    ("asarray without copy to another dtype", lambda: np.asarray(t(), dtype=np.float32, copy=False), ValueError,
     "needs a copy"),
    # ---- operators and elementwise ops
    ("add of non-broadcasting shapes", lambda: t() + t(4), ValueError, r"Add: .*\(2, 3\), \(4,\).*broadcast"),
    ("mul of non-broadcasting shapes", lambda: mg.mul(t(), np.ones((3, 2))), ValueError, r"Mul: .*broadcast"),
    ("add a string", lambda: t() + "a", TypeError, "unsupported operand"),
    ("exp of None", lambda: mg.exp(None), TypeError, "exp: unsupported operand of type 'NoneType'"),
    ("maximum of a dict", lambda: mg.maximum(t(), {}), TypeError, "maximum: unsupported operand of type 'dict'"),
    ("where with a mismatched condition", lambda: mg.where(np.ones(4, bool), t(), t()), ValueError,
     r"where: the condition of shape \(4,\)"),
    ("clip with a string bound", lambda: mg.clip(t(), "a", 1), TypeError, "clip: a_min"),
    ("clip with crossed bounds", lambda: mg.clip(t(), 1.0, -1.0), ValueError, "clip: a_min .* greater than a_max"),
    ("clip with a NaN bound", lambda: mg.clip(t(), np.nan, 1.0), TypeError, "clip: a_min"),
    ("cast to object", lambda: mg.cast(t(), object), TypeError, "cast: .*object"),
    ("cast to complex", lambda: mg.cast(t(), complex), TypeError, "cast: .*complex"),
    ("cast to an unknown dtype", lambda: mg.cast(t(), "foo"), TypeError, "cast: 'foo'"),
    # ---- linear algebra
    ("matmul of a 0-d operand", lambda: t() @ mg.Tensor(2.0), ValueError, r"matmul: .*at least 1-D"),
    ("matmul of unaligned shapes", lambda: t(2, 3) @ t(2, 3), ValueError, r"matmul: shapes \(2, 3\) and \(2, 3\)"),
    ("matmul of unaligned vectors", lambda: t(3) @ t(4), ValueError, r"matmul: shapes \(3,\) and \(4,\)"),
    ("matmul of batch axes that do not broadcast", lambda: t(2, 3, 4) @ t(3, 4, 5), ValueError,
     r"matmul: the batch axes .* \(2,\) and \(3,\)"),
    # ---- axes
    ("sum over axis 5", lambda: t().sum(axis=5), np.exceptions.AxisError, r"sum: axis 5 .* 2-d .*-2 to 1"),
    ("sum over a float axis", lambda: mg.sum(t(), axis=1.0), TypeError, "sum: axis must be an integer"),
    ("sum over a bool axis", lambda: t().sum(axis=True), TypeError, "sum: axis must be an integer"),
    ("sum over a repeated axis", lambda: t().sum(axis=(0, -2)), ValueError, "sum: repeated axis"),
    ("mean over axis -3", lambda: t().mean(axis=-3), np.exceptions.AxisError, "mean: axis -3"),
    ("max over axis 2", lambda: mg.max(t(), axis=2), np.exceptions.AxisError, "max: axis 2"),
    ("min over axis 2", lambda: t().min(axis=2), np.exceptions.AxisError, "min: axis 2"),
    ("softmax of a 0-d tensor", lambda: mg.softmax(mg.Tensor(1.0)), np.exceptions.AxisError, "softmax: .*0-d"),
    ("log_softmax over axis -3", lambda: mg.log_softmax(t(), axis=-3), np.exceptions.AxisError, "log_softmax"),
    ("concatenate along axis 2", lambda: mg.concatenate([t(), t()], axis=2), np.exceptions.AxisError,
     "concatenate: axis 2"),
    ("concatenate of 0-d tensors", lambda: mg.concatenate([mg.Tensor(1.0), mg.Tensor(2.0)]),
     np.exceptions.AxisError, "concatenate: .*0-d"),
    ("concatenate of mismatched shapes", lambda: mg.concatenate([t(2, 3), t(2, 4)]), ValueError,
     r"concatenate: .*\(2, 3\), \(2, 4\)"),
    ("concatenate of a bare tensor", lambda: mg.concatenate(t()), TypeError, "concatenate takes a sequence"),
    ("concatenate of nothing", lambda: mg.concatenate([]), ValueError, "at least one"),
    ("stack along axis 3", lambda: mg.stack([t(), t()], axis=3), np.exceptions.AxisError, "stack: axis 3 .* 3-d"),
    ("stack of mismatched shapes", lambda: mg.stack([t(2, 3), t(3)]), ValueError, "one shape"),
    ("stack of a bare tensor", lambda: mg.stack(t()), TypeError, "stack takes a sequence"),
    ("split along axis 2", lambda: mg.split(t(), 3, axis=2), np.exceptions.AxisError, "split: axis 2"),
    ("split into unequal parts", lambda: mg.split(t(), 2, axis=1), ValueError, "cannot be split into 2"),
    ("split into 1.5 parts", lambda: mg.split(t(), 1.5), TypeError, "split: indices_or_sections"),
    ("split at a float index", lambda: mg.split(t(), [1.5]), TypeError, "split: indices must be integers"),
    ("split at decreasing indices", lambda: mg.split(t(), [2, 1], axis=1), ValueError, "increasing"),
    ("unstack a 0-d tensor", lambda: mg.unstack(mg.Tensor(1.0)), np.exceptions.AxisError, "unstack: .*0-d"),
    ("unstack along axis 2", lambda: mg.unstack(t(), axis=2), np.exceptions.AxisError, "unstack: axis 2"),
    ("transpose with a repeated axis", lambda: t().transpose(0, 0), ValueError, "transpose: .*not a permutation"),
    ("transpose with too few axes", lambda: mg.transpose(t(), (1,)), ValueError, "not a permutation"),
    ("transpose with an axis out of range", lambda: mg.transpose(t(), (0, 2)), np.exceptions.AxisError,
     "transpose: axis 2"),
    ("sum_to a shape that does not broadcast", lambda: mg.sum_to(t(2, 3), (2,)), ValueError, "sum_to"),
    ("broadcast_to a smaller shape", lambda: mg.broadcast_to(t(2, 3), (3,)), ValueError, "broadcast_to"),
    # ---- the reverse pass
    ("backward of a non-scalar without seed", lambda: (t() * 2).backward(), RuntimeError, r"non-scalar.*\(2, 3\)"),
    ("backward with a seed of the wrong shape", lambda: (t() * 2).backward(np.ones(3)), ValueError,
     r"seed gradient has shape \(3,\)"),
    ("backward with a complex seed", lambda: (t() * 2).backward(np.ones((2, 3), complex)), TypeError,
     "seed gradient must be real"),
    ("backward with a string seed", lambda: (t() * 2).backward("a"), TypeError, "seed gradient must be numeric"),
    ("backward of a constant", lambda: mg.Tensor(1.0).backward(), RuntimeError, "does not require grad"),
    # ---- functional transforms
    ("leaves of an ndarray", lambda: mg.leaves([np.ones(2)]), TypeError, r"leaves: expected Tensors.*ndarray"),
    ("grad of a function returning a float", lambda: mg.grad(lambda a: 1.0)(X), TypeError, "must return a minigrad"),
    ("grad of a non-scalar", lambda: mg.grad(lambda a: a * 2)(X), RuntimeError, r"scalar output.*\(2, 3\)"),
    ("grad with argnums out of range", lambda: mg.grad(lambda a: a.sum(), argnums=3)(X), IndexError, "argnums 3"),
    ("grad with argnums a string", lambda: mg.grad(lambda a: a.sum(), argnums="a"), TypeError, "argnums"),
    ("grad with argnums a bool", lambda: mg.grad(lambda a: a.sum(), argnums=True), TypeError, "argnums"),
    ("grad with no argnums", lambda: mg.grad(lambda a: a.sum(), argnums=()), ValueError, "argnums is empty"),
    ("grad with a duplicate argnum", lambda: mg.grad(lambda a, b: a.sum(), argnums=(0, 0))(X, X), ValueError,
     "same argument twice"),
    ("grad of a string argument", lambda: mg.grad(lambda a: a.sum())("abc"), TypeError, "numeric"),
    ("grad of a complex argument", lambda: mg.grad(lambda a: a.sum())(np.ones(2, complex)), TypeError, "real"),
    ("value_and_grad of a function returning an int", lambda: mg.value_and_grad(lambda a: 3)(X), TypeError,
     "must return a minigrad"),
    ("gradients w.r.t. nothing", lambda: mg.gradients(t().sum(), []), TypeError, "non-empty list"),
    ("gradients w.r.t. an array", lambda: mg.gradients(t().sum(), [X]), TypeError, r"inputs\[0\] must be"),
    ("gradients of a float", lambda: mg.gradients(3.0, [t()]), TypeError, "outputs must be"),
    ("gradients with too few grad_outputs", lambda: (lambda a: mg.gradients([a.sum(), a.sum()], [a], [1.0]))(t()),
     ValueError, "1 grad_outputs for 2 outputs"),
    ("gradients with a complex cotangent", lambda: (lambda a: mg.gradients(a * 1, [a], np.ones((2, 3), complex)))(
        t()), TypeError, r"grad_outputs\[0\] must be real"),
    ("gradients with a string cotangent", lambda: (lambda a: mg.gradients(a.sum(), [a], "a"))(t()), TypeError,
     "grad_outputs must be"),
    ("gradients of a non-scalar without seed", lambda: (lambda a: mg.gradients(a * 2, [a]))(t()), RuntimeError,
     r"outputs\[0\] has shape"),
    ("gradients w.r.t. a constant", lambda: mg.gradients(t().sum(), [t(grad=False)]), RuntimeError,
     "does not require grad"),
    ("gradients w.r.t. an unused input", lambda: mg.gradients(t().sum(), [t()]), RuntimeError, "not used"),
    ("hvp of a non-scalar", lambda: mg.hvp(lambda a: a * 2, X, X), RuntimeError, "hvp needs a scalar"),
    ("hvp with a vector of the wrong shape", lambda: mg.hvp(lambda a: a.sum(), X, np.ones(3)), ValueError,
     r"vectors\[0\] has shape \(3,\)"),
    ("hvp with too few vectors", lambda: mg.hvp(lambda a, b: a.sum(), (X, X), (X,)), ValueError,
     "one array per input"),
    ("hvp of a function returning a float", lambda: mg.hvp(lambda a: 1.0, X, X), TypeError, "must return"),
    ("jvp with a tangent of the wrong shape", lambda: mg.jvp(lambda a: a * 2, X, np.ones(3)), ValueError,
     r"tangents\[0\] has shape \(3,\)"),
    ("jvp of a function returning an int", lambda: mg.jvp(lambda a: 2, X, X), TypeError, "must return"),
    ("jvp of no inputs", lambda: mg.jvp(lambda: 2, (), ()), ValueError, "inputs is empty"),
    ("jvp with a string tangent", lambda: mg.jvp(lambda a: a * 2, X, "ab"), TypeError, "numeric"),
    ("vjp of no inputs", lambda: mg.vjp(lambda: 1), ValueError, "at least one input"),
    ("vjp with a cotangent of the wrong shape", lambda: mg.vjp(lambda a: a * 2, X)[1](np.ones(3)), ValueError,
     r"cotangents\[0\] has shape \(3,\)"),
    ("vjp of a function returning a float", lambda: mg.vjp(lambda a: 1.0, X), TypeError, "must return"),
    ("hessian of a non-scalar", lambda: mg.hessian(lambda a: a * 2)(X), RuntimeError, "hessian needs a scalar"),
    ("hessian with several argnums", lambda: mg.hessian(lambda a: a.sum(), argnums=(0,)), TypeError, "one int"),
    ("hessian with argnums out of range", lambda: mg.hessian(lambda a: a.sum(), argnums=2)(X), IndexError,
     "argnums 2"),
    # ---- checkers
    ("gradcheck in an unknown mode", lambda: mg.gradcheck(lambda a: a * 2, [t()], mode="foo"), ValueError,
     "unknown mode 'foo'"),
    ("gradcheck with nothing to check", lambda: mg.gradcheck(lambda a: a * 2, [t(grad=False)]), ValueError,
     "nothing to check"),
    ("gradcheck of a function returning a float", lambda: mg.gradcheck(lambda a: 2.0, [t()]), TypeError,
     "must return a Tensor"),
    ("gradcheck w.r.t. an array", lambda: mg.gradcheck(lambda a, b: a * 2, [t(), X], wrt=1), ValueError,
     "wrt names input 1"),
    ("gradcheck w.r.t. input 5 of 1", lambda: mg.gradcheck(lambda a: a * 2, [t()], wrt=5), IndexError,
     "wrt names input 5, but there are 1"),
    ("gradcheck with eps = 0", lambda: mg.gradcheck(lambda a: a * 2, [t()], eps=0), ValueError, "eps must be"),
    ("gradcheck with a negative atol", lambda: mg.gradcheck(lambda a: a * 2, [t()], atol=-1), ValueError,
     "atol must be"),
    ("gradcheck with a NaN rtol", lambda: mg.gradcheck(lambda a: a * 2, [t()], rtol=np.nan), ValueError,
     "rtol must be"),
    ("gradcheck with a negative seed", lambda: mg.gradcheck(lambda a: a * 2, [t()], seed=-1), ValueError,
     "seed must be"),
    ("gradcheck with no projections", lambda: mg.gradcheck(lambda a: a * 2, [t()], mode="projection",
                                                           n_projections=0), ValueError, "n_projections"),
    ("gradgradcheck in an unknown mode", lambda: mg.gradgradcheck(lambda a: a * 2, [t()], mode="foo"), ValueError,
     "gradgradcheck: unknown mode"),
    ("gradgradcheck with nothing to check", lambda: mg.gradgradcheck(lambda a: a * 2, [t(grad=False)]), ValueError,
     "gradgradcheck: no input"),
    ("gradgradcheck with eps = 0", lambda: mg.gradgradcheck(lambda a: a * 2, [t()], eps=0), ValueError,
     "gradgradcheck: eps"),
    ("gradgradcheck with too many cotangents", lambda: mg.gradgradcheck(lambda a: a * 2, [t()],
                                                                        grad_outputs=[X, X]), ValueError,
     "2 grad_outputs for 1 outputs"),
    ("gradcheck_report with eps = 0", lambda: mg.gradcheck_report(lambda a: a * 2, [t()], eps=0), ValueError,
     "eps must be"),
    # ---- tape tools
    ("tape of a string", lambda: mg.tape("a"), TypeError, "expected a minigrad Tensor"),
    ("tape_table of a string", lambda: mg.tape_table("a"), TypeError, "expected a minigrad Tensor"),
    ("print_tape of a string", lambda: mg.print_tape("a"), TypeError, "expected a minigrad Tensor"),
    ("tape_graph of a string", lambda: mg.tape_graph("a"), TypeError, "expected a minigrad Tensor"),
    # ---- scan
    ("scan of a step that is not callable", lambda: mg.scan(3, t(), t(4, 3)), TypeError, "step must be callable"),
    ("scan over xs of different lengths", lambda: mg.scan(lambda c, x: (c, None), t(3), [t(2, 3), t(3, 3)]),
     ValueError, r"different lengths .*\[2, 3\]"),
    ("scan over a 0-d xs", lambda: mg.scan(lambda c, x: (c, None), t(3), mg.Tensor(1.0)), ValueError, "0-d"),
    ("scan of a step returning one value", lambda: mg.scan(lambda c, x: c, [t(3)], t(4, 3)), TypeError,
     r"must return \(new_carry, y\)"),
    ("scan of a step that changes the carry's shape", lambda: mg.scan(lambda c, x: (c[0][:2], None), t(3), t(4, 3)),
     ValueError, r"carry\[0\] from shape \(3,\) to \(2,\)"),
    ("scan_plan of a step drawing an array at each step raises NotScannable",
     lambda: mg.scan_plan(lambda c, x: (c[0] * np.random.rand(3), None), t(3), t(4, 3)),  # noqa: NPY002
     mg.NotScannable,
     "made at every step"),
    ("ScanPlan of a loop of one step", lambda: mg.scan_plan(lambda c, x: (c, None), t(3), t(1, 3)),
     mg.NotScannable, "one step"),
    # ---- the rest
    ("seed -1", lambda: mg.seed(-1), ValueError, "non-negative"),
    ("a reference that is not callable", lambda: mg.Function.apply_with_reference(3, t()), TypeError,
     "reference must be callable"),
]


@pytest.mark.parametrize("name, call, error, pattern", CASES, ids=[c[0] for c in CASES])
def test_bad_argument_raises_a_clear_error(name, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_the_sweep_covers_every_public_callable():
    """Each public function or class of minigrad is driven with a bad argument above or below."""
    sources = " ".join(c[0] for c in CASES)
    # classes, context managers and the engine's internals; every op is driven by the test below
    not_functions = {"Tensor", "Function", "Context", "Node", "GradcheckError", "GradcheckReport", "AnomalyError",
                     "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly", "track_ops", "scope",
                     "tag_timesteps", "toposort", "random", "get_rng"}
    exercised_elsewhere = not_functions | set(OPS)
    names = {n for n in mg.__all__ if callable(getattr(mg, n))} - exercised_elsewhere
    missing = [n for n in sorted(names) if n.replace("_", " ") not in sources and n not in sources]
    assert missing == []


OPS = {name: getattr(mg, name) for name in (
    "abs", "add", "broadcast_to", "cast", "clip", "concatenate", "div", "exp", "hard_sigmoid", "log", "log_softmax",
    "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg", "pow", "relu", "reshape", "sigmoid",
    "softmax", "softplus", "split", "sqrt", "stack", "sub", "sum", "sum_to", "tanh", "transpose", "unstack",
    "where")}
SECOND_ARG = {"broadcast_to": (3,), "cast": np.float32, "reshape": (6,), "split": 2, "sum_to": (3,)}


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("bad", [None, {}, "abc", object()], ids=["None", "dict", "str", "object"])
def test_every_op_refuses_an_operand_that_is_not_an_array(name, bad):
    op = OPS[name]
    if name in ("concatenate", "stack"):
        call = lambda: op([t(), bad])  # noqa: E731
    elif name == "where":
        call = lambda: op(np.ones((2, 3), bool), t(), bad)  # noqa: E731
    elif name in ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "matmul"):
        call = lambda: op(t(), bad)  # noqa: E731
    elif name in SECOND_ARG:
        call = lambda: op(bad, SECOND_ARG[name])  # noqa: E731
    else:
        call = lambda: op(bad)  # noqa: E731
    with pytest.raises(TypeError, match=f"{name}: unsupported operand of type"):
        call()


# ============================================================ classes of bug, drawn by hypothesis

REDUCTIONS = {"sum": mg.sum, "mean": mg.mean, "max": mg.max, "min": mg.min, "softmax": mg.softmax,
              "log_softmax": mg.log_softmax}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), data=st.data())
def test_an_axis_out_of_range_names_the_op_and_the_valid_range(name, shape, data):
    axis = data.draw(st.integers(len(shape), 6) | st.integers(-6, -len(shape) - 1))
    with pytest.raises(np.exceptions.AxisError, match=f"{name}: axis {axis} is out of range"):
        REDUCTIONS[name](mg.Tensor(np.ones(shape)), axis=axis)


@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), data=st.data())
def test_split_unstack_concatenate_stack_refuse_axes_out_of_range(shape, data):
    x = mg.Tensor(np.ones(shape))
    axis = data.draw(st.integers(len(shape), 6) | st.integers(-6, -len(shape) - 1))
    for op, call in (("unstack", lambda: mg.unstack(x, axis=axis)), ("split", lambda: mg.split(x, 1, axis=axis)),
                     ("concatenate", lambda: mg.concatenate([x, x], axis=axis))):
        with pytest.raises(np.exceptions.AxisError, match=f"{op}: axis {axis}"):
            call()
    stack_axis = data.draw(st.integers(len(shape) + 1, 7) | st.integers(-7, -len(shape) - 2))
    with pytest.raises(np.exceptions.AxisError, match=f"stack: axis {stack_axis}"):
        mg.stack([x, x], axis=stack_axis)


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_operands_that_do_not_broadcast_are_refused_naming_both_shapes(shapes, data):
    a_shape, b_shape = shapes.input_shapes
    k = data.draw(st.integers(0, len(b_shape) - 1))
    bad = list(b_shape)
    bad[k] = 5 if a_shape[len(a_shape) - len(b_shape) + k:][:1] != (5,) else 6  # a size the other cannot match
    if len(a_shape) - len(b_shape) + k < 0 or a_shape[len(a_shape) - len(b_shape) + k] == 1:
        return  # that axis broadcasts whatever its size
    a, b = mg.Tensor(np.ones(a_shape), requires_grad=True), mg.Tensor(np.ones(bad))
    for op in (mg.add, mg.sub, mg.mul, mg.div, mg.maximum, mg.minimum):
        with pytest.raises(ValueError, match=r"operands of shapes .* do not broadcast"):
            op(a, b)


# ============================================================ silent wrong answers, now right

@given(data=st.data())
def test_transpose_with_any_mix_of_negative_axes_has_the_right_gradient(data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=3))
    perm = data.draw(st.permutations(range(len(shape))))
    axes = [a - len(shape) if data.draw(st.booleans()) else a for a in perm]
    x = mg.Tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    seed = np.random.default_rng(1).standard_normal(np.transpose(x.data, perm).shape)
    mg.transpose(x, tuple(axes)).backward(seed)
    np.testing.assert_array_equal(x.grad, np.transpose(seed, np.argsort(perm)))
    x.grad = None
    x.transpose(*axes).backward(seed)
    np.testing.assert_array_equal(x.grad, np.transpose(seed, np.argsort(perm)))


def test_matmul_of_two_vectors_and_of_broadcast_batches_has_the_right_gradients():
    a, b = t(3), t(3)
    a.data[:], b.data[:] = [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]
    y = a @ b
    assert y.shape == ()
    y.backward()
    np.testing.assert_array_equal(a.grad, b.data)
    np.testing.assert_array_equal(b.grad, a.data)
    p, q = t(2, 1, 3, 4), t(5, 4, 2)  # batch axes (2, 1) and (5,) broadcast to (2, 5)
    assert mg.gradcheck(lambda u, v: u @ v, [p, q])
    assert mg.gradcheck(lambda u, v: u @ v, [t(4), t(2, 4, 3)])  # a vector on the left of a batch
    assert mg.gradcheck(lambda u, v: u @ v, [t(2, 3, 4), t(4)])  # and on the right


def test_np_asarray_of_a_tensor_is_its_data():
    x = t()
    np.testing.assert_array_equal(np.asarray(x), x.data)
    assert np.asarray(x).dtype == np.float64 and np.asarray(x, dtype=np.float32).dtype == np.float32
    assert np.array(x, copy=True) is not x.data


class _Wrong(mg.Function):
    """A backward returning whatever the test asks for."""

    @staticmethod
    def forward(ctx, a, b, give=None):
        ctx.give = give
        return a * b

    @staticmethod
    def backward(ctx, g):
        return ctx.give(g)


@pytest.mark.parametrize("give, pattern", [
    (lambda g: (g,), r"_Wrong.backward returned 1 gradient\(s\) but the op has 2 positional input\(s\)"),
    (lambda g: (g, g, g), r"returned 3 gradient\(s\) but the op has 2"),
    (lambda g: g, r"returned 1 gradient\(s\)"),
    (lambda g: (g.reshape(3, 2), g), r"gradient of shape \(3, 2\) for input 0, which has shape \(2, 3\)"),
    (lambda g: (g, g.reshape(-1)), r"gradient of shape \(6,\) for input 1, which has shape \(2, 3\)"),
    (lambda g: (g[:1], g), r"gradient of shape \(1, 3\) for input 0"),
    (lambda g: (g.astype(complex), g), r"dtype complex128 for input 0"),
])
def test_a_backward_returning_the_wrong_gradients_is_an_error_naming_op_input_and_shape(give, pattern):
    a, b = t(2, 3), t(2, 3)
    with pytest.raises(RuntimeError, match=pattern):
        _Wrong.apply(a, b, give=give).sum().backward()
    with pytest.raises(RuntimeError, match=pattern):
        mg.gradients(_Wrong.apply(a, b, give=give).sum(), [a, b])


def test_a_gradient_in_the_broadcast_shape_is_reduced_not_refused():
    a, b = t(3), t(2, 3)
    _Wrong.apply(a, b, give=lambda g: (g, g)).sum().backward()  # a's gradient comes back as (2, 3)
    np.testing.assert_array_equal(a.grad, [2.0, 2.0, 2.0])
    assert b.grad.shape == (2, 3)
