"""Whole models: ``save_model`` / ``load_model`` (architecture, weights, compile settings, optimizer state) and
``model_to_json`` / ``model_from_json`` / ``model_from_config`` (architecture only).

    model.save('run.npz')                      # = save_model(model, 'run.npz')
    model = layers.load_model('run.npz')       # compiled, with the optimizer's state: fit() continues exactly
    json_string = model.to_json()
    fresh = layers.model_from_json(json_string, custom_objects={'MyCell': MyCell})

A model file is an ``.npz`` archive read with ``allow_pickle=False`` (a path ending in ``.h5``/``.hdf5`` gets
Keras 2's HDF5 model layout instead, see ``layers.hdf5``). It is a weight file of ``layers.saving`` (so
``load_weights`` reads it too) with three more kinds of entries:

* ``__model__``: a 0-d text array holding the JSON record ``{"format", "version", "model_config": {"class_name",
  "config"}, "training_config": {"optimizer_config", "loss", "metrics", "loss_weights", "sample_weight_mode"} or
  null, "optimizer_state": {"iterations", "shared", "slots": [[slot names] per weight]} or null, "states":
  [{"path", "count"}]}``;
* ``__optimizer__/<i>/<slot>``: the optimizer's state arrays of the model's i-th weight (``model.weights`` order:
  keyed by position, so they find their weights in the rebuilt model);
* ``__states__/<path>/<k>``: the carried states of stateful recurrent layers.

Loading builds the model from its config without drawing from the project's random generator (the generator's
state is restored afterwards), then checks every array before setting anything, so ``fit`` after ``load_model``
draws the same shuffles and dropout masks, and computes the same updates, as if training had not stopped.
"""
import contextlib
import json
import os

import numpy as np

import minigrad as mg
from optim import losses as losses_module
from optim import metrics as metrics_module
from optim import optimizers as optimizers_module

from . import saving, serialization

__all__ = ["save_model", "load_model", "model_to_json", "model_from_json", "model_from_config"]

FORMAT = "minigrad-bptt model"
VERSION = 1
MODEL_KEY = "__model__"


# ================================================================ architecture

def model_config(model):
    """``{'class_name', 'config'}`` of ``model``, checked to be JSON-serialisable (ValueError naming the
    problem otherwise)."""
    config = serialization.serialize(model)
    try:
        json.dumps(config)
    except (TypeError, ValueError) as e:
        raise ValueError(f"the config of model {model.name!r} cannot be written as JSON ({e}); a layer holds an "
                         "object without a config (give user objects get_config(), or a name resolved by "
                         "custom_objects)") from e
    return config


def model_to_json(model, **kwargs):
    """The model's architecture as JSON: ``{'class_name', 'config', 'backend'}`` (``kwargs`` for json.dumps)."""
    return json.dumps({**model_config(model), "backend": "minigrad-bptt"}, **kwargs)


def model_from_config(config, custom_objects=None):
    """A model (or any layer) from ``{'class_name', 'config'}`` (fresh weights, not compiled)."""
    if isinstance(config, list):
        raise TypeError("model_from_config expects a dict {'class_name', 'config'}; for Keras 2.0's list form of a "
                        "Sequential config use Sequential.from_config(config)")
    return serialization.deserialize(config, custom_objects=custom_objects)


def model_from_json(json_string, custom_objects=None):
    """A model from ``model.to_json()`` (or a Keras 2 model's JSON): fresh weights, not compiled.

    Raises ValueError for text that is not JSON or not a model config (``custom_objects`` names the user's own
    layer classes, activations, initializers, regularizers and constraints)."""
    if not isinstance(json_string, (str, bytes, bytearray)):
        raise TypeError(f"model_from_json expects a JSON string, got {type(json_string).__name__}")
    try:
        config = json.loads(json_string)
    except (ValueError, RecursionError) as e:
        raise ValueError(f"model_from_json: not valid JSON ({type(e).__name__}: {str(e)[:200]})") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("model_from_json: the JSON must be an object {'class_name': ..., 'config': {...}}")
    return model_from_config({"class_name": config["class_name"], "config": config.get("config")}, custom_objects)


# ================================================================ compile settings

def _function_name(fn, table, what):
    """How a loss or metric is stored: its name; a user function's ``__name__`` (resolved by custom_objects)."""
    if isinstance(fn, str):
        return fn
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or name == "<lambda>":
        raise ValueError(f"cannot save the {what} {fn!r}: it has no name to store (use a named function and pass "
                         "it in custom_objects when loading)")
    builtin = table.get(name)
    if builtin is not None and builtin is not fn:
        raise ValueError(f"cannot save the {what} {fn!r}: a user function named {name!r} like a built-in would come "
                         "back as the built-in; give it another name")
    return name


def _names(spec, table, what):
    if spec is None:
        return None
    if isinstance(spec, dict):
        return {k: _names(v, table, what) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [_names(v, table, what) for v in spec]
    return _function_name(spec, table, what)


def training_config(model):
    """The settings ``compile`` received, JSON-safe (Keras 2's ``training_config``), or None if not compiled."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    metric_table = dict(losses_module._BY_NAME)
    metric_table.update({fn.__name__: fn for fn in vars(metrics_module).values()
                         if callable(fn) and getattr(fn, "__module__", None) == metrics_module.__name__})
    weights = getattr(model, "loss_weights", None)
    return {"optimizer_config": {"class_name": type(optimizer).__name__, "config": optimizer.get_config()},
            "loss": _names(model.loss, losses_module._BY_NAME, "loss"),
            "metrics": _names(getattr(model, "metrics", None) or [], metric_table, "metric"),
            "loss_weights": None if weights is None else [float(w) for w in weights],
            "sample_weight_mode": getattr(model, "sample_weight_mode", None)}


def _with_custom(spec, custom_objects):
    """Names of the user's functions (losses, metrics) replaced by the objects ``custom_objects`` gives."""
    if isinstance(spec, dict):
        return {k: _with_custom(v, custom_objects) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_with_custom(v, custom_objects) for v in spec]
    custom_objects = serialization.with_custom_objects(custom_objects)
    if isinstance(spec, str) and custom_objects and spec in custom_objects:
        return custom_objects[spec]
    return spec


def make_optimizer(config, custom_objects=None):
    """An optimizer from ``{'class_name', 'config'}`` (built-in, or a user class in ``custom_objects``)."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str) \
            or not isinstance(config.get("config", {}), dict):
        raise ValueError(f"malformed optimizer config {config!r:.200}")
    settings = dict(config.get("config", {}))
    cls = (serialization.with_custom_objects(custom_objects) or {}).get(config["class_name"])
    if cls is not None:
        return cls.from_config(settings)
    # later Keras 2 releases store a 'name' and Adam's 'amsgrad' switch; off, it is the rule implemented here
    settings.pop("name", None)
    if settings.pop("amsgrad", False):
        raise ValueError(f"the saved {config['class_name']} uses AMSGrad, which this project does not implement")
    return optimizers_module.get({"class_name": config["class_name"], "config": settings})


def compile_from_config(model, config, custom_objects=None):
    """``model.compile(...)`` with the settings of ``training_config``."""
    if not isinstance(config, dict) or "optimizer_config" not in config or "loss" not in config:
        raise ValueError("malformed training config: it needs 'optimizer_config' and 'loss'")
    kwargs = {}
    if config.get("sample_weight_mode") is not None:
        kwargs["sample_weight_mode"] = config["sample_weight_mode"]
    model.compile(optimizer=make_optimizer(config["optimizer_config"], custom_objects),
                  loss=_with_custom(config["loss"], custom_objects),
                  metrics=_with_custom(config.get("metrics") or [], custom_objects),
                  loss_weights=config.get("loss_weights"), **kwargs)


# ================================================================ stateful layers

def stateful_layers(model):
    """[(path, layer)] for every stateful layer holding carried states, nested models and wrappers included;
    ``path`` (e.g. ``'2/layer'``) finds the layer again in a model rebuilt from the same config."""
    found, stack = [], [("", model)]
    while stack:
        path, obj = stack.pop(0)
        children = []
        if hasattr(obj, "layers") and hasattr(obj, "call_with_masks"):
            children = [(f"{path}/{i}", sub) for i, sub in enumerate(obj.layers)]
        for attr in ("layer", "forward_layer", "backward_layer"):  # wrappers: their layers hold the states
            sub = getattr(obj, attr, None)
            if sub is not None and hasattr(sub, "weights"):
                children.append((f"{path}/{attr}", sub))
        states = getattr(obj, "states", None)
        if not children and getattr(obj, "stateful", False) and isinstance(states, list) and states \
                and all(s is not None for s in states):
            found.append((path.strip("/"), obj))
        stack.extend(children)
    return found


def _state_arrays(layer):
    return [np.asarray(s.data if isinstance(s, mg.Tensor) else s) for s in layer.states]


# ================================================================ the .npz model file

def save_model(model, path, overwrite=True, include_optimizer=True):
    """Write ``model`` to exactly ``path``, atomically: an .npz model file, or Keras 2's HDF5 model layout when
    ``path`` ends in .h5/.hdf5 (needs h5py). See the module docstring for what the file holds.

    Raises ValueError when the architecture or the compile settings cannot be stored (a lambda, a user object
    without a name or config), FileExistsError (``overwrite=False``), OSError (the directory cannot be written).
    Nothing is written unless everything could be.
    """
    path = os.fspath(path)
    if saving.is_hdf5_path(path):
        from . import hdf5
        hdf5.save_model(model, path, overwrite=overwrite, include_optimizer=include_optimizer)
        return
    arrays = saving.weight_arrays(model, saving.architecture_record(model))
    record = {"format": FORMAT, "version": VERSION, "model_config": model_config(model),
              "training_config": None, "optimizer_state": None, "states": []}
    if include_optimizer and getattr(model, "optimizer", None) is not None:
        record["training_config"] = training_config(model)
        state = model.optimizer.state_dict(model.weights)
        record["optimizer_state"] = {"iterations": state["iterations"], "shared": state["shared"],
                                     "slots": [sorted(slots) for slots in state["slots"]]}
        for i, slots in enumerate(state["slots"]):
            for name, arr in slots.items():
                arrays[f"__optimizer__/{i}/{name}"] = arr
    for layer_path, layer in stateful_layers(model):
        states = _state_arrays(layer)
        record["states"].append({"path": layer_path, "count": len(states)})
        for k, arr in enumerate(states):
            arrays[f"__states__/{layer_path}/{k}"] = arr
    try:
        arrays[MODEL_KEY] = np.array(json.dumps(record))
    except (TypeError, ValueError) as e:
        raise ValueError(f"cannot save model {model.name!r}: its compile settings cannot be written as JSON ({e})") \
            from e
    saving.write_npz(path, arrays, "model file", overwrite)


@contextlib.contextmanager
def keep_rng_state():
    """Run the block without moving the project's random generator: building a model draws initial weights,
    which loading then overwrites; the draws must not shift the shuffles and dropout masks of a resumed run."""
    rng = mg.get_rng()
    state = rng.bit_generator.state
    try:
        yield
    finally:
        rng.bit_generator.state = state


def _corrupt(path, what):
    return ValueError(f"model file {path!r} is corrupt: {what}")


def _build(path, config, custom_objects, what="model file"):
    """The model of ``config``; any failure of a malformed or unsupported config becomes a ValueError naming the
    file (a missing custom object keeps its own clear message)."""
    try:
        with keep_rng_state():
            return model_from_config(config, custom_objects)
    except RecursionError:
        raise ValueError(f"{what} {path!r} is corrupt: the architecture is nested too deeply") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as e:
        raise ValueError(f"{what} {path!r}: cannot rebuild the model from its architecture record: "
                         f"{type(e).__name__}: {e}") from e


def load_model(path, custom_objects=None, compile=True):
    """The model saved at ``path`` by ``model.save`` (an .npz model file or HDF5, also Keras 2's HDF5 model files):
    rebuilt from its config, with its weights, compiled with its settings and given its optimizer's state (and the
    carried states of stateful layers), so ``fit`` continues exactly as if training had not stopped.

    Arguments:
        custom_objects: {name: class or function} for the user's own layers, cells, activations, initializers,
            regularizers, constraints, losses, metrics and optimizer classes.
        compile: False returns the model uncompiled (the optimizer state is then not read).
    Raises (nothing is returned half-built): FileNotFoundError / OSError naming the path; ValueError for a file
    that is not a model file, is corrupt, holds pickled objects or an unsupported architecture;
    ImportError for HDF5 without h5py.
    """
    path = os.fspath(path)
    if saving.file_kind(path, "model file") == "hdf5":
        from . import hdf5
        return hdf5.load_model(path, custom_objects=custom_objects, compile=compile)
    arrays = saving.read_npz(path, "model file")
    record = saving.read_json_text(path, arrays, MODEL_KEY, "model file")
    if record is None:
        raise ValueError(f"{path!r} is not a model file (no {MODEL_KEY!r} record): a weight file? Build the model "
                         "and call model.load_weights(path)")
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise _corrupt(path, f"unknown format {record.get('format') if isinstance(record, dict) else record!r:.100}")
    if record.get("version") != VERSION:
        raise ValueError(f"model file {path!r}: format version {record.get('version')!r} is not supported (this code "
                         f"reads version {VERSION})")
    try:
        serialization.check_depth(record)
    except ValueError as e:
        raise _corrupt(path, str(e)) from None
    model = _build(path, record.get("model_config"), custom_objects)
    targets, values = saving.npz_weight_updates(model, path, arrays)
    states = _read_states(path, record, arrays, model)

    optimizer_state = None
    if compile and record.get("training_config") is not None:
        try:
            compile_from_config(model, record["training_config"], custom_objects)
        except (ValueError, TypeError, KeyError) as e:
            raise ValueError(f"model file {path!r}: cannot compile the model with its saved settings ({e}); pass "
                             "compile=False to load it uncompiled") from e
        if record.get("optimizer_state") is not None:
            optimizer_state = _read_optimizer_state(path, record["optimizer_state"], arrays, len(model.weights))
    return restore(path, model, targets, values, optimizer_state, states)


def restore(path, model, weights, values, optimizer_state, states):
    """Set a model just built from a file (either format) to what was read and checked: weights, the optimizer's
    state (checked again by the optimizer itself first) and stateful layers' states. Returns the model."""
    if optimizer_state is not None:
        try:
            model.optimizer.load_state_dict(optimizer_state, model.weights)
        except (ValueError, TypeError) as e:
            raise _corrupt(path, f"optimizer state: {e}") from None
    for w, value in zip(weights, values):
        w.data = value
    for layer, arrs in states:
        layer.reset_states(arrs)
    return model


def _read_optimizer_state(path, state, arrays, n_weights):
    if not isinstance(state, dict) or not isinstance(state.get("slots"), list) or len(state["slots"]) != n_weights:
        raise _corrupt(path, "the optimizer state does not list one entry per weight")
    slots = []
    for i, names in enumerate(state["slots"]):
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _corrupt(path, f"optimizer state entry {i} is not a list of slot names")
        entry = {}
        for name in names:
            arr = arrays.get(f"__optimizer__/{i}/{name}")
            if arr is None:
                raise _corrupt(path, f"optimizer slot {name!r} of weight {i} is missing")
            entry[name] = arr
        slots.append(entry)
    return {"iterations": state.get("iterations", 0), "shared": state.get("shared", {}), "slots": slots}


def _read_states(path, record, arrays, model):
    """[(layer, [state arrays])] for the stateful layers the file recorded, shapes checked; nothing set."""
    saved = record.get("states") or []
    if not isinstance(saved, list):
        raise _corrupt(path, "'states' must be a list")
    by_path = dict(stateful_layers(model))
    out = []
    for entry in saved:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or entry["path"] not in by_path:
            raise _corrupt(path, f"stateful-layer entry {entry!r:.100} does not match the model")
        layer = by_path[entry["path"]]
        count = entry.get("count")
        current = _state_arrays(layer)
        if count != len(current):
            raise _corrupt(path, f"layer {layer.name!r} has {len(current)} states, the file {count!r}")
        arrs = []
        for k, ref in enumerate(current):
            arr = arrays.get(f"__states__/{entry['path']}/{k}")
            if arr is None or arr.shape != ref.shape or arr.dtype.kind != "f":
                raise _corrupt(path, f"state {k} of layer {layer.name!r} is missing or has the wrong shape")
            arrs.append(arr.astype(ref.dtype))
        out.append((layer, arrs))
    return out
