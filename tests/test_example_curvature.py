"""Smoke tests of examples/curvature.py: tiny sizes into a temporary folder; the documented exit codes and outputs,
and the spectrum's ends it reports against the full Hessian's eigenvalues."""
import csv
import importlib.util

import numpy as np
import pytest
from example_loader import load_example

import minigrad as mg
from layers.tools import hessian_vector_product


@pytest.fixture(scope="module")
def curvature():
    """The example module (it imports adding_problem)."""
    with load_example('curvature.py', ('_common', 'adding_problem')) as module:
        yield module


TINY = ["--lengths", "4,6", "--units", "2", "--samples", "20", "--batch", "8", "--epochs", "1",
        "--iterations", "200"]


def test_it_writes_the_table_and_the_plot_and_checks_fused_against_tape(curvature, tmp_path, capsys):
    assert curvature.main(TINY + ["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "H v through the fused layers equals the tape path's" in out
    rows = list(csv.DictReader((tmp_path / "curvature.csv").open()))
    assert [(r["layer"], int(r["T"])) for r in rows] == [("SimpleRNN", 4), ("LSTM", 4), ("SimpleRNN", 6),
                                                         ("LSTM", 6)]
    for r in rows:
        for when in ("init", "trained"):
            assert float(r[f"{when}_lambda_min"]) <= float(r[f"{when}_lambda_max"])
            assert float(r[f"{when}_fused_vs_tape"]) <= curvature.SAME
    assert (tmp_path / "curvature.png").exists() == (importlib.util.find_spec("matplotlib") is not None)


def test_the_reported_ends_are_the_full_hessians_extreme_eigenvalues(curvature):
    args = curvature.parse_args(TINY + ["--iterations", "3000", "--tol", "1e-12"])
    mg.seed(0)
    x, y = curvature.adding_data(8, 5, mg.get_rng())
    x, y = x.astype(np.float64), y.astype(np.float64)
    model = curvature.build_model("LSTM", 5, args)
    params = model.trainable_weights
    n = sum(p.size for p in params)
    columns = []
    for j in range(n):
        e = np.zeros(n)
        e[j] = 1
        parts = np.split(e, np.cumsum([p.size for p in params])[:-1])
        hv = hessian_vector_product(model, x, y, [q.reshape(p.shape) for q, p in zip(parts, params)])
        columns.append(np.concatenate([h.ravel() for h in hv]))
    eigenvalues = np.linalg.eigvalsh(np.array(columns).T)
    top, bottom, _ = curvature.spectrum_ends(model, x, y, args)
    scale = np.abs(eigenvalues).max()
    np.testing.assert_allclose([top, bottom], [eigenvalues[-1], eigenvalues[0]], rtol=1e-5, atol=1e-7 * scale)


def test_a_fused_hvp_that_differs_from_the_tape_makes_it_exit_nonzero(curvature, tmp_path, capsys, monkeypatch):
    exact = curvature.hessian_vector_product

    def off_on_the_tape(model, *a, **kw):
        hv = exact(model, *a, **kw)
        return [h * (1 + 1e-6) for h in hv] if model.layers[0].unroll else hv
    monkeypatch.setattr(curvature, "hessian_vector_product", off_on_the_tape)
    assert curvature.main(TINY + ["--lengths", "4", "--out", str(tmp_path)]) == 1
    assert "FAILED" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [["--lengths", "1"], ["--lengths", "a,b"], ["--layers", "GRU"], ["--units", "0"],
                                 ["--tol", "0"]])
def test_bad_arguments_exit_with_status_2(curvature, tmp_path, bad):
    with pytest.raises(SystemExit) as info:
        curvature.main(bad + ["--out", str(tmp_path)])
    assert info.value.code == 2
