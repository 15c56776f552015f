"""Weight files: ``save_weights(model, path)`` / ``load_weights(model, path)``.

Format: one ``.npz`` archive (numpy's zip of ``.npy`` arrays), written to exactly the path given:

* one array per weight, under the key ``layer_<index>/<layer name>/<weight name>`` (index zero-padded to 3
  digits; the weight name is the part of the Tensor's name after the layer's, e.g. ``kernel``);
* ``__architecture__``: a 0-d unicode array holding a JSON record ``{"format", "version", "layers": [{"index",
  "class", "name", "weights": [{"key", "name", "shape", "dtype"}]}]}``. Plain text, so the file never needs
  pickle: it is read with ``np.load(path, allow_pickle=False)``.

Loading matches layers by position and weights by order and shape, not by name: automatic names count up
(``lstm_1``, ``lstm_2``, ...), so the same architecture built twice in one process gets different names.
Every check (readable file, no pickled objects, architecture, every array present with the recorded shape) runs
before the first weight is assigned, so a failed load leaves the model unchanged.

Writes are atomic: the archive goes to a temporary file in the target's directory, is flushed to disk, and then
``os.replace``-d over the target; on any failure the temporary file is removed and an existing file is untouched.
"""
import json
import os
import tempfile
import zipfile

import numpy as np

__all__ = ["save_weights", "load_weights", "architecture_record", "FORMAT", "VERSION"]

FORMAT = "minigrad-bptt weights"
VERSION = 1
ARCH_KEY = "__architecture__"
_ZIP_MAGIC = b"PK\x03\x04"


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


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_weights(model, path, overwrite=True):
    """Write every weight of ``model`` (in ``model.layers`` order) to exactly ``path`` as an .npz file.

    Atomic: a temporary file in the same directory is written, fsync'ed, then renamed over ``path``; if anything
    fails the temporary file is removed and an existing ``path`` is left as it was.

    Raises:
        FileExistsError: ``overwrite=False`` and ``path`` exists.
        OSError: the directory cannot be written.
    """
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"weight file {path!r} exists and overwrite=False")
    record = architecture_record(model)
    arrays = {ARCH_KEY: np.array(json.dumps(record))}  # a plain unicode array: no pickle needed to read it
    for layer, entry in zip(model.layers, record["layers"]):
        for w, spec in zip(layer.weights, entry["weights"]):
            arrays[spec["key"]] = np.asarray(w.data)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # a file object, so numpy does not append '.npz' to the name
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read_all(path):
    """Every array of the archive at ``path``, read eagerly (np.load of an .npz is lazy) and validated."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"weight file {path!r} does not exist")
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise OSError(f"cannot read weight file {path!r}: {e}") from e
    if head != _ZIP_MAGIC:
        # np.load would take an unknown header for a pickle and complain about allow_pickle: say what it is
        raise ValueError(f"{path!r} is not an .npz weight file (no zip header; empty, truncated or another format)")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"weight file {path!r} is corrupt or truncated: {e}") from e
    out = {}
    try:
        with archive:
            for key in archive.files:
                try:
                    out[key] = archive[key]
                except ValueError as e:
                    if "allow_pickle" in str(e) or "pickle" in str(e).lower():
                        raise ValueError(f"weight file {path!r} holds pickled Python objects (array {key!r}); "
                                         "refusing to load it: weight files are plain arrays, read with "
                                         "allow_pickle=False") from e
                    raise ValueError(f"weight file {path!r} is corrupt: array {key!r}: {e}") from e
                except (OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
                    raise ValueError(f"weight file {path!r} is corrupt or truncated: array {key!r}: {e}") from e
    except (OSError, zipfile.BadZipFile) as e:  # a failure while closing the archive
        raise ValueError(f"weight file {path!r} is corrupt or truncated: {e}") from e
    return out


def _parse_record(path, arrays):
    raw = arrays.get(ARCH_KEY)
    if raw is None:
        raise ValueError(f"weight file {path!r} has no {ARCH_KEY!r} record; it was not written by save_weights")
    if raw.dtype.kind != "U" or raw.ndim != 0:
        raise ValueError(f"weight file {path!r}: {ARCH_KEY!r} must be a text scalar, found dtype {raw.dtype} "
                         f"and shape {raw.shape}")
    try:
        record = json.loads(str(raw))
        layers = record["layers"]
        for entry in layers:
            entry["class"], entry["weights"]
            for spec in entry["weights"]:
                spec["key"], tuple(spec["shape"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"weight file {path!r}: malformed architecture record ({e!r})") from e
    if record.get("format") != FORMAT:
        raise ValueError(f"weight file {path!r}: unknown format {record.get('format')!r} (expected {FORMAT!r})")
    if record.get("version") != VERSION:
        raise ValueError(f"weight file {path!r}: format version {record.get('version')!r} is not supported "
                         f"(this code reads version {VERSION})")
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


def load_weights(model, path):
    """Load weights written by ``save_weights`` into ``model``, matching layers by position.

    Raises (always before any weight changes):
        FileNotFoundError / OSError: missing or unreadable file (the message names the path).
        ValueError: not an .npz, corrupt or truncated, pickled objects inside, no or malformed architecture
            record, or an architecture that differs from the model's (layer count, layer classes, weight counts
            or shapes; the message lists what differs).
    """
    path = os.fspath(path)
    arrays = _read_all(path)
    file_layers = _parse_record(path, arrays)
    diffs = _differences(file_layers, model)
    if diffs:
        raise ValueError(f"weight file {path!r} was saved from a different architecture: " + "; ".join(diffs))
    updates = []
    for layer, entry in zip(model.layers, file_layers):
        for w, spec in zip(layer.weights, entry["weights"]):
            arr = arrays.get(spec["key"])
            if arr is None:
                raise ValueError(f"weight file {path!r} is incomplete: array {spec['key']!r} is missing")
            if arr.shape != w.shape or arr.dtype.kind not in "fiu":
                raise ValueError(f"weight file {path!r} is corrupt: array {spec['key']!r} has shape {arr.shape} "
                                 f"and dtype {arr.dtype}, the record says {tuple(spec['shape'])}")
            updates.append((w, arr))
    for w, arr in updates:
        w.data = np.array(arr, dtype=w.dtype)
