"""``Layer``: the base of every layer, and ``Weight``, the Tensor a layer's ``add_weight`` makes.

A layer is called eagerly on a Tensor or ndarray and returns a ``minigrad.Tensor``; the call is recorded on the tape
like any op, so ``backward()`` reaches the layer's weights. Called on a symbolic tensor from ``Input(...)``, it
records a node of a functional graph instead (see ``layers/graph.py``).

Weights are built on the first call, from the input's shape. A shape given to the constructor (``input_shape``,
``batch_input_shape``, ``input_dim``, ``input_length``) is a promise about every input: a call on anything else
raises ValueError naming the declared shape (the batch axis is free unless the layer is stateful).
"""
import collections
import numbers
import re
import warnings
from collections import defaultdict

import numpy as np

import minigrad as mg

from . import constraints, initializers, regularizers, serialization

_name_counts = defaultdict(int)
_NUMBERED = re.compile(r"^(.+)_(\d+)$")


def _snake(name):
    """``SimpleRNN`` -> ``simple_rnn``, ``TimeDistributed`` -> ``time_distributed`` (acronyms stay one word)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def unique_name(prefix):
    """Keras-style automatic names: ``lstm_1``, ``lstm_2``, ..."""
    _name_counts[prefix] += 1
    return f"{prefix}_{_name_counts[prefix]}"


def note_name(name):
    """Advance the automatic counter past an explicitly given name: after a layer named (or restored as)
    ``lstm_7``, the next automatic LSTM name is at least ``lstm_8``, so restored and new layers never collide."""
    match = _NUMBERED.match(name)
    if match:
        prefix, number = match.group(1), int(match.group(2))
        _name_counts[prefix] = max(_name_counts[prefix], number)


def to_tensor(x, dtype=None):
    """Wrap an ndarray (or list) as a Tensor; floating arrays are cast to ``dtype`` (the layer's float type)."""
    if isinstance(x, mg.Tensor):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"expected a numeric array or minigrad.Tensor, got {type(x).__name__} of dtype {arr.dtype}")
    if dtype is not None and arr.dtype.kind == "f" and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return mg.Tensor(arr)


def shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def pop_legacy_kwargs(layer_name, kwargs, renames):
    """Move Keras 1 argument names to their Keras 2 names with a DeprecationWarning.

    renames: {old_name: (new_name, value_map or None)}. Giving both the old and the new name raises TypeError.
    """
    for old, (new, value_map) in renames.items():
        if old not in kwargs:
            continue
        value = kwargs.pop(old)
        if new in kwargs:
            raise TypeError(f"{layer_name} received both the Keras 1 argument `{old}` and the Keras 2 argument "
                            f"`{new}`; pass only `{new}`")
        if value_map is not None:
            value = value_map(value)
        warnings.warn(f"{layer_name}: `{old}` is a Keras 1 name, use `{new}` instead", DeprecationWarning,
                      stacklevel=4)
        kwargs[new] = value
    return kwargs


def is_positive_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0


def check_positive_int(owner, name, value):
    """``int(value)`` if it is a positive integer (bools refused), else ValueError naming the argument."""
    if not is_positive_int(value):
        raise ValueError(f"{owner}: `{name}` must be a positive integer, got {value!r}")
    return int(value)


def _check_shape_arg(owner, name, shape):
    """A declared shape as a tuple whose entries are positive ints or None (ValueError otherwise)."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise ValueError(f"{owner}: `{name}` must be a tuple of positive integers or None, got {shape!r}")
    for d in shape:
        if d is not None and not is_positive_int(d):
            raise ValueError(f"{owner}: `{name}` entries must be positive integers or None, got {tuple(shape)!r}")
    return tuple(None if d is None else int(d) for d in shape)


# ================================================================ weights

class Weight(mg.Tensor):
    """A layer's weight: a Tensor with the layer-level attributes the training loop reads.

    ``regularizer``: None or a callable Tensor -> scalar Tensor, the weight's penalty (added to the loss);
    ``constraint``: None or a callable ndarray -> ndarray, applied by the optimizer after each update (read as
    ``getattr(p, 'constraint', None)``, so ``optim`` needs no import of ``layers``); ``trainable``: whether the
    weight is trained when its layer is (its gradient is recorded only while both are trainable).
    """
    __slots__ = ("constraint", "regularizer", "trainable")

    def __init__(self, data, trainable=True, name=None, regularizer=None, constraint=None):
        super().__init__(data, requires_grad=trainable, name=name)
        self.trainable = bool(trainable)
        self.regularizer = regularizer
        self.constraint = constraint


def _numeric_array(value, what):
    """``value`` (array-like or Tensor) as a real numeric ndarray, else ValueError naming ``what``."""
    if isinstance(value, mg.Tensor):
        value = value.data
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as e:  # ragged nested lists
        raise ValueError(f"{what} is not an array: {e}") from None
    if arr.dtype.kind == "c":
        raise ValueError(f"{what} has complex dtype {arr.dtype}; weights are real (take .real explicitly)")
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{what} must be a numeric (int or float) array, got dtype {arr.dtype}")
    return arr


def checked_weight_values(targets, values, owner):
    """The new values for ``targets`` (weight Tensors), checked and cast, or an exception before anything is set.

    ``values``: a list (or tuple) with one array-like or Tensor per target. Checks the count, each value's kind
    (real numbers: not complex, bool, object or text), shape, and that it fits the weight's dtype (1e300 does
    not fit float32: it would become inf). Returns the arrays cast to the targets' dtypes (new arrays).
    """
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{owner}: set_weights expects a list of arrays (one per weight), got "
                        f"{type(values).__name__}")
    if len(values) != len(targets):
        raise ValueError(f"{owner} expects {len(targets)} weights of shapes {[tuple(w.shape) for w in targets]}, "
                         f"but got a list of {len(values)}")
    out = []
    for i, (w, value) in enumerate(zip(targets, values)):
        what = f"{owner}: weight {i} ({w.name})"
        arr = _numeric_array(value, what)
        if arr.shape != w.shape:
            raise ValueError(f"{what} has shape {tuple(w.shape)}, but the provided array has shape {arr.shape} "
                             f"(expected shapes: {[tuple(t.shape) for t in targets]})")
        with np.errstate(over="ignore", invalid="ignore"):
            cast = np.array(arr, dtype=w.dtype)
        if arr.dtype.kind == "f" and cast.dtype.kind == "f" and np.any(np.isinf(cast) & np.isfinite(arr)):
            biggest = float(np.max(np.abs(arr[np.isfinite(arr)])))
            raise ValueError(f"{what}: values up to {biggest:g} overflow the weight's dtype {w.dtype} (largest "
                             f"{float(np.finfo(w.dtype).max):g})")
        out.append(cast)
    return out


def _layer_children(value):
    if isinstance(value, Layer):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, Layer)]
    return []


def snapshot(layer):
    """The state of ``layer`` and of the layers it holds, to be put back by ``restore`` when an operation that
    builds them fails (a failed build, a failed ``Sequential([...])``): attribute dicts, with their lists and dicts
    copied one level deep (``add_weight`` appends to a list)."""
    saved, stack, seen = [], [layer], set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        state = {k: (v.copy() if isinstance(v, (list, dict)) else v) for k, v in obj.__dict__.items()}
        saved.append((obj, state))
        for v in obj.__dict__.values():
            stack.extend(_layer_children(v))
    return saved


def restore(saved):
    """Put back a ``snapshot``."""
    for obj, state in saved:
        obj.__dict__.clear()
        obj.__dict__.update(state)


# ================================================================ the base layer

class Layer:
    """Base layer.

    Keyword arguments every layer takes: ``name``, ``trainable``, ``input_shape`` (without the batch),
    ``batch_input_shape`` (with it), ``batch_size``, ``input_dim``, ``input_length`` (for layers whose input is a
    sequence), ``weights`` (initial values, set right after build), ``dtype`` (default float32),
    ``activity_regularizer`` (a penalty on the layer's outputs).
    Subclasses implement ``build(input_shape)``, ``call(inputs, mask=None, training=False)`` and
    ``compute_output_shape(input_shape)``; masking layers also ``compute_mask(inputs, mask)``; layers with
    constructor arguments of their own extend ``get_config`` (and ``from_config`` when an argument is a layer).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # the package's own public layers; private bases (_Merge) are not in configs, and a user's layer joins with
        # register
        if cls.__module__.split(".")[0] == "layers" and not cls.__name__.startswith("_"):
            serialization.register(cls)

    _allowed_kwargs = {"name", "trainable", "input_shape", "batch_input_shape", "batch_size", "input_dim",
                       "input_length", "weights", "dtype", "activity_regularizer"}
    supports_masking = False

    def __init__(self, **kwargs):
        owner = type(self).__name__
        unknown = set(kwargs) - self._allowed_kwargs
        if unknown:
            raise TypeError(f"{owner}: keyword argument(s) not understood: {', '.join(sorted(unknown))}")
        name = kwargs.get("name")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"{owner}: `name` must be a non-empty string, got {name!r}")
        trainable = kwargs.get("trainable", True)
        if not isinstance(trainable, (bool, np.bool_)):
            raise ValueError(f"{owner}: `trainable` must be True or False, got {trainable!r}")
        dtype = kwargs.get("dtype") or "float32"
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise ValueError(f"{owner}: unknown dtype {kwargs.get('dtype')!r}") from None
        input_dtype = None
        if dtype.kind in "iu":
            # Keras 2.0: the dtype of a first layer is its input's type (integer ids for an Embedding); the layer
            # itself then computes in float32
            input_dtype, dtype = dtype, np.dtype("float32")
        elif dtype.kind != "f":
            raise ValueError(f"{owner}: a layer computes in a floating dtype (float32 or float64), or takes integer "
                             f"inputs (an integer dtype names the input's type), got {dtype}")
        initial = kwargs.get("weights")
        if initial is not None and not isinstance(initial, (list, tuple)):
            raise TypeError(f"{owner}: `weights` must be a list of arrays, got {type(initial).__name__}")
        batch_input_shape = self._batch_input_shape_from(kwargs)  # validated before anything is assigned
        activity_regularizer = regularizers.get(kwargs.get("activity_regularizer"))

        self._weights = []           # every weight this layer created, in creation (Keras) order
        self._activity_losses = []
        self._losses_by_input = collections.OrderedDict()
        self._trainable = bool(trainable)
        if name is None:
            name = unique_name(_snake(owner))
        else:
            note_name(name)
        self.name = name
        self.dtype = dtype
        self.input_dtype = input_dtype  # set when the layer was given an integer dtype (its input's type)
        self.activity_regularizer = activity_regularizer
        self._initial_weights = None if initial is None else list(initial)
        self.built = False
        self.input_spec_shape = None  # the input shape (batch included) fixed at build; None entries are free
        self._build_shape = None
        self._batch_input_shape = batch_input_shape

    def _batch_input_shape_from(self, kwargs):
        owner = type(self).__name__
        batch = kwargs.get("batch_size")
        if batch is not None:
            batch = check_positive_int(owner, "batch_size", batch)
        for arg in ("input_dim", "input_length"):
            if kwargs.get(arg) is not None:
                check_positive_int(owner, arg, kwargs[arg])
        if kwargs.get("batch_input_shape") is not None:
            return _check_shape_arg(owner, "batch_input_shape", kwargs["batch_input_shape"])
        if kwargs.get("input_shape") is not None:
            return (batch,) + _check_shape_arg(owner, "input_shape", kwargs["input_shape"])
        if kwargs.get("input_dim") is not None:
            if kwargs.get("input_length") is not None:
                return (batch, kwargs["input_length"], kwargs["input_dim"])
            return (batch, kwargs["input_dim"])
        return None

    @property
    def batch_input_shape(self):
        """The input shape declared at construction, batch axis first (None if no shape was declared)."""
        return self._batch_input_shape

    # ------------------------------------------------------------ trainability
    @property
    def trainable(self):
        """Whether ``fit`` updates this layer's weights. Settable at any time (before or after build): the
        weights' gradients are recorded only while the layer is trainable."""
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"layer {getattr(self, 'name', type(self).__name__)!r}: `trainable` must be True or "
                             f"False, got {value!r}")
        self._trainable = bool(value)
        for w in self.__dict__.get("_weights", ()):  # also before Layer.__init__ ran (a subclass setting it first)
            w.requires_grad = self._trainable and getattr(w, "trainable", True)

    # ------------------------------------------------------------ weights
    def add_weight(self, name, shape, initializer="zeros", regularizer=None, constraint=None, trainable=True,
                   value=None):
        """Create a ``Weight`` of ``shape``, initialised by ``initializer`` (or set to ``value``), and register it.

        Its name is ``<layer name>/<name>``; ``regularizer`` and ``constraint`` are resolved by their modules'
        ``get`` (names, config dicts or callables).
        """
        regularizer, constraint = regularizers.get(regularizer), constraints.get(constraint)
        data = value if value is not None else initializers.get(initializer)(tuple(shape), dtype=self.dtype)
        w = Weight(np.asarray(data, dtype=self.dtype), trainable=trainable, name=f"{self.name}/{name}",
                   regularizer=regularizer, constraint=constraint)
        w.requires_grad = self._trainable and w.trainable
        self._weights.append(w)
        return w

    @property
    def weights(self):
        """Every weight Tensor of the layer, in Keras order."""
        return list(self._weights)

    @property
    def trainable_weights(self):
        """The weights ``fit`` updates: every trainable weight while the layer is trainable, else none."""
        if not self.trainable:
            return []
        return [w for w in self.weights if getattr(w, "trainable", True)]

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    def count_params(self):
        return int(sum(w.size for w in self.weights))

    def get_weights(self):
        """Copies of the weights as ndarrays, in Keras order ([] before the layer is built)."""
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights):
        """Set every weight from a list of arrays (or Tensors), in ``get_weights`` order.

        Everything is checked before the first weight changes (count, shapes, real numeric values that fit the
        weight's dtype), so a bad list raises and changes nothing. On a layer that has no weights yet, an empty
        list is a no-op (as ``set_weights(get_weights())`` is in Keras) and anything else raises RuntimeError.
        """
        if not isinstance(weights, (list, tuple)):
            raise TypeError(f"layer {self.name!r}: set_weights expects a list of arrays, got "
                            f"{type(weights).__name__}")
        if not self.built and not self.weights:
            if len(weights) == 0:
                return
            raise RuntimeError(f"layer {self.name!r} has no weights yet: call it on an input (or build it) first, "
                               f"then set its weights (got a list of {len(weights)})")
        targets = self.weights
        arrays = checked_weight_values(targets, weights, f"layer {self.name!r}")
        for w, new in zip(targets, arrays):
            w.data = new

    # ------------------------------------------------------------ losses
    @property
    def losses(self):
        """Regularisation penalties as scalar Tensors: weight penalties (on the current weights) and the
        activity penalties of the latest call."""
        return self.weight_losses + self.activity_losses

    @property
    def weight_losses(self):
        """The weight penalties (each weight's regularizer on its current value), scalar Tensors."""
        return [w.regularizer(w) for w in self.weights if getattr(w, "regularizer", None) is not None]

    @property
    def activity_losses(self):
        """The activity penalties of the latest call (scalar Tensors)."""
        return list(self._activity_losses)

    def get_losses_for(self, inputs):
        """Keras 2.0's conditional losses. ``get_losses_for(None)``: the penalties that depend on no input (the
        weight penalties); ``get_losses_for(inputs)``: the activity penalties of this layer's call on ``inputs``
        (the same object the layer was called on: an array, Tensor or symbolic tensor, after the model ran), or
        [] if it was not called on them recently (the last few calls are remembered; calls with
        ``training=True``, one per batch in ``fit``, are not)."""
        if inputs is None:
            return self.weight_losses
        entry = self._losses_by_input.get(id(inputs))
        return list(entry[1]) if entry is not None and entry[0] is inputs else []

    _LOSSES_KEPT = 8  # calls whose activity penalties get_losses_for can still answer for

    def _note_losses_for(self, inputs, penalties):
        book = self.__dict__.setdefault("_losses_by_input", collections.OrderedDict())
        book.pop(id(inputs), None)
        book[id(inputs)] = (inputs, list(penalties))  # the object is kept, so its id cannot be reused meanwhile
        while len(book) > self._LOSSES_KEPT:
            book.popitem(last=False)

    # ------------------------------------------------------------ shapes and masks
    def build(self, input_shape):
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, mask=None):
        return mask if self.supports_masking else None

    @property
    def input_shape(self):
        """The input shape with the batch axis (None unless fixed by ``batch_input_shape``)."""
        if self.batch_input_shape is not None:
            return self.batch_input_shape
        if self._build_shape is not None:
            return self._build_shape
        raise AttributeError(f"layer {self.name!r} has no known input shape yet (it has not been called or built)")

    @property
    def output_shape(self):
        return self.compute_output_shape(self.input_shape)

    @property
    def input_dim(self):
        return self.input_shape[-1]

    @property
    def input_length(self):
        return self.input_shape[1] if len(self.input_shape) > 2 else None

    def check_declared_shape(self, shape):
        """Raise ValueError if ``shape`` (batch axis first) contradicts the shape declared at construction: its
        rank, or any non-batch size the declaration fixed. The batch axis is checked by stateful layers.

        The declaration governs the build: once a layer is built (by its first call, or by an explicit
        ``build(shape)``, which Keras lets override the declaration) the built shape is what ``check_input_shape``
        holds calls to."""
        declared = self.batch_input_shape
        if declared is None or self.built:
            return
        if len(shape) != len(declared) or any(
                d is not None and s is not None and d != s for d, s in zip(declared[1:], shape[1:])):
            raise ValueError(f"layer {self.name!r} was declared with input shape {shape_str(declared)} (batch axis "
                             f"first; from input_shape/input_dim/input_length/batch_input_shape), but was called on "
                             f"an input of shape {shape_str(shape)}")

    def check_input_shape(self, shape):
        """Raise ValueError if ``shape`` does not fit the shape fixed at build (None entries match anything)."""
        spec = self.input_spec_shape
        if spec is None:
            return
        if len(shape) != len(spec):
            raise ValueError(f"layer {self.name!r} expects input of ndim={len(spec)} (shape {shape_str(spec)}), "
                             f"found ndim={len(shape)} (shape {shape_str(shape)})")
        for want, got in zip(spec, shape):
            if want is not None and got is not None and want != got:
                raise ValueError(f"layer {self.name!r} is incompatible with the input: expected shape "
                                 f"{shape_str(spec)}, found shape {shape_str(shape)}")

    def _maybe_build(self, shape):
        """Build from ``shape`` on the first call and set the ``weights=`` given at construction. All or nothing:
        if building or setting those weights fails, the layer is left unbuilt with its ``weights=`` kept."""
        if self.built:
            return
        saved = snapshot(self)
        try:
            self._build_shape = (None,) + tuple(shape[1:])
            self.build(tuple(shape))
            self.built = True
            if self._initial_weights is not None:
                initial, self._initial_weights = self._initial_weights, None
                self.set_weights(initial)
        except BaseException:
            restore(saved)
            raise

    # ------------------------------------------------------------ calling
    def __call__(self, inputs, *args, **kwargs):
        from . import graph  # the functional API; imported late because it builds on this module
        if graph.is_symbolic(inputs, kwargs):
            return graph.call_symbolic(self, inputs, *args, **kwargs)
        mask = kwargs.pop("mask", None)
        if mask is not None and not self.supports_masking:
            raise TypeError(f"layer {self.name!r} ({type(self).__name__}) does not support masking, but was passed "
                            "an input mask; remove the masking layer or use a layer that handles masks")
        x = self._prepare_inputs(inputs)
        shape = x.shape if isinstance(x, mg.Tensor) else x[0].shape
        if self._batch_input_shape is not None:
            self.check_declared_shape(shape)
        self._maybe_build(shape)
        self.check_input_shape(shape)
        out = self.call(x, *args, mask=mask, **kwargs)
        self._record_activity(out)
        if self.activity_regularizer is not None and not kwargs.get("training"):
            # not while training: each penalty keeps its call's graph alive, and fit makes one call per batch
            self._note_losses_for(inputs, self._activity_losses)
        return out

    def _prepare_inputs(self, inputs):
        if isinstance(inputs, (list, tuple)):
            return [to_tensor(t, self.dtype) for t in inputs]
        return to_tensor(inputs, self.dtype)

    def _record_activity(self, out):
        if self.activity_regularizer is None:
            self._activity_losses = []
            return
        outs = out if isinstance(out, (list, tuple)) else [out]
        self._activity_losses = [self.activity_regularizer(o) for o in outs]

    def call(self, inputs, mask=None, training=False):
        return inputs

    # ------------------------------------------------------------ calls in functional graphs
    @property
    def input(self):
        """The symbolic tensor(s) the layer was called on in a functional graph (a list when the call read
        several: a list of inputs, or an input and its initial states). Only for a layer called once; a shared
        layer answers ``get_input_at(i)``."""
        return self._node_attribute(None, "input_tensors", "input")

    @property
    def output(self):
        """The symbolic output(s) of the layer's call in a functional graph (a list for several, e.g. with
        ``return_state=True``). Only for a layer called once; a shared layer answers ``get_output_at(i)``."""
        return self._node_attribute(None, "output_tensors", "output")

    def get_input_at(self, node_index):
        """The symbolic input(s) of the layer's call number ``node_index`` (0 first) in functional graphs."""
        return self._node_attribute(node_index, "input_tensors", "input")

    def get_output_at(self, node_index):
        """The symbolic output(s) of the layer's call number ``node_index`` (0 first) in functional graphs."""
        return self._node_attribute(node_index, "output_tensors", "output")

    def _node_attribute(self, node_index, attr, what):
        nodes = self.__dict__.get("_inbound_nodes", [])
        if not nodes:
            raise AttributeError(f"layer {self.name!r} has not been called on a symbolic tensor (from Input), so it "
                                 f"has no {what}")
        if node_index is None:  # .input / .output: defined for a layer called once
            if len(nodes) > 1:
                raise AttributeError(f"layer {self.name!r} was called {len(nodes)} times in functional graphs, so "
                                     f"its {what} is ambiguous: use get_{what}_at(i) for call i")
            node_index = 0
        if isinstance(node_index, bool) or not isinstance(node_index, (int, np.integer)) \
                or not 0 <= node_index < len(nodes):
            raise ValueError(f"layer {self.name!r}: node_index must be an integer in [0, {len(nodes)}) (it was "
                             f"called {len(nodes)} time(s) in functional graphs), got {node_index!r}")
        values = getattr(nodes[node_index], attr)
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------ configs
    def get_config(self):
        """The constructor arguments as a JSON-safe dict (see ``layers.serialization``); subclasses extend it.

        The base arguments: ``name``, ``trainable``, ``dtype``, ``activity_regularizer`` and, when a shape was
        declared, ``batch_input_shape``. Initial ``weights`` are not part of a config (Keras: a config makes a
        fresh layer; weights travel in weight files).
        """
        dtype = self.dtype if self.input_dtype is None else self.input_dtype
        config = {"name": self.name, "trainable": self.trainable, "dtype": dtype.name,
                  "activity_regularizer": serialization.serialize_object(self.activity_regularizer, "regularizer")}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = tuple(self.batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new layer from ``get_config()``'s output (fresh weights). Names of the user's own functions and
        classes (activations, initializers, regularizers, constraints) are looked up in ``custom_objects``.
        Containers and wrappers override this to rebuild their nested layers with
        ``serialization.deserialize(..., custom_objects)``."""
        return cls(**serialization.resolve_objects(config, custom_objects))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"
