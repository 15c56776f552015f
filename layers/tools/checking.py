"""Gradient checks of whole layers and models, in inference or training mode."""
import contextlib

import minigrad as mg

from ._common import as_float_tensor, make_loss, scalar
from .dropout import record_dropout, replay_dropout

__all__ = ["gradcheck_layer"]


def gradcheck_layer(layer, x, loss=None, y=None, training=False, wrt="all", replay=True, initial_state=None,
                    mask=None, report=False, **gradcheck_kwargs):
    """Gradient-check a layer (or a model: anything called as ``layer(x, training=...)`` with ``.weights``).

    x: the input batch, e.g. (batch, timesteps, input_dim) for a recurrent layer; it is checked as a Tensor
       requiring grad (unless wrt='weights'). loss: a callable out -> scalar Tensor, a loss name/callable with
       targets ``y``, or None (gradcheck reduces the output with a seeded random cotangent).
    training: run in training mode. With dropout, each pass would draw fresh masks and the central differences
       would compare different functions; ``replay=True`` (default) records the masks of a first pass and replays
       them on every pass of the check (``record_dropout``/``replay_dropout``), so the checked function is
       deterministic. replay=False shows what goes wrong without it.
    wrt: 'all' (x and the trainable weights), 'input' or 'weights'. Every weight is replayed in float64 either way.
    initial_state, mask: passed to a layer's call (not to a model).
    gradcheck_kwargs: eps, atol, rtol, seed, mode ('vjp' | 'full' | 'projection'), n_projections, replay_dtype.
    Returns True or raises ``mg.GradcheckError``; report=True returns the ``mg.GradcheckReport`` instead.
    """
    if wrt not in ("all", "input", "weights"):
        raise ValueError(f"gradcheck_layer: wrt must be 'all', 'input' or 'weights', got {wrt!r}")
    loss_fn = make_loss(loss, y, "gradcheck_layer")
    xt = as_float_tensor(x, getattr(layer, "dtype", None), requires_grad=wrt != "weights")
    kwargs = {}
    if initial_state is not None:
        kwargs["initial_state"] = initial_state
    if mask is not None:
        kwargs["mask"] = mask
    stateful = [inner for inner in getattr(layer, "layers", [layer]) if getattr(inner, "stateful", False)]
    carried = [list(inner.states) for inner in stateful]

    def restart():  # a stateful layer must start every pass from the same states
        for inner, s in zip(stateful, carried):
            inner.states = list(s)

    record = None
    with mg.no_grad():
        if training and replay:
            with record_dropout() as record:
                layer(xt, training=True, **kwargs)
        elif not getattr(layer, "built", True):
            layer(xt, **kwargs)  # build the weights before listing them
    weights = list(layer.weights)

    def f(xv, *ws):
        restart()
        with (replay_dropout(record) if record is not None else contextlib.nullcontext()):
            out = layer(xv, training=training, **kwargs)
        return scalar(loss_fn(out), "gradcheck_layer") if loss_fn is not None else out

    inputs = [xt, *weights]
    if wrt == "input":
        checked = [0]
    else:
        checked = [i for i, w in enumerate(weights, start=1) if w.requires_grad]
        if wrt == "all":
            checked = [0] + checked
    try:
        run = mg.gradcheck_report if report else mg.gradcheck
        return run(f, inputs, wrt=checked, **gradcheck_kwargs)
    finally:
        restart()
