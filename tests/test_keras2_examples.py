"""examples/keras2: Keras 2 programs that run here with only their imports changed.

Each program runs with ``EXAMPLES_QUICK=1`` (a second or a few) in a temporary folder and must print what its
full run prints. Each states in its docstring the import lines it has under Keras; the test holds those against
the program's own imports and docs/keras.md's map: the same names bound, each to the object the map gives, and
no other import of this project (everything else in the file is the Keras program).
"""
import ast
import contextlib
import importlib.util
import os
import random
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from test_kerasapi_import_map import ROWS, resolve

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "keras2"
PROGRAMS = sorted(p.stem for p in EXAMPLES.glob("*.py"))
PROJECT = ("layers", "optim", "minigrad")

# docs/keras.md, "The map, module by module": a Keras module's members are the members of its counterpart
MODULES = {"keras.layers": "layers", "keras.models": "layers", "keras.optimizers": "optim",
           "keras.losses": "optim.losses", "keras.metrics": "optim.metrics", "keras.callbacks": "optim.callbacks",
           "keras.initializers": "layers.initializers", "keras.regularizers": "layers.regularizers",
           "keras.constraints": "layers.constraints", "keras.activations": "layers.activations",
           "keras.utils": "layers.utils", "keras.preprocessing.sequence": "layers.preprocessing.sequence"}
TABLE = {}
for keras_name, here in ROWS:
    TABLE.setdefault(keras_name, here)


def counterpart(keras_path):
    """The name here of the Keras 2 module or object ``keras_path``, by docs/keras.md."""
    if keras_path in MODULES:
        return MODULES[keras_path]
    if keras_path in TABLE:
        return TABLE[keras_path]
    module, _, name = keras_path.rpartition(".")
    if module in MODULES:
        return f"{MODULES[module]}.{name}"
    raise AssertionError(f"docs/keras.md has no counterpart for {keras_path}")


def bindings(statements, roots):
    """{bound name: dotted path} of the import statements whose module starts with one of ``roots``."""
    out = {}
    for node in statements:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in roots:
                    out[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in roots:
            for alias in node.names:
                out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


def keras_imports(path):
    """The import lines the program's docstring gives for Keras, as bindings."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    lines = [line.strip() for line in doc.splitlines()
             if line.strip().startswith(("from keras", "import keras"))]
    return bindings(ast.parse("\n".join(lines)).body, ("keras",)), len(lines)


@pytest.fixture
def quick_run(tmp_path, monkeypatch, capsys):
    """Run a program as ``python examples/keras2/<name>.py`` with EXAMPLES_QUICK=1 in a temporary folder (one
    BLAS thread when threadpoolctl is there), importing this checkout's packages; the global random states it
    seeds are put back afterwards."""
    monkeypatch.setenv("EXAMPLES_QUICK", "1")
    monkeypatch.syspath_prepend(str(REPO))
    monkeypatch.chdir(tmp_path)
    try:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(limits=1)
    except ImportError:
        limits = contextlib.nullcontext()
    saved = np.random.get_state(), random.getstate()

    def run(name):
        capsys.readouterr()
        with limits:
            scope = runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="__main__")
        for package in ("layers", "optim"):
            if package in sys.modules:
                assert Path(sys.modules[package].__file__).resolve().is_relative_to(REPO)
        return scope, capsys.readouterr().out

    yield run
    np.random.set_state(saved[0])
    random.setstate(saved[1])


def test_there_are_the_programs_the_readme_lists():
    assert {"addition_rnn", "imdb_bidirectional_lstm", "stateful_lstm", "lstm_seq2seq",
            "lstm_text_generation"} <= set(PROGRAMS)
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for name in PROGRAMS:
        assert f"{name}.py" in readme


@pytest.mark.parametrize("name", PROGRAMS)
def test_only_the_imports_differ_from_keras(name):
    path = EXAMPLES / f"{name}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    ours = bindings(ast.walk(tree), PROJECT)
    theirs, n_lines = keras_imports(path)
    assert n_lines > 0, f"{name}.py does not give its Keras import lines"
    assert "minigrad" not in {p.split(".")[0] for p in ours.values()}, "Keras has no counterpart of minigrad"
    assert set(ours) == set(theirs), f"bound here {sorted(ours)}, under Keras {sorted(theirs)}"
    for bound, keras_path in theirs.items():
        assert resolve(ours[bound]) is resolve(counterpart(keras_path)), \
            f"{bound}: {ours[bound]} here, but docs/keras.md maps {keras_path} to {counterpart(keras_path)}"


def test_addition_rnn(quick_run):
    scope, out = quick_run("addition_rnn")
    model = scope["model"]
    assert [type(layer).__name__ for layer in model.layers] == ["LSTM", "RepeatVector", "LSTM", "TimeDistributed",
                                                                "Activation"]
    assert model.output_shape == (None, scope["ANSWER_LEN"], len(scope["ALPHABET"]))
    samples = [line for line in out.splitlines() if line.startswith("Q ")]
    assert len(samples) == 10 * scope["EPOCHS"]
    assert all(" T " in line for line in samples)
    assert "Validation: per-character accuracy" in out
    assert 0 <= scope["history"].history["val_acc"][-1] <= 1


def test_imdb_bidirectional_lstm(quick_run):
    scope, out = quick_run("imdb_bidirectional_lstm")
    assert scope["x_train"].shape == (scope["train_reviews"], scope["maxlen"])
    assert scope["model"].layers[1].__class__.__name__ == "Bidirectional"
    assert len(scope["history"].history["val_acc"]) == scope["epochs"]
    assert "Epoch 1: validation accuracy" in out


def test_stateful_lstm(quick_run):
    scope, out = quick_run("stateful_lstm")
    assert scope["model"].layers[0].stateful and scope["model"].layers[1].stateful
    assert np.isfinite(scope["stateful_mse"]) and np.isfinite(scope["stateless_mse"])
    assert "Test MSE: stateful" in out


def test_lstm_seq2seq(quick_run, tmp_path):
    pytest.importorskip("h5py")
    scope, out = quick_run("lstm_seq2seq")
    assert (tmp_path / "s2s.h5").exists()
    assert scope["in_words"](4207) == "four thousand two hundred seven" and scope["in_words"](40) == "forty"
    assert "Decoded sentence:" in out
    # the inference models built from the saved file decode exactly as those built from the trained layers
    assert f"Decoded the same from s2s.h5: {scope['same']} of {scope['same']}" in out and scope["same"] > 0


def test_lstm_text_generation(quick_run):
    scope, out = quick_run("lstm_text_generation")
    assert out.count("----- temperature:") == 4
    assert len(scope["history"].history["loss"]) == 1
    assert "Loss per epoch:" in out


@pytest.mark.skipif(importlib.util.find_spec("h5py") is None, reason="needs h5py")
def test_the_programs_write_only_into_the_current_folder(quick_run, tmp_path):
    quick_run("lstm_seq2seq")
    assert sorted(os.listdir(tmp_path)) == ["s2s.h5"]
