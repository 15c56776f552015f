"""minigrad: a small tape-based autodiff core on numpy.

    import minigrad as mg
    x = mg.Tensor(np.random.randn(3, 4), requires_grad=True)
    loss = mg.tanh(x @ w).sum()
    loss.backward()          # x.grad now holds d loss / d x
"""
from . import random
from .function import Context, Function
from .functional import grad, hessian, hvp, jvp, value_and_grad, vjp
from .gradcheck import GradcheckError, GradcheckReport, gradcheck, gradcheck_report, gradgradcheck
from .inspect import (AnomalyError, detect_anomaly, print_tape, scope, tag_timesteps, tape, tape_graph, tape_table,
                      track_ops)
from .ops import (abs, add, broadcast_to, cast, clip, concatenate, div, exp, hard_sigmoid, log, log_softmax, matmul,
                  max, maximum, mean, min, minimum, mul, neg, pow, relu, reshape, sigmoid, softmax, softplus, split,
                  sqrt, stack, sub, sum, sum_to, tanh, transpose, unstack, where)
from .random import get_rng, seed
from .reverse import gradients
from .scan import NotScannable, ScanPlan, scan, scan_plan
from .tensor import Node, Tensor, enable_grad, is_grad_enabled, no_grad, toposort

__all__ = [
    "Tensor", "Function", "Context", "Node", "no_grad", "enable_grad", "is_grad_enabled", "toposort",
    "grad", "value_and_grad", "gradients", "vjp", "jvp", "hvp", "hessian", "gradcheck", "gradgradcheck",
    "GradcheckError", "seed", "get_rng", "random", "scan", "scan_plan", "ScanPlan", "NotScannable",
    "gradcheck_report", "GradcheckReport", "AnomalyError", "detect_anomaly", "track_ops", "scope", "tag_timesteps",
    "tape", "tape_table", "print_tape", "tape_graph",
    "abs", "add", "broadcast_to", "cast", "clip", "concatenate", "div", "exp", "hard_sigmoid", "log", "log_softmax",
    "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "neg", "pow", "relu", "reshape", "sigmoid", "softmax",
    "softplus", "split", "sqrt", "stack", "sub", "sum", "sum_to", "tanh", "transpose", "unstack", "where",
]
