"""Smoke tests of the examples: each runs its ``main(argv)`` with tiny settings (a second or less each) into a
temporary folder and must return the documented exit code and write its outputs."""
import contextlib
import importlib.util
import os
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _has_matplotlib():
    return importlib.util.find_spec("matplotlib") is not None


@pytest.fixture(scope="module", autouse=True)
def examples_on_path():
    """Put examples/ on sys.path (for ``import _common``), keep the environment variables that _common sets out
    of the other tests, and run with one BLAS thread when threadpoolctl is there (numpy is already imported,
    so _common's variables come too late here; tiny matrices run several times faster on one thread)."""
    saved_env = {var: os.environ.get(var) for var in _THREAD_VARS}
    saved_common = sys.modules.pop("_common", None)
    sys.path.insert(0, str(EXAMPLES))
    try:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(limits=1)
    except ImportError:
        limits = contextlib.nullcontext()
    try:
        with limits:
            yield
    finally:
        sys.path.remove(str(EXAMPLES))
        sys.modules.pop("_common", None)
        if saved_common is not None:
            sys.modules["_common"] = saved_common
        for var, value in saved_env.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def load(name):
    path = EXAMPLES / f"{name}.py"
    if not path.exists():
        pytest.skip(f"examples/{name}.py is not there")
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ char_rnn

CHAR_TINY = ["--epochs", "1", "--units", "32", "--seq-len", "20", "--sample-len", "20"]


def test_char_rnn_learns_and_writes_its_outputs(tmp_path, capsys):
    char_rnn = load("char_rnn")
    assert char_rnn.main(CHAR_TINY + ["--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "sample after epoch 1" in out and "Epoch 1/1" in out  # the progress bar and the per-epoch sample
    samples = (tmp_path / "out" / "samples.txt").read_text(encoding="utf-8")
    assert samples.count("The Zen of Python, b") == 4  # every sample starts from the default prime
    assert (tmp_path / "out" / "loss.png").exists() == _has_matplotlib()


def test_char_rnn_is_reproducible_with_seed(tmp_path, capsys):
    char_rnn = load("char_rnn")
    texts = []
    for run in ("a", "b"):
        assert char_rnn.main(CHAR_TINY + ["--seed", "3", "--out", str(tmp_path / run)]) == 0
        texts.append((tmp_path / run / "samples.txt").read_text(encoding="utf-8"))
    assert texts[0] == texts[1]


def test_char_rnn_exits_nonzero_when_it_does_not_learn(tmp_path, capsys):
    char_rnn = load("char_rnn")
    assert char_rnn.main(CHAR_TINY + ["--lr", "0", "--out", str(tmp_path)]) == 1  # lr 0: the loss cannot drop
    assert "FAILED" in capsys.readouterr().err


def test_char_rnn_trains_on_a_text_file(tmp_path, capsys):
    char_rnn = load("char_rnn")
    text = tmp_path / "text.txt"
    text.write_text("abcabcabd, abcabcabd. " * 30, encoding="utf-8")
    argv = ["--text", str(text), "--epochs", "2", "--units", "16", "--seq-len", "12", "--sample-len", "10",
            "--prime", "abc", "--out", str(tmp_path / "out")]
    assert char_rnn.main(argv) == 0
    assert (tmp_path / "out" / "samples.txt").read_text(encoding="utf-8").startswith("--- epoch 1")


def test_char_rnn_rejects_a_prime_outside_the_vocabulary(tmp_path, capsys):
    char_rnn = load("char_rnn")
    with pytest.raises(SystemExit) as info:
        char_rnn.main(CHAR_TINY + ["--prime", "\u00e9t\u00e9", "--out", str(tmp_path)])
    assert info.value.code == 2
    assert "--prime" in capsys.readouterr().err


def test_char_rnn_runs_without_matplotlib(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    char_rnn = load("char_rnn")
    assert char_rnn.main(CHAR_TINY + ["--out", str(tmp_path)]) == 0
    assert "matplotlib is not installed" in capsys.readouterr().out
    assert (tmp_path / "samples.txt").exists() and not (tmp_path / "loss.png").exists()


# ------------------------------------------------------------------ adding_problem

ADDING_TINY = ["--epochs", "1", "--lengths", "5", "--samples", "2000", "--test", "200", "--units", "16",
               "--batch-size", "10"]


def test_adding_problem_beats_the_baseline_and_writes_its_outputs(tmp_path, capsys):
    adding = load("adding_problem")
    assert adding.main(ADDING_TINY + ["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("SimpleRNN", "GRU", "LSTM", "baseline"))
    rows = (tmp_path / "results.csv").read_text().splitlines()
    assert rows[0] == "T,layer,test_mse,baseline_mse,final_train_mse" and len(rows) == 4
    assert (tmp_path / "adding_problem.png").exists() == _has_matplotlib()


def test_adding_problem_exits_nonzero_when_no_model_beats_the_baseline(tmp_path, capsys):
    adding = load("adding_problem")
    argv = ADDING_TINY + ["--lr", "0", "--layers", "GRU", "--out", str(tmp_path)]
    assert adding.main(argv) == 1
    assert "FAILED" in capsys.readouterr().err


def test_adding_data_has_two_markers_and_the_right_target():
    import numpy as np
    adding = load("adding_problem")
    x, y = adding.adding_data(50, 8, np.random.default_rng(0))
    assert x.shape == (50, 8, 2) and y.shape == (50, 1)
    assert np.all(x[:, :, 1].sum(axis=1) == 2)
    assert np.all(x[:, :4, 1].sum(axis=1) == 1)  # one marker in each half
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * x[:, :, 1]).sum(axis=1), rtol=1e-6)


@pytest.mark.parametrize("bad", [["--lengths", "1"], ["--lengths", "ten"], ["--layers", "RNN"]])
def test_adding_problem_rejects_bad_arguments(tmp_path, capsys, bad):
    adding = load("adding_problem")
    with pytest.raises(SystemExit) as info:
        adding.main(bad + ["--out", str(tmp_path)])
    assert info.value.code == 2


# ------------------------------------------------------------------ the other examples

def test_minigrad_tour(capsys):
    tour = load("minigrad_tour")
    assert tour.main(["--epochs", "20"]) == 0
    assert "passed" in capsys.readouterr().out


def test_seq2seq_addition(tmp_path, capsys):
    seq2seq = load("seq2seq_addition")
    argv = ["--epochs", "1", "--digits", "1", "--samples", "40", "--test", "10", "--units", "16", "--verbose", "0",
            "--out", str(tmp_path)]
    assert seq2seq.main(argv) == 0
    assert (tmp_path / "results.txt").exists()
    assert (tmp_path / "loss.png").exists() == _has_matplotlib()
