"""Gradient checking: the tape's gradients against float64 central differences."""
import numpy as np

from .tensor import Tensor, enable_grad, no_grad


class GradcheckError(AssertionError):
    """A tape gradient disagrees with central differences; the message names the input, element and both values."""


def _outputs(out):
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: the function must return a Tensor or a list of Tensors, got "
                            f"{type(o).__name__}")
    return outs


def gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check the tape's gradient of ``f(*inputs)`` for every input Tensor with ``requires_grad=True``.

    f: a function of Tensors returning a Tensor (any shape) or a list of Tensors. A non-scalar output is reduced to
       the scalar sum(v * f(x)) with a fixed random cotangent v (seeded by ``seed``), so every vector-Jacobian
       product the tape computes is exercised.
    inputs: a Tensor or a list of Tensors/arrays/numbers, passed to ``f`` positionally. While checking, each
       Tensor's ``.data`` is replaced by a float64 copy (restored afterwards with its ``.grad``), so ``f`` may also
       reach the same Tensors through a closure, as a layer reaches its weights.
    Passes when |analytic - numeric| <= atol + rtol * |numeric| for every element. Returns True, or raises
    ``GradcheckError`` naming the input, the worst element's index, both values and the error.
    """
    if isinstance(inputs, Tensor) or not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    inputs = list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input is a Tensor with requires_grad=True, so there is nothing to check")
    saved = {i: (inputs[i].data, inputs[i].grad) for i in range(len(inputs)) if isinstance(inputs[i], Tensor)}
    try:
        for i in saved:
            if inputs[i].data.dtype.kind == "f":
                inputs[i].data = inputs[i].data.astype(np.float64)  # a copy: the caller's array is never perturbed
            inputs[i].grad = None
        rng = np.random.default_rng(seed)
        with enable_grad():
            outs = _outputs(f(*inputs))
        cotangents = [np.ones(o.shape) if o.size == 1 else rng.standard_normal(o.shape) for o in outs]

        def objective():
            with no_grad():
                return float(sum(np.sum(o.data.astype(np.float64) * v)
                                 for o, v in zip(_outputs(f(*inputs)), cotangents)))

        with enable_grad():
            phi = None
            for o, v in zip(outs, cotangents):
                if o.requires_grad:
                    term = (o * v).sum()
                    phi = term if phi is None else phi + term
            if phi is not None:
                phi.backward()
        for i in checked:
            t = inputs[i]
            analytic = np.zeros(t.shape) if t.grad is None else t.grad.astype(np.float64)
            numeric = np.zeros(t.shape)
            flat = t.data.reshape(-1)  # a view: perturbing it perturbs the input
            num_flat = numeric.reshape(-1)
            for k in range(flat.size):
                orig = flat[k]
                flat[k] = orig + eps
                plus = objective()
                flat[k] = orig - eps
                minus = objective()
                flat[k] = orig
                num_flat[k] = (plus - minus) / (2 * eps)
            err = np.abs(analytic - numeric)
            excess = err - (atol + rtol * np.abs(numeric))
            if excess.size and (np.max(excess) > 0 or not np.all(np.isfinite(analytic))):
                bad = np.where(np.isfinite(analytic), excess, np.inf)
                idx = np.unravel_index(int(np.argmax(bad)), t.shape)
                a, n = analytic[idx], numeric[idx]
                name = f" ({t.name!r})" if t.name else ""
                raise GradcheckError(
                    f"gradcheck failed for input {i}{name} of shape {t.shape} at index {tuple(int(j) for j in idx)}: "
                    f"analytic {a:.10g}, numeric {n:.10g}, abs error {abs(a - n):.3g}, "
                    f"rel error {abs(a - n) / max(abs(n), 1e-300):.3g} (atol={atol}, rtol={rtol}); "
                    f"{int(np.sum(excess > 0))} of {t.size} elements out of tolerance")
        return True
    finally:
        for i, (data, g) in saved.items():
            inputs[i].data, inputs[i].grad = data, g
