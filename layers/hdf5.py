"""HDF5 weight and model files in Keras' layouts (needs h5py: ``pip install "minigrad-bptt[h5]"``).

Writing (``save_weights('w.h5')``, ``save('m.h5')``) uses Keras 2's layout, which Keras 2.x and Keras 3 read::

    /                       attrs: layer_names, backend, keras_version          (a weight file)
    /<layer name>           attrs: weight_names = ['<layer name>/kernel:0', ...]
    /<layer name>/<layer name>/kernel:0                                          one dataset per weight

A model file holds that under ``/model_weights``, with the root attributes ``model_config`` (the architecture as
JSON) and ``training_config`` (compile settings), and the group ``/optimizer_weights`` (the optimizer's state in
Keras 2's order). Keras ignores two more groups that make a resume exact here: ``/optimizer_state`` (every slot
of every weight by position, the iteration count, Nadam's schedule) and ``/layer_states`` (the carried states of
stateful layers).

Reading (``load_weights``) accepts, and matches with the model's layers *in order* (layers without weights are
skipped on both sides):

* Keras 1 and 2 files (``save_weights`` or ``model.save``), and Keras 3's legacy ``.h5``: the ``layer_names``
  order. A file without ``keras_version`` is Keras 1, whose per-gate weight lists are converted by
  ``layers.saving.preprocess_weights_for_loading``, like every later layout (cuDNN, GRU ``reset_after``).
* Keras 3's ``.weights.h5`` (``layers/<name>/vars/<i>``): Keras 3 names each layer's group after its class, in
  model order (``lstm``, ``dense``, ``dense_1``, ...), so those names give the order.

All arrays are read and checked (count, shapes, values fitting the weights' dtypes) before the first weight is
set; writes are atomic (see ``layers.saving.atomic_write``).
"""
import json
import warnings

import numpy as np

from . import saving
from .base import _snake, checked_weight_values

__all__ = ["save_weights", "load_weights", "save_model", "load_model"]

LAYOUT_VERSION = "2.0.8"  # the Keras version whose layout these files follow (Keras reads it as "not Keras 1")
BACKEND = "minigrad-bptt"


def h5py():
    """The h5py module, or an ImportError that says how to install it."""
    try:
        import h5py as module
    except ImportError:
        raise ImportError("HDF5 files (.h5) need h5py, which is an optional extra: pip install "
                          "'minigrad-bptt[h5]' (or pip install h5py); .npz files need nothing extra") from None
    return module


# ================================================================ writing (Keras 2 layout)

def _bytes_list(names):
    return np.array([n.encode("utf8") for n in names], dtype="S") if names else np.zeros((0,), dtype="S1")


def keras_weight_order(layer):
    """``layer``'s weights in the order Keras lists them (``trainable_weights + non_trainable_weights``): the
    same as ``layer.weights`` except in a nested model with frozen layers, whose trainable weights come first."""
    trainable = layer.trainable_weights
    ids = {id(w) for w in trainable}
    return list(trainable) + [w for w in layer.weights if id(w) not in ids]


def _weight_names(layer):
    names, used = [], set()
    for j, w in enumerate(keras_weight_order(layer)):
        name = f"{w.name or f'{layer.name}/param_{j}'}:0"
        while name in used:  # one name twice: keep the datasets distinct
            name = name[:-2] + f"_{j}:0"
        used.add(name)
        names.append(name)
    return names


def write_weights_group(group, layers):
    """Keras 2's ``save_weights_to_hdf5_group``: the layers' weights in ``group``."""
    group.attrs["layer_names"] = _bytes_list([layer.name for layer in layers])
    group.attrs["backend"] = BACKEND.encode("utf8")
    group.attrs["keras_version"] = LAYOUT_VERSION.encode("utf8")
    for layer in layers:
        g = group.create_group(layer.name)
        names = _weight_names(layer)
        g.attrs["weight_names"] = _bytes_list(names)
        for name, w in zip(names, keras_weight_order(layer)):
            g.create_dataset(name, data=np.asarray(w.data))


def save_weights(model, path, overwrite=True):
    """Write ``model``'s weights to exactly ``path`` in Keras 2's HDF5 layout, atomically."""
    module = h5py()
    layers = model.layers

    def write(tmp):
        with module.File(tmp, "w") as f:
            write_weights_group(f, layers)
    saving.atomic_write(path, write, "weight file", overwrite)


# ================================================================ reading

def _text(value):
    return value.decode("utf8") if isinstance(value, (bytes, np.bytes_)) else str(value)


def _attr_strings(obj, name):
    """A list-of-strings attribute (Keras 2.1+ splits long ones into ``name0``, ``name1``, ...)."""
    if name in obj.attrs:
        values = obj.attrs[name]
    elif f"{name}0" in obj.attrs:
        values, k = [], 0
        while f"{name}{k}" in obj.attrs:
            values.extend(obj.attrs[f"{name}{k}"])
            k += 1
    else:
        return None
    return [_text(v) for v in np.atleast_1d(values)] if np.size(values) else []


def _weighted(model):
    return [layer for layer in model.layers if layer.weights]


def _legacy_layers(path, group):
    """[(layer name, [arrays])] for the layers with weights of a Keras 1/2/3-legacy weights group, and the Keras
    version it was written by ('1' when unrecorded)."""
    names = _attr_strings(group, "layer_names")
    version = _text(group.attrs["keras_version"]) if "keras_version" in group.attrs else "1"
    out = []
    for name in names:
        if name not in group:
            raise ValueError(f"weight file {path!r} is corrupt: layer {name!r} is listed but has no group")
        g = group[name]
        weight_names = _attr_strings(g, "weight_names") or []
        if weight_names:
            out.append((name, [np.asarray(g[w]) for w in weight_names]))
    top = group.get("top_level_model_weights")
    if top is not None and _attr_strings(top, "weight_names"):
        raise ValueError(f"weight file {path!r} holds weights of the model itself (Keras 3's top-level weights), "
                         "which no model here has")
    return out, version


def _unique(name, used):
    """Keras 3's naming of a model's children: ``dense``, ``dense_1``, ... in model order."""
    k = used.get(name, 0)
    used[name] = k + 1
    return name if k == 0 else f"{name}_{k}"


def _vars(group):
    v = group.get("vars")
    if v is None:
        return []
    keys = sorted(v.keys(), key=lambda k: int(k) if k.isdigit() else k)
    return [np.asarray(v[k]) for k in keys]


def _keras3_arrays(layer, group):
    """The arrays of ``layer`` (None for a part the model has no object for) in a Keras 3 ``.weights.h5`` group,
    in the layer's weight order: its own ``vars``, then its cell's or wrapped layer's."""
    if hasattr(layer, "call_with_masks") and hasattr(layer, "layers"):  # a nested model
        arrays, used, children = [], {}, group.get("layers")
        for sub in layer.layers:
            name = _unique(_snake(type(sub).__name__), used)
            if sub.weights:
                if children is None or name not in children:
                    raise KeyError(f"{group.name}/layers/{name}")
                arrays += _keras3_arrays(sub, children[name])
        return arrays
    if hasattr(layer, "forward_layer") and hasattr(layer, "backward_layer"):  # forward weights, then backward
        return (_keras3_arrays(layer.forward_layer, group["forward_layer"])
                + _keras3_arrays(layer.backward_layer, group["backward_layer"]))
    arrays = _vars(group)
    for child in ("cell", "layer"):  # an RNN's cell, a wrapper's layer
        if child in group:
            sub = getattr(layer, child, None)
            arrays += _keras3_arrays(sub if hasattr(sub, "weights") else None, group[child])
    return arrays


def _keras3_layers(path, f, model):
    """[(layer, [arrays])] matching the model's layers with a Keras 3 ``.weights.h5`` file."""
    root = f.get("layers")
    used, out, expected = {}, [], set()
    for layer in model.layers:
        name = _unique(_snake(type(layer).__name__), used)
        if not layer.weights:
            continue
        expected.add(name)
        if root is None or name not in root:
            found = sorted(root.keys()) if root is not None else []
            raise ValueError(f"weight file {path!r} (Keras 3 layout) has no group 'layers/{name}' for layer "
                             f"{layer.name!r} ({type(layer).__name__}); it holds {found}. Keras 3 names groups "
                             "after the layer classes in model order, so the model must have the same layers")
        try:
            out.append((layer, _keras3_arrays(layer, root[name])))
        except KeyError as e:
            raise ValueError(f"weight file {path!r} (Keras 3 layout): layer {layer.name!r} has no group {e}") from None
    extra = sorted(k for k in (root.keys() if root is not None else [])
                   if k not in expected and _has_datasets(root[k]))
    if extra:
        raise ValueError(f"weight file {path!r} (Keras 3 layout) holds weights of layers the model does not have: "
                         f"{extra}")
    return out


def _has_datasets(group):
    found = []
    group.visititems(lambda name, obj: found.append(name) if hasattr(obj, "shape") else None)
    return bool(found)


def weight_updates(path, f, model):
    """(weights, values) for ``model`` from the open HDF5 file ``f``, everything checked; nothing set."""
    group = f["model_weights"] if "layer_names" not in f.attrs and "model_weights" in f else f
    if "layer_names" in group.attrs or "layer_names0" in group.attrs:
        saved, version = _legacy_layers(path, group)
        backend = _text(group.attrs["backend"]) if "backend" in group.attrs else None
        targets = _weighted(model)
        if len(saved) != len(targets):
            raise ValueError(f"weight file {path!r} holds weights for {len(saved)} layers "
                             f"({[n for n, _ in saved]}), but the model has {len(targets)} layers with weights "
                             f"({[layer.name for layer in targets]})")
        pairs = [(layer, arrays, name, version, backend) for layer, (name, arrays) in zip(targets, saved)]
    elif "layers" in f:
        pairs = [(layer, arrays, None, None, None) for layer, arrays in _keras3_layers(path, f, model)]
    else:
        raise ValueError(f"{path!r} is an HDF5 file without Keras weights (no 'layer_names' attribute, "
                         "'model_weights' or 'layers' group)")
    weights, values = [], []
    for layer, arrays, name, version, backend in pairs:
        try:
            arrays = saving.preprocess_weights_for_loading(layer, arrays, version, backend)
        except ValueError as e:
            raise ValueError(f"weight file {path!r}: {e}") from None
        where = f"layer {layer.name!r}" + (f" (saved as {name!r})" if name and name != layer.name else "")
        order = keras_weight_order(layer)
        values += checked_weight_values(order, arrays, f"weight file {path!r}: {where}")
        weights += order
    return weights, values


def _open(path, what):
    module = h5py()
    try:
        return module.File(path, "r")
    except OSError as e:
        raise ValueError(f"{what} {path!r} is corrupt or truncated (HDF5: {e})") from e


def _read(path, what, fn):
    """``fn(open file)``, with the errors of a damaged file (a missing group or dataset, an unreadable chunk)
    turned into a ValueError that names the file."""
    with _open(path, what) as f:
        try:
            return fn(f)
        except (KeyError, OSError, TypeError, AttributeError, IndexError) as e:
            raise ValueError(f"{what} {path!r} is corrupt or not in a Keras layout: {type(e).__name__}: {e}") from e


def load_weights(model, path):
    """Load a Keras 1/2/3 or project HDF5 weight file (or the weights of an HDF5 model file) into ``model``,
    layer by layer in order; everything is checked before the first weight changes."""
    weights, values = _read(path, "weight file", lambda f: weight_updates(path, f, model))
    for w, value in zip(weights, values):
        w.data = value


# ================================================================ model files

# Keras 2.0's optimizer.weights: [iterations?] + each slot for every trainable weight, slot after slot
_KERAS2_OPTIMIZER = {"SGD": (True, ("m",)), "RMSprop": (False, ("a",)), "Adagrad": (False, ("a",)),
                     "Adadelta": (False, ("a", "d_a")), "Adam": (True, ("m", "v")), "Adamax": (True, ("m", "u")),
                     "Nadam": (True, ("m", "v"))}


def _keras2_optimizer_values(model, state):
    has_iterations, slot_names = _KERAS2_OPTIMIZER.get(type(model.optimizer).__name__, (None, None))
    if slot_names is None:
        return [], []
    position = {id(w): i for i, w in enumerate(model.weights)}
    names, values = [], []
    if has_iterations:
        names.append("iterations:0")
        values.append(np.array(state["iterations"], dtype=np.int64))
    for slot in slot_names:
        for w in model.trainable_weights:
            arr = state["slots"][position[id(w)]].get(slot)
            names.append(f"{w.name}/{slot}:0")
            values.append(np.zeros_like(w.data) if arr is None else arr)
    return names, values


def save_model(model, path, overwrite=True, include_optimizer=True):
    """Write ``model`` to exactly ``path`` in Keras 2's HDF5 model layout (see the module docstring), atomically."""
    from . import models
    module = h5py()
    config = json.dumps(models.model_config(model))
    training, state = None, None
    if include_optimizer and getattr(model, "optimizer", None) is not None:
        training = json.dumps(models.training_config(model))
        state = model.optimizer.state_dict(model.weights)
    stateful = models.stateful_layers(model)

    def write(tmp):
        with module.File(tmp, "w") as f:
            f.attrs["keras_version"] = LAYOUT_VERSION.encode("utf8")
            f.attrs["backend"] = BACKEND.encode("utf8")
            f.attrs["model_config"] = config.encode("utf8")
            write_weights_group(f.create_group("model_weights"), model.layers)
            if training is not None:
                f.attrs["training_config"] = training.encode("utf8")
                names, values = _keras2_optimizer_values(model, state)
                if names:
                    g = f.create_group("optimizer_weights")
                    g.attrs["weight_names"] = _bytes_list(names)
                    for name, value in zip(names, values):
                        g.create_dataset(name, data=value)
                g = f.create_group("optimizer_state")
                g.attrs["state"] = json.dumps({"iterations": state["iterations"], "shared": state["shared"],
                                               "slots": [sorted(s) for s in state["slots"]]}).encode("utf8")
                for i, slots in enumerate(state["slots"]):
                    for name, arr in slots.items():
                        g.create_dataset(f"{i}/{name}", data=arr)
            if stateful:
                g = f.create_group("layer_states")
                g.attrs["states"] = json.dumps([{"path": p, "count": len(layer.states)}
                                                for p, layer in stateful]).encode("utf8")
                for p, layer in stateful:
                    for k, arr in enumerate(models._state_arrays(layer)):
                        g.create_dataset(f"{p}/{k}" if p else str(k), data=arr)
    saving.atomic_write(path, write, "model file", overwrite)


def _json_attr(path, f, name):
    if name not in f.attrs:
        return None
    try:
        return json.loads(_text(f.attrs[name]))
    except (ValueError, RecursionError) as e:
        raise ValueError(f"model file {path!r} is corrupt: attribute {name!r} is not valid JSON "
                         f"({type(e).__name__})") from None


def _optimizer_state_from_file(path, f, model):
    """The optimizer state for ``model.weights``: exact from ``/optimizer_state``, else converted from Keras 2's
    ``/optimizer_weights`` (None, with a warning, when that does not fit, as Keras does)."""
    n = len(model.weights)
    if "optimizer_state" in f:
        g = f["optimizer_state"]
        record = _json_attr(path, g, "state")
        if not isinstance(record, dict) or not isinstance(record.get("slots"), list) or len(record["slots"]) != n:
            raise ValueError(f"model file {path!r} is corrupt: the optimizer state does not list one entry per weight")
        slots = []
        for i, names in enumerate(record["slots"]):
            if not isinstance(names, list):
                raise ValueError(f"model file {path!r} is corrupt: optimizer state entry {i} is not a list")
            slots.append({name: np.asarray(g[f"{i}/{name}"]) for name in names})
        return {"iterations": record.get("iterations", 0), "shared": record.get("shared", {}), "slots": slots}
    if "optimizer_weights" not in f:
        return None
    g = f["optimizer_weights"]
    values = [np.asarray(g[name]) for name in _attr_strings(g, "weight_names") or []]
    opt = model.optimizer
    has_iterations, slot_names = _KERAS2_OPTIMIZER.get(type(opt).__name__, (None, None))
    trainable = model.trainable_weights
    if slot_names is None or len(values) != int(has_iterations) + len(slot_names) * len(trainable):
        warnings.warn(f"model file {path!r}: the saved optimizer state does not fit this {type(opt).__name__}; "
                      "the optimizer starts afresh", RuntimeWarning, stacklevel=3)
        return None
    iterations = int(values.pop(0)) if has_iterations else 0
    position = {id(w): i for i, w in enumerate(model.weights)}
    slots = [{} for _ in range(n)]
    for k, slot in enumerate(slot_names):
        for j, w in enumerate(trainable):
            slots[position[id(w)]][slot] = values[k * len(trainable) + j]
    shared = {}
    if "m_schedule" in opt.shared_state_names:  # Keras 2.0 did not save Nadam's schedule: it follows from t
        m = 1.0
        for t in range(1, iterations + 1):
            m *= opt.beta_1 * (1. - 0.5 * 0.96 ** (t * opt.schedule_decay))
        shared["m_schedule"] = m
    return {"iterations": iterations, "shared": shared, "slots": slots}


def _layer_states_from_file(path, f, model):
    from . import models
    if "layer_states" not in f:
        return []
    g = f["layer_states"]
    record = _json_attr(path, g, "states")
    by_path = dict(models.stateful_layers(model))
    out = []
    for entry in record if isinstance(record, list) else [None]:
        if not isinstance(entry, dict) or entry.get("path") not in by_path:
            raise ValueError(f"model file {path!r} is corrupt: stateful-layer entry {entry!r:.100} does not match "
                             "the model")
        layer, p = by_path[entry["path"]], entry["path"]
        current = models._state_arrays(layer)
        arrs = [np.asarray(g[f"{p}/{k}" if p else str(k)]) for k in range(len(current))]
        if entry.get("count") != len(current) or any(a.shape != c.shape for a, c in zip(arrs, current)):
            raise ValueError(f"model file {path!r} is corrupt: the states of layer {layer.name!r} do not fit it")
        out.append((layer, [a.astype(c.dtype) for a, c in zip(arrs, current)]))
    return out


def load_model(path, custom_objects=None, compile=True):
    """A model from an HDF5 model file (this project's or Keras 2's ``model.save``); see ``layers.load_model``."""
    from . import models

    def read(f):
        config = _json_attr(path, f, "model_config")
        if config is None:
            raise ValueError(f"{path!r} is not a model file (no 'model_config' attribute): a weight file? Build the "
                             "model and call model.load_weights(path)")
        model = models._build(path, config, custom_objects)
        weights, values = weight_updates(path, f, model)
        states = _layer_states_from_file(path, f, model)
        optimizer_state = None
        training = _json_attr(path, f, "training_config") if compile else None
        if training is not None:
            try:
                models.compile_from_config(model, training, custom_objects)
            except (ValueError, TypeError, KeyError) as e:
                raise ValueError(f"model file {path!r}: cannot compile the model with its saved settings ({e}); "
                                 "pass compile=False to load it uncompiled") from e
            optimizer_state = _optimizer_state_from_file(path, f, model)
        return model, weights, values, states, optimizer_state

    model, weights, values, states, optimizer_state = _read(path, "model file", read)
    return models.restore(path, model, weights, values, optimizer_state, states)
