"""Optimizer state in flat buffers (optim/optimizers.py): an @elementwise rule run once over all parameters of a
dtype gives exactly what the same rule run per parameter gives, whatever the mix of dtypes, sizes (several chunks)
and parameter lists from step to step; the state stays readable per parameter, and saving, loading, constraints and
the refusal of non-finite values behave as before."""
import numpy as np
import pytest

import optim.optimizers as optimizers_module
from optim import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop
from optim.optimizers import elementwise

MAKERS = {"sgd": lambda: SGD(lr=0.05, momentum=0.9, nesterov=True), "sgd_plain": lambda: SGD(lr=0.05),
          "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta, "adam": lambda: Adam(decay=0.01),
          "adamax": Adamax, "nadam": Nadam, "adam_clipped": lambda: Adam(clipnorm=0.5, clipvalue=0.01)}


class Param:
    def __init__(self, data, constraint=None, name=None):
        self.data, self.grad, self.constraint, self.name = data, None, constraint, name


def per_parameter(opt):
    """The same optimizer, its rule run per parameter: a subclass whose ``_update`` is not marked elementwise."""
    cls = type(opt)
    sub = type("PerParameter" + cls.__name__, (cls,), {"_update": lambda self, *a: cls._update(self, *a)})
    twin = sub.__new__(sub)
    twin.__dict__.update({k: v for k, v in vars(opt).items()})
    twin._slots, twin._flat = {}, None
    return twin


SHAPES = [((3, 4), np.float32), ((70000,), np.float32), ((5,), np.float64), ((2, 3, 2), np.float32),
          ((40000,), np.float64), ((1,), np.float32)]


def make_params(seed=0):
    rng = np.random.default_rng(seed)
    return [Param(rng.standard_normal(s).astype(d), name=f"p{i}") for i, (s, d) in enumerate(SHAPES)]


def set_grads(ps, rng, scale=1.0):
    for p in ps:
        p.grad = (rng.standard_normal(p.data.shape) * scale).astype(p.data.dtype)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_flat_step_equals_the_per_parameter_step_exactly(name):
    fast = MAKERS[name]()
    slow = per_parameter(MAKERS[name]())
    assert getattr(fast._update, "elementwise", False) and not getattr(slow._update, "elementwise", False)
    ps, qs = make_params(), make_params()
    rng_p, rng_q = np.random.default_rng(1), np.random.default_rng(1)
    # the parameter list changes: all, a subset, another order, all again (state carried across every change)
    for pick in [slice(None), slice(None), [0, 2, 4], [4, 1, 0, 2], slice(None), [5], slice(None)]:
        sub_p = ps[pick] if isinstance(pick, slice) else [ps[i] for i in pick]
        sub_q = qs[pick] if isinstance(pick, slice) else [qs[i] for i in pick]
        set_grads(ps, rng_p)
        set_grads(qs, rng_q)
        fast.step(sub_p)
        slow.step(sub_q)
    assert fast.iterations == slow.iterations
    for p, q in zip(ps, qs):
        assert p.data.dtype == q.data.dtype
        np.testing.assert_array_equal(p.data, q.data)
        sp, sq = fast.get_state(p), slow.get_state(q)
        assert sp.keys() == sq.keys()
        for k in sp:
            assert sp[k].shape == p.data.shape and sp[k].dtype == p.data.dtype
            np.testing.assert_array_equal(sp[k], sq[k])


def test_an_elementwise_rule_runs_once_per_dtype_and_chunk():
    calls = []

    class Counting(SGD):
        @elementwise
        def _update(self, value, g, slots, new, lr):
            calls.append(value.size)
            return super()._update(value, g, slots, new, lr)

    ps = make_params()
    set_grads(ps, np.random.default_rng(2))
    Counting(lr=0.1, momentum=0.5).step(ps)
    chunk32 = optimizers_module._CHUNK_BYTES // 4
    sizes32 = sum(int(np.prod(s)) for s, d in SHAPES if d == np.float32)
    sizes64 = sum(int(np.prod(s)) for s, d in SHAPES if d == np.float64)
    assert sum(calls) == sizes32 + sizes64
    assert len(calls) == -(-sizes32 // chunk32) + -(-sizes64 // (chunk32 // 2))  # not one call per parameter


def test_state_views_are_live_and_save_and_load_continue_exactly():
    opt, ps = Adam(), make_params()
    rng = np.random.default_rng(3)
    for _ in range(2):
        set_grads(ps, rng)
        opt.step(ps)
    state = opt.state_dict(ps)
    m = opt.get_state(ps[1])["m"]
    np.testing.assert_array_equal(m, state["slots"][1]["m"])
    assert not np.shares_memory(m, state["slots"][1]["m"])  # state_dict copies
    resumed, qs = Adam(), make_params()
    for p, q in zip(ps, qs):
        q.data[...] = p.data
    resumed.load_state_dict(state, qs)
    set_grads(ps, np.random.default_rng(4))
    set_grads(qs, np.random.default_rng(4))
    opt.step(ps)
    resumed.step(qs)
    for p, q in zip(ps, qs):
        np.testing.assert_array_equal(p.data, q.data)
        np.testing.assert_array_equal(opt.get_state(p)["v"], resumed.get_state(q)["v"])


def test_a_constraint_gets_an_array_of_its_own():
    kept = []

    def keep(w):  # keeps what it was given and hands it back
        kept.append(w)
        return w

    ps = make_params()
    ps[0].constraint = keep
    opt = SGD(lr=0.1)
    rng = np.random.default_rng(5)
    set_grads(ps, rng)
    opt.step(ps)
    first = kept[0].copy()
    set_grads(ps, rng)
    opt.step(ps)
    np.testing.assert_array_equal(kept[0], first)  # the next step did not write into it
    np.testing.assert_array_equal(ps[0].data, kept[1])


def test_non_finite_names_the_first_parameter_in_step_order_across_dtypes():
    ps = make_params()
    opt = Adam()
    set_grads(ps, np.random.default_rng(6))
    opt.step(ps)
    before = [p.data.copy() for p in ps]
    set_grads(ps, np.random.default_rng(7))
    ps[2].grad[1] = np.nan   # float64, third
    ps[3].grad[0, 0, 0] = np.inf  # float32, fourth: its group is computed first
    with pytest.raises(FloatingPointError, match="'p2'"):
        opt.step(ps)
    for p, b in zip(ps, before):
        np.testing.assert_array_equal(p.data, b)
    assert opt.iterations == 1


def test_a_parameter_that_changed_shape_is_refused():
    p = Param(np.ones((2, 3)))
    p.grad = np.ones((2, 3))
    opt = Adam()
    opt.step([p])
    p.data, p.grad = np.ones((3, 2)), np.ones((3, 2))
    with pytest.raises(ValueError, match="changed shape"):
        opt.step([p])
    opt.reset_state()
    opt.step([p])
    assert opt.get_state(p)["m"].shape == (3, 2)


def test_non_finite_values_are_found_in_any_chunk_and_after_a_constraint():
    ps = make_params()
    opt = SGD(lr=0.1)
    set_grads(ps, np.random.default_rng(8))
    ps[1].grad[-1] = np.inf  # the last chunk of the 70000-element parameter
    with pytest.raises(FloatingPointError, match="'p1'"):
        opt.step(ps)
    set_grads(ps, np.random.default_rng(8))
    before = [p.data.copy() for p in ps]
    ps[4].constraint = lambda w: w * np.nan  # the rule's values are finite; the constraint's are not
    with pytest.raises(FloatingPointError, match="'p4'"):
        opt.step(ps)
    for p, b in zip(ps, before):
        np.testing.assert_array_equal(p.data, b)
