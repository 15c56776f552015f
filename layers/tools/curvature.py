"""Curvature of a compiled model's training loss: Hessian-vector products and the top Hessian eigenvalue.

    hv = hessian_vector_product(model, x, y, vectors)     # H v, one array per trainable weight
    top = top_hessian_eigenvalue(model, x, y)             # power iteration on H v
    top.value, top.vectors, top.iterations, top.converged

The loss is the one ``fit`` minimises on the batch (x, y): the compiled loss with its sample weights and masks, plus
every layer's regularisation penalties; H is its Hessian with respect to ``model.trainable_weights``, all of them
as one vector. H v is reverse over reverse: the gradient is recorded once (``mg.gradients(..., create_graph=True)``)
and differentiated along v. The recurrent layers' fused path takes part like any op (the engine re-runs its sequence
op by op to differentiate it), so these work for every layer and configuration.

``training=True`` computes the training-mode loss (dropout on): its masks are drawn once, for the recorded
gradient, so every product of one call (every power iteration) sees the same masks. Stateful layers keep their
carried states: the passes here do not advance them.
"""
import math
from typing import NamedTuple

import numpy as np

import minigrad as mg

from ._common import states_preserved

__all__ = ["hessian_vector_product", "top_hessian_eigenvalue", "HessianEigenpair"]


class HessianEigenpair(NamedTuple):
    """The result of ``top_hessian_eigenvalue``: ``value`` (float), ``vectors`` (the unit eigenvector, one array per
    trainable weight), ``iterations`` (products of H used) and ``converged`` (the estimate met ``tol``)."""
    value: float
    vectors: list
    iterations: int
    converged: bool


class _RecordedGradient:
    """The gradient of a compiled model's training loss with respect to its trainable weights, recorded once, so
    that each H v is one reverse pass over that record."""

    def __init__(self, model, x, y, sample_weight, training, where):
        require = getattr(model, "_require_compiled", None)
        if require is None:
            raise TypeError(f"{where}: model must be a compiled Sequential or Model, got {type(model).__name__}")
        require()
        self.params = list(model.trainable_weights)
        if not self.params:
            raise ValueError(f"{where}: the model has no trainable weights, so its loss has no Hessian")
        xs, ys, ws = model._standardize_data(where, x, y, sample_weight)
        with states_preserved(getattr(model, "layers", [model])), mg.enable_grad():
            loss, _ = model._run_batch(xs, ys, training=training, ws=ws)
            self.loss = float(loss.data)
            grads = (None,) * len(self.params)
            if loss.requires_grad:
                grads = mg.gradients(loss, self.params, create_graph=True, allow_unused=True)
        self.grads = grads

    def checked(self, vectors, where):
        """``vectors`` as arrays of the weights' shapes and dtypes; ValueError naming the first that does not fit."""
        params = self.params
        if not isinstance(vectors, (list, tuple)) or len(vectors) != len(params):
            got = f"{len(vectors)} arrays" if isinstance(vectors, (list, tuple)) else type(vectors).__name__
            raise ValueError(f"{where}: vectors must be a list with one array per trainable weight ({len(params)}: "
                             f"{', '.join(p.name or '?' for p in params)}), got {got}")
        out = []
        for k, (v, p) in enumerate(zip(vectors, params)):
            arr = np.asarray(v.data if isinstance(v, mg.Tensor) else v)
            if arr.dtype.kind not in "fiu":
                raise TypeError(f"{where}: vectors[{k}] must be numeric, got dtype {arr.dtype}")
            if arr.shape != p.shape:
                raise ValueError(f"{where}: vectors[{k}] has shape {arr.shape} but weight {p.name!r} has shape "
                                 f"{p.shape}")
            out.append(arr.astype(p.dtype, copy=False))
        return out

    def hvp(self, vectors):
        """H v for checked ``vectors``: one array per trainable weight."""
        inner = None  # <gradient, v>, whose gradient is H v
        for g, v in zip(self.grads, vectors):
            if g is not None and g.requires_grad:
                term = (g * v).sum()
                inner = term if inner is None else inner + term
        hv = (None,) * len(self.params)
        if inner is not None:
            hv = mg.gradients(inner, self.params, allow_unused=True)
        return [np.zeros(p.shape, p.dtype) if h is None else h.data for h, p in zip(hv, self.params)]


def hessian_vector_product(model, x, y, vectors, sample_weight=None, training=False):
    """H v: the Hessian of a compiled model's training loss on the batch (x, y), with respect to its trainable
    weights, times ``vectors``.

    model: a compiled ``Sequential`` or ``Model``. x, y, sample_weight: as for ``train_on_batch``.
    vectors: one array per weight of ``model.trainable_weights``, of its shape.
    training: the training-mode loss (dropout on, masks drawn once) rather than the inference one.
    Returns a list of ndarrays, one per trainable weight, of its shape and dtype.
    """
    recorded = _RecordedGradient(model, x, y, sample_weight, training, "hessian_vector_product")
    return recorded.hvp(recorded.checked(vectors, "hessian_vector_product"))


def top_hessian_eigenvalue(model, x, y, iterations=100, tol=1e-6, seed=0, sample_weight=None, training=False):
    """The eigenvalue of largest magnitude of the Hessian of a compiled model's training loss (the sharpest
    direction of the loss surface), by power iteration on H v.

    Power iteration: v_0 is a random unit vector (from ``seed``); each step computes H v_k, the Rayleigh quotient
    lambda_k = v_k . H v_k, and v_{k+1} = H v_k / |H v_k|; it stops when |lambda_k - lambda_{k-1}| <= tol
    |lambda_k| or after ``iterations`` products. The gradient is recorded once, so each step is one reverse pass.
    Near a minimum the Hessian's largest eigenvalues are positive and this is the top of the spectrum; elsewhere it
    may be a negative eigenvalue of larger magnitude. Convergence is slow when the top two magnitudes are close.

    model, x, y, sample_weight, training: as in ``hessian_vector_product``. iterations: at most this many products
    (>= 1). tol: the relative change that counts as converged (>= 0; 0 runs every iteration).
    Returns a ``HessianEigenpair(value, vectors, iterations, converged)``.
    """
    where = "top_hessian_eigenvalue"
    if not isinstance(iterations, (int, np.integer)) or isinstance(iterations, bool) or iterations < 1:
        raise ValueError(f"{where}: iterations must be an integer >= 1, got {iterations!r}")
    if not isinstance(tol, (int, float, np.floating, np.integer)) or isinstance(tol, bool) or not tol >= 0:
        raise ValueError(f"{where}: tol must be a number >= 0, got {tol!r}")
    recorded = _RecordedGradient(model, x, y, sample_weight, training, where)
    rng = np.random.default_rng(seed)
    v = _unit([rng.standard_normal(p.shape) for p in recorded.params])
    value, converged, k = 0.0, False, 0
    for k in range(1, int(iterations) + 1):
        hv = recorded.hvp([a.astype(p.dtype) for a, p in zip(v, recorded.params)])
        estimate = float(sum(np.vdot(a, b) for a, b in zip(v, hv)))
        norm = _norm(hv)
        if norm == 0:  # H v = 0: v is an eigenvector of eigenvalue 0
            value, converged = 0.0, True
            break
        v = [np.asarray(h, np.float64) / norm for h in hv]
        if k > 1 and abs(estimate - value) <= tol * abs(estimate):
            value, converged = estimate, True
            break
        value = estimate
    return HessianEigenpair(value, [a.astype(p.dtype) for a, p in zip(v, recorded.params)], k, converged)


def _norm(arrays):
    return math.sqrt(sum(float(np.vdot(a, a)) for a in arrays))


def _unit(arrays):
    n = _norm(arrays)
    return [np.asarray(a, np.float64) / n for a in arrays]
