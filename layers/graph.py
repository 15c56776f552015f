"""The functional API's symbolic side: placeholders from ``Input`` and the graph nodes that layers record on them.

Calling a layer on a ``SymbolicTensor`` computes nothing. ``call_symbolic`` builds the layer's weights from the
symbolic shape, checks that shape (so an incompatible layer fails while the graph is being written, not at
``fit``), and records a ``Node``: the layer, the tensors it was called on (inputs and ``initial_state``), static
keyword arguments, and the new ``SymbolicTensor`` outputs, whose shapes come from ``compute_output_shape``.

A mask is a symbolic attribute too: ``SymbolicTensor.has_mask`` says whether a mask travels with the tensor
(e.g. downstream of ``Embedding(mask_zero=True)``). The mask's values depend on the data, so ``run_graph``
computes it concretely at run time with each layer's ``compute_mask``, exactly as ``Sequential`` does.

``run_graph`` executes the recorded nodes eagerly, in creation order (a node is created after every tensor it
reads, so creation order is a topological order), on the minigrad tape: gradients then flow through every branch,
through ``initial_state`` edges, and into a shared layer once per use.
"""
import itertools

import numpy as np

import minigrad as mg

from .base import Layer, shape_str, unique_name

_node_ids = itertools.count()  # global creation order of nodes = a topological order of any graph


class SymbolicTensor:
    """A placeholder for a value that exists only when the graph runs.

    shape: tuple with the batch axis first; None for sizes not known until run time (the batch, unknown timesteps).
    dtype: numpy dtype name of the run-time value.
    node, index: the ``Node`` (layer call) that produces this tensor, and which of its outputs it is.
    has_mask: whether a mask (bool, shape (batch, timesteps)) travels with the value at run time.
    """

    def __init__(self, shape, dtype="float32", node=None, index=0, name=None, has_mask=False):
        self.shape, self.dtype, self.node, self.index, self.name = tuple(shape), np.dtype(dtype).name, node, index, name
        self.has_mask = bool(has_mask)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def layer(self):
        """The layer whose call produced this tensor (an ``InputLayer`` for ``Input`` placeholders)."""
        return self.node.layer if self.node is not None else None

    def __array__(self, *args, **kwargs):
        # numpy would otherwise wrap the placeholder in an object array and fail much later, far from the mistake
        raise TypeError(f"symbolic tensor {self.name!r} has no values: it is a placeholder of a functional graph. "
                        "Call layers on it, then build a Model and call the model on arrays")

    def __repr__(self):
        mask = ", masked" if self.has_mask else ""
        return f"<SymbolicTensor {self.name!r} shape={shape_str(self.shape)} dtype={self.dtype}{mask}>"


class Node:
    """One call of a layer inside a functional graph.

    inputs: the SymbolicTensors the layer was called on (a list; ``input_is_list`` records whether the call passed a
    list); states: the ``initial_state`` tensors or None; args/kwargs: static call options (``training`` among
    them only if fixed by the caller); outputs: the SymbolicTensors it made (``output_is_list`` as for inputs).
    """

    def __init__(self, layer, inputs, input_is_list, states, args, kwargs):
        self.id = next(_node_ids)
        self.layer, self.inputs, self.input_is_list, self.states = layer, inputs, input_is_list, states
        self.args, self.kwargs = args, kwargs
        self.outputs, self.output_is_list = [], False
        inbound = layer.__dict__.setdefault("_inbound_nodes", [])
        self.node_index = len(inbound)  # which call of this layer: the [i] of "lstm_1[i][j]" in summaries
        inbound.append(self)

    @property
    def parents(self):
        """Every tensor this node reads: inputs, then initial states."""
        return list(self.inputs) + list(self.states or [])

    @property
    def input_tensors(self):
        """Keras' name for what the call read (``layer.input``): the inputs, then the initial states; an Input's
        node lists its placeholder, as in Keras."""
        return self.parents or list(self.outputs)

    @property
    def output_tensors(self):
        """Keras' name for the call's outputs (``layer.output``)."""
        return list(self.outputs)


class InputLayer(Layer):
    """The source node of an ``Input`` placeholder; at run time it hands its fed value on unchanged."""

    def __init__(self, batch_shape, dtype="float32", name=None):
        super().__init__(name=name or None, batch_input_shape=batch_shape, dtype=dtype if np.dtype(dtype).kind == "f"
                         else None)
        self.input_dtype = np.dtype(dtype)
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        """Keras 2's InputLayer config: ``{'batch_input_shape', 'dtype', 'sparse', 'name'}``."""
        return {"batch_input_shape": tuple(self.batch_input_shape), "dtype": self.input_dtype.name,
                "sparse": False, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """An InputLayer alone (``Model.from_config`` makes Inputs with ``make_input``, which also gives the
        symbolic tensor). Reads Keras 2's ``batch_input_shape`` and Keras 3's ``batch_shape``."""
        shape, dtype, name = input_layer_args(config)
        return cls(shape, dtype, name=name)


def input_layer_args(config):
    """(batch_shape, dtype, name) from an InputLayer config (Keras 2 or 3 spelling); ValueError if malformed."""
    if not isinstance(config, dict):
        raise ValueError(f"an InputLayer config is a dict, got {config!r:.200}")
    shape = config.get("batch_input_shape", config.get("batch_shape"))
    if not isinstance(shape, (list, tuple)) or not shape or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in shape):
        raise ValueError(f"InputLayer config: batch_input_shape must be a list of positive integers and None, got "
                         f"{shape!r:.200}")
    if config.get("sparse"):
        raise ValueError("InputLayer config: sparse inputs are not supported")
    dtype = config.get("dtype") or "float32"
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"InputLayer config: unknown dtype {config.get('dtype')!r}") from None
    if dtype.kind not in "fiub":
        raise ValueError(f"InputLayer config: dtype must be numeric, got {dtype}")
    name = config.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"InputLayer config: name must be a string, got {name!r}")
    return tuple(shape), dtype.name, name


def make_input(batch_shape, dtype="float32", name=None):
    """A fresh InputLayer and its SymbolicTensor of shape ``batch_shape`` (batch axis included)."""
    layer = InputLayer(batch_shape, dtype, name=name or unique_name("input"))
    node = Node(layer, [], False, None, (), {})
    out = SymbolicTensor(batch_shape, dtype, node, 0, name=f"{layer.name}[0][0]")
    node.outputs = [out]
    return out


def _flatten(x):
    if isinstance(x, (list, tuple)):
        for item in x:
            yield from _flatten(item)
    else:
        yield x


def is_symbolic(inputs, kwargs):
    """True when the inputs (or an ``initial_state``) include a SymbolicTensor."""
    return any(isinstance(t, SymbolicTensor) for t in _flatten([inputs, kwargs.get("initial_state")]))


def _describe(value):
    if isinstance(value, SymbolicTensor):
        return repr(value)
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")


def _as_symbolic_list(layer, value, what):
    """A SymbolicTensor or flat list of them -> (list, was_a_list); anything concrete in it raises ValueError."""
    was_list = isinstance(value, (list, tuple))
    items = list(value) if was_list else [value]
    for i, item in enumerate(items):
        if not isinstance(item, SymbolicTensor):
            where = f"{what}[{i}]" if was_list else what
            raise ValueError(
                f"layer {layer.name!r} was called with a mix of symbolic tensors (from Input or another layer's "
                f"symbolic output) and concrete values: {where} is concrete ({_describe(item)}). In a functional "
                "graph every input and initial state must be symbolic (e.g. make the state an Input, or an output "
                "of an encoder layer with return_state=True); to run a layer on data, call it on arrays only")
    return items, was_list


def _probe(shape, dtype):
    """A tiny concrete stand-in (every axis of size 1) for asking ``compute_mask`` whether a mask comes out:
    only None-or-not matters, so the real sizes (maybe huge) are not needed."""
    return mg.Tensor(np.zeros((1,) * len(shape), dtype=dtype))


def mask_flags(layer, inputs, in_flags, input_is_list, n_out, output_is_list):
    """Which of a call's ``n_out`` outputs carry a mask at run time, given which inputs carry one.

    Asks the layer's own ``compute_mask`` on tiny zero stand-ins of the symbolic inputs, so
    Embedding(mask_zero=True), Masking, RNNs (return_sequences or not) and pass-through layers each answer for
    themselves. A masked input reaching a layer that does not support masking raises TypeError now, as the eager
    call would at run time.
    """
    if any(in_flags) and not layer.supports_masking:
        masked = [t.name for t, f in zip(inputs, in_flags) if f]
        raise TypeError(f"layer {layer.name!r} ({type(layer).__name__}) does not support masking, but its input "
                        f"{', '.join(masked)} carries a mask (from Embedding(mask_zero=True) or Masking upstream); "
                        "remove the masking or put a layer that consumes the mask (e.g. an RNN) in between")
    if hasattr(layer, "output_mask_flags"):  # a nested Model answers from its own graph
        return layer.output_mask_flags(in_flags)
    xs = [_probe(t.shape, t.dtype) for t in inputs]
    ms = [np.ones((1,) * min(2, len(t.shape)), bool) if f else None for t, f in zip(inputs, in_flags)]
    x, m = (xs, ms) if input_is_list else (xs[0], ms[0])
    if input_is_list and all(v is None for v in ms):
        m = None
    try:
        mask = layer.compute_mask(x, m)
    except Exception:  # a compute_mask that cannot take the stand-in: masks pass through if supported
        mask = m
    if output_is_list:
        masks = list(mask) if isinstance(mask, (list, tuple)) else [mask] * n_out
    else:
        masks = [mask[0] if isinstance(mask, (list, tuple)) else mask]
    return [mk is not None for mk in masks]


def call_symbolic(layer, inputs, *args, **kwargs):
    """Record ``layer(inputs, *args, **kwargs)`` as a graph node and return its symbolic output(s).

    Builds the layer from the symbolic shape and checks the shapes now (raising ValueError naming the layer, the
    expected and the found shape). ``initial_state`` is a list of symbolic tensors (edges of the graph) or of
    concrete arrays/Tensors (constants of the graph, as Keras 2.0.4+ accepts), not a mix. Returns a
    SymbolicTensor, or a list of them when the layer returns a list (``return_state=True``).
    """
    if kwargs.get("mask") is not None:
        raise TypeError(f"layer {layer.name!r}: in a functional graph a mask travels with its tensor (from "
                        "Embedding(mask_zero=True) or Masking upstream); do not pass mask=")
    kwargs.pop("mask", None)
    states = kwargs.pop("initial_state", None)
    xs, input_is_list = _as_symbolic_list(layer, inputs, "the input")
    if not xs:
        raise ValueError(f"layer {layer.name!r} was called on an empty list of inputs")
    constant_states = None
    if states is not None:
        items = list(states) if isinstance(states, (list, tuple)) else [states]
        if items and not any(isinstance(s, SymbolicTensor) for s in items):
            constant_states, states = [_constant_state(layer, i, s) for i, s in enumerate(items)], None
        else:
            states, _ = _as_symbolic_list(layer, states, "initial_state")
    shape_arg = [t.shape for t in xs] if input_is_list else xs[0].shape

    def context(err):
        found = ", ".join(f"{t.name} {shape_str(t.shape)}" for t in xs)
        spec = getattr(layer, "input_spec_shape", None) if layer.built else None
        built = f" (built for input shape {shape_str(spec)})" if spec is not None else ""
        return type(err)(f"{err} [graph construction: layer {layer.name!r}{built} called on {found}]")

    # before building: a wrong call must not build the layer for the wrong shapes
    if states is not None:
        _check_states(layer, xs[0].shape, [s.shape for s in states], [s.name for s in states])
    if constant_states is not None:
        _check_states(layer, xs[0].shape, [s.shape for s in constant_states],
                      [f"array {i}" for i in range(len(constant_states))])
    try:
        # A list-input layer is built and checked on its first input, as the eager Layer.__call__ does; a
        # nested model checks every input itself.
        first = shape_arg if hasattr(layer, "output_mask_flags") else xs[0].shape
        if layer.batch_input_shape is not None and not hasattr(layer, "output_mask_flags"):
            layer.check_declared_shape(first)
        layer._maybe_build(first)
        layer.check_input_shape(first)
        out_shape = layer.compute_output_shape(shape_arg)
    except (ValueError, TypeError) as err:
        raise context(err) from err
    output_is_list = isinstance(out_shape, list)
    shapes = out_shape if output_is_list else [out_shape]
    flags = mask_flags(layer, xs, [t.has_mask for t in xs], input_is_list, len(shapes), output_is_list)
    if constant_states is not None:
        kwargs["initial_state"] = constant_states
    node = Node(layer, xs, input_is_list, states, args, kwargs)  # after every check: a failed call leaves no node
    out_dtype = layer.dtype.name
    node.outputs = [SymbolicTensor(s, out_dtype, node, i, name=f"{layer.name}[{node.node_index}][{i}]",
                                   has_mask=flag) for i, (s, flag) in enumerate(zip(shapes, flags))]
    node.output_is_list = output_is_list
    return list(node.outputs) if output_is_list else node.outputs[0]


def _constant_state(layer, i, value):
    """A concrete initial state of a graph node: a float ndarray (a copy, so later changes to the caller's array
    do not change the graph)."""
    data = value.data if isinstance(value, mg.Tensor) else value
    try:
        arr = np.array(data)
    except (ValueError, TypeError) as e:
        raise ValueError(f"layer {layer.name!r}: initial_state[{i}] is not an array ({e})") from None
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"layer {layer.name!r}: initial_state[{i}] must be a numeric array, got dtype {arr.dtype}")
    return arr.astype(layer.dtype)


def state_names(layer):
    """The names of a layer's states (``initial_state`` takes one tensor per name), or None if it has none."""
    names = getattr(layer, "state_names", None)
    if names:
        return list(names)
    size = getattr(layer, "state_size", None)
    if size is None:
        size = getattr(getattr(layer, "cell", None), "state_size", None)
    if size is None:
        return None
    sizes = list(size) if isinstance(size, (list, tuple)) else [size]
    return [f"state {i}" for i in range(len(sizes))]


def _state_sizes(layer, n):
    size = getattr(layer, "state_size", None)
    if size is None:
        size = getattr(getattr(layer, "cell", None), "state_size", None)
    if size is not None:
        sizes = list(size) if isinstance(size, (list, tuple)) else [size]
        if len(sizes) == n:
            return sizes
    return [getattr(layer, "units", None)] * n


def _check_states(layer, input_shape, shapes, labels):
    """Keras 2.0's state_spec check: one state per state of the layer, each of shape (batch, units)."""
    names = state_names(layer)
    if not names:
        raise TypeError(f"layer {layer.name!r} ({type(layer).__name__}) has no states, so it takes no initial_state")
    if len(shapes) != len(names):
        raise ValueError(f"layer {layer.name!r} has {len(names)} state(s) ({', '.join(names)}) but was passed "
                         f"{len(shapes)} initial state(s)")
    for i, (shape, size, label) in enumerate(zip(shapes, _state_sizes(layer, len(names)), labels)):
        want = (input_shape[0], size)
        ok = len(shape) == 2 and (size is None or shape[1] == size) and \
            (want[0] is None or shape[0] is None or shape[0] == want[0])
        if not ok:
            raise ValueError(f"initial state {i} ({names[i]}) is incompatible with layer {layer.name!r}: expected "
                             f"shape {shape_str(want)}, found shape {shape_str(shape)} ({label})")


# ------------------------------------------------------------ graph traversal and execution

def ancestors(outputs):
    """Every Node the ``outputs`` depend on, in creation (= topological) order."""
    seen, stack = {}, [t.node for t in outputs]
    while stack:  # iterative: deep graphs must not hit the recursion limit
        node = stack.pop()
        if node.id in seen:
            continue
        seen[node.id] = node
        stack.extend(t.node for t in node.parents)
    return [seen[k] for k in sorted(seen)]


def find_consumer(nodes, tensor):
    """The first node in ``nodes`` that reads ``tensor`` (for error messages), or None."""
    return next((n for n in nodes if any(p is tensor for p in n.parents)), None)


def run_graph(nodes, feeds, training=False, logit_nodes=None):
    """Execute ``nodes`` (topologically ordered) eagerly on the tape.

    feeds: {id(SymbolicTensor): (Tensor, mask or None)} for the graph's inputs.
    training: the default ``training`` flag of every call (a node recorded with ``training=...`` keeps its own).
    logit_nodes: {node.id: activation} for output layers whose pre-activation the loss wants: such a node is
        called with ``apply_activation=False``; its logits are stored under ("logits", id(output)) and the
        activation is applied for every other consumer.
    Returns ({id(SymbolicTensor): (Tensor, mask)} for every tensor computed, list of activity-penalty Tensors).
    """
    values = dict(feeds)
    activity = []
    for node in nodes:
        if not node.inputs:  # an Input: fed, not computed
            continue
        layer = node.layer
        xs = [values[id(t)][0] for t in node.inputs]
        ms = [values[id(t)][1] for t in node.inputs]
        x = xs if node.input_is_list else xs[0]
        m = ms if node.input_is_list else ms[0]
        if node.input_is_list and all(v is None for v in ms):
            m = None
        kwargs = dict(node.kwargs)
        kwargs.setdefault("training", training)
        activation = (logit_nodes or {}).get(node.id)
        if activation is not None:
            kwargs["apply_activation"] = False
        if node.states is not None:
            kwargs["initial_state"] = [values[id(s)][0] for s in node.states]
        if hasattr(layer, "call_with_masks"):  # a nested Model returns its outputs' masks with its outputs
            out, mask, penalties = layer.call_with_masks(x, m, *node.args, **kwargs)
        else:
            if m is not None:
                kwargs["mask"] = m
            out = layer(x, *node.args, **kwargs)
            mask = layer.compute_mask(x, m)
            penalties = layer.activity_losses  # read now: a shared layer's next call replaces them
        outs = list(out) if node.output_is_list else [out]
        if node.output_is_list:
            masks = list(mask) if isinstance(mask, (list, tuple)) else [mask] * len(outs)
        else:
            masks = [mask[0] if isinstance(mask, (list, tuple)) else mask]
        if activation is not None:
            values[("logits", id(node.outputs[0]))] = (outs[0], masks[0])
            outs = [activation(outs[0])]
            if getattr(layer, "activity_regularizer", None) is not None:
                layer._record_activity(outs[0])  # Keras penalises the activations, not the logits
                penalties = layer.activity_losses
        activity.extend(penalties)
        if penalties and not node.input_is_list:
            layer._note_losses_for(node.inputs[0], penalties)  # get_losses_for(the symbolic input)
        for t, v, mk in zip(node.outputs, outs, masks):
            values[id(t)] = (v, mk)
    return values, activity
