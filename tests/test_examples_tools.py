"""Smoke tests of the teaching-tool examples: examples/vanishing_gradients.py and examples/gradcheck_experiment.py
run end to end on tiny settings (their ``main([...])``, in this process), exit 0 and write their outputs; and each
exits non-zero when what it demonstrates does not hold."""
import csv
import importlib
import importlib.util
import os
import sys

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")


def example(name):
    """Import examples/<name>.py as a module (the examples import their ``_common`` helper by plain name)."""
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)
    return importlib.import_module(name)


def has_matplotlib():
    return importlib.util.find_spec("matplotlib") is not None


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------ vanishing gradients

def test_vanishing_gradients_runs_and_shows_the_simple_rnn_vanishing(tmp_path, capsys):
    vg = example("vanishing_gradients")
    out = tmp_path / "vg"
    assert vg.main(["--out", str(out), "--timesteps", "60", "--units", "16", "--batch", "4"]) == 0
    text = capsys.readouterr().out
    assert "ratio h_1/h_T" in text and "vanishes" in text
    rows = {r["layer"]: r for r in read_csv(out / "ratios.csv")}
    assert set(rows) == {"SimpleRNN", "GRU", "LSTM"}
    # the ratio the example checks, read back from its own table
    assert float(rows["SimpleRNN"]["log10_ratio"]) < float(rows["LSTM"]["log10_ratio"]) - 2
    assert float(rows["LSTM"]["dc_ratio"]) > 0
    if has_matplotlib():
        for png in ("gradient_flow.png", "heatmap.png"):
            assert (out / png).stat().st_size > 1000
            assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_vanishing_gradients_trains_with_epochs(tmp_path, capsys):
    vg = example("vanishing_gradients")
    out = tmp_path / "vg_trained"
    assert vg.main(["--out", str(out), "--timesteps", "50", "--units", "8", "--batch", "4", "--samples", "64",
                    "--epochs", "1"]) == 0
    assert "test loss" in capsys.readouterr().out
    rows = read_csv(out / "ratios.csv")
    assert all(np.isfinite(float(r["final_train_loss"])) and np.isfinite(float(r["test_loss"])) for r in rows)


def test_vanishing_gradients_exits_non_zero_when_the_gap_is_not_there(tmp_path, capsys):
    vg = example("vanishing_gradients")
    # 100 decades between the two cells cannot be reached: the example must say so and fail
    assert vg.main(["--out", str(tmp_path / "vg_fail"), "--timesteps", "30", "--units", "8", "--batch", "2",
                    "--margin", "100"]) == 1
    assert "FAILED" in capsys.readouterr().err


# ------------------------------------------------------------------ gradient-check experiment

def test_gradcheck_experiment_quick_passes_and_writes_results(tmp_path, capsys):
    gc = example("gradcheck_experiment")
    out = tmp_path / "gc"
    assert gc.main(["--out", str(out), "--quick"]) == 0
    text = capsys.readouterr().out
    assert "expected failure detected" in text
    rows = read_csv(out / "results.csv")
    checks = [r for r in rows if not r["option"].startswith("truncated")]
    assert len(checks) == 3 * 1 * 2 * 2                       # layers x implementation 0 x unroll x 2 options
    assert {r["layer"] for r in checks} == {"SimpleRNN", "GRU", "LSTM"}
    assert {r["unroll"] for r in checks} == {"False", "True"}
    assert all(r["result"] == "pass" for r in checks)
    assert all(float(r["max_abs_error"]) < 1e-6 for r in checks)
    truncated = [r for r in rows if r["option"].startswith("truncated")]
    assert [r["result"] for r in truncated] == ["pass", "expected failure detected"]
    md = (out / "results.md").read_text()
    assert "| layer | impl | unroll | option |" in md and "expected failure detected" in md


def test_gradcheck_experiment_options_on_one_layer(tmp_path):
    gc = example("gradcheck_experiment")
    out = tmp_path / "gc_opts"
    assert gc.main(["--out", str(out), "--layers", "LSTM", "--implementations", "2", "--mode", "vjp",
                    "--options", *gc.OPTIONS]) == 0
    rows = [r for r in read_csv(out / "results.csv") if not r["option"].startswith("truncated")]
    assert sorted({r["option"] for r in rows}) == sorted(gc.OPTIONS)
    assert len(rows) == 2 * len(gc.OPTIONS) and all(r["result"] == "pass" for r in rows)


def test_gradcheck_experiment_catches_a_wrong_hand_written_backward(tmp_path, monkeypatch, capsys):
    """A 1 % error in the fused kernel's dR must fail the unroll=False row (the unrolled tape is unaffected)."""
    from layers import rnn_kernels
    gc = example("gradcheck_experiment")
    right = rnn_kernels.simple_rnn_backward

    def wrong(cache, *grads):
        dx, dW, dR, *rest = right(cache, *grads)
        return (dx, dW, dR * 1.01, *rest)

    monkeypatch.setattr(rnn_kernels, "simple_rnn_backward", wrong)
    out = tmp_path / "gc_bug"
    assert gc.main(["--out", str(out), "--layers", "SimpleRNN", "--implementations", "0",
                    "--options", "plain"]) == 1
    rows = {r["unroll"]: r["result"] for r in read_csv(out / "results.csv") if r["option"] == "plain"}
    assert rows == {"False": "FAIL", "True": "pass"}
    assert "recurrent_kernel" in capsys.readouterr().out   # the failure message names the wrong weight


@pytest.mark.parametrize("name", ["vanishing_gradients", "gradcheck_experiment"])
def test_examples_take_the_common_options(name):
    mod = example(name)
    args = mod.parse_args(["--out", "somewhere", "--epochs", "2"])
    assert args.out == "somewhere" and args.epochs == 2
    assert mod.parse_args([]).out == os.path.join("out", name)
