"""Weight files (layers/saving.py): round trip, architecture checks, bad files, no pickle, atomic writes."""
import json
import os

import numpy as np
import pytest

import minigrad as mg
from layers import saving
from layers.core import Dense, Dropout, Embedding
from layers.recurrent import GRU, LSTM
from layers.sequential import Sequential


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


def _model(units=4, rnn=LSTM):
    return Sequential([Embedding(12, 3, input_length=5), rnn(units), Dropout(0.2), Dense(2, activation="softmax")])


X = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8], [11, 1, 1, 1, 2]])


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_round_trip_gives_identical_predictions(tmp_path):
    path = tmp_path / "model.weights"  # no .npz suffix: the exact path must be written
    source = _model()
    source.compile("adam", "categorical_crossentropy")
    source.fit(X, np.eye(2)[[0, 1, 0]], epochs=2, verbose=0)
    source.save_weights(path)
    assert os.listdir(tmp_path) == ["model.weights"]

    target = _model()  # fresh layers: different automatic names, different initial weights
    assert [layer.name for layer in target.layers] != [layer.name for layer in source.layers]
    assert not np.array_equal(target.predict(X), source.predict(X))
    target.load_weights(str(path))
    assert _same(target.get_weights(), source.get_weights())
    assert np.array_equal(target.predict(X), source.predict(X))


def test_file_layout_keys_and_plain_architecture_record(tmp_path):
    path = tmp_path / "w.npz"
    model = _model()
    saving.save_weights(model, path)
    with np.load(path, allow_pickle=False) as f:
        keys = set(f.files)
        record = f[saving.ARCH_KEY]
        assert record.dtype.kind == "U"  # plain text, not an object array
        info = json.loads(str(record))
        kernel = f[f"layer_001/{model.layers[1].name}/kernel"]
    assert f"layer_000/{model.layers[0].name}/embeddings" in keys
    assert f"layer_003/{model.layers[3].name}/bias" in keys
    assert np.array_equal(kernel, model.layers[1].kernel.data)
    assert [entry["class"] for entry in info["layers"]] == ["Embedding", "LSTM", "Dropout", "Dense"]
    assert info["layers"][1]["weights"][1]["shape"] == [4, 16]


@pytest.mark.parametrize("other, what", [
    (lambda: _model(units=5), "shapes"),
    (lambda: _model(rnn=GRU), "class"),
    (lambda: Sequential([Embedding(12, 3, input_length=5), LSTM(4), Dense(2)]), "layers"),
])
def test_architecture_mismatch_raises_and_changes_nothing(tmp_path, other, what):
    path = tmp_path / "w.npz"
    _model().save_weights(path)
    model = other()
    before = model.get_weights()
    with pytest.raises(ValueError, match=what) as info:
        model.load_weights(path)
    assert str(path) in str(info.value)
    assert _same(model.get_weights(), before)


def test_missing_file(tmp_path):
    model = _model()
    with pytest.raises(OSError, match="nope.npz"):
        model.load_weights(tmp_path / "nope.npz")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "flip"])
def test_corrupt_or_truncated_file_raises_and_changes_nothing(tmp_path, damage):
    path = tmp_path / "w.npz"
    _model().save_weights(path)
    data = path.read_bytes()
    if damage == "truncate":
        data = data[:len(data) // 2]
    elif damage == "garbage":
        data = b"this is not a weight file at all" * 10
    elif damage == "empty":
        data = b""
    else:  # corrupt bytes inside the stored arrays: the zip CRC check catches it
        mid = len(data) // 3
        data = data[:mid] + bytes(b ^ 0xFF for b in data[mid:mid + 64]) + data[mid + 64:]
    path.write_bytes(data)
    model = _model()
    before = model.get_weights()
    with pytest.raises((ValueError, OSError), match="w.npz"):
        model.load_weights(path)
    assert _same(model.get_weights(), before)


class _Trap:
    """Unpickling this would set a flag: a loader that unpickles would be caught red-handed."""
    fired = False

    def __reduce__(self):
        return (_fire, ())


def _fire():
    _Trap.fired = True
    return "boom"


def test_file_carrying_pickled_objects_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "evil.npz"
    model = _model()
    model.save_weights(path)
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    key = next(k for k in arrays if k.endswith("kernel"))
    arrays[key] = np.array([_Trap()], dtype=object)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    before = model.get_weights()
    with pytest.raises(ValueError, match="pickle"):
        model.load_weights(path)
    assert not _Trap.fired
    assert _same(model.get_weights(), before)


def test_file_without_architecture_record_is_refused(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="architecture"):
        _model().load_weights(path)


def test_atomic_write_leaves_no_temporary_files_and_replaces_only_on_success(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    first = _model()
    first.save_weights(path)
    first.save_weights(path)  # overwriting works
    assert os.listdir(tmp_path) == ["w.npz"]
    original = path.read_bytes()

    def failing_savez(f, **arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(saving.np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        _model(units=6).save_weights(path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["w.npz"]

    def failing_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(saving.os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        _model(units=6).save_weights(path)
    monkeypatch.undo()
    assert path.read_bytes() == original and os.listdir(tmp_path) == ["w.npz"]
    first_weights = first.get_weights()
    reloaded = _model()
    reloaded.load_weights(path)
    assert _same(reloaded.get_weights(), first_weights)


def test_overwrite_false_refuses_an_existing_file(tmp_path):
    path = tmp_path / "w.npz"
    model = _model()
    model.save_weights(path)
    with pytest.raises(FileExistsError):
        model.save_weights(path, overwrite=False)
