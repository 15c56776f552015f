"""minigrad: a small tape-based autodiff core on numpy.

    >>> import numpy as np, minigrad as mg
    >>> x = mg.Tensor(np.array([[0.5, -1.0]]), requires_grad=True)
    >>> w = mg.Tensor(np.array([[2.0], [1.0]]), requires_grad=True)
    >>> loss = mg.tanh(x @ w).sum()      # every op is recorded on the tape
    >>> loss.backward()                  # the reverse pass: x.grad, w.grad hold d loss / d x, d loss / d w
    >>> x.grad.round(4).tolist(), w.grad.round(4).tolist()
    ([[2.0, 1.0]], [[0.5], [-1.0]])
    >>> mg.grad(lambda x: mg.grad(lambda x: (x ** 3).sum())(x).sum())(np.array([2.0]))   # d2/dx2 x^3 = 6x
    array([12.])
"""
from . import random
from .function import Context, Function
from .functional import grad, hessian, hvp, jvp, value_and_grad, vjp
from .gradcheck import GradcheckError, GradcheckReport, gradcheck, gradcheck_report, gradgradcheck
from .inspect import (
    AnomalyError,
    detect_anomaly,
    print_tape,
    scope,
    tag_timesteps,
    tape,
    tape_graph,
    tape_table,
    track_ops,
)
from .ops import (
    abs,
    add,
    broadcast_to,
    cast,
    clip,
    concatenate,
    div,
    exp,
    hard_sigmoid,
    log,
    log_softmax,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    softplus,
    split,
    sqrt,
    stack,
    sub,
    sum,
    sum_to,
    tanh,
    transpose,
    unstack,
    where,
)
from .random import get_rng, seed
from .reverse import gradients
from .scan import NotScannable, ScanPlan, scan, scan_plan
from .tensor import Node, Tensor, enable_grad, is_grad_enabled, leaves, no_grad, toposort

__all__ = [
    "Tensor", "Function", "Context", "Node", "no_grad", "enable_grad", "is_grad_enabled", "toposort", "leaves",
    "grad", "value_and_grad", "gradients", "vjp", "jvp", "hvp", "hessian", "gradcheck", "gradgradcheck",
    "GradcheckError", "seed", "get_rng", "random", "scan", "scan_plan", "ScanPlan", "NotScannable",
    "gradcheck_report", "GradcheckReport", "AnomalyError", "detect_anomaly", "track_ops", "scope", "tag_timesteps",
    "tape", "tape_table", "print_tape", "tape_graph",
    "abs", "add", "broadcast_to", "cast", "clip", "concatenate", "div", "exp", "hard_sigmoid", "log", "log_softmax",
    "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg", "pow", "relu", "reshape", "sigmoid", "softmax",
    "softplus", "split", "sqrt", "stack", "sub", "sum", "sum_to", "tanh", "transpose", "unstack", "where",
]
