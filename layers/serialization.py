"""Layer configs by class name: ``serialize`` / ``deserialize`` and the registry that maps names to classes.

    config = serialize(LSTM(8, return_sequences=True))   # {'class_name': 'LSTM', 'config': {...}}, JSON-safe
    layer = deserialize(config)                           # an equivalent LSTM (fresh weights)

Every layer class defined in this package is registered under its class name when it is defined. A user's layer
or cell joins with the ``register`` decorator, or is named for one call in ``custom_objects``
(``{'MyCell': MyCell}``), which takes precedence over the registry.

A layer's ``get_config()`` lists its constructor arguments (initializers, regularizers, constraints and activations
serialised by name and config; nested layers by ``serialize``); ``Layer.from_config(config, custom_objects)``
inverts it, by default as ``cls(**config)``. Wrappers and containers override ``from_config`` to rebuild their
nested layers with ``deserialize``.
"""

__all__ = ["register", "registered", "get_class", "serialize", "deserialize"]

_REGISTRY = {}


def register(cls=None, *, name=None):
    """Make a layer class known to ``deserialize`` under ``name`` (default: its class name).

    Use as ``@register`` or ``@register(name='Custom>MyCell')``; returns the class unchanged. Registering another
    class under a taken name replaces it (a class redefined in a notebook).
    """
    def add(klass):
        if not isinstance(klass, type):
            raise TypeError(f"register expects a class, got {type(klass).__name__}")
        _REGISTRY[name or klass.__name__] = klass
        return klass
    return add if cls is None else add(cls)


def registered():
    """A copy of the registry: {class name: class}."""
    return dict(_REGISTRY)


def get_class(class_name, custom_objects=None):
    """The class registered (or given in ``custom_objects``) under ``class_name``; ValueError names the unknown
    name and how to make it known."""
    if custom_objects and class_name in custom_objects:
        return custom_objects[class_name]
    if class_name in _REGISTRY:
        return _REGISTRY[class_name]
    raise ValueError(f"Unknown layer class {class_name!r}: pass it in custom_objects={{{class_name!r}: "
                     f"{class_name}}} or register it with @layers.register")


def serialize(layer):
    """``{'class_name': type(layer).__name__, 'config': layer.get_config()}``."""
    if not hasattr(layer, "get_config"):
        raise TypeError(f"cannot serialize {layer!r}: it has no get_config()")
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config, custom_objects=None):
    """Rebuild a layer from ``serialize``'s output, looking its class up in ``custom_objects`` then the registry."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"a layer config is a dict {{'class_name': ..., 'config': {{...}}}}, got {config!r:.200}")
    cls = get_class(config["class_name"], custom_objects)
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        raise ValueError(f"the 'config' of a serialized {config['class_name']} must be a dict, got "
                         f"{type(inner).__name__}")
    from_config = getattr(cls, "from_config", None)
    if from_config is None:
        return cls(**inner)
    return from_config(dict(inner), custom_objects=custom_objects)
