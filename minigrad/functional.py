"""Functional forms of differentiation: ``grad`` and ``value_and_grad`` turn a function of Tensors into a function
that returns its gradient as ndarrays."""
import numpy as np

from .tensor import Tensor, enable_grad


def value_and_grad(f, argnums=0):
    """Return ``g(*args) -> (f(*args), df/d args[argnums])``.

    ``f`` must return a single-element Tensor. ``argnums`` is an int (one ndarray gradient) or a tuple of ints
    (a tuple of gradients). The differentiated arguments may be ndarrays, numbers or Tensors; they are wrapped in
    fresh leaf Tensors, so the caller's Tensors are neither modified nor given a ``.grad``.
    """
    single = isinstance(argnums, (int, np.integer))
    nums = (argnums,) if single else tuple(argnums)

    def wrapped(*args, **kwargs):
        for i in nums:
            if not -len(args) <= i < len(args):
                raise IndexError(f"argnums {i} is out of range for a call with {len(args)} positional arguments")
        args = list(args)
        leaves = []
        for i in nums:
            data = args[i].data if isinstance(args[i], Tensor) else np.asarray(args[i])
            if data.dtype.kind != "f":
                data = data.astype(np.float64)
            args[i] = Tensor(data, requires_grad=True)
            leaves.append(args[i])
        with enable_grad():
            out = f(*args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(f"the differentiated function must return a minigrad.Tensor, got {type(out).__name__}")
        if out.requires_grad:
            out.backward()
        elif out.size != 1:
            raise RuntimeError(f"grad needs a scalar output, got shape {out.shape}")
        grads = tuple(np.zeros_like(t.data) if t.grad is None else t.grad for t in leaves)
        return out, (grads[0] if single else grads)

    return wrapped


def grad(f, argnums=0):
    """Return ``g(*args) -> df/d args[argnums]`` (see ``value_and_grad``)."""
    vg = value_and_grad(f, argnums)

    def wrapped(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    return wrapped
