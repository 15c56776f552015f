"""Teaching and research tools for recurrent layers, any ``RNN`` (built-in layers or ``RNN`` over a user's cell,
observed through the RNN's public step protocol); the minigrad-level ones are in ``minigrad.inspect`` and
``minigrad.gradcheck``:

* gradient flow through time: ``gradient_flow`` -> ``GradientFlow`` (per-step ||dL/dh_t||, ||dL/dc_t||, each
  step's share of dL/dW), pictured by ``plot_gradient_flow`` (curve or heatmap);
* truncated BPTT checked exactly: ``truncated_forward``, ``truncated_objective``, ``truncated_gradient``,
  ``check_truncated_bptt`` (layers train truncated with ``truncate_gradient=k``);
* gradient checks in training mode: ``record_dropout`` / ``replay_dropout``, and ``gradcheck_layer``;
* the recorded graph as a picture: ``draw_graph``;
* curvature of a compiled model's training loss: ``hessian_vector_product``, ``top_hessian_eigenvalue`` (power
  iteration) -> ``HessianEigenpair``.

Plotting imports matplotlib only when called.
"""
from .checking import gradcheck_layer
from .curvature import HessianEigenpair, hessian_vector_product, top_hessian_eigenvalue
from .dropout import DropoutRecord, record_dropout, replay_dropout
from .gradient_flow import GradientFlow, gradient_flow
from .plotting import draw_graph, plot_gradient_flow
from .truncation import check_truncated_bptt, truncated_forward, truncated_gradient, truncated_objective

__all__ = ["gradient_flow", "GradientFlow", "plot_gradient_flow", "draw_graph",
           "truncated_forward", "truncated_objective", "truncated_gradient", "check_truncated_bptt",
           "record_dropout", "replay_dropout", "DropoutRecord", "gradcheck_layer",
           "hessian_vector_product", "top_hessian_eigenvalue", "HessianEigenpair"]
