"""Name lookup shared by ``initializers``, ``regularizers`` and ``constraints``: one place that turns a name, a
Keras config dict, a class or a callable into the object a layer uses, and names the valid choices on a bad one."""


class Configurable:
    """Config plumbing of initializers, regularizers and constraints: ``get_config`` returns the constructor
    arguments (override it), ``from_config`` inverts it, and ``repr`` shows them."""

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def unknown(kind, identifier, table):
    valid = ", ".join(repr(n) for n in sorted(table))
    return ValueError(f"Unknown {kind} {identifier!r}; valid names are: {valid}")


def resolve(identifier, table, kind, base, expect):
    """A name -> ``table[name]()``; ``{'class_name', 'config'}`` -> a configured instance; a ``base`` subclass -> a
    default instance; any other callable -> itself. Anything else raises ValueError (``expect`` says what fits)."""
    if isinstance(identifier, str):
        if identifier not in table:
            raise unknown(kind, identifier, table)
        return table[identifier]()
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        if name not in table:
            raise unknown(kind, name, table)
        return table[name](**(identifier.get("config") or {}))
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()  # a class given where an instance was meant: MaxNorm -> MaxNorm()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier {identifier!r}: expected {expect}")


def serialize(obj, base, kind):
    """``{'class_name': ..., 'config': ...}`` for an instance of ``base``; ``resolve`` inverts it."""
    if not isinstance(obj, base):
        raise ValueError(f"Cannot serialize {obj!r}: only instances of {kind}s can be")
    return {"class_name": type(obj).__name__, "config": obj.get_config()}
