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
"""
import math

import numpy as np

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam", "get", "serialize"]


class _Default(float):
    """A default value that remembers it was not passed.

    ``lr`` and ``learning_rate`` name one hyperparameter, and giving both is an error even when the explicit
    ``lr`` equals the default; a float subclass keeps the default visible in ``help()`` (``lr=0.01``) while
    letting ``_resolve_lr`` tell "not passed" from "passed 0.01".
    """

    __slots__ = ()


def _resolve_lr(cls_name, lr, learning_rate):
    if learning_rate is None:
        return float(lr)
    if type(lr) is not _Default:
        raise TypeError(f"{cls_name}: got both `lr` and `learning_rate`; they name the same hyperparameter, "
                        "give only one")
    return float(learning_rate)


def _nonnegative(owner, name, value):
    value = float(value)
    if not value >= 0:  # also rejects NaN
        raise ValueError(f"{owner}: `{name}` must be a float >= 0, got {value!r}")
    return value


def _as_ndarray(value):
    # a constraint may hand back a Tensor-like object; ndarray's own `.data` is a raw buffer, so test the type
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return np.asarray(value)


class Optimizer:
    """Base class: hyperparameter handling, gradient clipping, per-parameter slots and the in-place step.

    Subclasses implement ``_update(p, g, slots, lr) -> new value of p.data`` (``g`` already clipped and cast to
    the parameter's dtype; ``slots`` that parameter's dict of state arrays, updated in place) and may override
    ``_begin_step()`` for per-step state shared by all parameters.

    Arguments common to all optimizers (keyword-only):
        clipnorm: float > 0 or None. When the global L2 norm of all gradients of a step is >= clipnorm, every
            gradient is scaled by clipnorm / norm (Keras 2.0 semantics). 0 or None disables it.
        clipvalue: float > 0 or None. Gradients are clipped elementwise to [-clipvalue, clipvalue].
            0 or None disables it.

    Attributes:
        lr: the base learning rate, readable and writable (callbacks such as ReduceLROnPlateau set it).
            ``learning_rate`` is the same value under its newer name.
        iterations: number of completed ``step`` calls that updated at least one parameter.
    """

    def __init__(self, lr, clipnorm=None, clipvalue=None):
        self.lr = lr
        self.clipnorm = None if clipnorm is None else _nonnegative(type(self).__name__, "clipnorm", clipnorm)
        self.clipvalue = None if clipvalue is None else _nonnegative(type(self).__name__, "clipvalue", clipvalue)
        self.iterations = 0
        # id(param) -> (param, {slot name: ndarray}); the param itself is kept so its id cannot be reused by
        # another object while the slots exist
        self._slots = {}

    # ------------------------------------------------------------ hyperparameters

    @property
    def lr(self):
        """Base learning rate (float >= 0)."""
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = _nonnegative(type(self).__name__, "lr", value)

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

    def _slots_for(self, p, names):
        """This parameter's slot arrays, created as zeros of its shape and dtype on first use."""
        entry = self._slots.get(id(p))
        if entry is None:
            slots = {name: np.zeros_like(p.data) for name in names}
            self._slots[id(p)] = (p, slots)
            return slots
        slots = entry[1]
        for name, arr in slots.items():
            if arr.shape != p.data.shape:
                raise ValueError(f"{type(self).__name__}: parameter changed shape from {arr.shape} to "
                                 f"{p.data.shape} since its optimizer state was created; call reset_state()")
        return slots

    def get_state(self, param):
        """A dict {slot name: ndarray} of the state kept for ``param`` (empty before its first update).

        The arrays are the live state, not copies; e.g. Adam's are ``{'m': ..., 'v': ...}``.
        """
        entry = self._slots.get(id(param))
        return {} if entry is None else entry[1]

    def reset_state(self):
        """Forget all slots and set ``iterations`` back to 0 (hyperparameters are kept)."""
        self._slots.clear()
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

        Each ``p.data`` is overwritten in place (its dtype and identity are kept), then, if
        ``getattr(p, 'constraint', None)`` is set, ``p.data[...] = p.constraint(p.data)``.
        A parameter listed twice is updated once. Raises ValueError if a gradient's shape differs from its
        parameter's.
        """
        seen = set()
        todo = []
        for p in params:
            if p.grad is None or id(p) in seen:
                continue
            seen.add(id(p))
            g = np.asarray(p.grad)
            if g.shape != p.data.shape:
                raise ValueError(f"{type(self).__name__}.step: gradient of shape {g.shape} for a parameter of "
                                 f"shape {p.data.shape}" + (f" ({p.name})" if getattr(p, "name", None) else ""))
            # the rules below then run in the parameter's precision: float32 weights stay float32
            todo.append((p, g.astype(p.data.dtype, copy=False)))
        if not todo:
            return
        grads = self._clip([g for _, g in todo])
        lr = self.current_lr()
        self._begin_step()
        for (p, _), g in zip(todo, grads):
            new_p = self._update(p, g, lr)
            p.data[...] = new_p
            constraint = getattr(p, "constraint", None)
            if constraint is not None:
                p.data[...] = _as_ndarray(constraint(p.data))
        self.iterations += 1

    def _begin_step(self):
        pass

    def _update(self, p, g, lr):
        raise NotImplementedError

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
        momentum: float >= 0.
        decay: float >= 0, ``lr_t = lr / (1 + decay * iterations)``.
        nesterov: bool.
        clipnorm, clipvalue: see ``Optimizer``.
    """

    slot_names = ("m",)

    def __init__(self, lr=_Default(0.01), momentum=0., decay=0., nesterov=False, *, learning_rate=None,
                 clipnorm=None, clipvalue=None):
        super().__init__(_resolve_lr("SGD", lr, learning_rate), clipnorm=clipnorm, clipvalue=clipvalue)
        self.momentum = _nonnegative("SGD", "momentum", momentum)
        self.decay = _nonnegative("SGD", "decay", decay)
        self.nesterov = bool(nesterov)

    def _update(self, p, g, lr):
        if not self.momentum:
            # Keras keeps a velocity even at momentum 0; it would stay -lr*g, so it is skipped, not stored
            return p.data - lr * g
        s = self._slots_for(p, ("m",))
        v = self.momentum * s["m"] - lr * g
        s["m"][...] = v
        if self.nesterov:
            return p.data + self.momentum * v - lr * g
        return p.data + v

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
        self.rho = _nonnegative("RMSprop", "rho", rho)
        self.epsilon = _nonnegative("RMSprop", "epsilon", epsilon)
        self.decay = _nonnegative("RMSprop", "decay", decay)

    def _update(self, p, g, lr):
        s = self._slots_for(p, ("a",))
        a = s["a"]
        a[...] = self.rho * a + (1. - self.rho) * np.square(g)
        return p.data - lr * g / (np.sqrt(a) + self.epsilon)

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
        self.epsilon = _nonnegative("Adagrad", "epsilon", epsilon)
        self.decay = _nonnegative("Adagrad", "decay", decay)

    def _update(self, p, g, lr):
        s = self._slots_for(p, ("a",))
        a = s["a"]
        a += np.square(g)
        return p.data - lr * g / (np.sqrt(a) + self.epsilon)

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
        self.rho = _nonnegative("Adadelta", "rho", rho)
        self.epsilon = _nonnegative("Adadelta", "epsilon", epsilon)
        self.decay = _nonnegative("Adadelta", "decay", decay)

    def _update(self, p, g, lr):
        s = self._slots_for(p, ("a", "d_a"))
        a, d_a = s["a"], s["d_a"]
        a[...] = self.rho * a + (1. - self.rho) * np.square(g)
        update = g * np.sqrt(d_a + self.epsilon) / np.sqrt(a + self.epsilon)
        d_a[...] = self.rho * d_a + (1. - self.rho) * np.square(update)
        return p.data - lr * update

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
        self.beta_1 = _nonnegative("Adam", "beta_1", beta_1)
        self.beta_2 = _nonnegative("Adam", "beta_2", beta_2)
        self.epsilon = _nonnegative("Adam", "epsilon", epsilon)
        self.decay = _nonnegative("Adam", "decay", decay)

    def _update(self, p, g, lr):
        t = self.iterations + 1
        # math.sqrt keeps the scalar a Python float, so float32 arrays are not promoted to float64
        lr_t = lr * math.sqrt(1. - self.beta_2 ** t) / (1. - self.beta_1 ** t)
        s = self._slots_for(p, ("m", "v"))
        m, v = s["m"], s["v"]
        m[...] = self.beta_1 * m + (1. - self.beta_1) * g
        v[...] = self.beta_2 * v + (1. - self.beta_2) * np.square(g)
        return p.data - lr_t * m / (np.sqrt(v) + self.epsilon)

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
        self.beta_1 = _nonnegative("Adamax", "beta_1", beta_1)
        self.beta_2 = _nonnegative("Adamax", "beta_2", beta_2)
        self.epsilon = _nonnegative("Adamax", "epsilon", epsilon)
        self.decay = _nonnegative("Adamax", "decay", decay)

    def _update(self, p, g, lr):
        t = self.iterations + 1
        lr_t = lr / (1. - self.beta_1 ** t)
        s = self._slots_for(p, ("m", "u"))
        m, u = s["m"], s["u"]
        m[...] = self.beta_1 * m + (1. - self.beta_1) * g
        u[...] = np.maximum(self.beta_2 * u, np.abs(g))
        return p.data - lr_t * m / (u + self.epsilon)

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
        self.beta_1 = _nonnegative("Nadam", "beta_1", beta_1)
        self.beta_2 = _nonnegative("Nadam", "beta_2", beta_2)
        self.epsilon = _nonnegative("Nadam", "epsilon", epsilon)
        self.schedule_decay = _nonnegative("Nadam", "schedule_decay", schedule_decay)
        self.m_schedule = 1.0

    def _reset_shared_state(self):
        self.m_schedule = 1.0

    def _begin_step(self):
        # the schedule is shared by all parameters and advances once per step, as Keras's m_schedule variable
        t = self.iterations + 1
        self._mu_t = self.beta_1 * (1. - 0.5 * 0.96 ** (t * self.schedule_decay))
        self._mu_t1 = self.beta_1 * (1. - 0.5 * 0.96 ** ((t + 1) * self.schedule_decay))
        self._m_schedule_new = self.m_schedule * self._mu_t
        self._m_schedule_next = self._m_schedule_new * self._mu_t1
        self.m_schedule = self._m_schedule_new

    def _update(self, p, g, lr):
        t = self.iterations + 1
        s = self._slots_for(p, ("m", "v"))
        m, v = s["m"], s["v"]
        g_prime = g / (1. - self._m_schedule_new)
        m[...] = self.beta_1 * m + (1. - self.beta_1) * g
        m_prime = m / (1. - self._m_schedule_next)
        v[...] = self.beta_2 * v + (1. - self.beta_2) * np.square(g)
        v_prime = v / (1. - self.beta_2 ** t)
        m_bar = (1. - self._mu_t) * g_prime + self._mu_t1 * m_prime
        return p.data - lr * m_bar / (np.sqrt(v_prime) + self.epsilon)

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
