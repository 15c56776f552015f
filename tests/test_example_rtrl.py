"""Smoke tests of examples/rtrl_vs_bptt.py: tiny sizes into a temporary folder; the documented exit codes and
outputs."""
import csv
import importlib.util

import pytest
from example_loader import load_example


@pytest.fixture(scope="module")
def rtrl():
    """The example module."""
    with load_example('rtrl_vs_bptt.py', ('_common',)) as module:
        yield module


TINY = ["--units", "2", "3", "--timesteps", "4", "--batch", "2"]


def test_rtrl_equals_bptt_and_writes_its_table_and_plot(rtrl, tmp_path, capsys):
    assert rtrl.main(TINY + ["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "RTRL's gradient equals BPTT's" in out
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert [int(r["units"]) for r in rows] == [2, 3]
    assert [int(r["directions"]) for r in rows] == [2 * 2 + 4 + 2 + 2, 2 * 3 + 9 + 3 + 3]  # D H + H H + H + H
    assert all(float(r["rel_diff"]) <= 1e-10 for r in rows)
    assert (tmp_path / "rtrl_vs_bptt.png").exists() == (importlib.util.find_spec("matplotlib") is not None)


def test_rtrl_gradient_matches_bptt_entry_by_entry(rtrl):
    import numpy as np
    args = rtrl.parse_args(TINY)
    params, xs, ys = rtrl.problem(3, args, np.random.default_rng(0))
    _, g_bptt = rtrl.bptt_gradient(params, xs, ys)
    for a, b in zip(rtrl.rtrl_gradient(params, xs, ys), g_bptt):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_training_with_rtrl_lowers_the_loss(rtrl, tmp_path, capsys):
    assert rtrl.main(TINY + ["--epochs", "3", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.count("RTRL = BPTT: yes") == 3


def test_a_wrong_forward_mode_derivative_makes_it_exit_nonzero(rtrl, tmp_path, capsys, monkeypatch):
    exact = rtrl.rtrl_directional
    monkeypatch.setattr(rtrl, "rtrl_directional", lambda *a: exact(*a) * (1 + 1e-6))
    assert rtrl.main(TINY + ["--out", str(tmp_path)]) == 1
    assert "FAILED" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [["--units", "0"], ["--timesteps", "-1"], ["--lr", "0"]])
def test_bad_arguments_exit_with_status_2(rtrl, tmp_path, capsys, bad):
    with pytest.raises(SystemExit) as info:
        rtrl.main(bad + ["--out", str(tmp_path)])
    assert info.value.code == 2
