"""The layer registry and serialize / deserialize by class name."""
import pytest

import layers
from layers import Dense, Layer, serialization


def test_builtin_layers_are_registered_by_class_name():
    assert serialization.get_class("Dense") is Dense
    assert serialization.get_class("LSTM") is layers.LSTM


def test_user_layer_joins_with_register_or_custom_objects():
    class Scale(Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    config = serialization.serialize(Scale(3.0, name="scale_a"))
    with pytest.raises(ValueError, match="Unknown layer class 'Scale'.*custom_objects"):
        serialization.deserialize(config)
    again = serialization.deserialize(config, custom_objects={"Scale": Scale})
    assert (type(again), again.factor, again.name) == (Scale, 3.0, "scale_a")
    serialization.register(Scale)
    try:
        assert serialization.deserialize(config).factor == 3.0
    finally:
        serialization._REGISTRY.pop("Scale")


@pytest.mark.parametrize("bad", [None, [], {"config": {}}, {"class_name": "Dense", "config": [1]}])
def test_malformed_configs_raise_value_error(bad):
    with pytest.raises(ValueError):
        serialization.deserialize(bad)
