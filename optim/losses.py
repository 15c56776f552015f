"""Loss functions on minigrad Tensors, with Keras 2.0 semantics.

Every loss has the form ``loss(y_true, y_pred, ..., reduction='mean') -> Tensor``:

* ``y_pred`` is a Tensor (an ndarray is wrapped) of shape ``(..., d)``: ``(batch, d)`` or
  ``(batch, timesteps, d)``; the last axis holds the outputs of one sample at one timestep.
* ``y_true`` is an ndarray or Tensor of the same shape (a target of shape ``y_pred.shape[:-1]`` is accepted
  when ``d == 1``); for ``sparse_categorical_crossentropy`` it holds integer class indices of shape
  ``y_pred.shape[:-1]`` (or with a trailing axis of 1).
* The per-sample loss reduces the last axis the way Keras 2.0 does (a mean for most losses; a sum for the
  categorical crossentropies and ``kullback_leibler_divergence``; ``categorical_hinge`` takes a sum and a max),
  giving shape ``y_pred.shape[:-1]``; ``reduction='mean'`` (default) then averages it over all samples and
  timesteps to a scalar, ``'sum'`` adds it up, ``'none'`` returns it as it is (for masks or sample weights).

The losses and their Keras 2.0 formulas (per sample, ``y`` the target, ``p`` the prediction, ``eps`` = EPSILON,
means and sums over the last axis):

    mean_squared_error (mse)                  mean((p - y)**2)
    mean_absolute_error (mae)                 mean(|p - y|)
    mean_absolute_percentage_error (mape)     100 * mean(|y - p| / clip(|y|, eps, inf))
    mean_squared_logarithmic_error (msle)     mean((log(clip(p, eps, inf) + 1) - log(clip(y, eps, inf) + 1))**2)
    hinge                                     mean(max(1 - y p, 0))          labels -1/1, used as given
    squared_hinge                             mean(max(1 - y p, 0)**2)       labels -1/1, used as given
    categorical_hinge                         max(0, max((1 - y) p) - sum(y p) + 1)     one-hot y
    logcosh                                   mean(log(cosh(p - y)))
    kullback_leibler_divergence (kld)         sum(y' log(y' / p')), y' = clip(y, eps, 1), p' = clip(p, eps, 1)
    poisson                                   mean(p - y log(p + eps))
    cosine_proximity (cosine)                 -mean(l2n(y) * l2n(p)), l2n(x) = x / sqrt(max(sum(x**2), 1e-12))
    binary_crossentropy                       mean(-(y log p + (1 - y) log(1 - p))), p clipped to [eps, 1 - eps]
    categorical_crossentropy                  -sum(y log p), p rescaled to sum to 1 and clipped
    sparse_categorical_crossentropy           -log p[y], integer y

Each loss is a composition of minigrad ops, so its gradient comes from the tape.

Numerical safety: probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` before any log, as Keras does, so
targets or predictions of exactly 0 or 1 give finite values. With ``from_logits=True`` the crossentropies take
pre-activation logits and use log-softmax / log-sigmoid forms that stay finite and exact for logits of +-1000;
the model code passes logits whenever the last layer's activation is a softmax or sigmoid.
"""
import math

import numpy as np

import minigrad as mg
from minigrad.ops import max_keepdims

__all__ = ["EPSILON", "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "hinge", "squared_hinge", "categorical_hinge", "logcosh",
           "kullback_leibler_divergence", "poisson", "cosine_proximity", "binary_crossentropy",
           "categorical_crossentropy", "sparse_categorical_crossentropy",
           "mse", "mae", "mape", "msle", "kld", "cosine", "get", "serialize"]

EPSILON = 1e-7  # Keras 2.0 K.epsilon(), the clipping margin of its crossentropies
_LOG2 = math.log(2.)  # a Python float: a numpy float64 would promote float32 losses to float64


# ============================================================ argument handling

def _as_pred(y_pred):
    if isinstance(y_pred, mg.Tensor):
        return y_pred
    arr = np.asarray(y_pred)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return mg.Tensor(arr)


def _as_target(y_true, y_pred, name):
    """The target as a Tensor or an ndarray of y_pred's dtype and shape; other shapes raise ValueError.

    Broadcasting a (batch,) target against a (batch, 1) prediction would silently give a (batch, batch) loss,
    so only that one Keras-style case is reshaped and every other mismatch is an error.
    """
    if isinstance(y_true, mg.Tensor):
        shape = y_true.shape
    else:
        y_true = np.asarray(y_true, dtype=y_pred.dtype)
        shape = y_true.shape
    if shape == y_pred.shape:
        return y_true
    if shape == y_pred.shape[:-1] and y_pred.shape[-1:] == (1,):
        return y_true.reshape(y_pred.shape)
    raise ValueError(f"{name}: y_true has shape {shape} but y_pred has shape {y_pred.shape}; they must match")


def _check_probabilities(y_true, name):
    """Targets of a crossentropy are probabilities: anything outside [0, 1] (or NaN) is a ValueError."""
    data = y_true.data if isinstance(y_true, mg.Tensor) else y_true
    if data.size and not (data.min() >= 0 and data.max() <= 1):  # two reductions, no temporaries; NaN fails both
        bad = data[~((data >= 0) & (data <= 1))]
        raise ValueError(f"{name}: y_true must hold probabilities in [0, 1] (0/1 labels or soft targets), found "
                         f"{bad.size} value(s) outside, e.g. {bad.flat[0]!r}")


def _reduce(per_sample, reduction, name):
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "sum":
        return per_sample.sum()
    if reduction == "none":
        return per_sample
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


# ============================================================ crossentropies of logits, each one op
#
# A crossentropy of logits composed of minigrad ops records a log-softmax (or a softplus), a product with the
# targets and a sum, each with its own pass over (batch, timesteps, classes) forward and backward; as one op it is
# one pass each way, and the probabilities it forms on the way (the softmax) serve the gradient and the metrics.
# The values are those of the composition, operation for operation; ``graph_backward`` writes the same gradient
# with minigrad ops, so the losses can be differentiated again.

def _softmax_parts(z):
    """(z - max z, exp of that, its sum) along the last axis: the shifted form in which nothing overflows."""
    shifted = z - max_keepdims(z, (z.ndim - 1,))
    e = np.exp(shifted)
    return shifted, e, e.sum(axis=-1, keepdims=True)


def _report(probabilities, p):
    # the training loop asks for the probabilities (``probabilities`` is a list): its metrics read them
    if probabilities is not None:
        probabilities.append(p)


class SparseSoftmaxCrossEntropy(mg.Function):
    """-log softmax(z)[label] along the last axis: z (..., classes) logits, ``labels`` int64 (...) -> (...).

    loss = log(sum(exp(s))) - s[label] with s = z - max(z);  d loss / d z = softmax(z) - one_hot(label).
    """

    @staticmethod
    def forward(ctx, z, labels=None, probabilities=None):
        shifted, e, total = _softmax_parts(z)
        loss = np.log(total)[..., 0] - np.take_along_axis(shifted, labels[..., None], axis=-1)[..., 0]
        p = np.divide(e, total, out=e)
        ctx.save_for_backward(p)
        ctx.labels = labels
        _report(probabilities, p)
        return loss

    @staticmethod
    def backward(ctx, g):
        (p,) = ctx.saved_tensors
        labels = ctx.labels
        d = p * np.expand_dims(g, -1)  # laid out as p (as z: a time-major view stays one), so indexed, not reshaped
        d[(*np.indices(labels.shape, sparse=True), labels)] -= g
        return d

    @staticmethod
    def graph_backward(ctx, g):
        z = ctx.inputs[0]
        one_hot = np.zeros(z.shape, z.dtype)
        np.put_along_axis(one_hot, ctx.labels[..., None], 1, axis=-1)
        return (mg.softmax(z, axis=-1) - one_hot) * g.reshape(g.shape + (1,))


class SoftmaxCrossEntropy(mg.Function):
    """-sum(y * log softmax(z), axis=-1): z (..., classes) logits, y targets of z's shape -> (...).

    d loss / d z = softmax(z) * sum(y) - y;  d loss / d y = -log softmax(z).
    """

    @staticmethod
    def forward(ctx, z, y, probabilities=None):
        shifted, e, total = _softmax_parts(z)
        log_p = shifted - np.log(total)
        loss = -(y * log_p).sum(axis=-1)
        p = np.divide(e, total, out=e)
        ctx.save_for_backward(p, y, log_p)
        _report(probabilities, p)
        return loss

    @staticmethod
    def backward(ctx, g):
        p, y, log_p = ctx.saved_tensors
        g = np.expand_dims(g, -1)
        dz = (p * np.sum(y, axis=-1, keepdims=True) - y) * g
        return dz, (-g * log_p if ctx.needs_input_grad[1] else None)

    @staticmethod
    def graph_backward(ctx, g):
        z, y = ctx.inputs
        y = ctx.saved_tensors[1] if y is None else y
        g = g.reshape(g.shape + (1,))
        dz = (mg.softmax(z, axis=-1) * y.sum(axis=-1, keepdims=True) - y) * g
        return dz, (-g * mg.log_softmax(z, axis=-1) if ctx.needs_input_grad[1] else None)


class SigmoidCrossEntropy(mg.Function):
    """mean(softplus(z) - y z, axis=-1) = mean(-(y log sigmoid(z) + (1 - y) log sigmoid(-z)), axis=-1):
    z logits, y targets of z's shape -> z.shape[:-1].

    softplus(z) is the log-sum-exp of (0, z) shifted by m = max(z, 0): no exp argument is positive, so nothing
    overflows, and the gradient is exactly sigmoid(z) - y, also at z = 0, where a relu/abs form has a kink.
    """

    @staticmethod
    def forward(ctx, z, y):
        m = np.maximum(z, 0)
        e = np.exp(z - m)
        total = np.exp(-m) + e
        per_element = (np.log(total) + m) - y * z
        ctx.save_for_backward(z, y, e, total)
        return per_element.mean(axis=-1)

    @staticmethod
    def backward(ctx, g):
        z, y, e, total = ctx.saved_tensors
        g = np.expand_dims(g, -1) / z.shape[-1]  # the mean's share of each element
        dz = g / total * e + -g * y              # sigmoid(z) - y, as exp(z - m) / (exp(-m) + exp(z - m))
        return dz, (-g * z if ctx.needs_input_grad[1] else None)

    @staticmethod
    def graph_backward(ctx, g):
        z, y = ctx.inputs
        y = ctx.saved_tensors[1] if y is None else y
        g = g.reshape(g.shape + (1,)) / z.shape[-1]
        return (mg.sigmoid(z) - y) * g, (-g * z if ctx.needs_input_grad[1] else None)


def with_probabilities(loss_fn, y_true, logits):
    """For the training loop: ``(loss_fn(y_true, logits, from_logits=True, reduction='none'), probabilities)``,
    where ``probabilities`` is the softmax of the logits (an ndarray, exactly what the output layer's softmax
    computes) when the loss formed it anyway, else None. ``loss_fn`` is one of the three crossentropies."""
    probabilities = []
    if loss_fn is sparse_categorical_crossentropy:
        z = _as_pred(logits)
        labels = _class_indices(y_true, z, "sparse_categorical_crossentropy")
        loss = SparseSoftmaxCrossEntropy.apply(z, labels=labels, probabilities=probabilities)
    elif loss_fn is categorical_crossentropy:
        z = _as_pred(logits)
        loss = SoftmaxCrossEntropy.apply(z, _as_target(y_true, z, "categorical_crossentropy"),
                                         probabilities=probabilities)
    else:
        loss = loss_fn(y_true, logits, from_logits=True, reduction="none")
    return loss, (probabilities[0] if probabilities else None)


# ============================================================ the losses

def mean_squared_error(y_true, y_pred, reduction="mean"):
    """mean over samples of mean((y_pred - y_true)**2, axis=-1). Alias ``mse``."""
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred, "mean_squared_error")
    diff = y_pred - y_true
    return _reduce((diff * diff).mean(axis=-1), reduction, "mean_squared_error")


def mean_absolute_error(y_true, y_pred, reduction="mean"):
    """mean over samples of mean(|y_pred - y_true|, axis=-1). Alias ``mae``."""
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred, "mean_absolute_error")
    return _reduce(mg.abs(y_pred - y_true).mean(axis=-1), reduction, "mean_absolute_error")


def mean_absolute_percentage_error(y_true, y_pred, reduction="mean"):
    """mean over samples of 100 * mean(|y_true - y_pred| / max(|y_true|, EPSILON), axis=-1). Alias ``mape``.

    The floor on |y_true| (Keras' clip) keeps a zero target finite: its error counts as |y_pred| / EPSILON.
    """
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred, "mean_absolute_percentage_error")
    scale = mg.clip(mg.abs(y_true), EPSILON, None)
    diff = mg.abs((y_true - y_pred) / scale)
    return _reduce(diff.mean(axis=-1) * 100., reduction, "mean_absolute_percentage_error")


def mean_squared_logarithmic_error(y_true, y_pred, reduction="mean"):
    """mean over samples of mean((log(max(y_pred, EPSILON) + 1) - log(max(y_true, EPSILON) + 1))**2, axis=-1).
    Alias ``msle``. Values below EPSILON (negative ones included) count as EPSILON, as in Keras."""
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred, "mean_squared_logarithmic_error")
    diff = mg.log(mg.clip(y_pred, EPSILON, None) + 1.) - mg.log(mg.clip(y_true, EPSILON, None) + 1.)
    return _reduce((diff * diff).mean(axis=-1), reduction, "mean_squared_logarithmic_error")


def hinge(y_true, y_pred, reduction="mean"):
    """mean over samples of mean(max(1 - y_true * y_pred, 0), axis=-1).

    Labels are -1 / 1 and are used as given, as in Keras 2.0 (later Keras versions turn 0/1 labels into -1/1;
    here a label 0 makes that output's loss the constant 1: convert with ``2 * y - 1``).
    """
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred, "hinge")
    return _reduce(mg.maximum(1. - y_true * y_pred, 0.).mean(axis=-1), reduction, "hinge")


def squared_hinge(y_true, y_pred, reduction="mean"):
    """mean over samples of mean(max(1 - y_true * y_pred, 0)**2, axis=-1); labels -1 / 1, used as given (see
    ``hinge``)."""
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred, "squared_hinge")
    margin = mg.maximum(1. - y_true * y_pred, 0.)
    return _reduce((margin * margin).mean(axis=-1), reduction, "squared_hinge")


def categorical_hinge(y_true, y_pred, reduction="mean"):
    """mean over samples of max(0, neg - pos + 1) with pos = sum(y_true * y_pred, axis=-1) (the true class's
    score for one-hot targets) and neg = max((1 - y_true) * y_pred, axis=-1) (the best other class's score)."""
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred, "categorical_hinge")
    pos = (y_true * y_pred).sum(axis=-1)
    neg = ((1. - y_true) * y_pred).max(axis=-1)
    return _reduce(mg.maximum(0., neg - pos + 1.), reduction, "categorical_hinge")


def logcosh(y_true, y_pred, reduction="mean"):
    """mean over samples of mean(log(cosh(y_pred - y_true)), axis=-1).

    Computed as x + softplus(-2x) - log(2), the same number without forming cosh, which overflows for |x| > 710
    (float64; 89 in float32); its derivative is tanh(x).
    """
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred, "logcosh")
    x = y_pred - y_true
    return _reduce((x + mg.softplus(-2. * x) - _LOG2).mean(axis=-1), reduction, "logcosh")


def kullback_leibler_divergence(y_true, y_pred, reduction="mean"):
    """mean over samples of sum(y * log(y / p), axis=-1) with y = clip(y_true, EPSILON, 1) and
    p = clip(y_pred, EPSILON, 1) (Keras 2.0: the clipping keeps a zero probability finite). Alias ``kld``."""
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred, "kullback_leibler_divergence")
    y = mg.clip(y_true, EPSILON, 1.)
    p = mg.clip(y_pred, EPSILON, 1.)
    return _reduce((y * mg.log(y / p)).sum(axis=-1), reduction, "kullback_leibler_divergence")


def poisson(y_true, y_pred, reduction="mean"):
    """mean over samples of mean(y_pred - y_true * log(y_pred + EPSILON), axis=-1): the Poisson negative
    log-likelihood of counts y_true at rates y_pred, up to a term in y_true alone."""
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred, "poisson")
    return _reduce((y_pred - y_true * mg.log(y_pred + EPSILON)).mean(axis=-1), reduction, "poisson")


def cosine_proximity(y_true, y_pred, reduction="mean"):
    """mean over samples of -mean(l2n(y_true) * l2n(y_pred), axis=-1), where l2n(x) = x / sqrt(max(sum(x**2,
    axis=-1), 1e-12)) (TensorFlow's l2_normalize). Alias ``cosine``.

    Keras 2.0 takes the mean, not the sum, over the last axis: the value is minus the cosine of the angle
    divided by the number of outputs (later Keras versions' ``cosine_similarity`` is the sum).
    """
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred, "cosine_proximity")
    return _reduce(-(_l2_normalize(y_true) * _l2_normalize(y_pred)).mean(axis=-1), reduction, "cosine_proximity")


def _l2_normalize(x):
    # the floor on the squared norm keeps an all-zero row at 0 instead of 0/0
    return x / mg.sqrt(mg.maximum((x * x).sum(axis=-1, keepdims=True), 1e-12))


def binary_crossentropy(y_true, y_pred, from_logits=False, reduction="mean"):
    """mean over samples of mean(-(y log p + (1 - y) log(1 - p)), axis=-1), as Keras 2.0 (it averages, not
    sums, the last axis).

    Arguments:
        y_true: targets in [0, 1] (soft targets allowed), shape of y_pred.
        y_pred: probabilities (clipped to [EPSILON, 1 - EPSILON]) or, with ``from_logits=True``, logits z; then
            the per-element loss is softplus(z) - y z = -(y log sigmoid(z) + (1 - y) log sigmoid(-z)),
            computed without forming sigmoid(z).
    """
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred, "binary_crossentropy")
    _check_probabilities(y_true, "binary_crossentropy")
    if from_logits:
        return _reduce(SigmoidCrossEntropy.apply(y_pred, y_true), reduction, "binary_crossentropy")
    p = mg.clip(y_pred, EPSILON, 1. - EPSILON)
    per_elem = -(y_true * mg.log(p) + (1. - y_true) * mg.log(1. - p))
    return _reduce(per_elem.mean(axis=-1), reduction, "binary_crossentropy")


def categorical_crossentropy(y_true, y_pred, from_logits=False, reduction="mean"):
    """mean over samples of -sum(y_true * log p, axis=-1), with p the predicted class probabilities.

    Arguments:
        y_true: one-hot (or soft) targets, shape of y_pred.
        y_pred: probabilities over the last axis or, with ``from_logits=True``, logits (log p = log_softmax).
            Probabilities are first rescaled to sum to 1 along the last axis and then clipped to
            [EPSILON, 1 - EPSILON], as Keras 2.0's TensorFlow backend does.
    """
    y_pred = _as_pred(y_pred)
    y_true = _as_target(y_true, y_pred, "categorical_crossentropy")
    if from_logits:
        return _reduce(SoftmaxCrossEntropy.apply(y_pred, y_true), reduction, "categorical_crossentropy")
    return _reduce(-(y_true * _log_probs(y_pred)).sum(axis=-1), reduction, "categorical_crossentropy")


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, reduction="mean"):
    """categorical_crossentropy with integer class targets: mean over samples of -log p[y_true].

    Arguments:
        y_true: integer class indices in [0, num_classes), shape ``y_pred.shape[:-1]`` or that shape plus a
            trailing 1 (floats holding whole numbers are accepted, as Keras casts them).
        y_pred: probabilities (rescaled and clipped as in categorical_crossentropy) or, with
            ``from_logits=True``, logits.
    """
    y_pred = _as_pred(y_pred)
    name = "sparse_categorical_crossentropy"
    labels = _class_indices(y_true, y_pred, name)
    if from_logits:
        return _reduce(SparseSoftmaxCrossEntropy.apply(y_pred, labels=labels), reduction, name)
    # a one-hot mask picks log p[label]: only broadcasting and sum are needed, and it works for any leading shape
    one_hot = np.zeros(y_pred.shape, dtype=y_pred.dtype)
    np.put_along_axis(one_hot, labels[..., None], 1, axis=-1)
    return _reduce(-(_log_probs(y_pred) * one_hot).sum(axis=-1), reduction, name)


def _class_indices(y_true, y_pred, name):
    """The integer targets of a sparse crossentropy as int64 of shape ``y_pred.shape[:-1]``, checked."""
    labels = np.asarray(y_true.data if isinstance(y_true, mg.Tensor) else y_true)
    lead, num_classes = y_pred.shape[:-1], y_pred.shape[-1]
    if labels.shape != lead and labels.shape != lead + (1,):
        raise ValueError(f"{name}: y_true has shape {labels.shape}; for y_pred of shape {y_pred.shape} it must "
                         f"be {lead} or {lead + (1,)} (integer class indices)")
    if labels.dtype.kind not in "iu":  # integers need no test for being whole numbers
        if labels.size and not np.all(np.isfinite(labels) & (labels == np.round(labels))):
            raise ValueError(f"{name}: y_true must hold integer class indices")
    labels = labels.reshape(lead).astype(np.int64, copy=False)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{name}: class index out of range [0, {num_classes}): "
                         f"min {labels.min()}, max {labels.max()}")
    return labels


def _log_probs(y_pred):
    # Keras 2.0 (TensorFlow backend): p / sum(p), clipped, then log. The floor on the sum only keeps a row of
    # all zeros from dividing 0 by 0; any real probability row sums to far more than EPSILON.
    total = mg.maximum(y_pred.sum(axis=-1, keepdims=True), EPSILON)
    return mg.log(mg.clip(y_pred / total, EPSILON, 1. - EPSILON))


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence
cosine = cosine_proximity

# ============================================================ lookup by name

_BY_NAME = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error, "mape": mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error, "msle": mean_squared_logarithmic_error,
    "hinge": hinge,
    "squared_hinge": squared_hinge,
    "categorical_hinge": categorical_hinge,
    "logcosh": logcosh,
    "kullback_leibler_divergence": kullback_leibler_divergence, "kld": kullback_leibler_divergence,
    "poisson": poisson,
    "cosine_proximity": cosine_proximity, "cosine": cosine_proximity,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}


def get(identifier):
    """Resolve a loss: a name (see below; case-insensitive) or a callable ``(y_true, y_pred) -> Tensor``,
    returned as is.

    Names (Keras 2.0's, with its short names): 'mean_squared_error' / 'mse', 'mean_absolute_error' / 'mae',
    'mean_absolute_percentage_error' / 'mape', 'mean_squared_logarithmic_error' / 'msle', 'hinge',
    'squared_hinge', 'categorical_hinge', 'logcosh', 'kullback_leibler_divergence' / 'kld', 'poisson',
    'cosine_proximity' / 'cosine', 'binary_crossentropy', 'categorical_crossentropy',
    'sparse_categorical_crossentropy'.

    Raises:
        ValueError: unknown name (the message lists the valid names).
        TypeError: neither a string nor a callable.
    """
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier.lower())
        if fn is None:
            raise ValueError(f"Unknown loss {identifier!r}; valid names: {', '.join(sorted(_BY_NAME))}")
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret loss identifier {identifier!r} of type {type(identifier).__name__}")


def serialize(loss):
    """The canonical name of a built-in loss (e.g. 'mean_squared_error' for mse), else the callable's
    ``__name__``."""
    return loss.__name__
