"""Layer configs by class name: ``serialize`` / ``deserialize`` and the registry that maps names to classes.

    config = serialize(LSTM(8, return_sequences=True))   # {'class_name': 'LSTM', 'config': {...}}, JSON-safe
    layer = deserialize(config)                           # an equivalent LSTM (fresh weights)

Every layer class defined in this package is registered under its class name when it is defined. A user's layer
or cell joins with the ``register`` decorator, or is named for one call in ``custom_objects``
(``{'MyCell': MyCell}``), which takes precedence over the registry, or for a block of code with Keras'
``CustomObjectScope`` (``with CustomObjectScope({'MyCell': MyCell}): model = load_model(path)``; also
``custom_object_scope``, and ``get_custom_objects()``, the dict every lookup consults).

A layer's ``get_config()`` lists its constructor arguments, JSON-safe: activations, initializers, regularizers and
constraints through ``serialize_object`` (a built-in by name or ``{'class_name', 'config'}``, a user's function by
its name, a user's object with ``get_config`` by class name and config), nested layers by ``serialize``.
``Layer.from_config(config, custom_objects)`` inverts it, by default as ``cls(**resolve_objects(config,
custom_objects))``: the user's names are looked up in ``custom_objects``. Wrappers and containers override
``from_config`` to rebuild their nested layers with ``deserialize``. Configs nested deeper than ``MAX_DEPTH`` are
refused as malformed.
"""

__all__ = ["register", "registered", "get_class", "serialize", "deserialize", "serialize_object",
           "resolve_objects", "check_depth", "MAX_DEPTH", "CustomObjectScope", "custom_object_scope",
           "get_custom_objects", "with_custom_objects"]

#: How deeply configs may nest (layers in wrappers in models ...): deeper is refused as malformed, long before
#: Python's recursion limit.
MAX_DEPTH = 64

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


# ---------------------------------------------------------------- the user's objects for a block of code

_CUSTOM_OBJECTS = {}  # Keras' global custom objects: what CustomObjectScope blocks (and the user) put in


def get_custom_objects():
    """The dict of the user's objects ({name: class or function}) that every config lookup consults after its
    own ``custom_objects`` (Keras' ``keras.utils.get_custom_objects``); ``CustomObjectScope`` fills it for a
    block, and entries put in by hand stay."""
    return _CUSTOM_OBJECTS


class CustomObjectScope:
    """``with CustomObjectScope({'MyCell': MyCell}, ...):`` makes the user's classes and functions known by name to
    every config lookup inside the block (``load_model``, ``model_from_json``, ``deserialize``, ``from_config``),
    as if each call had been given them as ``custom_objects``; the lookups are as before after the block."""

    def __init__(self, *objects):
        for i, given in enumerate(objects):
            if not isinstance(given, dict):
                raise TypeError(f"CustomObjectScope takes dicts {{name: class or function}}; argument {i} is "
                                f"{type(given).__name__}")
        self.objects = objects
        self._saved = None

    def __enter__(self):
        self._saved = dict(_CUSTOM_OBJECTS)
        for given in self.objects:
            _CUSTOM_OBJECTS.update(given)
        return self

    def __exit__(self, *exc_info):
        _CUSTOM_OBJECTS.clear()
        _CUSTOM_OBJECTS.update(self._saved)


def custom_object_scope(*objects):
    """``CustomObjectScope(*objects)`` (Keras' function of that name)."""
    return CustomObjectScope(*objects)


def with_custom_objects(custom_objects):
    """The objects a lookup consults: ``custom_objects`` over those of ``get_custom_objects()``."""
    if not _CUSTOM_OBJECTS:
        return custom_objects
    return {**_CUSTOM_OBJECTS, **(custom_objects or {})}


def get_class(class_name, custom_objects=None):
    """The class registered (or given in ``custom_objects``, or by a ``CustomObjectScope``) under ``class_name``;
    ValueError names the unknown name and how to make it known."""
    custom_objects = with_custom_objects(custom_objects)
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
    """Rebuild a layer from ``serialize``'s output, looking its class up in ``custom_objects`` then the registry.

    Raises ValueError for a malformed config (not a dict with a string 'class_name' and a dict 'config', or
    nested more than ``MAX_DEPTH`` levels) and for an unknown class; a config the class's constructor refuses
    raises that constructor's error (TypeError for an unknown argument, ValueError for a bad value).
    """
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"a layer config is a dict {{'class_name': ..., 'config': {{...}}}}, got {config!r:.200}")
    check_depth(config)
    cls = get_class(config["class_name"], custom_objects)
    inner = config.get("config")
    inner = {} if inner is None else inner
    # Keras 2.0 wrote a Sequential's config as a bare list of layer configs
    if not isinstance(inner, (dict, list)) or (isinstance(inner, list) and not getattr(cls, "list_config_ok", False)):
        raise ValueError(f"the 'config' of a serialized {config['class_name']} must be a dict, got "
                         f"{type(inner).__name__}")
    from_config = getattr(cls, "from_config", None)
    if from_config is None:
        return cls(**inner)
    return from_config(inner.copy(), custom_objects=custom_objects)


def check_depth(config, limit=MAX_DEPTH):
    """Raise ValueError if the nested dicts and lists of ``config`` go deeper than ``limit`` (a corrupt or
    hostile record would otherwise exhaust the interpreter's recursion limit further down)."""
    stack = [(config, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            raise ValueError(f"malformed config: nested more than {limit} levels deep")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend((v, depth + 1) for v in value)


# ---------------------------------------------------------------- the objects inside a layer config

def _module(kind):
    from . import activations, constraints, initializers, regularizers
    return {"activation": activations, "initializer": initializers, "regularizer": regularizers,
            "constraint": constraints}[kind]


def serialize_object(obj, kind):
    """How an activation, initializer, regularizer or constraint (``kind``) appears in a layer config.

    None -> None; a built-in activation -> its name; a built-in initializer/regularizer/constraint ->
    ``{'class_name', 'config'}``; a user's object with ``get_config`` -> the same form under its class name; a
    user's function -> its ``__name__``. The user's names are resolved from ``custom_objects`` when the config
    is loaded (``resolve_objects``). A user function named like a built-in (it would silently come back as the
    built-in) and an object with neither a config nor a name raise ValueError.
    """
    if obj is None:
        return None
    module = _module(kind)
    if kind == "activation":
        name = module.builtin_name(obj)
        if name is not None:
            return name
    elif type(obj).__module__ == module.__name__:
        return module.serialize(obj)
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    name = getattr(obj, "__name__", None)
    if not isinstance(name, str):
        raise ValueError(f"cannot serialize the {kind} {obj!r}: it has neither get_config() nor a __name__")
    if name in module._BY_NAME:
        raise ValueError(f"cannot serialize the {kind} {obj!r}: it is a user function named {name!r} like the "
                         f"built-in {kind}, so it would come back as the built-in; give it another name")
    return name


_OBJECT_KEYS = ("activation", "initializer", "regularizer", "constraint")


def resolve_objects(config, custom_objects=None):
    """A copy of the layer ``config`` in which the user's activations, initializers, regularizers and
    constraints, stored by name (``'my_init'``) or as ``{'class_name': 'MyReg', 'config': {...}}``, are replaced
    by the objects ``custom_objects`` gives for those names (a class is built with its ``from_config`` or its
    constructor). Arguments are recognised by their names' endings (``kernel_initializer``, ``activation``...);
    built-in names are left for the layer to resolve."""
    config = dict(config)
    custom_objects = with_custom_objects(custom_objects)
    if not custom_objects:
        return config
    for key, value in config.items():
        if not key.endswith(_OBJECT_KEYS):
            continue
        if isinstance(value, str) and value in custom_objects:
            config[key] = custom_objects[value]
        elif isinstance(value, dict) and value.get("class_name") in custom_objects:
            cls = custom_objects[value["class_name"]]
            inner = dict(value.get("config") or {})
            config[key] = cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
    return config
