"""A sweep of bad input over the engine's entry points: set_weights, configs / from_config / deserialize,
model_from_json, load_model / load_weights with damaged files, weight-file plumbing (temporary files), and
Sequential / Model construction. Each must raise a clear exception and change nothing."""
import json
import os
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import layers
import minigrad as mg
from layers import (
    LSTM,
    Dense,
    Dropout,
    Embedding,
    Input,
    Model,
    Sequential,
    TimeDistributed,
    load_model,
    saving,
    serialization,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


def _mlp():
    return Sequential([Dense(3, input_shape=(2,)), Dense(1)])


def _unchanged(model, before):
    return all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


# ------------------------------------------------------------ set_weights

BAD_WEIGHTS = [
    ("too few", lambda w: w[:-1], ValueError),
    ("too many", lambda w: w + [w[0]], ValueError),
    ("wrong shape last", lambda w: w[:-1] + [np.zeros(5)], ValueError),
    ("transposed", lambda w: [w[0].T] + w[1:], ValueError),
    ("complex", lambda w: w[:-1] + [w[-1].astype(complex)], ValueError),
    ("object", lambda w: w[:-1] + [np.array([None], dtype=object)], ValueError),
    ("text", lambda w: w[:-1] + [np.array(["1"])], ValueError),
    ("bool", lambda w: w[:-1] + [np.ones(1, bool)], ValueError),
    ("overflow", lambda w: w[:-1] + [np.array([1e300])], ValueError),
    ("ragged", lambda w: w[:-1] + [[[1.0], [1.0, 2.0]]], ValueError),
    ("not a list", lambda w: w[0], TypeError),
    ("a dict", lambda w: {"kernel": w[0]}, TypeError),
]


@pytest.mark.parametrize("name, mutate, error", BAD_WEIGHTS, ids=[b[0] for b in BAD_WEIGHTS])
@pytest.mark.parametrize("target", ["model", "layer"])
def test_set_weights_refuses_and_changes_nothing(name, mutate, error, target):
    model = _mlp()
    obj = model if target == "model" else model.layers[1]
    before = obj.get_weights()
    with pytest.raises(error):
        obj.set_weights(mutate([w + 1 for w in before]))
    assert _unchanged(obj, before)


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=2))
def test_set_weights_any_shapes(shapes):
    layer = Dense(3)
    layer(np.zeros((1, 2)))
    before = layer.get_weights()
    new = [np.ones(shapes[0]), np.ones(shapes[1][:1])]
    if [a.shape for a in new] == [(2, 3), (3,)]:
        layer.set_weights(new)
        assert _unchanged(layer, new)
    else:
        with pytest.raises(ValueError):
            layer.set_weights(new)
        assert _unchanged(layer, before)


# ------------------------------------------------------------ layer arguments owned here

@pytest.mark.parametrize("make, match", [
    (lambda: Dense(True), "units"), (lambda: Dense(0), "units"), (lambda: Dense(2.0), "units"),
    (lambda: Dense(2, use_bias="yes"), "use_bias"), (lambda: Dense(2, activation="nope"), "activation"),
    (lambda: Dense(2, kernel_initializer="nope"), "initializer"), (lambda: Dropout(1.0), "rate"),
    (lambda: Dropout(-0.1), "rate"), (lambda: Dropout(True), "rate"), (lambda: Dropout("0.5"), "rate"),
    (lambda: Dropout(0.5, noise_shape=5), "noise_shape"), (lambda: Dropout(0.5, noise_shape=(None, 0)), "noise_shape"),
    (lambda: Dropout(0.5, seed=-1), "seed"), (lambda: Embedding(0, 3), "input_dim"),
    (lambda: Embedding(5, 3, input_length=0), "input_length"), (lambda: Embedding(5, 3, mask_zero=1), "mask_zero"),
    (lambda: layers.Masking("x"), "mask_value"), (lambda: TimeDistributed(3), "Layer"),
])
def test_layer_arguments(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_dropout_noise_shape_rank_must_match_the_input():
    layer = Dropout(0.5, noise_shape=(None, 1))
    with pytest.raises(ValueError, match="rank"):
        layer(np.ones((2, 3, 4)), training=True)
    with pytest.raises(ValueError, match="rank"):
        Sequential([Dense(4, input_shape=(3, 4)), layer])
    with pytest.raises(ValueError, match="fit"):
        Dropout(0.5, noise_shape=(None, 2, 4))(np.ones((2, 3, 4)), training=True)


# ------------------------------------------------------------ configs

BAD_LAYER_CONFIGS = [
    (None, ValueError), ([], ValueError), ("Dense", ValueError), ({"config": {}}, ValueError),
    ({"class_name": 5, "config": {}}, ValueError), ({"class_name": "Nope", "config": {}}, ValueError),
    ({"class_name": "Dense", "config": [1]}, ValueError), ({"class_name": "Dense", "config": "x"}, ValueError),
    ({"class_name": "Dense", "config": {"units": True}}, ValueError),
    ({"class_name": "Dense", "config": {"unitz": 3}}, TypeError),
    ({"class_name": "Dense", "config": {"units": 2, "activation": {"class_name": "nope"}}}, ValueError),
    ({"class_name": "TimeDistributed", "config": {}}, ValueError),
    ({"class_name": "TimeDistributed", "config": {"layer": 3}}, ValueError),
    ({"class_name": "Sequential", "config": {"layers": 3}}, ValueError),
    ({"class_name": "Sequential", "config": {"layers": [3]}}, ValueError),
    ({"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {"units": 2}}]}, ValueError),
]


@pytest.mark.parametrize("config, error", BAD_LAYER_CONFIGS)
def test_deserialize_refuses_bad_layer_configs(config, error):
    with pytest.raises(error):
        serialization.deserialize(config)


def _model_config():
    x = Input(shape=(3,), name="x_in")
    return Model(x, Dense(2, name="d")(x), name="m").get_config()


def _broken(edit):
    config = json.loads(json.dumps(_model_config()))
    edit(config)
    return config


BAD_MODEL_CONFIGS = [
    lambda c: c.pop("layers"),
    lambda c: c.update(layers=[]),
    lambda c: c.update(input_layers=[["x_in", 0]]),
    lambda c: c.update(output_layers=[["nowhere", 0, 0]]),
    lambda c: c.update(output_layers=[["d", 0, 7]]),
    lambda c: c.update(output_layers=[["d", True, 0]]),
    lambda c: c["layers"][1].update(inbound_nodes=[[["ghost", 0, 0, {}]]]),
    lambda c: c["layers"][1].update(inbound_nodes="x"),
    lambda c: c["layers"][1].update(inbound_nodes=[[["x_in", 0, 0, "kwargs"]]]),
    lambda c: c["layers"][1].update(inbound_nodes=[[["d", 0, 0, {}]]]),  # reads its own output: never resolves
    lambda c: c["layers"][0]["config"].update(batch_input_shape="3"),
    lambda c: c["layers"][0]["config"].update(dtype="text-ish"),
    lambda c: c["layers"].append(dict(c["layers"][1])),  # the same name twice
    lambda c: c["layers"][1]["config"].update(units=-2),
    lambda c: c["layers"][1].update(inbound_nodes=[[["x_in", 0, 0, {"initial_state": [[1, 2]]}]]]),
]


@pytest.mark.parametrize("edit", range(len(BAD_MODEL_CONFIGS)))
def test_model_from_config_refuses_malformed_configs(edit):
    config = _broken(BAD_MODEL_CONFIGS[edit])
    with pytest.raises((ValueError, TypeError)):
        Model.from_config(config)


@pytest.mark.parametrize("text, match", [
    ("not json", "JSON"), ("[1, 2]", "object"), ("{}", "object"), ("[" * 100000 + "]" * 100000, "JSON"),
    (json.dumps({"class_name": "Nope", "config": {}}), "Unknown layer class"),
])
def test_model_from_json_refuses_bad_text(text, match):
    with pytest.raises(ValueError, match=match):
        layers.model_from_json(text)
    with pytest.raises(TypeError):
        layers.model_from_json({"class_name": "Sequential"})


# ------------------------------------------------------------ damaged files

def _saved(tmp_path, name="m.npz"):
    model = _mlp()
    model.compile("adam", "mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0)
    model.save(tmp_path / name)
    with np.load(tmp_path / name, allow_pickle=False) as f:
        return model, {k: f[k] for k in f.files}


def _add_member(path, name):
    with zipfile.ZipFile(path, "a") as z:
        z.writestr(name, "{}")


def _write(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _rewrite_record(arrays, edit, key="__model__"):
    record = json.loads(str(arrays[key]))
    edit(record)
    arrays[key] = np.array(json.dumps(record))
    return arrays


DAMAGES = {
    "empty": lambda p, a: p.write_bytes(b""),
    "garbage": lambda p, a: p.write_bytes(b"\x00garbage" * 50),
    "truncated": lambda p, a: p.write_bytes(p.read_bytes()[:200]),
    "single npy": lambda p, a: np.save(str(p), np.ones(3)) or os.replace(str(p) + ".npy", p),
    "text member": lambda p, a: _add_member(p, "notes.txt"),
    "keras 3 archive": lambda p, a: [_add_member(p, name) for name in ("config.json", "metadata.json")],
    "pickled member": lambda p, a: _write(p, {**a, "evil": np.array([object()], dtype=object)}),
    "record not text": lambda p, a: _write(p, {**a, "__model__": np.ones(3)}),
    "record not json": lambda p, a: _write(p, {**a, "__model__": np.array("{nope")}),
    "record deeply nested": lambda p, a: _write(p, {**a, "__model__": np.array("[" * 50000 + "]" * 50000)}),
    "config deeply nested": lambda p, a: _write(p, _rewrite_record(
        a, lambda r: r.update(model_config=json.loads("[" * 500 + "]" * 500)))),
    "config malformed": lambda p, a: _write(p, _rewrite_record(a, lambda r: r.update(model_config={"x": 1}))),
    "unknown class": lambda p, a: _write(p, _rewrite_record(
        a, lambda r: r["model_config"]["config"]["layers"][0].update(class_name="Nope"))),
    "wrong format": lambda p, a: _write(p, _rewrite_record(a, lambda r: r.update(format="other"))),
    "wrong version": lambda p, a: _write(p, _rewrite_record(a, lambda r: r.update(version=99))),
    "missing slot": lambda p, a: _write(p, {k: v for k, v in a.items() if k != "__optimizer__/0/m"}),
    "slot shape": lambda p, a: _write(p, {**a, "__optimizer__/0/m": np.zeros((7, 7), np.float32)}),
    "slot list": lambda p, a: _write(p, _rewrite_record(a, lambda r: r["optimizer_state"].update(slots=[]))),
    "weight shape": lambda p, a: _write(p, {**a, next(k for k in a if k.endswith("/kernel")): np.zeros((9, 9))}),
    "weight missing": lambda p, a: _write(p, {k: v for k, v in a.items() if not k.endswith("/bias")}),
    "weight overflow": lambda p, a: _write(p, {**a, next(k for k in a if k.endswith("/bias")):
                                               np.full(3, 1e300)}),
    "architecture malformed": lambda p, a: _write(p, _rewrite_record(
        a, lambda r: r.update(layers=[{"class": 3}]), key="__architecture__")),
    "states bad": lambda p, a: _write(p, _rewrite_record(a, lambda r: r.update(states=[{"path": "9"}]))),
}


# damages of the model record only: the file still serves as a weight file
RECORD_ONLY = {"record not text", "record not json", "record deeply nested", "config deeply nested",
               "config malformed", "unknown class", "wrong format", "wrong version", "missing slot", "slot shape",
               "slot list", "states bad"}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_model_files(tmp_path, damage):
    _, arrays = _saved(tmp_path)
    path = tmp_path / "m.npz"
    DAMAGES[damage](path, arrays)
    rng_state = mg.get_rng().bit_generator.state
    with pytest.raises(ValueError, match="m.npz"):
        load_model(path)
    assert mg.get_rng().bit_generator.state == rng_state
    model = _mlp()
    before = model.get_weights()
    if damage in RECORD_ONLY:
        model.load_weights(path)
        return
    with pytest.raises(ValueError, match="m.npz"):
        model.load_weights(path)
    assert _unchanged(model, before)


def test_missing_files_and_directories_name_the_path(tmp_path):
    model = _mlp()
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load_model(tmp_path / "nope.npz")
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        model.load_weights(tmp_path / "nope.h5")
    with pytest.raises(OSError, match="missing_dir/m.npz"):
        model.save(tmp_path / "missing_dir" / "m.npz")
    model.save_weights(tmp_path / "w.npz")
    with pytest.raises(FileExistsError):
        model.save_weights(tmp_path / "w.npz", overwrite=False)


def test_unwritable_directory_names_the_target(tmp_path):
    if os.name != "posix" or os.geteuid() == 0:
        pytest.skip("needs a directory the user cannot write (not root)")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OSError, match="locked/w.npz"):
            _mlp().save_weights(locked / "w.npz")
    finally:
        locked.chmod(0o700)


@pytest.mark.skipif(os.name != "posix", reason="kills a process with SIGKILL")
@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_a_killed_save_leaves_a_temporary_that_the_next_save_removes(tmp_path, suffix):
    if suffix == ".h5":
        pytest.importorskip("h5py")
    target = tmp_path / f"w{suffix}"
    script = f"""
import os, signal, sys
sys.path.insert(0, {ROOT!r})
from layers import Dense, Sequential, saving
def killed(tmp):
    with open(tmp, "wb") as f:
        f.write(b"PK\\x03\\x04 half an archive")
    os.kill(os.getpid(), signal.SIGKILL)
saving.atomic_write({str(target)!r}, killed)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -signal.SIGKILL
    left = os.listdir(tmp_path)
    assert len(left) == 1 and left[0].startswith(f".w{suffix}.") and left[0].endswith(".tmp")
    _mlp().save_weights(target)
    assert os.listdir(tmp_path) == [target.name]
    _mlp().load_weights(target)


def test_a_live_temporary_of_another_process_is_left_alone(tmp_path):
    target = tmp_path / "w.npz"
    mine = tmp_path / f".w.npz.{os.getpid()}-abc.tmp"  # this process: maybe another thread's save in progress
    mine.write_bytes(b"x")
    _mlp().save_weights(target)
    assert sorted(os.listdir(tmp_path)) == sorted([mine.name, target.name])


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    model = _mlp()
    model.save(tmp_path / "m.npz")
    original = (tmp_path / "m.npz").read_bytes()

    def failing(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        raise OSError("disk full")
    monkeypatch.setattr(saving.np, "savez", failing)
    with pytest.raises(OSError, match="disk full"):
        model.save(tmp_path / "m.npz")
    assert (tmp_path / "m.npz").read_bytes() == original and os.listdir(tmp_path) == ["m.npz"]


# ------------------------------------------------------------ construction misuse

@pytest.mark.parametrize("make, error, match", [
    (lambda: Sequential([1]), TypeError, "Layer instance"),
    (lambda: Sequential(Dense(2)), TypeError, "list of layers"),
    (lambda: Sequential("dense"), TypeError, "list of layers"),
    (lambda: Sequential([Dense(2)]), ValueError, "input_shape"),
    (lambda: Sequential([LSTM(2, input_shape=(3, 4), return_state=True)]), TypeError, "returns 3 tensors"),
    (lambda: Sequential([Dense(2, input_shape=(3,), name="a"), Dense(2, name="a")]), ValueError, "named"),
    (lambda: Sequential(name=5), ValueError, "name"),
    (lambda: Model(np.ones(3), np.ones(3)), TypeError, "symbolic"),
    (lambda: Model(Input(shape=(2,)), Input(shape=(2,))), ValueError, "disconnected|Graph"),
])
def test_construction_misuse(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_two_layers_with_one_name_cannot_share_a_model():
    x = Input(shape=(2,))
    y = Dense(2, name="twin")(Dense(2, name="twin")(x))
    with pytest.raises(ValueError, match="twin"):
        Model(x, y)


def test_failed_sequential_then_retry_gets_the_given_weights():
    given = [np.full((2, 3), 0.25), np.zeros(3)]
    first = Dense(3, input_shape=(2,), weights=given)
    with pytest.raises(ValueError):
        Sequential([first, Dense(1), LSTM(1)])
    model = Sequential([first, Dense(1)])
    np.testing.assert_array_equal(model.layers[0].kernel.data, given[0])
