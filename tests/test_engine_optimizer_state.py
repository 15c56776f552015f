"""Optimizer.state_dict / load_state_dict: state keyed by parameter position, exact continuation, all-or-nothing."""
import numpy as np
import pytest

from optim import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop

OPTIMIZERS = [lambda: SGD(lr=0.1, momentum=0.9, nesterov=True, decay=0.01), lambda: SGD(lr=0.1), RMSprop,
              Adagrad, Adadelta, lambda: Adam(decay=0.05), Adamax, Nadam]


class Param:
    """The duck type optimizers update: .data and .grad."""

    def __init__(self, data):
        self.data, self.grad = np.array(data, dtype=np.float64), None


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return [Param(rng.standard_normal((3, 2))), Param(rng.standard_normal(4))]


def _steps(opt, params, grads):
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = g.copy()
        opt.step(params)


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_loaded_state_continues_exactly_on_other_parameter_objects(make):
    rng = np.random.default_rng(1)
    grads = [[rng.standard_normal(s) for s in ((3, 2), (4,))] for _ in range(6)]
    straight, params = make(), _params()
    _steps(straight, params, grads[:3])
    copies = [Param(p.data) for p in params]
    resumed = type(straight).from_config(straight.get_config())
    state = straight.state_dict(params)
    assert state["iterations"] == 3 and len(state["slots"]) == 2
    resumed.load_state_dict(state, copies)
    _steps(straight, params, grads[3:])
    _steps(resumed, copies, grads[3:])
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_holds_copies_and_nadam_schedule():
    opt, params = Nadam(), _params()
    for p in params:
        p.grad = np.ones_like(p.data)
    opt.step(params)
    state = opt.state_dict(params)
    assert set(state["slots"][0]) == {"m", "v"} and state["shared"] == {"m_schedule": opt.m_schedule}
    state["slots"][0]["m"][...] = 99
    assert not (opt.get_state(params[0])["m"] == 99).any()
    assert Adam().state_dict(params)["slots"] == [{}, {}]  # nothing kept before the first update


def _bad_states(params):
    good = Adam().state_dict(params)
    shape = {**good, "slots": [{"m": np.zeros((2, 3))}, {}]}
    return [
        ({**good, "class_name": "SGD"}, ValueError, "SGD"),
        ({**good, "iterations": -1}, ValueError, "iterations"),
        ({**good, "iterations": True}, ValueError, "iterations"),
        ({**good, "iterations": 2.5}, ValueError, "iterations"),
        ({**good, "shared": {"m_schedule": 1.0}}, ValueError, "shared"),
        ({**good, "slots": [{}]}, ValueError, "one dict per parameter"),
        ({**good, "slots": [{"u": np.zeros((3, 2))}, {}]}, ValueError, "unknown slot"),
        (shape, ValueError, "shape"),
        ({**good, "slots": [{"m": np.zeros((3, 2), dtype=int)}, {}]}, ValueError, "floating"),
        ({**good, "slots": [[], {}]}, ValueError, "dict"),
        ([1, 2], TypeError, "dict"),
    ]


@pytest.mark.parametrize("case", range(11))
def test_bad_state_raises_and_changes_nothing(case):
    opt, params = Adam(), _params()
    for p in params:
        p.grad = np.ones_like(p.data)
    opt.step(params)
    before = opt.state_dict(params)
    state, error, match = _bad_states(params)[case]
    with pytest.raises(error, match=match):
        opt.load_state_dict(state, params)
    after = opt.state_dict(params)
    assert after["iterations"] == before["iterations"] == 1
    for a, b in zip(after["slots"], before["slots"]):
        assert all(np.array_equal(a[k], b[k]) for k in a)


def test_nadam_shared_value_must_be_finite():
    with pytest.raises(ValueError, match="finite"):
        Nadam().load_state_dict({"iterations": 1, "shared": {"m_schedule": float("nan")}, "slots": []}, [])
