"""Numpy utilities, as Keras 2.0's ``keras.utils.np_utils``: ``to_categorical``."""
import numpy as np

__all__ = ["to_categorical"]


def to_categorical(y, num_classes=None):
    """One-hot encode class ids: ``n`` ids (any shape, flattened) -> a float64 array ``(n, num_classes)``.

    As in Keras 2.0 the ids are flattened: a vector of ids or a column ``(n, 1)`` gives ``(n, num_classes)``;
    ids of shape ``(batch, timesteps)`` give ``(batch * timesteps, num_classes)`` (reshape the result to
    ``(batch, timesteps, num_classes)`` for a sequence output; Keras 2.1 keeps the ids' shape instead).

    Arguments:
        y: class ids, integers in [0, num_classes) (floats holding whole numbers are accepted).
        num_classes: the number of classes (a positive int); default: the largest id + 1.

    Raises:
        ValueError: ids that are negative, not whole numbers, not finite, or >= num_classes; num_classes not a
            positive integer; no ids and no num_classes.
        TypeError: ids that are not numbers.
    """
    try:
        ids = np.asarray(y)
    except ValueError:  # numpy refuses ragged nesting
        raise ValueError("to_categorical: y must be an array of integer class ids, not a ragged nested list") from None
    if ids.dtype.kind not in "biuf":
        raise TypeError(f"to_categorical: y must hold integer class ids, got dtype {ids.dtype}")
    ids = ids.reshape(-1)
    if ids.dtype.kind == "f" and not np.all(np.isfinite(ids) & (ids == np.round(ids))):
        bad = ids[~(np.isfinite(ids) & (ids == np.round(ids)))][0].item()
        raise ValueError(f"to_categorical: y must hold integer class ids, found {bad!r}")
    if ids.size and ids.min() < 0:
        raise ValueError(f"to_categorical: class ids must be >= 0, found {ids.min().item()!r}")
    if num_classes is None:
        if not ids.size:
            raise ValueError("to_categorical: y is empty, so the number of classes is unknown; pass num_classes")
        num_classes = int(ids.max()) + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"to_categorical: num_classes must be a positive integer, got {num_classes!r}")
    elif ids.size and ids.max() >= num_classes:
        raise ValueError(f"to_categorical: class id {ids.max().item()!r} is out of range for num_classes={num_classes} "
                         f"(ids must lie in [0, {num_classes}))")
    ids = ids.astype(np.int64)
    categorical = np.zeros((ids.size, int(num_classes)))
    categorical[np.arange(ids.size), ids] = 1
    return categorical
