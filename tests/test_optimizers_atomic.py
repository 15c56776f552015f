"""An optimizer step is all or nothing, and never writes NaN or Inf (optim/optimizers.py).

Each test snapshots every parameter, every slot array and the optimizer's counters, makes a step fail in a
different place (a constraint raising, a KeyboardInterrupt inside the update of the second parameter, a
non-finite gradient, an overflow), and checks that the snapshot is unchanged; then that a clean step afterwards
gives exactly what an optimizer that never saw the failure gives.
"""
import numpy as np
import pytest

import minigrad as mg
from layers import Dense, Sequential, constraints
from optim import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop

OPTIMIZERS = [lambda: SGD(lr=0.1, momentum=0.9, nesterov=True), lambda: RMSprop(), lambda: Adagrad(),
              lambda: Adadelta(), lambda: Adam(), lambda: Adamax(), lambda: Nadam()]


class Param:
    def __init__(self, data, constraint=None, name=None):
        self.data = np.array(data, dtype=np.float64)
        self.grad = None
        self.constraint = constraint
        self.name = name


def params_and_grads(seed=0):
    rng = np.random.default_rng(seed)
    ps = [Param(rng.standard_normal(s), name=f"p{i}") for i, s in enumerate([(3, 2), (4,), (2, 2)])]
    for p in ps:
        p.grad = rng.standard_normal(p.data.shape)
    return ps


def snapshot(opt, ps):
    return ([p.data.copy() for p in ps],
            [{k: v.copy() for k, v in opt.get_state(p).items()} for p in ps],
            opt.iterations, getattr(opt, "m_schedule", None))


def assert_same(a, b):
    (data_a, slots_a, it_a, sched_a), (data_b, slots_b, it_b, sched_b) = a, b
    assert it_a == it_b and sched_a == sched_b
    for x, y in zip(data_a, data_b):
        np.testing.assert_array_equal(x, y)
    for sa, sb in zip(slots_a, slots_b):
        assert sa.keys() == sb.keys()
        for k in sa:
            np.testing.assert_array_equal(sa[k], sb[k])


def warm(opt, ps, steps=2):
    for _ in range(steps):
        opt.step(ps)


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_a_raising_constraint_changes_nothing(make):
    opt, ps = make(), params_and_grads()
    warm(opt, ps)
    before = snapshot(opt, ps)

    def boom(w):
        raise RuntimeError("constraint failed")

    ps[2].constraint = boom  # the last parameter: the first two updates are already computed
    with pytest.raises(RuntimeError, match="constraint failed"):
        opt.step(ps)
    assert_same(before, snapshot(opt, ps))
    # and the failure left no trace: the next step equals a fresh optimizer's with the same history
    ps[2].constraint = None
    twin, qs = make(), params_and_grads()
    warm(twin, qs, 3)
    opt.step(ps)
    assert_same(snapshot(twin, qs), snapshot(opt, ps))


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_keyboard_interrupt_inside_the_update_changes_nothing(make, monkeypatch):
    opt, ps = make(), params_and_grads()
    warm(opt, ps)
    before = snapshot(opt, ps)
    real_update = type(opt)._update
    calls = []

    def interrupted(self, value, g, slots, new, lr):
        calls.append(1)
        if len(calls) == 2:  # Ctrl-C while the second parameter is being updated
            raise KeyboardInterrupt
        return real_update(self, value, g, slots, new, lr)

    monkeypatch.setattr(type(opt), "_update", interrupted)
    with pytest.raises(KeyboardInterrupt):
        opt.step(ps)
    assert_same(before, snapshot(opt, ps))


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_an_interrupt_during_the_assignments_completes_the_step(make, monkeypatch):
    opt, ps = make(), params_and_grads()
    warm(opt, ps)
    twin, qs = make(), params_and_grads()
    warm(twin, qs, 3)
    real_write = type(opt)._write_param
    calls = []

    def interrupted(self, entry):
        calls.append(1)
        if len(calls) == 2:  # the first parameter is written, the second not yet
            raise KeyboardInterrupt
        real_write(self, entry)

    monkeypatch.setattr(type(opt), "_write_param", interrupted)
    with pytest.raises(KeyboardInterrupt):
        opt.step(ps)
    assert_same(snapshot(twin, qs), snapshot(opt, ps))  # the whole step, as if nothing had happened


@pytest.mark.parametrize("make", OPTIMIZERS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_gradient_is_refused_and_changes_nothing(make, bad):
    opt, ps = make(), params_and_grads()
    warm(opt, ps)
    before = snapshot(opt, ps)
    ps[1].grad = ps[1].grad.copy()
    ps[1].grad[2] = bad
    with pytest.raises(FloatingPointError, match="'p1'"):
        opt.step(ps)
    assert_same(before, snapshot(opt, ps))


def test_an_overflowing_update_is_refused():
    p = Param(np.full(3, 1e308))
    p.grad = np.full(3, -1.)
    with pytest.raises(FloatingPointError, match="NaN or Inf"):
        SGD(lr=1e308).step([p])
    np.testing.assert_array_equal(p.data, np.full(3, 1e308))


def test_first_step_failure_creates_no_state():
    opt = Adam()
    ps = params_and_grads()
    ps[0].grad[0, 0] = np.nan
    with pytest.raises(FloatingPointError):
        opt.step(ps)
    assert all(opt.get_state(p) == {} for p in ps) and opt.iterations == 0


def test_constraint_of_the_wrong_shape_is_refused():
    p = Param(np.ones((2, 2)), constraint=lambda w: w.ravel())
    p.grad = np.ones((2, 2))
    with pytest.raises(ValueError, match="constraint"):
        SGD().step([p])
    np.testing.assert_array_equal(p.data, np.ones((2, 2)))


def test_model_fit_interrupted_by_a_constraint_keeps_weights_and_optimizer_whole():
    mg.seed(0)
    calls = []

    def flaky(w):
        calls.append(1)
        if len(calls) == 5:  # third batch, second weight with a constraint
            raise KeyboardInterrupt
        return constraints.max_norm(1.)(w)

    model = Sequential([Dense(3, input_shape=(2,), kernel_constraint=flaky, bias_constraint=flaky),
                        Dense(1)])
    model.compile(Adam(lr=0.1), "mse")
    x, y = np.random.default_rng(0).standard_normal((8, 2)), np.ones((8, 1))
    seen = []
    from optim.callbacks import LambdaCallback
    record = LambdaCallback(on_batch_begin=lambda b, logs: seen.append(
        ([w.copy() for w in model.get_weights()], model.optimizer.iterations)))
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0, callbacks=[record])
    weights_before_batch_3, iterations = seen[2]
    assert model.optimizer.iterations == iterations == 2
    for a, b in zip(weights_before_batch_3, model.get_weights()):
        np.testing.assert_array_equal(a, b)
