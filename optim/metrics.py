"""Metrics: plain numpy functions ``metric(y_true, y_pred) -> float``, averaged over all samples and timesteps.

Keras 2.0 semantics for 'accuracy' / 'acc', which depend on the loss and the output shape ("class mode
duality", chosen in that order):

* last axis of size 1, or loss binary_crossentropy -> ``binary_accuracy``: round(y_pred) == y_true
  (per element, averaged over the last axis);
* loss sparse_categorical_crossentropy -> ``sparse_categorical_accuracy``: argmax(y_pred) == y_true;
* otherwise -> ``categorical_accuracy``: argmax(y_pred) == argmax(y_true).

``get('acc', loss)`` returns a function that applies this rule on each call, so it needs no shapes in advance.
Its ``__name__`` is 'acc' for both 'acc' and 'accuracy': the key Keras 2.0 logs it under. Loss names are valid
metrics too (e.g. 'mae'); they are evaluated with minigrad outside the tape.
"""
import numpy as np

import minigrad as mg

from . import losses as losses_module

__all__ = ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "get"]


def _arrays(y_true, y_pred):
    # metrics may be handed Tensors; `.numpy()` leaves the ndarray case untouched
    if isinstance(y_true, mg.Tensor):
        y_true = y_true.numpy()
    if isinstance(y_pred, mg.Tensor):
        y_pred = y_pred.numpy()
    return np.asarray(y_true), np.asarray(y_pred)


def binary_accuracy(y_true, y_pred):
    """Fraction of elements where round(y_pred) == y_true (predictions are probabilities; 0.5 rounds to 0,
    as numpy and TensorFlow round half to even)."""
    y_true, y_pred = _arrays(y_true, y_pred)
    if y_true.shape != y_pred.shape and y_true.shape == y_pred.shape[:-1] and y_pred.shape[-1:] == (1,):
        y_true = y_true.reshape(y_pred.shape)
    return float(np.mean(np.equal(y_true, np.round(y_pred))))


def categorical_accuracy(y_true, y_pred):
    """Fraction of samples (and timesteps) where argmax(y_pred, -1) == argmax(y_true, -1)."""
    y_true, y_pred = _arrays(y_true, y_pred)
    return float(np.mean(np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)))


def sparse_categorical_accuracy(y_true, y_pred):
    """Fraction of samples (and timesteps) where argmax(y_pred, -1) == y_true (integer labels of shape
    ``y_pred.shape[:-1]``, or with a trailing axis of 1)."""
    y_true, y_pred = _arrays(y_true, y_pred)
    lead = y_pred.shape[:-1]
    if y_true.shape == lead + (1,):
        y_true = y_true.reshape(lead)
    return float(np.mean(y_true == np.argmax(y_pred, axis=-1)))


_ACCURACIES = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
}


def _loss_name(loss):
    if loss is None:
        return None
    fn = losses_module.get(loss) if isinstance(loss, str) else loss
    return getattr(fn, "__name__", None)


def _accuracy_for(loss):
    """The Keras 2.0 'acc' rule for a loss, deciding binary vs categorical from y_pred's shape at call time."""
    loss_name = _loss_name(loss)

    def acc(y_true, y_pred):
        y_true, y_pred = _arrays(y_true, y_pred)
        if y_pred.shape[-1:] == (1,) or loss_name == "binary_crossentropy":
            return binary_accuracy(y_true, y_pred)
        if loss_name == "sparse_categorical_crossentropy":
            return sparse_categorical_accuracy(y_true, y_pred)
        return categorical_accuracy(y_true, y_pred)

    acc.__name__ = "acc"
    acc.__doc__ = f"Keras 2.0 accuracy for loss {loss_name!r}: see optim.metrics."
    return acc


def _loss_metric(loss_fn):
    def metric(y_true, y_pred):
        with mg.no_grad():
            return float(loss_fn(y_true, y_pred).data)

    metric.__name__ = loss_fn.__name__
    metric.__doc__ = f"The loss {loss_fn.__name__} as a metric (a float)."
    return metric


def get(identifier, loss=None):
    """Resolve a metric to a function ``(y_true, y_pred) -> float``.

    Arguments:
        identifier: 'acc' or 'accuracy' (Keras 2.0 rule, see the module docstring), 'binary_accuracy',
            'categorical_accuracy', 'sparse_categorical_accuracy', a loss name ('mse', 'mae',
            'binary_crossentropy', ...), or a callable (returned as is). Names are case-insensitive.
        loss: the loss the model is compiled with (a name or a function from ``optim.losses``); only 'acc'
            uses it.

    Raises:
        ValueError: unknown name (the message lists the valid names).
    """
    if callable(identifier) and not isinstance(identifier, str):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(f"Could not interpret metric identifier {identifier!r} of type "
                        f"{type(identifier).__name__}")
    name = identifier.lower()
    if name in ("acc", "accuracy"):
        return _accuracy_for(loss)
    if name in _ACCURACIES:
        return _ACCURACIES[name]
    if name in losses_module._BY_NAME:
        return _loss_metric(losses_module.get(name))
    valid = ["acc", "accuracy", *_ACCURACIES, *losses_module._BY_NAME]
    raise ValueError(f"Unknown metric {identifier!r}; valid names: {', '.join(sorted(valid))}")
