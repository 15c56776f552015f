"""Optimizers against independent float64 re-statements of the Keras 2.0 update rules.

Each reference below is written out from the equations in keras/optimizers.py (2.0.x), step by step, without
calling optim; the optimizers must reproduce three consecutive steps of it. A few literal values (worked by hand)
guard the references themselves.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from optim import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, Optimizer, RMSprop, optimizers


class Param:
    """The duck type an optimizer needs: .data, .grad and optionally .constraint."""

    def __init__(self, data, grad=None, constraint=None, dtype=np.float64):
        self.data = np.array(data, dtype=dtype)
        self.grad = grad
        self.constraint = constraint


# ============================================================ reference rules (float64, one parameter)

def ref_sgd(p, grads, lr=0.01, momentum=0., decay=0., nesterov=False):
    p = np.array(p, dtype=np.float64)
    m = np.zeros_like(p)
    out = []
    for it, g in enumerate(grads):
        lr_t = lr / (1. + decay * it)
        v = momentum * m - lr_t * g
        m = v
        p = p + momentum * v - lr_t * g if nesterov else p + v
        out.append(p.copy())
    return out


def ref_rmsprop(p, grads, lr=0.001, rho=0.9, epsilon=1e-8, decay=0.):
    p = np.array(p, dtype=np.float64)
    a = np.zeros_like(p)
    out = []
    for it, g in enumerate(grads):
        lr_t = lr / (1. + decay * it)
        a = rho * a + (1 - rho) * g ** 2
        p = p - lr_t * g / (np.sqrt(a) + epsilon)
        out.append(p.copy())
    return out


def ref_adagrad(p, grads, lr=0.01, epsilon=1e-8, decay=0.):
    p = np.array(p, dtype=np.float64)
    a = np.zeros_like(p)
    out = []
    for it, g in enumerate(grads):
        lr_t = lr / (1. + decay * it)
        a = a + g ** 2
        p = p - lr_t * g / (np.sqrt(a) + epsilon)
        out.append(p.copy())
    return out


def ref_adadelta(p, grads, lr=1.0, rho=0.95, epsilon=1e-8, decay=0.):
    p = np.array(p, dtype=np.float64)
    a = np.zeros_like(p)
    d_a = np.zeros_like(p)
    out = []
    for it, g in enumerate(grads):
        lr_t = lr / (1. + decay * it)
        a = rho * a + (1 - rho) * g ** 2
        update = g * np.sqrt(d_a + epsilon) / np.sqrt(a + epsilon)
        p = p - lr_t * update
        d_a = rho * d_a + (1 - rho) * update ** 2
        out.append(p.copy())
    return out


def ref_adam(p, grads, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, decay=0.):
    p = np.array(p, dtype=np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    out = []
    for it, g in enumerate(grads):
        t = it + 1
        lr_t = lr / (1. + decay * it) * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g ** 2
        p = p - lr_t * m / (np.sqrt(v) + epsilon)
        out.append(p.copy())
    return out


def ref_adamax(p, grads, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-8, decay=0.):
    p = np.array(p, dtype=np.float64)
    m = np.zeros_like(p)
    u = np.zeros_like(p)
    out = []
    for it, g in enumerate(grads):
        t = it + 1
        lr_t = lr / (1. + decay * it) / (1 - beta_1 ** t)
        m = beta_1 * m + (1 - beta_1) * g
        u = np.maximum(beta_2 * u, np.abs(g))
        p = p - lr_t * m / (u + epsilon)
        out.append(p.copy())
    return out


def ref_nadam(p, grads, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-8, schedule_decay=0.004):
    p = np.array(p, dtype=np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    m_schedule = 1.
    out = []
    for it, g in enumerate(grads):
        t = it + 1
        mu_t = beta_1 * (1 - 0.5 * 0.96 ** (t * schedule_decay))
        mu_t1 = beta_1 * (1 - 0.5 * 0.96 ** ((t + 1) * schedule_decay))
        m_schedule_new = m_schedule * mu_t
        m_schedule_next = m_schedule * mu_t * mu_t1
        m_schedule = m_schedule_new
        g_prime = g / (1 - m_schedule_new)
        m = beta_1 * m + (1 - beta_1) * g
        m_prime = m / (1 - m_schedule_next)
        v = beta_2 * v + (1 - beta_2) * g ** 2
        v_prime = v / (1 - beta_2 ** t)
        m_bar = (1 - mu_t) * g_prime + mu_t1 * m_prime
        p = p - lr * m_bar / (np.sqrt(v_prime) + epsilon)
        out.append(p.copy())
    return out


CASES = [  # (optimizer class, reference, hyperparameters other than defaults)
    (SGD, ref_sgd, {}),
    (SGD, ref_sgd, {"lr": 0.1, "momentum": 0.9}),
    (SGD, ref_sgd, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (SGD, ref_sgd, {"lr": 0.1, "momentum": 0.5, "decay": 0.3, "nesterov": True}),
    (RMSprop, ref_rmsprop, {}),
    (RMSprop, ref_rmsprop, {"lr": 0.01, "rho": 0.8, "decay": 0.1}),
    (Adagrad, ref_adagrad, {}),
    (Adagrad, ref_adagrad, {"lr": 0.5, "decay": 0.2}),
    (Adadelta, ref_adadelta, {}),
    (Adadelta, ref_adadelta, {"lr": 0.5, "rho": 0.9, "decay": 0.05}),
    (Adam, ref_adam, {}),
    (Adam, ref_adam, {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.99, "decay": 0.1}),
    (Adamax, ref_adamax, {}),
    (Adamax, ref_adamax, {"lr": 0.01, "beta_1": 0.5, "decay": 0.5}),
    (Nadam, ref_nadam, {}),
    (Nadam, ref_nadam, {"lr": 0.01, "beta_1": 0.8, "schedule_decay": 0.1}),
]
IDS = [f"{cls.__name__}-{kw}" for cls, _, kw in CASES]

P0 = np.array([[0.5, -1.0, 2.0], [0.0, 0.3, -0.7]])
GRADS = [np.array([[0.1, -0.2, 0.3], [1.5, -0.01, 0.0]]),
         np.array([[-0.4, 0.2, 0.3], [2.0, 0.05, 0.7]]),
         np.array([[0.2, -0.9, -0.1], [-1.0, 0.3, 0.01]])]


def run(opt, p0, grads, dtype=np.float64):
    p = Param(p0, dtype=dtype)
    out = []
    for g in grads:
        p.grad = np.array(g, dtype=dtype)
        opt.step([p])
        out.append(p.data.copy())
    return out


@pytest.mark.parametrize("cls, ref, kw", CASES, ids=IDS)
def test_first_three_steps_match_reference(cls, ref, kw):
    got = run(cls(**kw), P0, GRADS)
    want = ref(P0, GRADS, **kw)
    for k in range(3):
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-15, err_msg=f"step {k + 1}")


@given(p0=hnp.arrays(np.float64, (2, 3), elements=st.floats(-5, 5, allow_nan=False)),
       grads=st.lists(hnp.arrays(np.float64, (2, 3), elements=st.floats(-10, 10, allow_nan=False)),
                      min_size=3, max_size=3),
       case=st.sampled_from(range(len(CASES))))
def test_random_steps_match_reference(p0, grads, case):
    cls, ref, kw = CASES[case]
    got = run(cls(**kw), p0, grads)
    want = ref(p0, grads, **kw)
    for k in range(3):
        np.testing.assert_allclose(got[k], want[k], rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------ the references themselves, by hand

def test_hand_values_sgd_and_nesterov():
    # plain: 1 - 0.1 * 0.5 = 0.95, then 0.90
    assert run(SGD(lr=0.1), 1.0, [0.5, 0.5]) == pytest.approx([0.95, 0.90])
    # momentum 0.9, g = 1: v1 = -0.1, p1 = -0.1; v2 = -0.19, p2 = -0.29
    assert run(SGD(lr=0.1, momentum=0.9), 0.0, [1., 1.]) == pytest.approx([-0.1, -0.29])
    # nesterov: p1 = 0.9 * -0.1 - 0.1 = -0.19; p2 = -0.19 + 0.9 * -0.19 - 0.1 = -0.461
    assert run(SGD(lr=0.1, momentum=0.9, nesterov=True), 0.0, [1., 1.]) == pytest.approx([-0.19, -0.461])


def test_hand_values_adam_first_step_is_about_lr():
    # m = 0.05, v = 0.00025, lr_t = 0.001 * sqrt(0.001) / 0.1: the step is lr * sign(g) up to epsilon
    (p1,) = run(Adam(), 1.0, [0.5])
    assert p1 == pytest.approx(1.0 - 0.001, rel=1e-9)


def test_hand_values_adagrad_and_rmsprop():
    # Adagrad: a = 4, p = 1 - 0.01 * 2 / 2 = 0.99
    assert run(Adagrad(), 1.0, [2.0]) == pytest.approx([0.99])
    # RMSprop: a = 0.1 * 4 = 0.4, p = 1 - 0.001 * 2 / sqrt(0.4)
    assert run(RMSprop(), 1.0, [2.0]) == pytest.approx([1 - 0.001 * 2 / math.sqrt(0.4)])


def test_decay_lowers_the_rate_per_iteration():
    # lr_t = 0.1 / (1 + 1.0 * k): steps of 0.1, 0.05, 0.0333
    got = run(SGD(lr=0.1, decay=1.0), 0.0, [1., 1., 1.])
    assert got == pytest.approx([-0.1, -0.15, -0.15 - 0.1 / 3])
    opt = SGD(lr=0.1, decay=1.0)
    assert opt.current_lr() == 0.1
    run(opt, 0.0, [1.])
    assert opt.current_lr() == pytest.approx(0.05)


# ============================================================ arguments

@pytest.mark.parametrize("cls", [SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam])
def test_lr_and_learning_rate_alias(cls):
    a, b = cls(lr=0.123), cls(learning_rate=0.123)
    assert a.lr == b.lr == b.learning_rate == 0.123
    with pytest.raises(TypeError, match="both"):
        cls(lr=0.1, learning_rate=0.2)
    default = cls().lr
    with pytest.raises(TypeError):
        cls(lr=default, learning_rate=default)  # explicit lr equal to the default still counts as given


def test_keras_2_0_defaults():
    assert SGD().get_config() == {"lr": 0.01, "momentum": 0., "decay": 0., "nesterov": False}
    assert RMSprop().get_config() == {"lr": 0.001, "rho": 0.9, "decay": 0., "epsilon": 1e-8}
    assert Adagrad().get_config() == {"lr": 0.01, "decay": 0., "epsilon": 1e-8}
    assert Adadelta().get_config() == {"lr": 1.0, "rho": 0.95, "decay": 0., "epsilon": 1e-8}
    assert Adam().get_config() == {"lr": 0.001, "beta_1": 0.9, "beta_2": 0.999, "decay": 0., "epsilon": 1e-8}
    assert Adamax().get_config() == {"lr": 0.002, "beta_1": 0.9, "beta_2": 0.999, "decay": 0., "epsilon": 1e-8}
    assert Nadam().get_config() == {"lr": 0.002, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8,
                                    "schedule_decay": 0.004}


def test_positional_lr_and_bad_arguments():
    assert SGD(0.5).lr == 0.5
    with pytest.raises(TypeError):
        Nadam(decay=0.1)  # Keras 2.0's Nadam has no decay
    with pytest.raises(TypeError):
        Adam(clip_norm=1.0)
    with pytest.raises(ValueError, match="lr"):
        SGD(lr=-1.0)


def test_lr_is_writable_and_used_by_the_next_step():
    opt = SGD(lr=0.1)
    p = Param([1.0])
    p.grad = np.array([1.0])
    opt.step([p])
    opt.lr = 0.5
    assert opt.learning_rate == 0.5
    opt.step([p])
    assert p.data == pytest.approx([1.0 - 0.1 - 0.5])
    opt.learning_rate = 0.25
    assert opt.lr == 0.25


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam])
def test_config_round_trip(cls):
    opt = cls(lr=0.3, clipnorm=2.0, clipvalue=0.5)
    config = opt.get_config()
    assert config["clipnorm"] == 2.0 and config["clipvalue"] == 0.5
    assert cls.from_config(config).get_config() == config
    again = optimizers.get(optimizers.serialize(opt))
    assert type(again) is cls and again.get_config() == config


# ============================================================ clipping

def test_clipnorm_uses_the_global_norm_as_keras_2_0():
    # norms 3 and 4, global norm 5: both scaled by 1/5 (per-parameter clipping would give [1, 0] and [0, 1])
    a, b = Param([0., 0.]), Param([0., 0.])
    a.grad, b.grad = np.array([3., 0.]), np.array([0., 4.])
    SGD(lr=1.0, clipnorm=1.0).step([a, b])
    np.testing.assert_allclose(a.data, [-0.6, 0.])
    np.testing.assert_allclose(b.data, [0., -0.8])
    np.testing.assert_array_equal(a.grad, [3., 0.])  # the gradient itself is not modified


def test_clipnorm_leaves_small_gradients_alone():
    a = Param([0., 0.])
    a.grad = np.array([0.3, 0.4])
    SGD(lr=1.0, clipnorm=1.0).step([a])
    np.testing.assert_allclose(a.data, [-0.3, -0.4])


def test_clipnorm_then_adam_matches_reference_on_clipped_grads():
    grads = [g * 10 for g in GRADS]
    got = run(Adam(clipnorm=1.0), P0, grads)
    clipped = [g / max(1.0, np.sqrt(np.sum(g ** 2))) for g in grads]
    want = ref_adam(P0, clipped)
    np.testing.assert_allclose(got[-1], want[-1], rtol=1e-12)


def test_clipvalue_is_elementwise_after_clipnorm():
    a = Param([0., 0., 0.])
    a.grad = np.array([-3., 0.2, 5.])
    SGD(lr=1.0, clipvalue=1.0).step([a])
    np.testing.assert_allclose(a.data, [1., -0.2, -1.])
    b = Param([0., 0.])
    b.grad = np.array([30., 40.])  # clipnorm 10 -> [6, 8]; clipvalue 7 -> [6, 7]
    SGD(lr=1.0, clipnorm=10., clipvalue=7.).step([b])
    np.testing.assert_allclose(b.data, [-6., -7.])


# ============================================================ dtype, in-place update, constraints, state

@pytest.mark.parametrize("cls", [SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam])
def test_float32_stays_float32_and_updates_in_place(cls):
    opt = cls(**({"momentum": 0.9} if cls is SGD else {}), clipnorm=5.0)
    p = Param(P0, dtype=np.float32)
    original = p.data
    for g in GRADS:
        p.grad = g.astype(np.float64)  # even a float64 gradient must not promote the weight
        opt.step([p])
    assert p.data is original and p.data.dtype == np.float32
    assert all(s.dtype == np.float32 for s in opt.get_state(p).values())
    kw = {"momentum": 0.9} if cls is SGD else {}
    want = dict(CASES_BY_CLASS)[cls](P0, GRADS, **kw)[-1]
    np.testing.assert_allclose(p.data, want, rtol=1e-4, atol=1e-5)


CASES_BY_CLASS = [(SGD, ref_sgd), (RMSprop, ref_rmsprop), (Adagrad, ref_adagrad), (Adadelta, ref_adadelta),
                  (Adam, ref_adam), (Adamax, ref_adamax), (Nadam, ref_nadam)]


def test_works_on_minigrad_tensors():
    w = mg.Tensor(np.array([1.0, -2.0], dtype=np.float32), requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    opt = Adam(lr=0.1)
    opt.step([w])
    assert w.dtype == np.float32
    np.testing.assert_allclose(w.data, [0.9, -1.9], rtol=1e-5)
    opt.zero_grad([w])
    assert w.grad is None


def test_constraint_is_applied_after_the_update():
    seen = []

    def non_neg(x):
        seen.append(x.copy())
        return np.maximum(x, 0.)

    p = Param([1.0, 0.05], constraint=non_neg)
    p.grad = np.array([1.0, 1.0])
    SGD(lr=0.1).step([p])
    np.testing.assert_allclose(seen[0], [0.9, -0.05])  # the constraint saw the updated value
    np.testing.assert_allclose(p.data, [0.9, 0.0])


def test_constraint_returning_a_tensor_is_accepted():
    p = Param([1.0, -1.0], constraint=lambda x: mg.Tensor(np.clip(x, -0.5, 0.5)))
    p.grad = np.zeros(2)
    SGD().step([p])
    np.testing.assert_allclose(p.data, [0.5, -0.5])


def test_state_is_kept_per_parameter_and_created_lazily():
    joint = Adam(lr=0.01)
    p1, p2 = Param(P0), Param(-P0)
    assert joint.get_state(p1) == {}
    solo1, solo2 = Adam(lr=0.01), Adam(lr=0.01)
    q1, q2 = Param(P0), Param(-P0)
    for g in GRADS:
        p1.grad, p2.grad = g, -2 * g[::-1]
        q1.grad, q2.grad = p1.grad, p2.grad
        joint.step([p1, p2])
        solo1.step([q1])
        solo2.step([q2])
    np.testing.assert_allclose(p1.data, q1.data, rtol=1e-14)
    np.testing.assert_allclose(p2.data, q2.data, rtol=1e-14)
    assert set(joint.get_state(p1)) == {"m", "v"}
    assert not np.allclose(joint.get_state(p1)["m"], joint.get_state(p2)["m"])


def test_params_without_grad_are_skipped_and_duplicates_updated_once():
    opt = SGD(lr=1.0)
    a, b = Param([1.0]), Param([1.0])
    a.grad = np.array([0.5])
    opt.step([a, b, a])
    assert a.data == pytest.approx([0.5]) and b.data == pytest.approx([1.0])
    assert opt.get_state(b) == {}
    assert opt.iterations == 1
    opt.step([b])  # nothing to do: no iteration is counted
    assert opt.iterations == 1


def test_gradient_of_the_wrong_shape_raises():
    p = Param(np.zeros((2, 3)))
    p.grad = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        Adam().step([p])


def test_reset_state_restarts_the_schedule():
    opt = Nadam()
    first = run(opt, P0, GRADS[:1])
    opt.reset_state()
    assert opt.iterations == 0 and opt.m_schedule == 1.0
    np.testing.assert_array_equal(run(opt, P0, GRADS[:1])[0], first[0])


# ============================================================ lookup

def test_get_by_name_instance_and_unknown():
    for name, cls in [("sgd", SGD), ("RMSprop", RMSprop), ("ADAGRAD", Adagrad), ("adadelta", Adadelta),
                      ("Adam", Adam), ("adamax", Adamax), ("nadam", Nadam)]:
        assert type(optimizers.get(name)) is cls
    opt = Adam(lr=0.5)
    assert optimizers.get(opt) is opt
    assert isinstance(optimizers.get(SGD), SGD)
    with pytest.raises(ValueError) as info:
        optimizers.get("adamw")
    for name in ("sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam"):
        assert name in str(info.value)
    with pytest.raises(TypeError):
        optimizers.get(3)
    assert issubclass(Adam, Optimizer)
