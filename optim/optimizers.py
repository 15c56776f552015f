"""Optimizers with the Keras 2.0 update rules, applied in place to numpy weights.

    opt = Adam(lr=0.001, clipnorm=1.0)
    loss.backward()
    opt.step(params)          # p.data updated in place from p.grad, then p.constraint applied
    opt.zero_grad(params)

An optimizer touches only three attributes of a parameter: ``.data`` (the ndarray it updates in place),
``.grad`` (ndarray or None; None means "skip this parameter") and ``.constraint`` (optional callable
ndarray -> ndarray). Any object with those attributes works, not only ``minigrad.Tensor``.

The rules are those of ``keras/optimizers.py`` in Keras 2.0.x, including its details:

* ``epsilon`` defaults to 1e-8, the literal default of every Keras 2.0.x optimizer (``K.epsilon()`` = 1e-7
  became the default only in later 2.x releases).
* ``clipnorm`` rescales by the *global* norm: ``norm = sqrt(sum of every gradient's squared entries)`` over all
  the parameters of one ``step``; when ``norm >= clipnorm`` every gradient is multiplied by ``clipnorm / norm``
  (Keras 2.0 ``Optimizer.get_gradients``). ``clipvalue`` is applied after it, elementwise.
* ``decay``: ``lr_t = lr / (1 + decay * iterations)``, where ``iterations`` counts the earlier updates
  (the first update uses ``lr`` itself). Nadam has no ``decay`` in Keras 2.0, and none here.
* Adam, Adamax and Nadam count ``t = iterations + 1`` per optimizer, not per parameter, like Keras's single
  ``iterations`` variable; Nadam's momentum-schedule product is one per optimizer too.

Two guarantees Keras 2.0 did not give:

* A step is all or nothing. Every new weight (after its constraint), every new state array and the new
  ``iterations`` are computed before any is assigned, so a constraint that raises, or Ctrl-C during ``fit``,
  never leaves some weights stepped and others not, or moments advanced for some parameters only.
* A step that would write NaN or Inf into a weight or its state (a non-finite gradient, an overflow) raises
  ``FloatingPointError`` and changes nothing: the last good weights stay, and training can resume from them.

Hyperparameters are checked where they are given: each must be a finite number in its range (``lr``,
``decay``, ``schedule_decay`` >= 0; ``epsilon`` > 0; ``beta_1``, ``beta_2``, ``rho`` in [0, 1); ``momentum`` in
[0, 1]; ``clipnorm``, ``clipvalue`` >= 0 or None), otherwise ``ValueError`` names it and its range.
"""
import math

import numpy as np

from . import _checks

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam", "elementwise", "get",
           "serialize"]


class _Default(float):
    """A default value that remembers it was not passed.

    ``lr`` and ``learning_rate`` name one hyperparameter, and giving both is an error even when the explicit
    ``lr`` equals the default; a float subclass keeps the default visible in ``help()`` (``lr=0.01``) while
    letting ``_resolve_lr`` tell "not passed" from "passed 0.01".
    """

    __slots__ = ()


def _resolve_lr(cls_name, lr, learning_rate):
    if learning_rate is None:
        return lr
    if type(lr) is not _Default:
        raise TypeError(f"{cls_name}: got both `lr` and `learning_rate`; they name the same hyperparameter, "
                        "give only one")
    return _checks.real(cls_name, "learning_rate", learning_rate, low=0.)  # named as the caller gave it


# Keras 2.1's K.epsilon(), what `epsilon=None` stands for (Keras 2.1+ scripts pass None).
_BACKEND_EPSILON = 1e-7


def _epsilon(owner, value):
    if value is None:
        return _BACKEND_EPSILON
    # 0 would divide 0 by 0 wherever a gradient and its running average are both zero
    return _checks.real(owner, "epsilon", value, low=0., low_open=True)


def _fraction(owner, name, value):
    """A decay rate of a running average: in [0, 1) (at 1 the average would never move)."""
    return _checks.real(owner, name, value, low=0., high=1., high_open=True)


def _nonnegative(owner, name, value):
    return _checks.real(owner, name, value, low=0.)


def _as_ndarray(value):
    # a constraint may hand back a Tensor-like object; ndarray's own `.data` is a raw buffer, so test the type
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


def _param_name(p):
    name = getattr(p, "name", None)
    return f"parameter {name!r}" if name else "a parameter"


# An elementwise rule runs on the flat buffers a chunk of this many bytes at a time: its temporaries then stay in
# the L2 cache and malloc serves them from memory it already holds. On whole buffers of a few hundred KB each
# temporary came from freshly mapped pages (an Adam step over 89k float32 took 3x as long as per parameter); chunks
# of 64 KB to 256 KB measured alike, smaller ones add calls.
_CHUNK_BYTES = 1 << 17


def _finite(flat):
    # _checks.all_finite inlined for 1-d arrays: one dot product; an exact test only when the squares overflow
    return math.isfinite(np.dot(flat, flat)) or bool(np.isfinite(flat).all())


def elementwise(rule):
    """Mark an ``_update`` rule as elementwise: every element of its results depends only on the same element of
    ``value``, ``g`` and the slots (and on scalars). ``step`` then runs it on the flat buffers of all the parameters
    of a dtype, a chunk at a time, which computes exactly what running it per parameter computes."""
    rule.elementwise = True
    return rule


class _Group:
    """The parameters of one dtype in a step: where each lies in the flat buffers, and the buffers."""
    __slots__ = ("members", "buffers", "current", "values", "grads", "chunk")

    def __init__(self, members, buffers, values, grads):
        self.members = members  # [(index in the step's params, start, stop, shape, ({slot views}, {slot views}))]
        self.buffers = buffers  # two dicts {slot name: flat array}: the current state and the next one
        self.current = 0        # which of the two holds the current state
        # scratch, flat: the parameters' values (then their new values) and gradients
        self.values, self.grads = values, grads
        self.chunk = max(1, _CHUNK_BYTES // values.itemsize)


class _FlatState:
    """The optimizer state of one list of parameters (a step's) in flat buffers, one group per dtype, and the
    computation of a step on them (see ``Optimizer``)."""

    def __init__(self, opt, params, names):
        self.params = tuple(params)
        self.shapes = tuple(p.data.shape for p in params)
        self.dtypes = tuple(p.data.dtype for p in params)
        self.names = names
        by_dtype = {}
        for i, dtype in enumerate(self.dtypes):
            by_dtype.setdefault(dtype, []).append(i)
        self.groups = []
        for dtype, indices in by_dtype.items():
            ends = np.cumsum([self.params[i].data.size for i in indices]).tolist()
            size = ends[-1]
            buffers = ({n: np.zeros(size, dtype) for n in names}, {n: np.empty(size, dtype) for n in names})
            members = []
            for i, stop in zip(indices, ends):
                p, shape = self.params[i], self.shapes[i]
                start = stop - p.data.size
                views = tuple({n: b[n][start:stop].reshape(shape) for n in names} for b in buffers)
                entry = opt._slots.get(id(p))
                for name, arr in (entry[1].items() if entry is not None else ()):
                    if arr.shape != shape:
                        raise ValueError(f"{type(opt).__name__}: parameter changed shape from {arr.shape} to "
                                         f"{shape} since its optimizer state was created; call reset_state()")
                    if name in views[0]:
                        views[0][name][...] = arr
                members.append((i, start, stop, shape, views))
            self.groups.append(_Group(members, buffers, np.empty(size, dtype), np.empty(size, dtype)))

    def serves(self, params, names):
        """Whether these buffers fit a step on ``params``: the same objects in the same order, with the same shapes
        and dtypes, and the same slots."""
        if names != self.names or len(params) != len(self.params):
            return False
        for p, q, shape, dtype in zip(params, self.params, self.shapes, self.dtypes):
            if p is not q or p.data.shape != shape or p.data.dtype != dtype:
                return False
        return True

    def plan(self, opt, owner, grads, lr):
        """Compute the step without assigning anything: the new state goes into the buffers that do not hold the
        current one (nothing else reads them), the new values into scratch. Returns ``(entries, self, current)``
        for ``Optimizer._commit``: ``entries`` one ``(param, new value)`` per parameter, ``current`` the index of
        the buffers that hold the new state, per group. Raises FloatingPointError if anything new is not finite."""
        params = self.params
        vectorized = getattr(opt._update, "elementwise", False)
        entries, current, finite = [None] * len(params), [], True
        for group in self.groups:
            old, new = group.current, 1 - group.current
            checked = False  # whether the new values and state were checked chunk by chunk, while in cache
            if vectorized:
                values, flat_grads = group.values, group.grads
                for i, start, stop, _, _ in group.members:
                    values[start:stop] = params[i].data.reshape(-1)
                    flat_grads[start:stop] = grads[i].reshape(-1)
                olds, news = group.buffers[old], group.buffers[new]
                # a constraint changes values after the rule: then they are checked after it
                checked = all(getattr(params[m[0]], "constraint", None) is None for m in group.members)
                for a in range(0, len(values), group.chunk):  # each chunk's new values replace its old ones
                    b = a + group.chunk
                    chunk = {k: x[a:b] for k, x in news.items()}
                    values[a:b] = opt._update(values[a:b], flat_grads[a:b], {k: x[a:b] for k, x in olds.items()},
                                              chunk, lr)
                    if checked:
                        finite = finite and _finite(values[a:b]) and all(_finite(x) for x in chunk.values())
            else:
                for i, start, stop, shape, views in group.members:
                    group.values[start:stop].reshape(shape)[...] = opt._update(params[i].data, grads[i], views[old],
                                                                               views[new], lr)
            new_values = group.values
            for i, start, stop, shape, _ in group.members:
                p, value = params[i], new_values[start:stop].reshape(shape)
                constraint = getattr(p, "constraint", None)
                if constraint is not None:
                    constrained = _as_ndarray(constraint(value.copy()))  # its own array, as after a plain update
                    if constrained.shape != shape:
                        raise ValueError(f"{owner}.step: the constraint of {_param_name(p)} returned shape "
                                         f"{constrained.shape} for a weight of shape {shape}")
                    value[...] = constrained
                entries[i] = (p, value)
            current.append(new)
            if not checked:
                finite = finite and _finite(new_values) and all(_finite(b) for b in group.buffers[new].values())
        if not finite:
            self._raise_non_finite(owner, entries, current, lr)
        return entries, self, current

    def _raise_non_finite(self, owner, entries, current, lr):
        """The FloatingPointError naming the first parameter (in the step's order) and array that is not finite."""
        new_views = {}
        for group, index in zip(self.groups, current):
            for i, _, _, _, views in group.members:
                new_views[i] = views[index]
        for i, (p, value) in enumerate(entries):
            for name, arr in (("updated value", value), *new_views[i].items()):
                if not np.isfinite(arr).all():
                    what = name if name == "updated value" else f"state {name!r}"
                    raise FloatingPointError(
                        f"{owner}.step: the {what} of {_param_name(p)} (shape {self.shapes[i]}) would hold NaN or "
                        f"Inf (a non-finite gradient, or an overflow at learning rate {lr:g}); nothing was changed")

    def make_current(self, opt, current):
        """Make the buffers written by a step current (idempotent) and register every parameter's state (views)
        in ``opt._slots``."""
        for group, index in zip(self.groups, current):
            group.current = index
        if not self.names:
            return
        for group in self.groups:
            for i, _, _, _, views in group.members:
                p = self.params[i]
                opt._slots[id(p)] = (p, views[group.current])


class Optimizer:
    """Base class: hyperparameter handling, gradient clipping, per-parameter slots and the all-or-nothing step.

    Subclasses list the state they keep per parameter in ``slot_names`` and implement
    ``_update(value, g, slots, new, lr) -> new value``: ``value`` the parameter's current array, ``g`` its
    gradient (already clipped and cast to the parameter's dtype), ``slots`` its current state arrays (zeros before
    its first update; read only), ``new`` a dict of buffers of the same names and shapes into which the next state
    is written (``new['m'][...] = ...``), ``lr`` the decayed learning rate. Nothing the rule reads is modified:
    ``step`` makes the new state current only once every parameter's update is computed. A subclass may override
    ``_begin_step()`` for per-step values shared by all parameters; it returns a dict of the optimizer attributes
    to set when the step is committed (Nadam's momentum schedule).

    How a step is stored and run: the state of all parameters of one dtype lives in one flat buffer per slot (each
    parameter's slot arrays are views into it), with a second set of buffers into which the next state is written;
    the two sets trade places when a step commits, so no step allocates state. A rule marked ``@elementwise``
    (every built-in one: each output element depends only on the same element of the inputs) runs on the flat
    buffers, all parameters concatenated, 128 KB at a time: the same numbers as running it per parameter, in a
    handful of numpy calls per chunk instead of a handful per parameter; any other rule (a subclass's ``_update``
    without the mark) runs per parameter on the views. The non-finite check is one dot product per chunk.

    Arguments common to all optimizers (keyword-only):
        clipnorm: float >= 0 or None. When the global L2 norm of all gradients of a step is >= clipnorm, every
            gradient is scaled by clipnorm / norm (Keras 2.0 semantics). 0 or None disables it.
        clipvalue: float >= 0 or None. Gradients are clipped elementwise to [-clipvalue, clipvalue].
            0 or None disables it.

    Attributes:
        lr: the base learning rate, readable and writable (callbacks such as ReduceLROnPlateau set it).
            ``learning_rate`` is the same value under its newer name.
        iterations: number of completed ``step`` calls that updated at least one parameter.
    """

    def __init__(self, lr, clipnorm=None, clipvalue=None):
        owner = type(self).__name__
        self.lr = lr
        self.clipnorm = _checks.real(owner, "clipnorm", clipnorm, low=0., none_ok=True)
        self.clipvalue = _checks.real(owner, "clipvalue", clipvalue, low=0., none_ok=True)
        self.iterations = 0
        # id(param) -> (param, {slot name: ndarray}): the state of every parameter updated so far (views into the
        # flat buffers of ``_flat`` while it holds the parameter); the param itself is kept so its id cannot be
        # reused by another object while the slots exist
        self._slots = {}
        # the flat buffers of the last step's parameters (a _FlatState), or None: rebuilt from ``_slots`` when
        # the parameters change
        self._flat = None

    # ------------------------------------------------------------ hyperparameters

    @property
    def lr(self):
        """Base learning rate (a finite float >= 0; 0 freezes the weights but still runs the step)."""
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = _checks.real(type(self).__name__, "lr", value, low=0.)

    @property
    def learning_rate(self):
        """The same value as ``lr`` (the name later Keras versions use)."""
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        self.lr = value

    def current_lr(self):
        """The learning rate the next update will use: ``lr / (1 + decay * iterations)``."""
        decay = getattr(self, "decay", 0.0)
        if decay > 0:
            return self._lr / (1.0 + decay * self.iterations)
        return self._lr

    # ------------------------------------------------------------ state

    def _slots_in_use(self):
        """The state arrays this optimizer's step keeps: the class's ``slot_names`` (e.g. Adam's ('m', 'v')),
        unless a setting makes some unused."""
        return getattr(self, "slot_names", ())

    def get_state(self, param):
        """A dict {slot name: ndarray} of the state kept for ``param`` (empty before its first update); e.g.
        Adam's is ``{'m': ..., 'v': ...}``.

        It is the live state, not a copy: read it again after a step (a step writes the new state into the
        buffers of the one before and then makes them current, so the arrays of an older state get reused).
        """
        entry = self._slots.get(id(param))
        return {} if entry is None else entry[1]

    def reset_state(self):
        """Forget all slots and set ``iterations`` back to 0 (hyperparameters are kept)."""
        self._slots.clear()
        self._flat = None
        self.iterations = 0
        self._reset_shared_state()

    def _reset_shared_state(self):
        pass

    # ------------------------------------------------------------ the update

    def _clip(self, grads):
        """Keras 2.0 ``get_gradients``: global-norm rescaling, then elementwise clipping. Never in place."""
        if self.clipnorm:  # None or 0 disable it, as `clipnorm > 0` does in Keras
            # accumulate in float64 so float32 gradients cannot overflow the sum of squares
            norm = np.sqrt(sum(np.sum(np.square(g, dtype=np.float64)) for g in grads))
            if norm >= self.clipnorm:
                scale = self.clipnorm / norm
                grads = [g * g.dtype.type(scale) for g in grads]
        if self.clipvalue:
            grads = [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def step(self, params):
        """Apply one update to every parameter of ``params`` whose ``.grad`` is not None.

        Each ``p.data`` is overwritten in place (its dtype and identity are kept) with the updated value, passed
        through ``p.constraint`` when the parameter has one. A parameter listed twice is updated once.

        The step is all or nothing: every new value (weights after their constraints, optimizer state,
        ``iterations``) is computed first and assigned only when all are ready, so an exception from a
        constraint, a bad gradient or a KeyboardInterrupt leaves parameters and optimizer exactly as they were
        (an interrupt arriving during the final assignments lets them finish first).

        Raises:
            ValueError: a gradient's shape differs from its parameter's.
            FloatingPointError: an updated weight or state value is NaN or infinite (a non-finite gradient, or
                an overflow); nothing is changed, so training can resume from the last good weights.
        """
        owner = type(self).__name__
        seen = set()
        todo = []
        for p in params:
            if p.grad is None or id(p) in seen:
                continue
            seen.add(id(p))
            g = np.asarray(p.grad)
            if g.shape != p.data.shape:
                raise ValueError(f"{owner}.step: gradient of shape {g.shape} for a parameter of "
                                 f"shape {p.data.shape}" + (f" ({p.name})" if getattr(p, "name", None) else ""))
            # the rules below then run in the parameter's precision: float32 weights stay float32
            todo.append((p, g.astype(p.data.dtype, copy=False)))
        if not todo:
            return
        grads = self._clip([g for _, g in todo])
        lr = self.current_lr()
        shared = self._begin_step()
        names = self._slots_in_use()
        flat = self._flat_state([p for p, _ in todo], names)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a non-finite result raises below
            plan = flat.plan(self, owner, grads, lr)
        self._commit(plan, shared, self.iterations + 1)

    def _flat_state(self, params, names):
        """The flat buffers for this step's parameters: the last step's when the parameters are the same (same
        objects, order, shapes and dtypes), else new ones holding each parameter's current state (zeros before
        its first update)."""
        flat = self._flat
        if flat is None or not flat.serves(params, names):
            flat = self._flat = _FlatState(self, params, names)
        return flat

    def _commit(self, plan, shared, iterations):
        """Assign the computed step. Each write is idempotent, so when an interrupt arrives between two of them
        the remaining ones (from the interrupted one on) are completed before it propagates: the step is then
        whole, never half done."""
        entries, flat, current = plan
        done = 0
        try:
            for entry in entries:
                self._write_param(entry)
                done += 1
        finally:
            for entry in entries[done:]:  # only after an interrupt
                self._write_param(entry)
            flat.make_current(self, current)  # the written state becomes current; the old one is the next spare
            for name, value in shared.items():
                setattr(self, name, value)
            self.iterations = iterations

    def _write_param(self, entry):
        # idempotent: sets a value fixed in the plan
        p, new_value = entry
        p.data[...] = new_value

    def _begin_step(self):
        return {}

    def _update(self, value, g, slots, new, lr):
        raise NotImplementedError  # the rule of each subclass

    def zero_grad(self, params):
        """Set ``.grad`` of every parameter to None (gradients accumulate across backward calls)."""
        for p in params:
            p.grad = None

    # ------------------------------------------------------------ config

    def get_config(self):
        """Hyperparameters as a dict that ``type(self)(**config)`` (or ``from_config``) accepts."""
        config = {}
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        return config

    @classmethod
    def from_config(cls, config):
        """Build an optimizer from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------ saving and restoring the state

    #: The names of the per-parameter state arrays this optimizer keeps (its update rule's accumulators).
    slot_names = ()
    #: The names of the optimizer-wide state values besides ``iterations`` (floats), e.g. Nadam's schedule.
    shared_state_names = ()

    def state_dict(self, params):
        """The training state for ``params`` (the list ``step`` receives), keyed by position, not by identity,
        so it can be stored and later loaded into another set of parameters of the same shapes::

            {'class_name': 'Adam', 'iterations': 12, 'shared': {},
             'slots': [{'m': ndarray, 'v': ndarray}, {...}, ...]}   # one dict per param, in params order

        ``slots[i]`` is empty for a parameter that has not been updated yet. The arrays are copies.
        Hyperparameters are not included: they are ``get_config()``.
        """
        params = list(params)
        return {"class_name": type(self).__name__, "iterations": int(self.iterations),
                "shared": {name: float(getattr(self, name)) for name in self.shared_state_names},
                "slots": [{name: np.array(arr) for name, arr in self.get_state(p).items()} for p in params]}

    def load_state_dict(self, state, params):
        """Make ``state`` (from ``state_dict``) this optimizer's state for ``params`` (same order and shapes):
        the next ``step`` then continues exactly where the saved optimizer stopped. State kept for any other
        parameter is dropped.

        Everything is checked before anything changes (the optimizer class, ``iterations`` a non-negative
        integer, the shared values, one slot dict per parameter with this optimizer's slot names and each
        parameter's shape, floating arrays); a bad state raises ValueError (TypeError for the wrong container
        types) and leaves the optimizer as it was.
        """
        owner = type(self).__name__
        params = list(params)
        if not isinstance(state, dict):
            raise TypeError(f"{owner}.load_state_dict expects a dict from state_dict(), got {type(state).__name__}")
        name = state.get("class_name", owner)
        if name != owner:
            raise ValueError(f"{owner}.load_state_dict: the state was saved by a {name} optimizer")
        iterations = state.get("iterations", 0)
        if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
            raise ValueError(f"{owner}.load_state_dict: `iterations` must be a non-negative integer, got "
                             f"{iterations!r}")
        shared = state.get("shared", {})
        if not isinstance(shared, dict) or set(shared) != set(self.shared_state_names):
            raise ValueError(f"{owner}.load_state_dict: `shared` must hold exactly {list(self.shared_state_names)}, "
                             f"got {shared!r:.200}")
        shared_values = {}
        for key, value in shared.items():
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
                raise ValueError(f"{owner}.load_state_dict: shared value {key!r} must be a finite number, got "
                                 f"{value!r}")
            shared_values[key] = float(value)
        slots = state.get("slots", [])
        if not isinstance(slots, (list, tuple)) or len(slots) != len(params):
            count = len(slots) if isinstance(slots, (list, tuple)) else type(slots).__name__
            raise ValueError(f"{owner}.load_state_dict: `slots` must be a list with one dict per parameter "
                             f"({len(params)}), got {count}")
        new_slots = {}
        for i, (p, entry) in enumerate(zip(params, slots)):
            if not isinstance(entry, dict):
                raise ValueError(f"{owner}.load_state_dict: slots[{i}] must be a dict, got {type(entry).__name__}")
            unknown = set(entry) - set(self.slot_names)
            if unknown:
                raise ValueError(f"{owner}.load_state_dict: slots[{i}] has unknown slot(s) {sorted(unknown)}; "
                                 f"{owner} keeps {list(self.slot_names)}")
            if entry and id(p) in new_slots:
                raise ValueError(f"{owner}.load_state_dict: parameter {i} is listed twice")
            arrays = {}
            for key, value in entry.items():
                arr = np.asarray(value)
                if arr.dtype.kind != "f" or arr.shape != p.data.shape:
                    raise ValueError(f"{owner}.load_state_dict: slot {key!r} of parameter {i} must be a floating "
                                     f"array of the parameter's shape {p.data.shape}, got dtype {arr.dtype} and "
                                     f"shape {arr.shape}")
                arrays[key] = np.array(arr, dtype=p.data.dtype)
            if arrays:
                new_slots[id(p)] = (p, arrays)
        self._slots = new_slots  # checked: now assign
        self._flat = None
        self.iterations = int(iterations)
        for key, value in shared_values.items():
            setattr(self, key, value)


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and learning-rate decay.

    Keras 2.0 rule, with velocity ``m`` (zeros at first):
        v = momentum * m - lr_t * g;  m <- v
        p <- p + momentum * v - lr_t * g   if nesterov,   else   p <- p + v

    Arguments:
        lr: float >= 0, learning rate (alias ``learning_rate``; giving both raises TypeError).
        momentum: float in [0, 1].
        decay: float >= 0, ``lr_t = lr / (1 + decay * iterations)``.
        nesterov: bool.
        clipnorm, clipvalue: see ``Optimizer``.
    """

    slot_names = ("m",)

    def __init__(self, lr=_Default(0.01), momentum=0., decay=0., nesterov=False, *, learning_rate=None,
                 clipnorm=None, clipvalue=None):
        super().__init__(_resolve_lr("SGD", lr, learning_rate), clipnorm=clipnorm, clipvalue=clipvalue)
        self.momentum = _checks.real("SGD", "momentum", momentum, low=0., high=1.)
        self.decay = _nonnegative("SGD", "decay", decay)
        self.nesterov = _checks.boolean("SGD", "nesterov", nesterov)

    def _slots_in_use(self):
        # Keras keeps a velocity even at momentum 0; it would stay -lr*g, so it is not stored
        return self.slot_names if self.momentum else ()

    @elementwise
    def _update(self, value, g, slots, new, lr):
        if not self.momentum:
            return value - lr * g
        v = np.multiply(slots["m"], self.momentum, out=new["m"])  # v = momentum * m - lr * g, in v's buffer
        v -= lr * g
        if self.nesterov:
            return value + self.momentum * v - lr * g
        return value + v

    def get_config(self):
        return {"lr": self.lr, "momentum": self.momentum, "decay": self.decay, "nesterov": self.nesterov,
                **super().get_config()}


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton), Keras 2.0 rule with accumulator ``a`` (zeros at first):

        a <- rho * a + (1 - rho) * g**2
        p <- p - lr_t * g / (sqrt(a) + epsilon)

    Arguments: lr=0.001 (alias learning_rate), rho=0.9, epsilon=1e-8, decay=0., clipnorm, clipvalue.
    """

    slot_names = ("a",)

    def __init__(self, lr=_Default(0.001), rho=0.9, epsilon=1e-8, decay=0., *, learning_rate=None,
                 clipnorm=None, clipvalue=None):
        super().__init__(_resolve_lr("RMSprop", lr, learning_rate), clipnorm=clipnorm, clipvalue=clipvalue)
        self.rho = _fraction("RMSprop", "rho", rho)
        self.epsilon = _epsilon("RMSprop", epsilon)
        self.decay = _nonnegative("RMSprop", "decay", decay)

    @elementwise
    def _update(self, value, g, slots, new, lr):
        a = np.multiply(slots["a"], self.rho, out=new["a"])  # a = rho * a + (1 - rho) * g**2, in a's buffer
        a += (1. - self.rho) * np.square(g)
        return value - lr * g / (np.sqrt(a) + self.epsilon)

    def get_config(self):
        return {"lr": self.lr, "rho": self.rho, "decay": self.decay, "epsilon": self.epsilon,
                **super().get_config()}


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011), Keras 2.0 rule with accumulator ``a`` (zeros at first):

        a <- a + g**2
        p <- p - lr_t * g / (sqrt(a) + epsilon)

    Arguments: lr=0.01 (alias learning_rate), epsilon=1e-8, decay=0., clipnorm, clipvalue.
    """

    slot_names = ("a",)

    def __init__(self, lr=_Default(0.01), epsilon=1e-8, decay=0., *, learning_rate=None,
                 clipnorm=None, clipvalue=None):
        super().__init__(_resolve_lr("Adagrad", lr, learning_rate), clipnorm=clipnorm, clipvalue=clipvalue)
        self.epsilon = _epsilon("Adagrad", epsilon)
        self.decay = _nonnegative("Adagrad", "decay", decay)

    @elementwise
    def _update(self, value, g, slots, new, lr):
        a = np.add(slots["a"], np.square(g), out=new["a"])
        return value - lr * g / (np.sqrt(a) + self.epsilon)

    def get_config(self):
        return {"lr": self.lr, "decay": self.decay, "epsilon": self.epsilon, **super().get_config()}


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012), Keras 2.0 rule with accumulators ``a`` and ``d_a`` (zeros at first):

        a      <- rho * a + (1 - rho) * g**2
        update  = g * sqrt(d_a + epsilon) / sqrt(a + epsilon)      # the new a, the *old* d_a
        p      <- p - lr_t * update
        d_a    <- rho * d_a + (1 - rho) * update**2

    Arguments: lr=1.0 (alias learning_rate), rho=0.95, epsilon=1e-8, decay=0., clipnorm, clipvalue.
    """

    slot_names = ("a", "d_a")

    def __init__(self, lr=_Default(1.0), rho=0.95, epsilon=1e-8, decay=0., *, learning_rate=None,
                 clipnorm=None, clipvalue=None):
        super().__init__(_resolve_lr("Adadelta", lr, learning_rate), clipnorm=clipnorm, clipvalue=clipvalue)
        self.rho = _fraction("Adadelta", "rho", rho)
        self.epsilon = _epsilon("Adadelta", epsilon)
        self.decay = _nonnegative("Adadelta", "decay", decay)

    @elementwise
    def _update(self, value, g, slots, new, lr):
        a = np.multiply(slots["a"], self.rho, out=new["a"])  # a = rho * a + (1 - rho) * g**2, in a's buffer
        a += (1. - self.rho) * np.square(g)
        update = g * np.sqrt(slots["d_a"] + self.epsilon) / np.sqrt(a + self.epsilon)
        d_a = np.multiply(slots["d_a"], self.rho, out=new["d_a"])
        d_a += (1. - self.rho) * np.square(update)
        return value - lr * update

    def get_config(self):
        return {"lr": self.lr, "rho": self.rho, "decay": self.decay, "epsilon": self.epsilon,
                **super().get_config()}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2014), Keras 2.0 rule with moments ``m``, ``v`` (zeros at first), t = iterations + 1:

        lr_t = lr_decayed * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m <- beta_1 * m + (1 - beta_1) * g
        v <- beta_2 * v + (1 - beta_2) * g**2
        p <- p - lr_t * m / (sqrt(v) + epsilon)

    Arguments: lr=0.001 (alias learning_rate), beta_1=0.9, beta_2=0.999, epsilon=1e-8, decay=0., clipnorm,
    clipvalue.
    """

    slot_names = ("m", "v")

    def __init__(self, lr=_Default(0.001), beta_1=0.9, beta_2=0.999, epsilon=1e-8, decay=0., *,
                 learning_rate=None, clipnorm=None, clipvalue=None):
        super().__init__(_resolve_lr("Adam", lr, learning_rate), clipnorm=clipnorm, clipvalue=clipvalue)
        self.beta_1 = _fraction("Adam", "beta_1", beta_1)
        self.beta_2 = _fraction("Adam", "beta_2", beta_2)
        self.epsilon = _epsilon("Adam", epsilon)
        self.decay = _nonnegative("Adam", "decay", decay)

    @elementwise
    def _update(self, value, g, slots, new, lr):
        t = self.iterations + 1
        # math.sqrt keeps the scalar a Python float, so float32 arrays are not promoted to float64
        lr_t = lr * math.sqrt(1. - self.beta_2 ** t) / (1. - self.beta_1 ** t)
        # m = beta_1 * m + (1 - beta_1) * g and v = beta_2 * v + (1 - beta_2) * g**2, in their new buffers
        m = np.multiply(slots["m"], self.beta_1, out=new["m"])
        m += (1. - self.beta_1) * g
        v = np.multiply(slots["v"], self.beta_2, out=new["v"])
        v += (1. - self.beta_2) * np.square(g)
        return value - lr_t * m / (np.sqrt(v) + self.epsilon)

    def get_config(self):
        return {"lr": self.lr, "beta_1": self.beta_1, "beta_2": self.beta_2, "decay": self.decay,
                "epsilon": self.epsilon, **super().get_config()}


class Adamax(Optimizer):
    """Adamax (Adam paper, section 7), Keras 2.0 rule with ``m``, ``u`` (zeros at first), t = iterations + 1:

        lr_t = lr_decayed / (1 - beta_1**t)
        m <- beta_1 * m + (1 - beta_1) * g
        u <- max(beta_2 * u, |g|)
        p <- p - lr_t * m / (u + epsilon)

    Arguments: lr=0.002 (alias learning_rate), beta_1=0.9, beta_2=0.999, epsilon=1e-8, decay=0., clipnorm,
    clipvalue.
    """

    slot_names = ("m", "u")

    def __init__(self, lr=_Default(0.002), beta_1=0.9, beta_2=0.999, epsilon=1e-8, decay=0., *,
                 learning_rate=None, clipnorm=None, clipvalue=None):
        super().__init__(_resolve_lr("Adamax", lr, learning_rate), clipnorm=clipnorm, clipvalue=clipvalue)
        self.beta_1 = _fraction("Adamax", "beta_1", beta_1)
        self.beta_2 = _fraction("Adamax", "beta_2", beta_2)
        self.epsilon = _epsilon("Adamax", epsilon)
        self.decay = _nonnegative("Adamax", "decay", decay)

    @elementwise
    def _update(self, value, g, slots, new, lr):
        t = self.iterations + 1
        lr_t = lr / (1. - self.beta_1 ** t)
        m = np.multiply(slots["m"], self.beta_1, out=new["m"])  # m = beta_1 * m + (1 - beta_1) * g
        m += (1. - self.beta_1) * g
        u = np.maximum(self.beta_2 * slots["u"], np.abs(g), out=new["u"])
        return value - lr_t * m / (u + self.epsilon)

    def get_config(self):
        return {"lr": self.lr, "beta_1": self.beta_1, "beta_2": self.beta_2, "decay": self.decay,
                "epsilon": self.epsilon, **super().get_config()}


class Nadam(Optimizer):
    """Nesterov Adam (Dozat 2015), Keras 2.0 rule. With t = iterations + 1 and the optimizer-wide product
    ``m_schedule`` (1 at first) of the warming momentum schedule:

        mu_t   = beta_1 * (1 - 0.5 * 0.96**(t * schedule_decay))
        mu_t1  = beta_1 * (1 - 0.5 * 0.96**((t + 1) * schedule_decay))
        m_schedule_new  = m_schedule * mu_t;   m_schedule_next = m_schedule_new * mu_t1;  m_schedule <- new
        g'   = g / (1 - m_schedule_new)
        m   <- beta_1 * m + (1 - beta_1) * g;        m'  = m / (1 - m_schedule_next)
        v   <- beta_2 * v + (1 - beta_2) * g**2;     v'  = v / (1 - beta_2**t)
        m_bar = (1 - mu_t) * g' + mu_t1 * m'
        p   <- p - lr * m_bar / (sqrt(v') + epsilon)

    Keras 2.0's Nadam has no learning-rate ``decay``; neither has this one.
    Arguments: lr=0.002 (alias learning_rate), beta_1=0.9, beta_2=0.999, epsilon=1e-8, schedule_decay=0.004,
    clipnorm, clipvalue.
    """

    slot_names = ("m", "v")
    shared_state_names = ("m_schedule",)

    def __init__(self, lr=_Default(0.002), beta_1=0.9, beta_2=0.999, epsilon=1e-8, schedule_decay=0.004, *,
                 learning_rate=None, clipnorm=None, clipvalue=None):
        super().__init__(_resolve_lr("Nadam", lr, learning_rate), clipnorm=clipnorm, clipvalue=clipvalue)
        self.beta_1 = _fraction("Nadam", "beta_1", beta_1)
        self.beta_2 = _fraction("Nadam", "beta_2", beta_2)
        self.epsilon = _epsilon("Nadam", epsilon)
        self.schedule_decay = _nonnegative("Nadam", "schedule_decay", schedule_decay)
        self.m_schedule = 1.0

    def _reset_shared_state(self):
        self.m_schedule = 1.0

    def _begin_step(self):
        # the schedule is shared by all parameters and advances once per step, as Keras's m_schedule variable;
        # the _mu/_m_schedule attributes are this step's scratch values, m_schedule is set when it commits
        t = self.iterations + 1
        self._mu_t = self.beta_1 * (1. - 0.5 * 0.96 ** (t * self.schedule_decay))
        self._mu_t1 = self.beta_1 * (1. - 0.5 * 0.96 ** ((t + 1) * self.schedule_decay))
        self._m_schedule_new = self.m_schedule * self._mu_t
        self._m_schedule_next = self._m_schedule_new * self._mu_t1
        return {"m_schedule": self._m_schedule_new}

    @elementwise
    def _update(self, value, g, slots, new, lr):
        t = self.iterations + 1
        g_prime = g / (1. - self._m_schedule_new)
        m = np.multiply(slots["m"], self.beta_1, out=new["m"])  # m = beta_1 * m + (1 - beta_1) * g
        m += (1. - self.beta_1) * g
        m_prime = m / (1. - self._m_schedule_next)
        v = np.multiply(slots["v"], self.beta_2, out=new["v"])  # v = beta_2 * v + (1 - beta_2) * g**2
        v += (1. - self.beta_2) * np.square(g)
        v_prime = v / (1. - self.beta_2 ** t)
        m_bar = (1. - self._mu_t) * g_prime + self._mu_t1 * m_prime
        return value - lr * m_bar / (np.sqrt(v_prime) + self.epsilon)

    def get_config(self):
        return {"lr": self.lr, "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "schedule_decay": self.schedule_decay, **super().get_config()}


# ================================================================ lookup by name

_BY_NAME = {cls.__name__.lower(): cls for cls in (SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam)}

# lower-case aliases, as keras.optimizers has them
sgd, rmsprop, adagrad, adadelta, adam, adamax, nadam = (SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam)


def serialize(optimizer):
    """``{'class_name': ..., 'config': ...}`` for an optimizer; ``get`` accepts the result."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def get(identifier):
    """Resolve an optimizer.

    Arguments:
        identifier: an ``Optimizer`` instance (returned as is), a name ('sgd', 'rmsprop', 'adagrad',
            'adadelta', 'adam', 'adamax', 'nadam'; case-insensitive; a new instance with default
            hyperparameters), an ``Optimizer`` subclass (instantiated with defaults) or a dict
            ``{'class_name': ..., 'config': {...}}`` as ``serialize`` makes.

    Raises:
        ValueError: unknown name (the message lists the valid names).
        TypeError: any other kind of identifier.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, dict):
        cls = _lookup(identifier.get("class_name"))
        return cls.from_config(dict(identifier.get("config", {})))
    if isinstance(identifier, str):
        return _lookup(identifier)()
    raise TypeError(f"Could not interpret optimizer identifier {identifier!r} of type "
                    f"{type(identifier).__name__}: expected a name, an Optimizer or a config dict")


def _lookup(name):
    cls = _BY_NAME.get(str(name).lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer {name!r}; valid names: {', '.join(sorted(_BY_NAME))}")
    return cls
