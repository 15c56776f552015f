"""Helpers shared by the tools: losses given in several forms, weight names, leaving .grad as it was found."""
import contextlib

import numpy as np

import minigrad as mg


def make_loss(loss, y=None, what="loss"):
    """A function ``out -> scalar Tensor`` from: a loss name ('mse', ...) or ``(y_true, y_pred)`` callable together
    with targets ``y``; or a callable ``out -> scalar Tensor`` when ``y`` is None; or None (returned as None)."""
    if loss is None:
        if y is not None:
            raise ValueError(f"{what}: targets y were given but no loss to compare them with")
        return None
    if isinstance(loss, str):
        from optim import losses
        fn = losses.get(loss)
        if y is None:
            raise ValueError(f"{what}: the loss {loss!r} compares with targets: pass y=")
        return lambda out: fn(y, out)
    if not callable(loss):
        raise TypeError(f"{what}: loss must be a name, a callable out -> scalar Tensor, or a callable "
                        f"(y_true, y_pred) with y=; got {type(loss).__name__}")
    if y is not None:
        return lambda out: loss(y, out)
    return loss


def scalar(value, what):
    if not isinstance(value, mg.Tensor) or value.size != 1:
        shape = getattr(value, "shape", None)
        raise ValueError(f"{what}: the loss must be a single-element Tensor, got "
                         f"{type(value).__name__}{'' if shape is None else f' of shape {shape}'}")
    return value


def short_name(w):
    """'lstm_1/kernel' -> 'kernel'."""
    return (w.name or "weight").rsplit("/", 1)[-1]


@contextlib.contextmanager
def grads_preserved(tensors):
    """Restore the ``.grad`` of ``tensors`` on exit: a tool's own backward passes leave no trace on the model."""
    saved = [(t, t.grad) for t in tensors]
    for t, _ in saved:
        t.grad = None
    try:
        yield
    finally:
        for t, g in saved:
            t.grad = g


@contextlib.contextmanager
def states_preserved(layers):
    """Restore the carried states of the stateful layers among ``layers`` on exit: a tool's passes must not
    advance them."""
    stateful = [layer for layer in layers if getattr(layer, "stateful", False) is True]
    saved = [list(layer.states) for layer in stateful]
    try:
        yield
    finally:
        for layer, s in zip(stateful, saved):
            layer.states = s


def as_float_tensor(x, dtype=None, requires_grad=False):
    if isinstance(x, mg.Tensor):
        data = x.data
    else:
        data = np.asarray(x)
    if data.dtype.kind != "f":
        data = data.astype(dtype or np.float32)
    return mg.Tensor(data, requires_grad=requires_grad)
