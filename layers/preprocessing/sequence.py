"""Sequence preprocessing: ``pad_sequences``, as Keras 2.0's ``keras.preprocessing.sequence``.

    x = pad_sequences([[1, 2, 3], [4, 5], [6]], maxlen=2)     # array([[2, 3], [4, 5], [0, 6]], dtype=int32)
"""
import numpy as np

__all__ = ["pad_sequences"]

_PLACES = ("pre", "post")


def _cast_exactly(arr, dtype, what):
    """``arr`` as ``dtype``, refusing values the dtype cannot hold: a fraction or NaN into an integer dtype, an
    integer out of its range, a finite float that overflows to inf. Keras casts silently (float features padded
    with the default dtype 'int32' lose their fractions); here that is an error."""
    with np.errstate(invalid="ignore", over="ignore"):  # such values are reported below
        out = arr.astype(dtype)
    if dtype.kind in "biu":
        lost = out != arr
    else:
        lost = np.isinf(out) & np.isfinite(arr)
    if np.any(lost):
        example = arr[lost].flat[0].item()
        hint = ""
        if dtype.kind in "biu" and not float(example).is_integer():
            hint = " (pass dtype='float32' for real-valued sequences)"
        raise ValueError(f"pad_sequences: dtype {dtype.name} cannot represent {example!r}, found in {what}{hint}")
    return out


def _is_sequence(obj):
    """A sized container of steps (Keras asks for ``__len__``); a string is text, not a sequence of numbers."""
    if isinstance(obj, (str, bytes)) or not hasattr(obj, "__len__"):
        return False
    return not (isinstance(obj, np.ndarray) and obj.ndim == 0)


def _check_place(name, place):
    if not isinstance(place, str) or place not in _PLACES:
        raise ValueError(f"pad_sequences: {name} must be 'pre' or 'post', got {place!r}")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.):
    """Pad and truncate sequences to one length: ``n`` sequences -> an array ``(n, maxlen) + sample_shape``.

    Arguments:
        sequences: a list (or another sized iterable, e.g. an array) of sequences; each is a list or array of
            numbers, or of arrays of one shape (the sample shape, e.g. feature vectors), taken from the first
            non-empty sequence. Empty sequences become rows of ``value``.
        maxlen: the length of every output sequence (an int >= 0); default: the length of the longest one.
        dtype: of the result (default 'int32', as in Keras): a numeric or bool dtype. Values it cannot
            represent (fractions into an integer dtype, out-of-range integers, overflow) raise ValueError.
        padding: 'pre' (default) fills a shorter sequence with ``value`` at its start, 'post' at its end.
        truncating: 'pre' (default) drops the first steps of a longer sequence, 'post' its last steps.
        value: the fill value (a number the dtype holds exactly).

    Returns:
        ndarray of shape ``(len(sequences), maxlen) + sample_shape`` and dtype ``dtype``.

    Raises:
        ValueError: padding/truncating not 'pre'/'post'; maxlen not a non-negative int; sequences or one of its
            elements not a sequence (a number, a string); an empty list of sequences without maxlen; sequences
            whose samples differ in shape; non-numeric values; values the dtype cannot hold.
        TypeError: dtype not understood or not numeric.
    """
    _check_place("padding", padding)
    _check_place("truncating", truncating)
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer))
                               or maxlen < 0):
        raise ValueError(f"pad_sequences: maxlen must be None or an integer >= 0, got {maxlen!r}")
    try:
        dtype = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"pad_sequences: dtype {dtype!r} is not understood ({err})") from None
    if dtype.kind not in "biuf":
        raise TypeError(f"pad_sequences: dtype must be numeric or bool, got {dtype.name}")
    if np.ndim(value) != 0 or np.asarray(value).dtype.kind not in "biuf":
        raise ValueError(f"pad_sequences: value must be a number, got {value!r:.50}")
    fill = _cast_exactly(np.asarray(value), dtype, "the padding value")
    if not _is_sequence(sequences):
        raise ValueError(f"pad_sequences: `sequences` must be a list of sequences, got {type(sequences).__name__}")
    sequences = list(sequences)
    for i, s in enumerate(sequences):
        if not _is_sequence(s):
            raise ValueError(f"pad_sequences: `sequences` must be a list of sequences (lists or arrays); element "
                             f"{i} is a {type(s).__name__}: {s!r:.50}")
    if maxlen is None:
        if not sequences:
            raise ValueError("pad_sequences: `sequences` is empty, so the length to pad to is unknown; pass maxlen")
        maxlen = max(len(s) for s in sequences)

    kept = []  # (row, the steps kept as an array): every sequence is checked before the result is built
    sample_shape = None
    for i, s in enumerate(sequences):
        if maxlen == 0 or not len(s):
            continue
        steps = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        try:
            arr = np.asarray(steps)
        except ValueError as err:  # numpy refuses ragged nesting
            raise ValueError(f"pad_sequences: sequence {i} is ragged: its samples differ in shape ({err})") from None
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"pad_sequences: sequence {i} holds non-numeric values (dtype {arr.dtype})")
        if sample_shape is None:
            sample_shape = arr.shape[1:]
        elif arr.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: the samples of sequence {i} have shape {arr.shape[1:]}, but those "
                             f"of the first non-empty sequence have shape {sample_shape}")
        kept.append((i, arr))
    if kept:  # one vectorised check of every kept value (per sequence it would double the cost)
        flat = np.concatenate([arr.reshape(-1) for _, arr in kept])
        try:
            _cast_exactly(flat, dtype, "the sequences")
        except ValueError:
            for i, arr in kept:  # name the first offending sequence
                _cast_exactly(arr, dtype, f"sequence {i}")
            raise

    out = np.full((len(sequences), maxlen) + (sample_shape or ()), fill, dtype=dtype)
    with np.errstate(invalid="ignore", over="ignore"):  # every value was checked above
        for i, arr in kept:
            if padding == "post":
                out[i, :len(arr)] = arr
            else:
                out[i, maxlen - len(arr):] = arr
    return out
