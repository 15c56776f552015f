"""``Sequential``: a linear stack of layers, each fed the previous one's output (and mask).

    model = Sequential()
    model.add(LSTM(32, input_shape=(10, 64)))      # the first layer states the input shape
    model.add(Dense(1, activation='sigmoid'))      # later layers are built from the previous output shape
    model.output_shape                             # (None, 1)
    model.compile('adam', 'binary_crossentropy', metrics=['accuracy'])
    model.fit(x, y, epochs=5)

Training, evaluation, prediction, weights and weight files come from ``training.TrainingMixin``.
"""
from .base import Layer, shape_str, unique_name
from .training import TrainingMixin

__all__ = ["Sequential"]


class Sequential(TrainingMixin):
    """A linear stack of layers.

    Arguments:
        layers: optional list of layers, added in order with ``add``.
        name: the model's name (default ``sequential_<n>``).

    Each layer is built as soon as it is added, from the previous layer's output shape (batch axis None unless
    the first layer fixed it with ``batch_input_shape``), so shape errors surface at ``add``. The first layer
    must be given ``input_shape``, ``batch_input_shape`` or ``input_dim`` (Keras 2.0).
    """

    def __init__(self, layers=None, name=None):
        self.name = name or unique_name("sequential")
        self._layers = []
        self._output_shape = None
        self._init_training()
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------ the stack
    @property
    def layers(self):
        """The layers, in order (a copy of the list)."""
        return list(self._layers)

    def add(self, layer):
        """Append ``layer`` and build it from the current output shape.

        Raises:
            TypeError: not a Layer, or a layer with several outputs (e.g. ``return_state=True``).
            ValueError: the first layer has no input shape, the layer is already in the model, or it cannot take
                the previous output (the message names the layer and the shape); the model is then unchanged.
        """
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer instance, got {type(layer).__name__}")
        if any(layer is other for other in self._layers):
            raise ValueError(f"layer {layer.name!r} is already in model {self.name!r}; create a new layer instead "
                             "(a Sequential model holds each layer once)")
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
        try:
            was_built = layer.built
            layer._maybe_build(in_shape)
            if was_built:
                layer.check_input_shape(in_shape)
            out_shape = layer.compute_output_shape(in_shape)
        except ValueError as e:
            where = "as the first layer" if not self._layers else \
                f"after layer {self._layers[-1].name!r} with output shape {shape_str(in_shape)}"
            raise ValueError(f"cannot add layer {layer.name!r} ({type(layer).__name__}) to model {self.name!r} "
                             f"{where}: {e}") from e
        if isinstance(out_shape, list):
            raise TypeError(f"layer {layer.name!r} returns {len(out_shape)} tensors (return_state=True?); a "
                            "Sequential model passes one tensor from layer to layer, use the functional Model")
        self._layers.append(layer)
        self._output_shape = tuple(out_shape)

    def pop(self):
        """Remove the last layer (the output shape becomes the new last layer's)."""
        if not self._layers:
            raise TypeError(f"model {self.name!r} has no layers to pop")
        self._layers.pop()
        self._output_shape = None
        if self._layers:
            shape = self.input_shape
            for layer in self._layers:
                shape = layer.compute_output_shape(shape)
            self._output_shape = tuple(shape)

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

    def _require_layers(self):
        if not self._layers:
            raise TypeError(f"Sequential model {self.name!r} is empty: add layers first")

    def __repr__(self):
        return f"<Sequential name={self.name!r} layers={[layer.name for layer in self._layers]}>"

    # ------------------------------------------------------------ the model protocol (see training.py)
    _num_inputs = 1
    _num_outputs = 1

    @property
    def _output_layers(self):
        self._require_layers()
        return [self._layers[-1]]

    def _forward(self, inputs, training=False, logits=None):
        """Run the stack on ``inputs`` (a list of one array or Tensor, (batch, ...)).

        Each layer gets the previous output and mask: ``out = layer(x, mask=mask, training=training)``, then
        ``mask = layer.compute_mask(x, mask)``. A mask reaching a layer that does not support masking raises
        TypeError naming the layer (Keras semantics; e.g. Flatten after a masked return_sequences RNN).
        With ``logits=[True]`` the last layer is called with ``apply_activation=False``.

        Returns ([output Tensor], [mask reaching the output, or None]).
        """
        self._require_layers()
        (x,) = inputs
        mask = None
        last = len(self._layers) - 1
        for i, layer in enumerate(self._layers):
            kwargs = {"apply_activation": False} if i == last and logits and logits[0] else {}
            out = layer(x, mask=mask, training=training, **kwargs)
            mask = layer.compute_mask(x, mask)
            x = out
        return [x], [mask]

    def __call__(self, x, training=False):
        """Run the model eagerly on an array or Tensor (batch, ...); returns the output Tensor (on the tape, so
        ``backward()`` reaches the weights)."""
        return self._forward([x], training=training)[0][0]
