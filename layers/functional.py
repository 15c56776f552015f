"""The functional API: ``Input`` placeholders and ``Model``, a graph of layer calls with one or more inputs and outputs.

    enc_in = Input(shape=(None, 16))                       # (batch, timesteps, features); None = any
    _, h, c = LSTM(64, return_state=True)(enc_in)          # symbolic: shapes (None, 64), nothing computed
    dec_in = Input(shape=(None, 16))
    seq = LSTM(64, return_sequences=True)(dec_in, initial_state=[h, c])
    out = TimeDistributed(Dense(16, activation='softmax'))(seq)
    model = Model(inputs=[enc_in, dec_in], outputs=out)
    model.compile('adam', 'categorical_crossentropy')
    model.fit([xe, xd], y)                                 # the loss's gradient reaches the encoder through h, c

A ``Model`` runs its recorded layer calls eagerly on the minigrad tape (``graph.run_graph``), so it is also a
layer: ``model(x)`` / ``model([x1, x2])`` on arrays returns Tensor(s) on the tape, and ``model(symbolic)`` records
it as one node of a bigger graph. Training, evaluation, prediction, weights and weight files come from
``training.TrainingMixin``; this module provides the model protocol that mixin expects.
"""
import numpy as np

import minigrad as mg

from . import graph
from .base import Layer, pop_legacy_kwargs, shape_str
from .graph import InputLayer, SymbolicTensor
from .training import TrainingMixin, print_summary

__all__ = ["Input", "Model", "InputLayer", "SymbolicTensor"]


def _check_dims(dims, what):
    for d in dims:
        if d is not None and (isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0):
            raise ValueError(f"{what} entries must be positive integers or None, got {tuple(dims)}")


def Input(shape=None, batch_shape=None, dtype=None, name=None, batch_size=None):
    """A symbolic placeholder for a model input.

    Arguments:
        shape: the shape of one sample, without the batch axis, e.g. ``(None, 16)`` for sequences of any length
            with 16 features (an int means a 1-tuple).
        batch_shape: the full shape, batch axis first, e.g. ``(32, 10, 16)``: stateful RNNs need the fixed batch.
        dtype: of the arrays fed at run time (default 'float32'; floating arrays are cast to it, integer ids for
            an Embedding are accepted by a float Input as well).
        name: the Input layer's name (default ``input_<n>``).
        batch_size: with ``shape``, fixes the batch axis (same as ``batch_shape=(batch_size,) + shape``).
    Returns: a ``SymbolicTensor`` of shape ``batch_shape`` (batch axis None unless fixed).
    """
    if shape is not None and batch_shape is not None:
        raise ValueError("Input takes either shape (without the batch axis) or batch_shape (with it), not both")
    if shape is None and batch_shape is None:
        raise ValueError("Input needs shape=(...) (one sample's shape, without the batch axis) or "
                         "batch_shape=(batch, ...)")
    if batch_shape is None:
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        _check_dims(shape, "Input shape")
        batch_shape = (batch_size,) + shape
    batch_shape = tuple(batch_shape)
    _check_dims(batch_shape, "Input batch_shape")
    if not batch_shape:
        raise ValueError("Input batch_shape must include the batch axis, got ()")
    dtype = np.dtype(dtype or "float32")
    if dtype.kind not in "fiub":
        raise TypeError(f"Input dtype must be numeric, got {dtype}")
    return graph.make_input(batch_shape, dtype.name, name)


def _tensor_list(value, what):
    """One SymbolicTensor or a list of them -> list (ValueError on anything else)."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise ValueError(f"Model {what} must not be empty")
    for i, t in enumerate(items):
        if not isinstance(t, SymbolicTensor):
            raise TypeError(f"Model {what} must be symbolic tensors (from Input(...) or a layer called on one); "
                            f"{what}[{i}] is a {type(t).__name__}")
    return items


def _shapes_compatible(expected, found):
    return len(expected) == len(found) and all(e is None or f is None or e == f for e, f in zip(expected, found))


class Model(TrainingMixin, Layer):
    """A directed acyclic graph of layer calls from ``inputs`` to ``outputs``.

    Arguments:
        inputs: a SymbolicTensor returned by ``Input``, or a list of them.
        outputs: a SymbolicTensor (any layer's symbolic output), or a list of them.
        name: default ``model_<n>``.

    Construction checks that every output can be computed from the given inputs (else ValueError naming the
    Input that is missing and the layer that needs it) and that every given input is used (else ValueError naming
    the disconnected input).

    Attributes: ``inputs``, ``outputs`` (lists of SymbolicTensors), ``input_names``, ``output_names``,
    ``layers`` (every layer once, Input layers included, in Keras' order: deepest first, see ``layers``),
    ``weights`` / ``trainable_weights`` (each shared weight once), ``input_shape`` / ``output_shape`` (a tuple,
    or a list of tuples when there are several).
    """
    supports_masking = True

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if kwargs:  # Keras 1's Model(input=..., output=...), with a DeprecationWarning
            given = {k: v for k, v in (("inputs", inputs), ("outputs", outputs)) if v is not None}
            given = pop_legacy_kwargs("Model", {**kwargs, **given}, {"input": ("inputs", None),
                                                                     "output": ("outputs", None)})
            unknown = sorted(set(given) - {"inputs", "outputs"})
            if unknown:
                raise TypeError(f"Model: unexpected keyword argument(s) {', '.join(unknown)}")
            inputs, outputs = given.get("inputs"), given.get("outputs")
        if inputs is None or outputs is None:
            raise TypeError("Model needs inputs=... (from Input) and outputs=... (layer outputs computed from them)")
        Layer.__init__(self, name=name)
        self._init_training()
        self.inputs = _tensor_list(inputs, "inputs")
        self.outputs = _tensor_list(outputs, "outputs")
        for i, t in enumerate(self.inputs):
            if not isinstance(t.layer, InputLayer):
                raise ValueError(f"Model inputs must be tensors returned by Input(...); inputs[{i}] is {t.name} "
                                 f"(an output of layer {t.layer.name!r}, {type(t.layer).__name__})")
            if any(t is other for other in self.inputs[:i]):
                raise ValueError(f"Input {t.layer.name!r} is listed twice in the model's inputs")
        self._nodes = graph.ancestors(self.outputs)
        self._check_connected()
        self._layers = _keras_layer_order(self.outputs)
        names = {}
        for layer in self._layers:
            if names.setdefault(layer.name, layer) is not layer:
                raise ValueError(f"two different layers of the model are named {layer.name!r}; layer names must be "
                                 "unique within a model (they key its configs and weight files)")
        self.dtype = np.dtype(self.outputs[0].dtype)
        self.built = True

    def _check_connected(self):
        given = {id(t) for t in self.inputs}
        for node in self._nodes:
            if isinstance(node.layer, InputLayer) and id(node.outputs[0]) not in given:
                t = node.outputs[0]
                needing = [o.name for o in self.outputs if any(n is node for n in graph.ancestors([o]))]
                consumer = graph.find_consumer(self._nodes, t)
                via = f" (read by layer {consumer.layer.name!r})" if consumer is not None else ""
                raise ValueError(
                    f"Graph disconnected: output(s) {', '.join(needing)} need Input {t.layer.name!r} of shape "
                    f"{shape_str(t.shape)}{via}, which is not among the model's inputs "
                    f"[{', '.join(i.layer.name for i in self.inputs)}]; add it to `inputs`")
        used = {id(n) for n in self._nodes}
        for t in self.inputs:
            if id(t.node) not in used:
                raise ValueError(
                    f"Input {t.layer.name!r} (shape {shape_str(t.shape)}) is disconnected: none of the model's "
                    f"outputs [{', '.join(o.name for o in self.outputs)}] depends on it; remove it from `inputs` or "
                    "connect it")

    # ------------------------------------------------------------ description
    @property
    def layers(self):
        """Every layer of the graph once, Input layers included, in Keras' order (a copy of the list): by depth,
        the longest path to an output, deepest first (so every layer comes after the layers it reads, and the
        Inputs first); layers of equal depth in the order a depth-first walk from the outputs reaches them. The
        weights (``get_weights``), configs, summaries and weight files follow this order, so they line up with
        Keras' for the same graph."""
        return list(self._layers)

    @property
    def input_names(self):
        return [t.layer.name for t in self.inputs]

    @property
    def output_names(self):
        return self._output_names()

    def _output_names(self):
        # a layer with several outputs (return_state=True) would name them all alike; logs need distinct names
        names, counts = [], {}
        for layer in self._output_layers:
            k = counts.get(layer.name, 0)
            counts[layer.name] = k + 1
            names.append(layer.name if k == 0 else f"{layer.name}_{k}")
        return names

    @property
    def input(self):
        """The model's Input tensor, or the list of them with several inputs (Keras' ``model.input``)."""
        return self.inputs[0] if len(self.inputs) == 1 else list(self.inputs)

    @property
    def output(self):
        """The model's output tensor, or the list of them with several outputs (Keras' ``model.output``)."""
        return self.outputs[0] if len(self.outputs) == 1 else list(self.outputs)

    @property
    def input_shape(self):
        """The input shape(s), batch axis included: a tuple, or a list of tuples with several inputs."""
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def batch_input_shape(self):
        """The input shape (batch axis first) of a one-input model, so it can start a Sequential model; None for
        several inputs."""
        return tuple(self.inputs[0].shape) if len(self.inputs) == 1 else None

    @property
    def output_shape(self):
        """The output shape(s), batch axis included: a tuple, or a list of tuples with several outputs."""
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def __repr__(self):
        return f"<Model name={self.name!r} inputs={self.input_names} outputs={[t.name for t in self.outputs]}>"

    # ------------------------------------------------------------ the Layer side (a model nested in a graph)
    @property
    def losses(self):
        """Weight penalties (each shared weight once: ``weights`` lists it once) and the activity penalties of
        every layer call of the latest run (a shared layer's calls each count)."""
        out = [w.regularizer(w) for w in self.weights if getattr(w, "regularizer", None) is not None]
        return out + list(self._activity_losses)

    def _maybe_build(self, shape):
        pass  # a Model is built by construction

    def check_declared_shape(self, shapes):
        self.check_input_shape(shapes)

    def check_input_shape(self, shapes):
        """Check symbolic input shape(s) (a tuple, or a list of tuples) against this model's Inputs."""
        shapes = shapes if isinstance(shapes, list) else [shapes]
        if len(shapes) != len(self.inputs):
            raise ValueError(f"model {self.name!r} has {len(self.inputs)} input(s) {self.input_names}, but was called "
                             f"on {len(shapes)} tensor(s)")
        for t, s in zip(self.inputs, shapes):
            if not _shapes_compatible(t.shape, s):
                raise ValueError(f"input {t.layer.name!r} of model {self.name!r} is incompatible: expected shape "
                                 f"{shape_str(t.shape)}, found shape {shape_str(s)}")

    def compute_output_shape(self, input_shape):
        # the shapes recorded when the graph was built (check_input_shape has made sure the new inputs fit them)
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def compute_mask(self, inputs, mask=None):
        raise NotImplementedError("a Model's output masks come from running it: use call_with_masks")

    def output_mask_flags(self, input_flags):
        """Which outputs carry a mask when the inputs with True in ``input_flags`` carry one (symbolic)."""
        flags = {id(t): f for t, f in zip(self.inputs, input_flags)}
        for node in self._nodes:
            if not node.inputs:
                continue
            in_flags = [flags[id(t)] for t in node.inputs]
            out = graph.mask_flags(node.layer, node.inputs, in_flags, node.input_is_list, len(node.outputs),
                                   node.output_is_list)
            flags.update((id(t), f) for t, f in zip(node.outputs, out))
        return [flags[id(t)] for t in self.outputs]

    def call_with_masks(self, inputs, mask=None, training=False, **kwargs):
        """Run on concrete input(s) with their mask(s); returns (output(s), output mask(s), activity penalties)."""
        if kwargs:
            raise TypeError(f"model {self.name!r} got unexpected call argument(s) {', '.join(sorted(kwargs))}")
        xs = self._input_list(inputs)
        masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(xs)
        outs, out_masks = self._forward(xs, training=training, input_masks=masks)
        if len(outs) == 1:
            return outs[0], out_masks[0], list(self._activity_losses)
        return outs, out_masks, list(self._activity_losses)

    def __call__(self, inputs, *args, **kwargs):
        """``model(x)`` / ``model([x1, x2])`` on arrays or Tensors: the output Tensor, or a list with several outputs
        (recorded on the tape). On symbolic tensors: records the model as one node of a bigger graph."""
        if graph.is_symbolic(inputs, kwargs):
            return graph.call_symbolic(self, inputs, *args, **kwargs)
        if args:
            raise TypeError(f"model {self.name!r}: pass training/mask as keyword arguments")
        out, _, _ = self.call_with_masks(inputs, **kwargs)
        return out

    # ------------------------------------------------------------ running the graph (the model protocol)
    @property
    def _output_layers(self):
        """For each output, the layer whose call made it (names the output in logs; decides the logits path)."""
        return [t.layer for t in self.outputs]

    @property
    def _num_inputs(self):
        return len(self.inputs)

    @property
    def _num_outputs(self):
        return len(self.outputs)

    def _input_list(self, inputs):
        """One array/Tensor, or a list of them -> a list of ``len(self.inputs)`` (the count checked)."""
        n = len(self.inputs)
        if not isinstance(inputs, (list, tuple)):
            xs = [inputs]
        elif n == 1 and inputs and not isinstance(inputs[0], (np.ndarray, mg.Tensor)):
            xs = [inputs]  # nested Python lists: array-like data for the single input
        else:
            xs = list(inputs)
        if len(xs) != n:
            raise ValueError(f"model {self.name!r} expects {n} input array(s) (for {', '.join(self.input_names)}), "
                             f"but received {len(xs)}")
        return xs

    def _feed(self, xs):
        """Arrays/Tensors -> Tensors of the Inputs' dtypes, each shape checked against its Input's."""
        out = []
        for t, x in zip(self.inputs, xs):
            if not isinstance(x, mg.Tensor):
                arr = np.asarray(x)
                if arr.dtype.kind not in "fiub":
                    raise TypeError(f"input {t.layer.name!r} of model {self.name!r} must be a numeric array, got "
                                    f"dtype {arr.dtype}")
                # float Inputs take integer ids too (an Embedding checks them); int Inputs keep their arrays
                if np.dtype(t.dtype).kind == "f" and arr.dtype != t.dtype:
                    arr = arr.astype(t.dtype)
                x = mg.Tensor(arr)
            if not _shapes_compatible(t.shape, x.shape):
                raise ValueError(f"input {t.layer.name!r} of model {self.name!r} expects arrays of shape "
                                 f"{shape_str(t.shape)}, but got an array of shape {shape_str(x.shape)}")
            out.append(x)
        return out

    def _forward(self, inputs, training=False, logits=None, input_masks=None):
        """Run the graph on ``inputs`` (a list of ``len(self.inputs)`` arrays or Tensors, each (batch, ...)).

        logits: None or one bool per output; True returns that output's pre-activation (the training loop asks
        this of Dense/Activation/TimeDistributed outputs with a softmax/sigmoid, for a stable crossentropy). The
        graph downstream of such a layer still sees the activated value.
        Returns (list of output Tensors, list of output masks (bool ndarrays) or None).
        """
        xs = self._feed(inputs)
        masks = list(input_masks) if input_masks is not None else [None] * len(xs)
        feeds = {id(t): (x, m) for t, x, m in zip(self.inputs, xs, masks)}
        logit_nodes = {}
        for t, want in zip(self.outputs, logits or []):
            if want:
                logit_nodes[t.node.id] = t.layer.activation
        values, self._activity_losses = graph.run_graph(self._nodes, feeds, training, logit_nodes)
        outs, out_masks = [], []
        for t, want in zip(self.outputs, logits or [False] * len(self.outputs)):
            value, mask = values[id(t)]
            if want:
                value = values[("logits", id(t))][0]
            outs.append(value)
            out_masks.append(mask)
        return outs, out_masks

    # ------------------------------------------------------------ summary
    def summary(self, line_length=None, positions=None, print_fn=None):
        """Print a Keras-style table: 'Layer (type)', 'Output Shape', 'Param #', 'Connected to' (each input of
        each call, as ``layer_name[call][output]``; initial states included), then the parameter totals."""
        rows = []
        for layer in self._layers:
            nodes = [n for n in self._nodes if n.layer is layer]
            shapes = {tuple(tuple(o.shape) for o in n.outputs) for n in nodes}
            if len(shapes) > 1:
                shape = "multiple"
            else:
                outs = nodes[0].outputs
                shape = shape_str(outs[0].shape) if not nodes[0].output_is_list else \
                    "[" + ", ".join(shape_str(o.shape) for o in outs) + "]"
            sources = [p.name for n in nodes for p in n.parents]
            rows.append([f"{layer.name} ({type(layer).__name__})", shape, f"{layer.count_params():,}",
                         sources[0] if sources else ""])
            rows.extend(["", "", "", s] for s in sources[1:])
        trainable = int(sum(w.size for w in self.trainable_weights))
        print_summary(rows, ["Layer (type)", "Output Shape", "Param #", "Connected to"], line_length or 116,
                      positions or [.3, .63, .72, 1.], trainable, self.count_params() - trainable, print_fn or print)

    # ------------------------------------------------------------ configs
    def get_config(self):
        """Keras 2's functional config: ``{'name', 'layers', 'input_layers', 'output_layers'}``.

        ``layers``: one entry per layer, ``{'name', 'class_name', 'config', 'inbound_nodes'}``; each inbound node
        (one call of the layer) is a list of ``[layer name, node index, tensor index, call kwargs]``, one per
        tensor it read: its inputs, then its ``initial_state`` tensors (Keras 2.0.8 lists them as extra inputs).
        Node indices count a layer's calls within this model; a nested model's count from 1, as in Keras, where
        node 0 of a model is its own graph. ``input_layers``/``output_layers``: ``[layer name, node index,
        tensor index]`` per model input/output. Concrete ``initial_state`` arrays are kept in the call kwargs.
        """
        index = {}   # node.id -> the node's index among its layer's calls in this model
        counts = {}
        for node in self._nodes:
            k = counts.get(id(node.layer), 0)
            counts[id(node.layer)] = k + 1
            index[node.id] = k + (1 if _is_model(node.layer) else 0)
        entries = []
        for layer in self._layers:
            inbound = []
            for node in self._nodes:
                if node.layer is not layer or not node.inputs:
                    continue
                if node.args:
                    raise ValueError(f"layer {layer.name!r} was called with positional arguments {node.args!r} "
                                     "besides its input; a model config keeps keyword arguments only")
                kwargs = _encode_kwargs(layer, node.kwargs)
                inbound.append([[t.layer.name, index[t.node.id], t.index, kwargs] for t in node.parents])
            entries.append({"name": layer.name, "class_name": type(layer).__name__, "config": layer.get_config(),
                            "inbound_nodes": inbound})
        config = {"name": self.name, "layers": entries,
                  "input_layers": [[t.layer.name, index[t.node.id], t.index] for t in self.inputs],
                  "output_layers": [[t.layer.name, index[t.node.id], t.index] for t in self.outputs]}
        if not self.trainable:
            config["trainable"] = False
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild a model from ``get_config()``'s output (or a Keras 2 functional config): every layer from its
        config (``custom_objects`` names the user's classes and functions), then every recorded call, in an
        order where each call's inputs exist, so shared layers, nested models and ``initial_state`` edges come
        back as they were. Fresh weights. Raises ValueError for a malformed config."""
        return _model_from_config(cls, config, custom_objects)


def _keras_layer_order(outputs):
    """The layers that make ``outputs`` in Keras 2's ``Model.layers`` order (Keras 3 keeps it): walk the graph
    depth-first from the outputs, reading each call's inputs (initial states included) in order, numbering the
    layers as they are first reached; a call's depth is its longest distance to an output, and a layer's the
    largest of its calls'. Deepest first, ties by number."""
    number, finished, post_order = {}, set(), []
    for out in outputs:  # iterative depth-first walk: deep graphs must not hit the recursion limit
        if id(out.node) in finished:
            continue
        number.setdefault(id(out.node.layer), (len(number), out.node.layer))
        stack = [(out.node, iter(out.node.parents))]
        while stack:
            node, parents = stack[-1]
            parent = next(parents, None)
            if parent is None:
                stack.pop()
                finished.add(id(node))
                post_order.append(node)
            elif id(parent.node) not in finished:  # (a call in progress cannot come again: the graph has no cycle)
                number.setdefault(id(parent.node.layer), (len(number), parent.node.layer))
                stack.append((parent.node, iter(parent.node.parents)))
    node_depth, layer_depth = {}, {}
    for node in reversed(post_order):  # each call after every call that reads it
        depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        for parent in node.parents:
            node_depth[id(parent.node)] = max(node_depth.get(id(parent.node), 0), depth + 1)
    return [layer for _, layer in sorted(number.values(), key=lambda e: (-layer_depth[id(e[1])], e[0]))]


def _is_model(layer):
    return hasattr(layer, "call_with_masks")


_ARRAY_TAG = "__ndarray__"


def _encode_kwargs(layer, kwargs):
    """A node's call kwargs, JSON-safe: arrays (concrete initial states) as ``{'__ndarray__': nested list,
    'dtype': name}``."""
    out = {}
    for key, value in kwargs.items():
        if key == "initial_state":
            value = [{_ARRAY_TAG: np.asarray(v).tolist(), "dtype": np.asarray(v).dtype.name} for v in value]
        elif not (value is None or isinstance(value, (bool, int, float, str))):
            raise ValueError(f"layer {layer.name!r} was called with {key}={value!r}, which a model config cannot "
                             "hold (only numbers, strings, booleans, None and initial_state arrays)")
        out[key] = value
    return out


def _decode_kwargs(kwargs, where):
    if not isinstance(kwargs, dict):
        raise ValueError(f"malformed model config: {where}: call kwargs must be a dict, got {kwargs!r:.200}")
    out = dict(kwargs)
    states = out.get("initial_state")
    if states is not None:
        if not isinstance(states, list):
            raise ValueError(f"malformed model config: {where}: initial_state must be a list of arrays")
        arrays = []
        for s in states:
            if not isinstance(s, dict) or _ARRAY_TAG not in s:
                raise ValueError(f"malformed model config: {where}: initial_state entries must be "
                                 f"{{'{_ARRAY_TAG}': [...], 'dtype': ...}}")
            try:
                arr = np.array(s[_ARRAY_TAG], dtype=np.dtype(s.get("dtype", "float32")))
            except (TypeError, ValueError) as e:
                raise ValueError(f"malformed model config: {where}: bad initial_state array ({e})") from None
            if arr.dtype.kind != "f":
                raise ValueError(f"malformed model config: {where}: initial_state arrays must be floating")
            arrays.append(arr)
        out["initial_state"] = arrays
    return out


def _model_from_config(cls, config, custom_objects):
    from . import serialization

    def bad(what):
        return ValueError(f"malformed model config: {what}")

    if not isinstance(config, dict):
        raise bad(f"expected a dict {{'name', 'layers', 'input_layers', 'output_layers'}}, got {config!r:.200}")
    serialization.check_depth(config)
    entries = config.get("layers")
    if not isinstance(entries, list) or not entries:
        raise bad("'layers' must be a non-empty list")
    for key in ("input_layers", "output_layers"):
        refs = config.get(key)
        if not isinstance(refs, list) or not refs or not all(_is_ref(r) for r in refs):
            raise bad(f"{key!r} must be a non-empty list of [layer name, node index, tensor index]")

    created, outputs, pending = {}, {}, []  # outputs[(layer name, node index)] = that call's output tensors
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
            raise bad(f"layers[{i}] must be a dict with 'class_name', 'config' and 'inbound_nodes'")
        layer_config = entry.get("config")
        name = entry.get("name", layer_config.get("name") if isinstance(layer_config, dict) else None)
        if not isinstance(name, str):
            raise bad(f"layers[{i}] has no name")
        if name in created:
            raise bad(f"two layers are named {name!r}")
        if entry["class_name"] == "InputLayer":
            shape, dtype, _ = graph.input_layer_args(layer_config)
            t = graph.make_input(shape, dtype, name)
            created[name] = t.layer
            outputs[(name, 0)] = [t]
            continue
        layer = serialization.deserialize({"class_name": entry["class_name"], "config": layer_config},
                                          custom_objects=custom_objects)
        created[name] = layer
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            raise bad(f"layer {name!r}: 'inbound_nodes' must be a list")
        calls = []
        for j, node in enumerate(nodes):
            if not isinstance(node, list) or not node or not all(
                    isinstance(r, list) and len(r) in (3, 4) and _is_ref(r[:3]) for r in node):
                raise bad(f"layer {name!r}: inbound node {j} must be a list of [layer name, node index, tensor index, "
                          "kwargs]")
            calls.append(node)
        pending.append([name, layer, calls, 1 if _is_model(layer) else 0])

    # Run the calls in an order where every input exists: each pass makes every call it can (a layer's calls in
    # their recorded order), until none is left or a pass makes none (a reference that never resolves).
    while any(p[2] for p in pending):
        progress = False
        for item in pending:
            name, layer, calls, next_index = item
            while calls:
                refs = calls[0]
                tensors = [_resolve(outputs, created, r) for r in refs]
                if any(t is None for t in tensors):
                    break
                kwargs = _decode_kwargs(refs[0][3] if len(refs[0]) == 4 else {}, f"layer {name!r}")
                if len(tensors) > 1 and graph.state_names(layer):
                    out = layer(tensors[0], initial_state=tensors[1:], **kwargs)
                elif len(tensors) == 1:
                    out = layer(tensors[0], **kwargs)
                else:
                    out = layer(tensors, **kwargs)
                outputs[(name, next_index)] = list(out) if isinstance(out, (list, tuple)) else [out]
                calls.pop(0)
                next_index += 1
                item[3] = next_index
                progress = True
        if not progress:
            stuck = [(p[0], p[2][0]) for p in pending if p[2]]
            raise bad(f"the calls of {', '.join(repr(n) for n, _ in stuck)} read tensors that no layer call makes "
                      f"(first unresolved: {stuck[0][1]!r:.200})")

    def lookup(ref, key):
        t = _resolve(outputs, created, ref)
        if t is None:
            raise bad(f"{key} refers to {ref!r}, which no layer call makes")
        return t

    inputs = [lookup(r, "input_layers") for r in config["input_layers"]]
    outs = [lookup(r, "output_layers") for r in config["output_layers"]]
    model = cls(inputs=inputs if len(inputs) > 1 else inputs[0], outputs=outs if len(outs) > 1 else outs[0],
                name=config.get("name"))
    order = {name: i for i, name in enumerate(created)}
    if set(order) == {layer.name for layer in model._layers}:
        model._layers.sort(key=lambda layer: order[layer.name])  # the saved order is the weights' order
    model.trainable = config.get("trainable", True)
    return model


def _is_ref(ref):
    return (isinstance(ref, list) and len(ref) == 3 and isinstance(ref[0], str)
            and all(isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in ref[1:]))


def _resolve(outputs, created, ref):
    """The tensor a ``[layer name, node index, tensor index]`` reference names, or None if not made (yet)."""
    made = outputs.get((ref[0], ref[1]))
    if made is None:
        return None
    if ref[2] >= len(made):
        raise ValueError(f"malformed model config: {ref!r} asks for output {ref[2]} of a call with {len(made)} "
                         "output(s)")
    return made[ref[2]]
