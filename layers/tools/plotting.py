"""Pictures for teaching: gradient flow through time (curves and heatmaps) and the recorded graph.

matplotlib is imported only when a picture is made (the project's optional ``plot`` extra). Figures are built
with ``matplotlib.figure.Figure`` and written with the Agg renderer, so nothing needs a display and pyplot's
global state is never touched.
"""
import numpy as np

import minigrad as mg

__all__ = ["plot_gradient_flow", "draw_graph"]


def _figure(figsize):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install matplotlib (or the project's extra: "
                          "pip install -e '.[plot]')") from e
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path, dpi=100):
    if path is not None:
        fig.savefig(path, format="png", dpi=dpi, bbox_inches="tight")
    return fig


def _named_flows(flows):
    if isinstance(flows, dict):
        return list(flows.items())
    if not isinstance(flows, (list, tuple)):
        flows = [flows]
    return [(f"{f.cell} ({f.layer_name})", f) for f in flows]


_QUANTITY_LABEL = {"h": "||dL/dh_t||", "c": "||dL/dc_t||", "kernel": "||step t's share of dL/dW||",
                   "recurrent_kernel": "||step t's share of dL/dR||", "bias": "||step t's share of dL/db||"}


def plot_gradient_flow(flows, kind="curve", quantity="h", path=None, ax=None, log=True, title=None, dpi=100):
    """Plot one or several ``GradientFlow``s (from ``gradient_flow``); returns the matplotlib Figure.

    flows: a GradientFlow, a list of them, or {label: GradientFlow} (e.g. {'SimpleRNN': f1, 'LSTM': f2}).
    kind: 'curve': the norm of ``quantity`` against the timestep, one line per flow, on a log axis, where a
          vanishing gradient is a straight line falling towards t = 0 (its slope is the decay per step);
          'heatmap': one panel per flow, log10 of the mean |dL/dh_{t,u}| over the batch (or of each gate unit's
          share of a weight's gradient) over (timestep, unit).
    quantity: 'h', 'c' (LSTM) or a weight name: 'kernel', 'recurrent_kernel', 'bias'.
    path: write a PNG there. ax: draw into this matplotlib Axes (a list of Axes for several heatmaps) instead of a
    new figure.
    """
    named = _named_flows(flows)
    if kind not in ("curve", "heatmap"):
        raise ValueError(f"plot_gradient_flow: kind must be 'curve' or 'heatmap', got {kind!r}")
    label = _QUANTITY_LABEL.get(quantity, quantity)
    if kind == "curve":
        fig = ax.figure if ax is not None else _figure((7, 4))
        ax = ax if ax is not None else fig.add_subplot(1, 1, 1)
        for name, f in named:
            y = f.curve(quantity)
            ax.plot(np.arange(len(y)), np.where(y > 0, y, np.nan) if log else y, label=name, lw=1.8)
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("timestep t (processing order)")
        ax.set_ylabel(label)
        ax.set_title(title or f"gradient flow through time: {label}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        return _save(fig, path, dpi)
    axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else ([ax] if ax is not None else None)
    if axes is not None and len(axes) != len(named):
        raise ValueError(f"plot_gradient_flow: {len(named)} heatmaps need {len(named)} axes, got {len(axes)}")
    fig = axes[0].figure if axes else _figure((6 * len(named), 4))
    axes = axes or [fig.add_subplot(1, len(named), i + 1) for i in range(len(named))]
    maps = [f.unit_map(quantity) for _, f in named]
    positive = np.concatenate([m[m > 0].ravel() for m in maps] + [np.array([1.0])])
    floor = max(positive.min(), positive.max() * 1e-30)  # keep log10 finite where a gradient is exactly 0
    logs = [np.log10(np.maximum(m, floor)) if log else m for m in maps]
    lo, hi = min(g.min() for g in logs), max(g.max() for g in logs)  # one color scale, so panels compare
    for a, (name, _), m in zip(axes, named, logs):
        im = a.imshow(m, aspect="auto", origin="lower", interpolation="nearest", vmin=lo, vmax=hi, cmap="viridis")
        a.set_xlabel("timestep t (processing order)")
        a.set_ylabel("unit" if quantity in ("h", "c") else "gate unit (column)")
        a.set_title(name)
        fig.colorbar(im, ax=a, label=("log10 " if log else "") + ("mean |dL/d" + quantity + "|"
                                                                  if quantity in ("h", "c") else "share norm"))
    if title:
        fig.suptitle(title)
    return _save(fig, path, dpi)


# ============================================================ the graph

def _layout(graph):
    """x (column) and y (row) per node: leaves in column 0; ops grouped (before the steps, one group per tagged
    timestep in the order the steps ran, after the steps), each group laid out by depth inside it."""
    nodes, edges = graph["nodes"], graph["edges"]
    preds = {n["id"]: [] for n in nodes}
    for s, d in edges:
        preds[d].append(s)
    group = {}
    tagged_seen = {}
    for n in nodes:  # nodes are leaves first, then ops in tape order: every input comes before its consumer
        if n["kind"] != "op":
            group[n["id"]] = ("leaves",)
        elif n["timestep"] is not None:
            group[n["id"]] = ("step", n["timestep"])
            tagged_seen[n["id"]] = True
        else:
            after = any(tagged_seen.get(p) for p in preds[n["id"]])
            tagged_seen[n["id"]] = after
            group[n["id"]] = ("after",) if after else ("before",)
    first = {}
    for n in nodes:
        first.setdefault(group[n["id"]], n["id"])
    rank = {"leaves": 0, "before": 1, "step": 2, "after": 3}
    groups = sorted(first, key=lambda g: (rank[g[0]], first[g]))
    depth = {}
    for n in nodes:
        same = [depth[p] + 1 for p in preds[n["id"]] if group[p] == group[n["id"]]]
        depth[n["id"]] = max(same, default=0)
    offset, x = 0, {}
    spans = []
    for g in groups:
        members = [n["id"] for n in nodes if group[n["id"]] == g]
        width = max(depth[i] for i in members) + 1
        for i in members:
            x[i] = offset + depth[i]
        spans.append((g, offset, offset + width - 1))
        offset += width + (1 if g[0] != "step" else 0.4)
    y, columns = {}, {}
    for n in nodes:
        columns.setdefault(x[n["id"]], []).append(n["id"])
    for ids in columns.values():
        for r, i in enumerate(ids):
            y[i] = -(r - (len(ids) - 1) / 2)
    return x, y, spans


def draw_graph(tensors, path=None, ax=None, max_nodes=400, show_leaves=True, dpi=100):
    """Draw the recorded graph of ``tensors`` (a Tensor or a list) as boxes and arrows; returns the Figure.

    Ops recorded under ``mg.track_ops()`` are grouped by timestep: an unrolled recurrent layer's steps appear as
    shaded columns t=0, t=1, ... between the ops before the loop (the input projection) and after it. Leaves
    (weights, inputs requiring grad) sit in the first column, in blue; constants in grey; ops in orange, labelled
    with their output shape. Meant for small computations (a few steps of a small layer): more than ``max_nodes``
    nodes raise ValueError. show_leaves=False leaves out the leaves and constants (and their arrows).
    """
    graph = mg.tape_graph(tensors)
    if not show_leaves:
        keep = {n["id"] for n in graph["nodes"] if n["kind"] == "op"}
        remap = {old: new for new, old in enumerate(sorted(keep))}
        graph = {"nodes": [dict(n, id=remap[n["id"]]) for n in graph["nodes"] if n["id"] in keep],
                 "edges": [(remap[s], remap[d]) for s, d in graph["edges"] if s in keep and d in keep]}
    nodes = graph["nodes"]
    if not nodes:
        raise ValueError("draw_graph: nothing was recorded (no input requires grad, or it ran under no_grad)")
    if len(nodes) > max_nodes:
        raise ValueError(f"draw_graph: the graph has {len(nodes)} nodes (max_nodes={max_nodes}); draw a shorter "
                         "sequence or a smaller computation")
    x, y, spans = _layout(graph)
    width = max(x.values()) + 1
    height = max(len([1 for i in x if x[i] == c]) for c in set(x.values()))
    fig = ax.figure if ax is not None else _figure((max(6, 1.35 * width), max(3, 0.8 * height + 1)))
    ax = ax if ax is not None else fig.add_subplot(1, 1, 1)
    colors = {"op": "#fdd49e", "leaf": "#c6dbef", "const": "#e0e0e0"}
    for g, x0, x1 in spans:
        if g[0] == "step":
            ax.axvspan(x0 - 0.45, x1 + 0.45, color="#9ecae1", alpha=0.18, lw=0)
            ax.text((x0 + x1) / 2, max(y.values()) + 0.9, f"t={g[1]}", ha="center", va="bottom", fontsize=9,
                    weight="bold")
    for s, d in graph["edges"]:
        ax.annotate("", xy=(x[d], y[d]), xytext=(x[s], y[s]),
                    arrowprops=dict(arrowstyle="->", lw=0.7, shrinkA=14, shrinkB=14,
                                    color="#999999" if nodes[s]["kind"] != "op" else "#444444",
                                    connectionstyle="arc3,rad=0.08"))
    for n in nodes:
        shape = "" if n["shape"] is None else "\n" + str(tuple(n["shape"]))
        ax.text(x[n["id"]], y[n["id"]], n["label"] + shape, ha="center", va="center", fontsize=7,
                bbox=dict(boxstyle="round,pad=0.3", fc=colors[n["kind"]], ec="#555555", lw=0.6))
    ax.set_xlim(-0.8, width - 0.2)
    ax.set_ylim(min(y.values()) - 0.9, max(y.values()) + 1.4)
    ax.axis("off")
    return _save(fig, path, dpi)
