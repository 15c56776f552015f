"""``Sequential``: a linear stack of layers, each fed the previous one's output (and mask).

    model = Sequential()
    model.add(LSTM(32, input_shape=(10, 64)))      # the first layer states the input shape
    model.add(Dense(1, activation='sigmoid'))      # later layers are built from the previous output shape
    model.output_shape                             # (None, 1)
    model.compile('adam', 'binary_crossentropy', metrics=['accuracy'])
    model.fit(x, y, epochs=5)

A Sequential model is also a ``Layer``: ``model(x)`` runs it on an array or Tensor (recorded on the tape), and on
a symbolic tensor it becomes one node of a functional graph; it can be added to another Sequential model and
wrapped in ``TimeDistributed``. Training, evaluation, prediction, weights and weight files come from
``training.TrainingMixin``.
"""
from . import graph
from .base import Layer, restore, shape_str, snapshot
from .serialization import check_depth, deserialize, serialize
from .training import TrainingMixin

__all__ = ["Sequential"]


class Sequential(TrainingMixin, Layer):
    """A linear stack of layers.

    Arguments:
        layers: optional list of layers, added in order with ``add``. If one cannot be added, the construction
            raises and every layer is left exactly as it was (unbuilt layers stay unbuilt and keep ``weights=``).
        name: the model's name (default ``sequential_<n>``).

    Each layer is built as soon as it is added, from the previous layer's output shape (batch axis None unless
    the first layer fixed it with ``batch_input_shape``), so shape errors surface at ``add``. The first layer
    must be given ``input_shape``, ``batch_input_shape`` or ``input_dim`` (Keras 2.0), and the shape it declares
    is enforced when the model runs.
    """
    supports_masking = True
    list_config_ok = True  # Keras 2.0 wrote a Sequential's config as a bare list of layer configs

    def __init__(self, layers=None, name=None):
        if layers is not None and not isinstance(layers, (list, tuple)):
            raise TypeError(f"Sequential expects a list of layers, got {type(layers).__name__}")
        Layer.__init__(self, name=name)
        self._layers = []
        self._output_shape = None
        self._init_training()
        saved = [snapshot(layer) for layer in layers or [] if isinstance(layer, Layer)]
        try:
            for layer in layers or []:
                self.add(layer)
        except BaseException:
            for state in saved:  # a retry must find the layers as they were (unbuilt, weights= not consumed)
                restore(state)
            raise

    # ------------------------------------------------------------ the stack
    @property
    def layers(self):
        """The layers, in order (a copy of the list)."""
        return list(self._layers)

    def add(self, layer):
        """Append ``layer`` and build it from the current output shape.

        Raises:
            TypeError: not a Layer, or a layer with several outputs (e.g. ``return_state=True``).
            ValueError: the first layer has no input shape, the layer (or its name) is already in the model, or
                it cannot take the previous output (the message names the layer and the shape); the model and the
                layer are then unchanged.
        """
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer instance, got {type(layer).__name__}")
        if layer is self:
            raise ValueError(f"model {self.name!r} cannot contain itself")
        if any(layer is other for other in self._layers):
            raise ValueError(f"layer {layer.name!r} is already in model {self.name!r}; create a new layer instead "
                             "(a Sequential model holds each layer once)")
        if any(layer.name == other.name for other in self._layers):
            raise ValueError(f"model {self.name!r} already has a layer named {layer.name!r}; layer names must be "
                             "unique within a model (they key its configs and weight files)")
        if not self._layers:
            if layer.batch_input_shape is not None:
                in_shape = tuple(layer.batch_input_shape)
            elif layer.built and layer._build_shape is not None:
                in_shape = tuple(layer._build_shape)
            else:
                raise ValueError(f"the first layer of a Sequential model ({layer.name!r}, {type(layer).__name__}) "
                                 "must get an `input_shape`, `batch_input_shape` or `input_dim` argument")
        else:
            in_shape = self._output_shape
        saved = snapshot(layer)
        try:
            was_built = layer.built
            if layer.batch_input_shape is not None:
                layer.check_declared_shape(in_shape)
            layer._maybe_build(in_shape)
            if was_built:
                layer.check_input_shape(in_shape)
            out_shape = layer.compute_output_shape(in_shape)
        except ValueError as e:
            restore(saved)
            where = "as the first layer" if not self._layers else \
                f"after layer {self._layers[-1].name!r} with output shape {shape_str(in_shape)}"
            raise ValueError(f"cannot add layer {layer.name!r} ({type(layer).__name__}) to model {self.name!r} "
                             f"{where}: {e}") from e
        except BaseException:
            restore(saved)
            raise
        if isinstance(out_shape, list):
            restore(saved)
            raise TypeError(f"layer {layer.name!r} returns {len(out_shape)} tensors (return_state=True?); a "
                            "Sequential model passes one tensor from layer to layer, use the functional Model")
        if not self._layers:
            self._build_shape = (None,) + tuple(in_shape[1:])
        self._layers.append(layer)
        self._output_shape = tuple(out_shape)
        self.dtype = layer.dtype
        self.built = True

    def pop(self):
        """Remove the last layer (the output shape becomes the new last layer's)."""
        if not self._layers:
            raise TypeError(f"model {self.name!r} has no layers to pop")
        self._layers.pop()
        self._output_shape = None
        if self._layers:
            self._output_shape = tuple(self.compute_output_shape(self.input_shape))
            self.dtype = self._layers[-1].dtype
        else:
            self.built = False
            self._build_shape = None

    @property
    def batch_input_shape(self):
        """The input shape the first layer declared, batch axis first (None when it declared none)."""
        return self._layers[0].batch_input_shape if self._layers else None

    @property
    def input_shape(self):
        """The first layer's input shape, batch axis included (None unless fixed)."""
        self._require_layers()
        layer = self._layers[0]
        return tuple(layer.batch_input_shape if layer.batch_input_shape is not None else layer._build_shape)

    @property
    def output_shape(self):
        """The last layer's output shape, batch axis included, e.g. (None, 32)."""
        self._require_layers()
        return self._output_shape

    # Keras' model.input / model.output: the stack written as a functional graph, made when first asked for, so
    # that a program can cut a model out of it (Model(model.input, model.layers[-2].output))
    @property
    def input(self):
        """The symbolic Input the stack reads (Keras' ``model.input``); with ``output`` and the layers' own
        ``input``/``output`` it lets a functional ``Model`` be cut out of the stack."""
        return self._symbolic_graph()[0]

    @property
    def output(self):
        """The symbolic output of the last layer on ``input`` (Keras' ``model.output``)."""
        return self._symbolic_graph()[1]

    def _symbolic_graph(self):
        self._require_layers()
        cached = self.__dict__.get("_graph")
        if cached is None or cached[2] != [id(layer) for layer in self._layers]:
            first = self._layers[0]
            dtype = first.input_dtype if first.input_dtype is not None else first.dtype
            x = inp = graph.make_input(self.input_shape, dtype.name)
            for layer in self._layers:
                x = layer(x)
            self._graph = cached = (inp, x, [id(layer) for layer in self._layers])
        return cached[0], cached[1]

    def _require_layers(self):
        if not self._layers:
            raise TypeError(f"Sequential model {self.name!r} is empty: add layers first")

    def __repr__(self):
        return f"<Sequential name={self.name!r} layers={[layer.name for layer in self._layers]}>"

    # ------------------------------------------------------------ the Layer side (nested in another model)
    def _maybe_build(self, shape):
        self._require_layers()  # a Sequential model is built by its add calls

    def check_input_shape(self, shape):
        """Check an input shape (batch axis first) against the model's: its rank and every known size."""
        self._require_layers()
        want = self.input_shape
        if len(shape) != len(want) or any(w is not None and s is not None and w != s
                                          for w, s in zip(want[1:], shape[1:])):
            raise ValueError(f"model {self.name!r} expects input of shape {shape_str(want)}, found shape "
                             f"{shape_str(shape)}")

    def check_declared_shape(self, shape):
        self.check_input_shape(shape)

    def compute_output_shape(self, input_shape):
        self._require_layers()
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    @property
    def activity_losses(self):
        """The activity penalties of the latest run, layer by layer."""
        return [p for layer in self._layers for p in layer.activity_losses]

    def output_mask_flags(self, input_flags):
        """Whether the output carries a mask when the input does (``input_flags``: one bool), for graphs."""
        (flag,) = input_flags
        shape = self.input_shape
        for layer in self._layers:
            probe = graph.SymbolicTensor(shape, layer.dtype.name)
            out_shape = layer.compute_output_shape(shape)
            (flag,) = graph.mask_flags(layer, [probe], [flag], False, 1, False)
            shape = out_shape
        return [flag]

    def call_with_masks(self, inputs, mask=None, training=False, **kwargs):
        """Run on a concrete input with its mask; returns (output, output mask, activity penalties)."""
        if kwargs:
            raise TypeError(f"model {self.name!r} got unexpected call argument(s) {', '.join(sorted(kwargs))}")
        (out,), (out_mask,) = self._forward([inputs], training=training, input_masks=[mask])
        return out, out_mask, self.activity_losses

    def __call__(self, inputs, *args, **kwargs):
        """``model(x)`` on an array or Tensor (batch, ...): the output Tensor (on the tape, so ``backward()``
        reaches the weights); ``mask=`` and ``training=`` as for any layer. On a symbolic tensor: records the
        model as one node of a functional graph."""
        if graph.is_symbolic(inputs, kwargs):
            return graph.call_symbolic(self, inputs, *args, **kwargs)
        if args:
            raise TypeError(f"model {self.name!r}: pass training/mask as keyword arguments")
        out, _, penalties = self.call_with_masks(inputs, **kwargs)
        if penalties:
            self._note_losses_for(inputs, penalties)
        return out

    def compute_mask(self, inputs, mask=None):
        raise NotImplementedError("a Sequential model's output mask comes from running it: use call_with_masks")

    # ------------------------------------------------------------ configs
    def get_config(self):
        """``{'name', 'layers': [serialize(layer), ...]}`` (and ``'trainable': False`` for a frozen model)."""
        config = {"name": self.name, "layers": [serialize(layer) for layer in self._layers]}
        if not self.trainable:
            config["trainable"] = False
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new Sequential model from ``get_config()``'s output, or from Keras 2.0's list of layer configs."""
        check_depth(config)
        if isinstance(config, list):
            config = {"layers": config}
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError(f"a Sequential config is {{'name': ..., 'layers': [...]}} (or a list of layer configs), "
                             f"got {config!r:.200}")
        name, trainable = config.get("name"), config.get("trainable", True)
        model = cls(name=name)
        for i, entry in enumerate(config["layers"]):
            if not isinstance(entry, dict):
                raise ValueError(f"Sequential config: layers[{i}] must be a dict {{'class_name', 'config'}}, got "
                                 f"{entry!r:.200}")
            model.add(deserialize(entry, custom_objects=custom_objects))
        model.trainable = trainable
        return model

    # ------------------------------------------------------------ the model protocol (see training.py)
    _num_inputs = 1
    _num_outputs = 1

    @property
    def _output_layers(self):
        self._require_layers()
        return [self._layers[-1]]

    def _forward(self, inputs, training=False, logits=None, input_masks=None):
        """Run the stack on ``inputs`` (a list of one array or Tensor, (batch, ...)).

        Each layer gets the previous output and mask: ``out = layer(x, mask=mask, training=training)``, then
        ``mask = layer.compute_mask(x, mask)`` (a nested model returns its mask with its output). A mask reaching
        a layer that does not support masking raises TypeError naming the layer (Keras semantics; e.g. Flatten
        after a masked return_sequences RNN). With ``logits=[True]`` the last layer is called with
        ``apply_activation=False``. ``input_masks``: None or [the input's mask].

        Returns ([output Tensor], [mask reaching the output, or None]).
        """
        self._require_layers()
        (x,) = inputs
        mask = input_masks[0] if input_masks else None
        last = len(self._layers) - 1
        for i, layer in enumerate(self._layers):
            kwargs = {"apply_activation": False} if i == last and logits and logits[0] else {}
            if hasattr(layer, "call_with_masks"):
                if mask is not None and not layer.supports_masking:
                    raise TypeError(f"layer {layer.name!r} does not support masking, but was passed an input mask")
                x, mask, _ = layer.call_with_masks(x, mask, training=training, **kwargs)
                continue
            out = layer(x, mask=mask, training=training, **kwargs)
            mask = layer.compute_mask(x, mask)
            x = out
        return [x], [mask]
