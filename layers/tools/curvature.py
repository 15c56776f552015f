"""Curvature of a compiled model's training loss: Hessian-vector products and the top Hessian eigenvalue.

    hv = hessian_vector_product(model, x, y, vectors)     # H v, one array per trainable weight
    top = top_hessian_eigenvalue(model, x, y)             # power iteration on H v
    top.value, top.vectors, top.iterations, top.converged, top.estimates
    other = top_hessian_eigenvalue(model, x, y, shift=top.value)   # the other end of the spectrum

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
    """The result of ``top_hessian_eigenvalue``: ``value`` (the eigenvalue, a float), ``vectors`` (the unit
    eigenvector, one array per trainable weight), ``iterations`` (products of H used), ``converged`` (the estimate
    met ``tol``) and ``estimates`` (the eigenvalue's estimate after each iteration, a list)."""
    value: float
    vectors: list
    iterations: int
    converged: bool
    estimates: list


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


def top_hessian_eigenvalue(model, x, y, iterations=100, tol=1e-6, seed=0, shift=0.0, sample_weight=None,
                           training=False):
    """The eigenvalue of largest magnitude of the Hessian H of a compiled model's training loss, and its
    eigenvector, by power iteration on H v.

    Power iteration: v_0 is a random unit vector (from ``seed``); each step computes A v_k with A = H - shift I, its
    Rayleigh quotient mu_k = v_k . A v_k and v_{k+1} = A v_k / |A v_k|; it stops when |mu_k - mu_{k-1}| <= tol |mu_k|
    or after ``iterations`` products. The gradient is recorded once, so each step is one reverse pass.
    The result is the eigenvalue of H, mu + shift. With shift = 0 it is H's eigenvalue of largest magnitude: near a
    minimum the top of the spectrum (the sharpest direction of the loss), elsewhere possibly a negative one. Run
    again with ``shift`` set to that eigenvalue, it finds the other end of the spectrum (the eigenvalues of A are
    then all of one sign); its accuracy is then about tol times |shift|. Convergence is slow when the two largest
    magnitudes of A are close.

    model, x, y, sample_weight, training: as in ``hessian_vector_product``. iterations: at most this many products
    (>= 1). tol: the relative change that counts as converged (>= 0; 0 runs every iteration). shift: a real number.
    Returns a ``HessianEigenpair(value, vectors, iterations, converged, estimates)``.
    """
    where = "top_hessian_eigenvalue"
    if not isinstance(iterations, (int, np.integer)) or isinstance(iterations, bool) or iterations < 1:
        raise ValueError(f"{where}: iterations must be an integer >= 1, got {iterations!r}")
    if not _is_real(tol) or not tol >= 0:
        raise ValueError(f"{where}: tol must be a number >= 0, got {tol!r}")
    if not _is_real(shift) or not math.isfinite(shift):
        raise ValueError(f"{where}: shift must be a finite number, got {shift!r}")
    recorded = _RecordedGradient(model, x, y, sample_weight, training, where)
    params = recorded.params
    v = _unit([np.random.default_rng(seed).standard_normal(p.shape) for p in params])
    mus, converged = [], False  # mu_k, the Rayleigh quotients of A
    while len(mus) < iterations and not converged:
        av = recorded.hvp([a.astype(p.dtype) for a, p in zip(v, params)])
        av = [np.asarray(h, np.float64) - shift * a for h, a in zip(av, v)]
        mu = sum(float(np.vdot(a, b)) for a, b in zip(v, av))
        converged = bool(mus) and abs(mu - mus[-1]) <= tol * abs(mu)
        mus.append(mu)
        norm = _norm(av)
        if norm == 0:  # A v = 0: v is an eigenvector of H with eigenvalue shift
            converged = True
        else:
            v = [a / norm for a in av]
    estimates = [mu + shift for mu in mus]
    return HessianEigenpair(estimates[-1], [a.astype(p.dtype) for a, p in zip(v, params)], len(mus), converged,
                            estimates)


def _is_real(x):
    return isinstance(x, (int, float, np.floating, np.integer)) and not isinstance(x, (bool, np.bool_))


def _norm(arrays):
    return math.sqrt(sum(float(np.vdot(a, a)) for a in arrays))


def _unit(arrays):
    n = _norm(arrays)
    return [np.asarray(a, np.float64) / n for a in arrays]
