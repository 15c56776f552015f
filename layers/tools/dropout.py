"""Dropout masks recorded on one forward pass and replayed on the next ones, so a training-mode computation is a
deterministic function of its inputs and can be gradient-checked.

    with record_dropout() as masks:          # every mask drawn inside is kept, in draw order
        layer(x, training=True)
    with replay_dropout(masks):              # the same masks again, in the same order, for every forward pass
        mg.gradcheck(lambda x: layer(x, training=True), [x])

Why it is needed: with dropout on, each call draws fresh masks, so the central differences (x + eps vs x - eps) of
a gradient check compare two different functions and fail. Every draw in ``layers`` goes through
``layers.core.dropout_mask``; the context managers swap that function (in every ``layers`` module that imported
it) for one that records or replays.
"""
import contextlib
import sys

import numpy as np

from .. import core

__all__ = ["DropoutRecord", "record_dropout", "replay_dropout"]


class DropoutRecord:
    """The masks drawn while recording, in draw order: ``masks[i] = (shape, rate, keep)`` with ``keep`` a boolean
    array of ``shape`` (True where the unit is kept). ``len(record)`` is the number of draws."""

    def __init__(self):
        self.masks = []

    def __len__(self):
        return len(self.masks)

    def __repr__(self):
        return f"DropoutRecord({len(self)} masks: {[(s, r) for s, r, _ in self.masks]})"

    def mask(self, i, dtype=np.float32):
        """Draw ``i`` as the inverted-dropout mask ``dropout_mask`` returned: 0 or 1/(1-rate), in ``dtype``."""
        shape, rate, keep = self.masks[i]
        return keep.astype(dtype) / np.asarray(1 - rate, dtype=dtype)


@contextlib.contextmanager
def _swapped_dropout_mask(replacement):
    """Point every ``layers`` module's ``dropout_mask`` (modules did ``from .core import dropout_mask``) at
    ``replacement`` for the duration of the block."""
    current = core.dropout_mask
    patched = [m for name, m in list(sys.modules.items())
               if m is not None and (name == "layers" or name.startswith("layers."))
               and getattr(m, "dropout_mask", None) is current]
    for m in patched:
        m.dropout_mask = replacement
    try:
        yield
    finally:
        for m in patched:
            m.dropout_mask = current


@contextlib.contextmanager
def record_dropout(record=None):
    """Context manager: masks are drawn as usual (from ``mg.get_rng()``) and appended to ``record`` (a new
    ``DropoutRecord`` by default), which the block receives."""
    record = DropoutRecord() if record is None else record
    draw = core.dropout_mask

    def recording(shape, rate, dtype):
        m = draw(shape, rate, dtype)
        record.masks.append((tuple(np.shape(m)), float(rate), m != 0))
        return m

    with _swapped_dropout_mask(recording):
        yield record


@contextlib.contextmanager
def replay_dropout(record):
    """Context manager: each draw returns the next recorded mask instead of a random one, cycling back to the first
    after the last, so every forward pass that draws the same sequence of masks gets the same masks. A mask is
    rebuilt in the dtype asked for (a float32 recording replays exactly in a float64 gradient check).

    A draw whose shape or rate differs from the recorded one at that position raises ValueError: the replayed
    computation must draw its masks in the order the recorded one did.
    """
    if not isinstance(record, DropoutRecord):
        raise TypeError(f"replay_dropout expects the DropoutRecord of record_dropout(), got {type(record).__name__}")
    cursor = [0]

    def replaying(shape, rate, dtype):
        if not record.masks:
            raise ValueError("replay_dropout: a dropout mask was drawn, but nothing was recorded")
        i = cursor[0] % len(record.masks)
        cursor[0] += 1
        want_shape, want_rate, _ = record.masks[i]
        shape = tuple(int(n) for n in np.atleast_1d(shape))
        if shape != want_shape or not np.isclose(float(rate), want_rate):
            raise ValueError(f"replay_dropout: draw {cursor[0] - 1} asks for a mask of shape {shape} and rate "
                             f"{float(rate)}, but recorded draw {i} had shape {want_shape} and rate {want_rate}; the "
                             "replayed computation must draw its masks in the same order as the recorded one")
        return record.mask(i, dtype)

    with _swapped_dropout_mask(replaying):
        yield record
