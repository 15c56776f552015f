"""Pictures: gradient-flow curves and heatmaps, and the recorded graph, written as PNG files."""
import numpy as np
import pytest

import minigrad as mg
from layers import LSTM, SimpleRNN
from layers.tools import draw_graph, gradient_flow, plot_gradient_flow

pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path):
    data = path.read_bytes()
    return data[:8] == PNG and len(data) > 2000


def test_gradient_flow_curve_and_heatmap_pngs(tmp_path):
    mg.seed(0)
    x = mg.get_rng().standard_normal((2, 12, 3)).astype(np.float32)
    flows = {"SimpleRNN": gradient_flow(SimpleRNN(4), x), "LSTM": gradient_flow(LSTM(4), x)}
    fig = plot_gradient_flow(flows, path=tmp_path / "curve.png")
    assert is_png(tmp_path / "curve.png") and len(fig.axes[0].lines) == 2
    plot_gradient_flow(flows, kind="heatmap", path=tmp_path / "heat.png")
    assert is_png(tmp_path / "heat.png")
    plot_gradient_flow(flows["LSTM"], quantity="c", path=tmp_path / "c.png")
    plot_gradient_flow(list(flows.values()), kind="heatmap", quantity="recurrent_kernel", path=tmp_path / "r.png")
    assert is_png(tmp_path / "c.png") and is_png(tmp_path / "r.png")
    with pytest.raises(ValueError, match="kind"):
        plot_gradient_flow(flows, kind="bars")


def test_draw_graph_groups_an_unrolled_rnn_by_timestep(tmp_path):
    mg.seed(1)
    layer = SimpleRNN(3, unroll=True, return_sequences=True)
    with mg.track_ops():
        loss = (layer(mg.get_rng().standard_normal((2, 3, 2))) ** 2).sum()
    fig = draw_graph(loss, path=tmp_path / "graph.png")
    assert is_png(tmp_path / "graph.png")
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert {"t=0", "t=1", "t=2"} <= labels and any(s.startswith("Tanh") for s in labels)
    x, w = mg.Tensor(np.ones((2, 2)), requires_grad=True), mg.Tensor(np.ones((2, 1)), requires_grad=True)
    draw_graph(mg.tanh(x @ w).sum(), path=tmp_path / "small.png", show_leaves=False)
    assert is_png(tmp_path / "small.png")
