"""Weight files: ``save_weights(model, path)`` / ``load_weights(model, path)``, and the file plumbing shared with
whole-model files (``layers.models``).

Two formats, chosen by the path when writing (``.h5``/``.hdf5``: HDF5, anything else: ``.npz``) and by the file's
first bytes when reading:

* ``.npz`` (numpy's zip of ``.npy`` arrays), written to exactly the path given: one array per weight, under the
  key ``layer_<index>/<layer name>/<weight name>`` (index zero-padded to 3 digits; the weight name is the part of
  the Tensor's name after the layer's, e.g. ``kernel``), and ``__architecture__``, a 0-d unicode array holding a
  JSON record ``{"format", "version", "layers": [{"index", "class", "name", "weights": [{"key", "name", "shape",
  "dtype"}]}]}``. Plain text, so the file never needs pickle: it is read with ``np.load(path, allow_pickle=False)``.
  Loading matches layers by position and weights by order and shape, not by name: automatic names count up
  (``lstm_1``, ``lstm_2``, ...), so the same architecture built twice in one process gets different names.
* HDF5 in Keras' layout (needs h5py, the ``[h5]`` extra): see ``layers.hdf5``. Files written by Keras 2.x and
  Keras 3 load too, layer by layer in order, their layouts converted by ``preprocess_weights_for_loading``.

Every check (readable file, no pickled objects, architecture, every array present with the recorded shape, values
that fit the weights' dtypes) runs before the first weight is assigned, so a failed load leaves the model
unchanged.

Writes are atomic: the file goes to a temporary file in the target's directory, is flushed to disk, and then
``os.replace``-d over the target; on any failure the temporary file is removed and an existing file is untouched.
Temporary files that a killed process left behind are removed by the next save to the same path.
"""
import glob
import json
import os
import re
import tempfile
import zipfile

import numpy as np

from .base import checked_weight_values

__all__ = ["save_weights", "load_weights", "architecture_record", "preprocess_weights_for_loading", "FORMAT",
           "VERSION"]

FORMAT = "minigrad-bptt weights"
VERSION = 1
ARCH_KEY = "__architecture__"
ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
HDF5_SUFFIXES = (".h5", ".hdf5")


def is_hdf5_path(path):
    """Whether ``save_weights``/``save`` write HDF5 to ``path`` (a name ending in .h5 or .hdf5)."""
    return os.fspath(path).lower().endswith(HDF5_SUFFIXES)


def file_kind(path, what):
    """'npz' or 'hdf5' from the file's first bytes; FileNotFoundError / OSError / ValueError naming ``path``."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what} {path!r} does not exist")
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise OSError(f"cannot read {what} {path!r}: {e}") from e
    if head.startswith(ZIP_MAGIC):
        return "npz"
    if head == HDF5_MAGIC:
        return "hdf5"
    # np.load would take an unknown header for a pickle and complain about allow_pickle: say what it is
    raise ValueError(f"{path!r} is not a weight or model file (neither an .npz archive nor HDF5: empty, truncated "
                     "or another format)")


# ================================================================ atomic writes

_TMP_PID = re.compile(r"\.(\d+)-[^.]+\.tmp$")


def _pid_alive(pid):
    if pid == os.getpid():
        return True  # ours: maybe another thread's save in progress
    if os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _remove_stale_temporaries(path):
    """Delete the temporary files an interrupted save to ``path`` left (``.<name>.<pid>-<random>.tmp`` of a
    process that no longer runs, or of the older unnamed pattern)."""
    directory, base = os.path.split(os.path.abspath(path))
    for tmp in glob.glob(os.path.join(glob.escape(directory), "." + glob.escape(base) + ".*.tmp")):
        match = _TMP_PID.search(tmp)
        if match and _pid_alive(int(match.group(1))):
            continue
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, write, what="file", overwrite=True):
    """Write ``path`` atomically: ``write(tmp_path)`` fills a temporary file in the same directory, which is
    fsync'ed and renamed over ``path``. On any failure the temporary file is removed, ``path`` is left as it was,
    and an error about the temporary file names ``path``.

    Raises FileExistsError (``overwrite=False`` and ``path`` exists) or OSError (the directory cannot be
    written; the message names ``path``).
    """
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{what} {path!r} exists and overwrite=False")
    directory = os.path.dirname(os.path.abspath(path))
    _remove_stale_temporaries(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.{os.getpid()}-", suffix=".tmp", dir=directory)
    except OSError as e:
        raise type(e)(e.errno, f"cannot write {what} {path!r}: cannot create a temporary file in {directory!r} "
                               f"({e.strerror})") from e
    try:
        os.close(fd)
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError) and tmp in str(e):
            raise type(e)(e.errno, f"cannot write {what} {path!r}: {e.strerror}") from e
        raise


def write_npz(path, arrays, what="file", overwrite=True):
    """``arrays`` ({key: ndarray}) as an .npz archive at exactly ``path``, atomically."""
    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)  # a file object, so numpy does not append '.npz' to the name
    atomic_write(path, write, what, overwrite)


def read_npz(path, what="weight file"):
    """Every array of the archive at ``path``, read eagerly (np.load of an .npz is lazy) and validated: a
    ValueError says the file is corrupt, holds pickled objects or a member that is not array data."""
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"{what} {path!r} is corrupt or truncated: {e}") from e
    if not hasattr(archive, "files"):
        raise ValueError(f"{what} {path!r} is corrupt: it is a single .npy array, not an archive")
    if {"config.json", "metadata.json"} <= set(archive.files):
        archive.close()
        raise ValueError(f"{path!r} is a Keras 3 '.keras' archive, which is not read here: in Keras 3, save the "
                         "weights with model.save_weights('name.weights.h5') and load that file")
    out = {}
    try:
        with archive:
            for key in archive.files:
                try:
                    value = archive[key]
                except ValueError as e:
                    if "pickle" in str(e).lower():
                        raise ValueError(f"{what} {path!r} holds pickled Python objects (array {key!r}); refusing "
                                         "to load it: these files are plain arrays, read with "
                                         "allow_pickle=False") from e
                    raise ValueError(f"{what} {path!r} is corrupt: array {key!r}: {e}") from e
                except (OSError, EOFError, zipfile.BadZipFile, KeyError, TypeError) as e:
                    raise ValueError(f"{what} {path!r} is corrupt or truncated: array {key!r}: {e}") from e
                if not isinstance(value, np.ndarray):
                    raise ValueError(f"{what} {path!r} is corrupt: member {key!r} is not array data")
                out[key] = value
    except (OSError, zipfile.BadZipFile) as e:  # a failure while closing the archive
        raise ValueError(f"{what} {path!r} is corrupt or truncated: {e}") from e
    return out


def read_json_text(path, arrays, key, what):
    """The JSON record stored as a 0-d text array under ``key``; ValueError (the file is corrupt) otherwise."""
    raw = arrays.get(key)
    if raw is None:
        return None
    if raw.dtype.kind != "U" or raw.ndim != 0:
        raise ValueError(f"{what} {path!r} is corrupt: {key!r} must be a text scalar, found dtype {raw.dtype} and "
                         f"shape {raw.shape}")
    try:
        return json.loads(str(raw))
    except (ValueError, RecursionError) as e:
        raise ValueError(f"{what} {path!r} is corrupt: {key!r} is not valid JSON ({type(e).__name__})") from None


# ================================================================ the .npz weight format

def _weight_name(w, j):
    name = getattr(w, "name", None) or f"weight_{j}"
    return name.rsplit("/", 1)[-1]


def architecture_record(model):
    """The JSON-able description of ``model``'s layers and weights that a weight file carries."""
    layers, used = [], set()
    for i, layer in enumerate(model.layers):
        entries = []
        for j, w in enumerate(layer.weights):
            wname = _weight_name(w, j)
            key = f"layer_{i:03d}/{layer.name.replace('/', '_')}/{wname}"
            if key in used:  # two weights with one name: keep the keys distinct
                key = f"{key}_{j}"
            used.add(key)
            entries.append({"key": key, "name": wname, "shape": list(w.shape), "dtype": str(w.dtype)})
        layers.append({"index": i, "class": type(layer).__name__, "name": layer.name, "weights": entries})
    return {"format": FORMAT, "version": VERSION, "layers": layers}


def weight_arrays(model, record):
    """{key: ndarray} of the model's weights under the record's keys, plus the record itself."""
    arrays = {ARCH_KEY: np.array(json.dumps(record))}  # a plain unicode array: no pickle needed to read it
    for layer, entry in zip(model.layers, record["layers"]):
        for w, spec in zip(layer.weights, entry["weights"]):
            arrays[spec["key"]] = np.asarray(w.data)
    return arrays


def save_weights(model, path, overwrite=True):
    """Write every weight of ``model`` (in ``model.layers`` order) to exactly ``path``: an .npz file, or HDF5 in
    Keras 2's layout when ``path`` ends in .h5/.hdf5 (Keras 2 and 3 load it; needs h5py).

    Atomic: a temporary file in the same directory is written, fsync'ed, then renamed over ``path``; if anything
    fails the temporary file is removed and an existing ``path`` is left as it was.

    Raises:
        FileExistsError: ``overwrite=False`` and ``path`` exists.
        OSError: the directory cannot be written.
        ImportError: an HDF5 path without h5py installed.
    """
    path = os.fspath(path)
    if is_hdf5_path(path):
        from . import hdf5
        hdf5.save_weights(model, path, overwrite=overwrite)
        return
    write_npz(path, weight_arrays(model, architecture_record(model)), "weight file", overwrite)


def _parse_record(path, arrays):
    record = read_json_text(path, arrays, ARCH_KEY, "weight file")
    if record is None:
        raise ValueError(f"weight file {path!r} has no {ARCH_KEY!r} record; it was not written by save_weights")
    try:
        if record["format"] != FORMAT:
            raise ValueError(f"weight file {path!r}: unknown format {record['format']!r} (expected {FORMAT!r})")
        if record["version"] != VERSION:
            raise ValueError(f"weight file {path!r}: format version {record['version']!r} is not supported "
                             f"(this code reads version {VERSION})")
        layers = record["layers"]
        ok = isinstance(layers, list) and all(
            isinstance(entry, dict) and isinstance(entry.get("class"), str) and isinstance(entry.get("weights"), list)
            and all(isinstance(spec, dict) and isinstance(spec.get("key"), str) and isinstance(spec.get("shape"), list)
                    and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in spec["shape"])
                    for spec in entry["weights"])
            for entry in layers)
    except (KeyError, TypeError) as e:
        raise ValueError(f"weight file {path!r} is corrupt: malformed architecture record ({e!r})") from None
    if not ok:
        raise ValueError(f"weight file {path!r} is corrupt: malformed architecture record")
    return layers


def _differences(file_layers, model):
    """Human-readable differences between the file's layers and the model's (empty if they match)."""
    diffs = []
    model_layers = model.layers
    if len(file_layers) != len(model_layers):
        diffs.append(f"the file has {len(file_layers)} layers, the model {len(model_layers)}")
    for i, (entry, layer) in enumerate(zip(file_layers, model_layers)):
        where = f"layer {i} ({layer.name!r} in the model, {entry.get('name')!r} in the file)"
        if entry["class"] != type(layer).__name__:
            diffs.append(f"{where}: class {entry['class']} in the file, {type(layer).__name__} in the model")
            continue
        want = [tuple(w.shape) for w in layer.weights]
        got = [tuple(spec["shape"]) for spec in entry["weights"]]
        if len(want) != len(got):
            diffs.append(f"{where}: {len(got)} weights in the file, {len(want)} in the model")
        elif want != got:
            diffs.append(f"{where}: weight shapes {got} in the file, {want} in the model")
    return diffs


def npz_weight_updates(model, path, arrays):
    """The (weights, new values) that the archive's arrays give ``model``, everything checked; nothing set."""
    file_layers = _parse_record(path, arrays)
    diffs = _differences(file_layers, model)
    if diffs:
        raise ValueError(f"weight file {path!r} was saved from a different architecture: " + "; ".join(diffs))
    targets, values = [], []
    for layer, entry in zip(model.layers, file_layers):
        for w, spec in zip(layer.weights, entry["weights"]):
            arr = arrays.get(spec["key"])
            if arr is None:
                raise ValueError(f"weight file {path!r} is incomplete: array {spec['key']!r} is missing")
            if arr.shape != w.shape or arr.dtype.kind not in "fiu":
                raise ValueError(f"weight file {path!r} is corrupt: array {spec['key']!r} has shape {arr.shape} "
                                 f"and dtype {arr.dtype}, the record says {tuple(spec['shape'])}")
            targets.append(w)
            values.append(arr)
    return targets, checked_weight_values(targets, values, f"weight file {path!r} is corrupt")


def load_weights(model, path):
    """Load weights into ``model``: from an .npz written by ``save_weights`` (or ``model.save``), matching layers
    by position, or from HDF5 written by Keras 2.x, Keras 3 or this project (``layers.hdf5``).

    Raises (always before any weight changes):
        FileNotFoundError / OSError: missing or unreadable file (the message names the path).
        ValueError: not a weight file, corrupt or truncated, pickled objects or non-array members inside, no or
            malformed architecture record, or an architecture that differs from the model's (layer count, layer
            classes, weight counts or shapes; the message lists what differs).
        ImportError: an HDF5 file without h5py installed.
    """
    path = os.fspath(path)
    if file_kind(path, "weight file") == "hdf5":
        from . import hdf5
        hdf5.load_weights(model, path)
        return
    targets, values = npz_weight_updates(model, path, read_npz(path))
    for w, value in zip(targets, values):
        w.data = value


# ================================================================ Keras weight layouts

def _class_names(layer):
    return {cls.__name__ for cls in type(layer).__mro__}


def preprocess_weights_for_loading(layer, weights, original_keras_version=None, original_backend=None):
    """Keras 2.0's conversion of saved weight lists to the layout ``layer`` expects (a list of arrays).

    ``original_keras_version='1'`` (files with no Keras version): Keras 1 kept one matrix per gate. LSTM: 12
    arrays ``[W_i, U_i, b_i, W_c, U_c, b_c, W_f, U_f, b_f, W_o, U_o, b_o]`` become ``[kernel, recurrent_kernel,
    bias]`` with the gates in the order i, f, c, o; GRU: 9 arrays ``[W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h,
    b_h]`` become the fused z, r, h layout; Bidirectional (each half), TimeDistributed (the wrapped layer) and
    nested models (trainable weights first, then the others, sublayer by sublayer, each slice as long as the
    sublayer's weight list here, as Keras 2.0 did) are converted recursively.

    Any version: the recurrent layouts of later Keras are converted or refused with a clear message: a cuDNN
    LSTM's bias (8 units: input and recurrent halves, summed) and kernels, a cuDNN GRU's (6 units) into
    ``GRU(reset_after=True)``; a GRU bias of shape (2, 3 units) fits only ``reset_after=True`` and one of shape
    (3 units,) only ``reset_after=False`` (the layers compute different functions). ``original_backend`` is
    accepted for Keras' signature; recurrent weights do not depend on it.
    """
    weights = [np.asarray(w) for w in weights]
    names = _class_names(layer)
    if original_keras_version == "1":
        if "Bidirectional" in names:
            half = len(weights) // 2
            weights = (preprocess_weights_for_loading(layer.forward_layer, weights[:half], "1", original_backend)
                       + preprocess_weights_for_loading(layer.backward_layer, weights[half:], "1", original_backend))
        elif "TimeDistributed" in names:
            weights = preprocess_weights_for_loading(layer.layer, weights, "1", original_backend)
        elif "GRU" in names and len(weights) == 9:
            weights = [np.concatenate([weights[k], weights[k + 3], weights[k + 6]], axis=-1) for k in range(3)]
        elif "LSTM" in names and len(weights) == 12:
            # Keras 1 order i, c, f, o -> i, f, c, o
            weights = [np.concatenate([weights[k], weights[k + 6], weights[k + 3], weights[k + 9]], axis=-1)
                       for k in range(3)]
        elif hasattr(layer, "layers") and hasattr(layer, "call_with_masks"):
            # Keras lists a model's weights trainable first; each sublayer's slice is converted on its own
            converted = []
            for part in ("trainable", "other"):
                for sub in layer.layers:
                    trainable = {id(w) for w in sub.trainable_weights}
                    n = sum(1 for w in sub.weights if (id(w) in trainable) == (part == "trainable"))
                    if n:
                        converted += preprocess_weights_for_loading(sub, weights[:n], "1", original_backend)
                        weights = weights[n:]
            weights = converted + weights
    return _convert_rnn_weights(layer, weights)


def _per_gate(kernel, fn, n_gates):
    return np.hstack([fn(k) for k in np.hsplit(kernel, n_gates)])


def _from_cudnn(kernel):
    return kernel.T.reshape(kernel.shape, order="F")


def _convert_rnn_weights(layer, weights):
    names = _class_names(layer)
    if len(weights) != 3 or not names & {"LSTM", "GRU"}:
        return weights
    units = weights[1].shape[0]
    bias = weights[2]
    if "LSTM" in names and bias.shape == (8 * units,):  # cuDNN LSTM: separate input and recurrent biases
        return [_per_gate(weights[0], _from_cudnn, 4), _per_gate(weights[1], lambda k: k.T, 4),
                bias[:4 * units] + bias[4 * units:]]
    if "GRU" not in names:
        return weights
    reset_after = bool(getattr(layer, "reset_after", False))
    if bias.shape == (6 * units,):
        source = "CuDNNGRU"
    elif bias.shape == (2, 3 * units):
        source = "GRU(reset_after=True)"
    elif bias.shape == (3 * units,):
        source = "GRU(reset_after=False)"
    else:
        return weights  # a shape check downstream names the mismatch
    target = f"GRU(reset_after={reset_after})"
    if source == target:
        return weights
    if source == "CuDNNGRU" and reset_after:
        return [_per_gate(weights[0], _from_cudnn, 3), _per_gate(weights[1], lambda k: k.T, 3),
                bias.reshape(2, 3 * units)]
    raise ValueError(f"layer {layer.name!r}: the saved weights are those of a {source} (bias of shape {bias.shape}), "
                     f"which computes a different function than this {target}"
                     + ("; build the layer with reset_after=True to load them" if not reset_after else
                        "; build the layer with reset_after=False to load them"))
