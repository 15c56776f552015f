"""Metrics: plain numpy functions ``metric(y_true, y_pred, reduction='mean')``.

With ``reduction='mean'`` (default) a metric returns a float, averaged over all samples and timesteps; with
``'none'`` it returns the per-sample values, an ndarray of shape ``y_pred.shape[:-1]``, which a training loop can
weight and mask as it does the per-sample losses. Shapes are checked: a target whose shape does not fit the
prediction raises ValueError (numpy broadcasting would otherwise compare every target with every prediction and
return a meaningless number).

The names Keras 2.0 knows, all available through ``get``:

* ``binary_accuracy``: round(y_pred) == y_true, averaged over the last axis; y_true of y_pred's shape (or without
  its trailing axis of 1). 0.5 rounds to 0, as numpy and TensorFlow round half to even.
* ``categorical_accuracy``: argmax(y_pred) == argmax(y_true); one-hot y_true of y_pred's shape.
* ``sparse_categorical_accuracy``: argmax(y_pred) == y_true; integer class ids of shape ``y_pred.shape[:-1]``
  (or with a trailing axis of 1).
* ``top_k_categorical_accuracy`` / ``sparse_top_k_categorical_accuracy`` (k=5): the true class is among the k
  highest predictions. As TensorFlow's ``in_top_k``, classes tied with the true class's score all count as
  ranked above it only if strictly higher: the true class is in the top k when fewer than k classes score
  strictly higher (and its score is finite).
* every loss of ``optim.losses`` by its name or short name ('mse', 'mape', 'kld', 'cosine', ...), evaluated
  outside the tape; also as functions of this module (``metrics.mse``), which return floats.
* 'acc' / 'accuracy': Keras 2.0's rule, which depends on the loss and the output shape ("class mode duality",
  chosen in that order): last axis of size 1, or loss binary_crossentropy -> ``binary_accuracy``; loss
  sparse_categorical_crossentropy -> ``sparse_categorical_accuracy``; otherwise ``categorical_accuracy``.
  ``get('acc', loss)`` returns a function that applies this rule on each call, so it needs no shapes in advance.
  Its ``__name__`` is 'acc' for both 'acc' and 'accuracy': the key Keras 2.0 logs it under.
"""
import numpy as np

import minigrad as mg

from . import losses as losses_module

__all__ = ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy",
           "sparse_top_k_categorical_accuracy", "get",
           "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "hinge", "squared_hinge", "categorical_hinge", "logcosh",
           "kullback_leibler_divergence", "poisson", "cosine_proximity", "binary_crossentropy",
           "categorical_crossentropy", "sparse_categorical_crossentropy", "mse", "mae", "mape", "msle", "kld",
           "cosine"]


# ============================================================ argument handling

def _arrays(y_true, y_pred, name):
    # metrics may be handed Tensors; `.numpy()` leaves the ndarray case untouched
    if isinstance(y_true, mg.Tensor):
        y_true = y_true.numpy()
    if isinstance(y_pred, mg.Tensor):
        y_pred = y_pred.numpy()
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    for what, arr in (("y_true", y_true), ("y_pred", y_pred)):
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name}: {what} must be numeric, got dtype {arr.dtype}")
    if y_pred.ndim == 0:
        raise ValueError(f"{name}: y_pred must have at least one axis (the outputs of a sample), got a scalar")
    return y_true, y_pred


def _matching_target(y_true, y_pred, name):
    """y_true of y_pred's shape; a target lacking only y_pred's trailing axis of 1 is reshaped (the Keras-style
    (batch,) target of a (batch, 1) output); any other mismatch raises ValueError."""
    if y_true.shape == y_pred.shape:
        return y_true
    if y_true.shape == y_pred.shape[:-1] and y_pred.shape[-1:] == (1,):
        return y_true.reshape(y_pred.shape)
    raise ValueError(f"{name}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; they must "
                     "match (a target may omit only a trailing axis of size 1)")


def _class_ids(y_true, y_pred, name):
    """Integer class ids of shape ``y_pred.shape[:-1]`` from y_true of that shape or with a trailing axis of 1."""
    lead, num_classes = y_pred.shape[:-1], y_pred.shape[-1]
    if y_true.shape not in (lead, lead + (1,)):
        raise ValueError(f"{name}: y_true has shape {y_true.shape}; for y_pred of shape {y_pred.shape} it must be "
                         f"{lead} or {lead + (1,)} (integer class ids)")
    ids = y_true.reshape(lead)
    if ids.dtype.kind not in "iu" and ids.size and not np.all(np.isfinite(ids) & (ids == np.round(ids))):
        raise ValueError(f"{name}: y_true must hold integer class ids")  # (integers need no such test)
    ids = ids.astype(np.int64, copy=False)
    if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
        raise ValueError(f"{name}: class id out of range [0, {num_classes}): min {ids.min()}, max {ids.max()}")
    return ids


def _reduce(per_sample, reduction, name):
    if reduction == "mean":
        return float(np.mean(per_sample))
    if reduction == "none":
        return per_sample
    raise ValueError(f"{name}: reduction must be 'mean' or 'none', got {reduction!r}")


def _check_k(k, name):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{name}: k must be a positive integer, got {k!r}")


def _in_top_k(y_pred, ids, k):
    """Per sample: fewer than k classes score strictly higher than class ``ids`` (whose score is finite)."""
    target = np.take_along_axis(y_pred, ids[..., None], axis=-1)
    higher = np.sum(y_pred > target, axis=-1)
    return (higher < k) & np.isfinite(target[..., 0])


# ============================================================ the accuracies

def binary_accuracy(y_true, y_pred, reduction="mean"):
    """Mean over the last axis of round(y_pred) == y_true, per sample (and timestep); y_true of y_pred's shape."""
    name = "binary_accuracy"
    y_true, y_pred = _arrays(y_true, y_pred, name)
    y_true = _matching_target(y_true, y_pred, name)
    return _reduce(np.mean(np.equal(y_true, np.round(y_pred)), axis=-1), reduction, name)


def categorical_accuracy(y_true, y_pred, reduction="mean"):
    """argmax(y_pred, -1) == argmax(y_true, -1) per sample (and timestep); one-hot y_true of y_pred's shape."""
    name = "categorical_accuracy"
    y_true, y_pred = _arrays(y_true, y_pred, name)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{name}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; they must "
                         "match (one-hot targets; integer class ids go with sparse_categorical_accuracy)")
    hit = np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)
    return _reduce(hit.astype(np.float64), reduction, name)


def sparse_categorical_accuracy(y_true, y_pred, reduction="mean"):
    """argmax(y_pred, -1) == y_true per sample (and timestep); integer class ids of shape ``y_pred.shape[:-1]``
    (or with a trailing axis of 1)."""
    name = "sparse_categorical_accuracy"
    y_true, y_pred = _arrays(y_true, y_pred, name)
    ids = _class_ids(y_true, y_pred, name)
    return _reduce((ids == np.argmax(y_pred, axis=-1)).astype(np.float64), reduction, name)


def top_k_categorical_accuracy(y_true, y_pred, k=5, reduction="mean"):
    """The class argmax(y_true, -1) is among the k highest scores of y_pred (see the module docstring for ties);
    one-hot y_true of y_pred's shape."""
    name = "top_k_categorical_accuracy"
    _check_k(k, name)
    y_true, y_pred = _arrays(y_true, y_pred, name)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{name}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; they must "
                         "match (one-hot targets; integer class ids go with sparse_top_k_categorical_accuracy)")
    hit = _in_top_k(y_pred, np.argmax(y_true, axis=-1), k)
    return _reduce(hit.astype(np.float64), reduction, name)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, reduction="mean"):
    """The class y_true is among the k highest scores of y_pred; integer class ids of shape
    ``y_pred.shape[:-1]`` (or with a trailing axis of 1)."""
    name = "sparse_top_k_categorical_accuracy"
    _check_k(k, name)
    y_true, y_pred = _arrays(y_true, y_pred, name)
    hit = _in_top_k(y_pred, _class_ids(y_true, y_pred, name), k)
    return _reduce(hit.astype(np.float64), reduction, name)


_ACCURACIES = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
}


# ============================================================ lookup by name

def _loss_name(loss):
    if loss is None:
        return None
    fn = losses_module.get(loss) if isinstance(loss, str) else loss
    return getattr(fn, "__name__", None)


def _accuracy_for(loss):
    """The Keras 2.0 'acc' rule for a loss, deciding binary vs categorical from y_pred's shape at call time."""
    loss_name = _loss_name(loss)

    def acc(y_true, y_pred, reduction="mean"):
        y_true, y_pred = _arrays(y_true, y_pred, "acc")
        if y_pred.shape[-1:] == (1,) or loss_name == "binary_crossentropy":
            return binary_accuracy(y_true, y_pred, reduction)
        if loss_name == "sparse_categorical_crossentropy":
            return sparse_categorical_accuracy(y_true, y_pred, reduction)
        return categorical_accuracy(y_true, y_pred, reduction)

    acc.__name__ = "acc"
    acc.__doc__ = f"Keras 2.0 accuracy for loss {loss_name!r}: see optim.metrics."
    return acc


def _loss_metric(loss_fn):
    def metric(y_true, y_pred, reduction="mean"):
        if reduction not in ("mean", "none"):
            raise ValueError(f"{loss_fn.__name__}: reduction must be 'mean' or 'none', got {reduction!r}")
        with mg.no_grad():
            out = loss_fn(y_true, y_pred, reduction=reduction).data
        return float(out) if reduction == "mean" else out

    metric.__name__ = loss_fn.__name__
    metric.__doc__ = f"The loss {loss_fn.__name__} as a metric (a float, or per-sample values with 'none')."
    return metric


# Keras 2.0's metrics module offers the losses too (``keras.metrics.mse``); here they return floats, like every
# metric, and ``get`` hands out these same functions
mean_squared_error = mse = MSE = _loss_metric(losses_module.mean_squared_error)
mean_absolute_error = mae = MAE = _loss_metric(losses_module.mean_absolute_error)
mean_absolute_percentage_error = mape = MAPE = _loss_metric(losses_module.mean_absolute_percentage_error)
mean_squared_logarithmic_error = msle = MSLE = _loss_metric(losses_module.mean_squared_logarithmic_error)
hinge = _loss_metric(losses_module.hinge)
squared_hinge = _loss_metric(losses_module.squared_hinge)
categorical_hinge = _loss_metric(losses_module.categorical_hinge)
logcosh = _loss_metric(losses_module.logcosh)
kullback_leibler_divergence = kld = KLD = _loss_metric(losses_module.kullback_leibler_divergence)
poisson = _loss_metric(losses_module.poisson)
cosine_proximity = cosine = _loss_metric(losses_module.cosine_proximity)
binary_crossentropy = _loss_metric(losses_module.binary_crossentropy)
categorical_crossentropy = _loss_metric(losses_module.categorical_crossentropy)
sparse_categorical_crossentropy = _loss_metric(losses_module.sparse_categorical_crossentropy)
_LOSS_METRICS = {name: globals()[fn.__name__] for name, fn in losses_module._BY_NAME.items()}


def get(identifier, loss=None):
    """Resolve a metric to a function ``(y_true, y_pred, reduction='mean') -> float`` (a callable given by the
    user is returned as is).

    Arguments:
        identifier: 'acc' or 'accuracy' (Keras 2.0 rule, see the module docstring), 'binary_accuracy',
            'categorical_accuracy', 'sparse_categorical_accuracy', 'top_k_categorical_accuracy',
            'sparse_top_k_categorical_accuracy' (k=5), a loss name or short name ('mse', 'mae', 'mape', 'msle',
            'hinge', 'kld', 'cosine', 'binary_crossentropy', ...), or a callable. Names are case-insensitive.
        loss: the loss the model is compiled with (a name or a function from ``optim.losses``); only 'acc'
            uses it.

    Raises:
        ValueError: unknown name (the message lists the valid names).
        TypeError: neither a string nor a callable.
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
    if name in _LOSS_METRICS:
        return _LOSS_METRICS[name]
    valid = ["acc", "accuracy", *_ACCURACIES, *_LOSS_METRICS]
    raise ValueError(f"Unknown metric {identifier!r}; valid names: {', '.join(sorted(valid))}")
