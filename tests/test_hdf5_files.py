"""HDF5 weight and model files in Keras' layouts: Keras 2 files built by hand (h5py), Keras 1 per-gate weights,
preprocess_weights_for_loading, round trips, bad files, and Keras 3 as an oracle (skipped without it)."""
import json
import os
import sys

import numpy as np
import pytest

import minigrad as mg
from layers import GRU, LSTM, Dense, Input, Model, Sequential, SimpleRNN, TimeDistributed, load_model
from layers.saving import preprocess_weights_for_loading

h5py = pytest.importorskip("h5py")


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _rnn_stack():
    return Sequential([LSTM(4, input_shape=(5, 3), return_sequences=True), GRU(3, return_sequences=True),
                       SimpleRNN(2), Dense(2, activation="softmax")])


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def _randomise(model):
    model.set_weights([_rng(i).standard_normal(w.shape) for i, w in enumerate(model.weights)])
    return model


def _strings(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


# ------------------------------------------------------------ the Keras 2 layout, both ways

def test_save_weights_writes_keras_2_layout(tmp_path):
    model = _randomise(_rnn_stack())
    path = tmp_path / "w.h5"
    model.save_weights(path)
    assert os.listdir(tmp_path) == ["w.h5"]
    with h5py.File(path, "r") as f:
        assert _strings(f.attrs["layer_names"]) == [layer.name for layer in model.layers]
        assert "keras_version" in f.attrs and "backend" in f.attrs
        lstm = model.layers[0]
        g = f[lstm.name]
        assert _strings(g.attrs["weight_names"]) == [f"{lstm.name}/kernel:0", f"{lstm.name}/recurrent_kernel:0",
                                                     f"{lstm.name}/bias:0"]
        np.testing.assert_array_equal(g[f"{lstm.name}/kernel:0"][()], lstm.kernel.data)
    other = _rnn_stack()
    other.load_weights(str(path))
    assert _same(other.get_weights(), model.get_weights())


def _write_keras2(path, layer_names, weights, keras_version="2.0.8", group=None):
    """A file as Keras 2's save_weights_to_hdf5_group writes it: {layer name: [(weight name, array)]}."""
    with h5py.File(path, "a") as f:
        g = f if group is None else f.create_group(group)
        g.attrs["layer_names"] = [n.encode() for n in layer_names]
        if keras_version is not None:
            g.attrs["keras_version"] = keras_version.encode()
            g.attrs["backend"] = b"tensorflow"
        for name in layer_names:
            lg = g.create_group(name)
            pairs = weights.get(name, [])
            lg.attrs["weight_names"] = [w.encode() for w, _ in pairs]
            for wname, value in pairs:
                lg.create_dataset(wname, data=value)


def test_reads_a_keras_2_file_by_layer_order(tmp_path):
    source = _randomise(_rnn_stack())
    keras_names = ["lstm_1", "gru_1", "simple_rnn_1", "dense_1"]
    weights = {k: [(f"{k}/{w.name.split('/')[-1]}:0", w.data) for w in layer.weights]
               for k, layer in zip(keras_names, source.layers)}
    path = tmp_path / "keras2.h5"
    _write_keras2(path, ["input_1"] + keras_names, weights)  # a functional model's InputLayer has no weights
    target = _rnn_stack()
    target.load_weights(path)
    assert _same(target.get_weights(), source.get_weights())


def test_keras_1_per_gate_lists_are_converted(tmp_path):
    rng = _rng(3)
    d, u = 3, 2
    gates = {g: (rng.standard_normal((d if g in "icfo" else u, u)), rng.standard_normal((u, u)),
                 rng.standard_normal(u)) for g in ("i", "c", "f", "o", "z", "r", "h")}
    lstm_list = [(f"lstm_1_{m}_{g}", gates[g][k]) for g in ("i", "c", "f", "o") for k, m in enumerate("WUb")]
    gru_list = [(f"gru_1_{m}_{g}", gates[g][k]) for g in ("z", "r", "h") for k, m in enumerate("WUb")]
    path = tmp_path / "keras1.h5"
    _write_keras2(path, ["lstm_1", "gru_1"], {"lstm_1": lstm_list, "gru_1": gru_list}, keras_version=None)
    model = Sequential([LSTM(u, input_shape=(4, d), return_sequences=True), GRU(u)])
    model.load_weights(path)
    lstm, gru = model.layers
    for k, attr in enumerate(("kernel", "recurrent_kernel", "bias")):
        np.testing.assert_array_equal(getattr(lstm, attr).data,
                                      np.concatenate([gates[g][k] for g in "ifco"], axis=-1).astype(np.float32))
        np.testing.assert_array_equal(getattr(gru, attr).data,
                                      np.concatenate([gates[g][k] for g in "zrh"], axis=-1).astype(np.float32))


def test_preprocess_weights_for_loading_recurses_into_wrappers_and_models():
    d, u = 2, 3
    per_gate = [_rng(k).standard_normal(s) for k, s in enumerate([(d, u), (u, u), (u,)] * 4)]
    lstm = LSTM(u)
    lstm(np.zeros((1, 2, d)))
    converted = preprocess_weights_for_loading(lstm, per_gate, original_keras_version="1")
    assert [w.shape for w in converted] == [(d, 4 * u), (u, 4 * u), (4 * u,)]
    np.testing.assert_array_equal(converted[0][:, u:2 * u], per_gate[6])  # f came third in Keras 1
    assert preprocess_weights_for_loading(lstm, per_gate[:3], original_keras_version="2.0.8")[0] is not None
    frozen = Dense(4, input_shape=(d,), trainable=False)
    inner = Sequential([frozen, Dense(u)])  # Keras lists a model's weights trainable first
    saved = [np.ones((4, u)), np.ones(u), np.zeros((d, 4)), np.zeros(4)]
    nested = preprocess_weights_for_loading(inner, saved, original_keras_version="1")
    assert [w.shape for w in nested] == [(4, u), (u,), (d, 4), (4,)]
    gru_gates = per_gate[:9]
    gru_gates[6:9] = [_rng(9).standard_normal(s) for s in [(d, u), (u, u), (u,)]]
    td = TimeDistributed(GRU(u))
    out = preprocess_weights_for_loading(td, gru_gates, original_keras_version="1")
    np.testing.assert_array_equal(out[2], np.concatenate([gru_gates[2], gru_gates[5], gru_gates[8]]))


def test_cudnn_layouts_and_reset_after():
    u, d = 2, 3
    rng = _rng(0)
    kernel, recurrent = rng.standard_normal((d, 4 * u)), rng.standard_normal((u, 4 * u))
    bias = rng.standard_normal(8 * u)
    lstm = LSTM(u)
    k, r, b = preprocess_weights_for_loading(lstm, [kernel, recurrent, bias])
    np.testing.assert_allclose(b, bias[:4 * u] + bias[4 * u:])
    np.testing.assert_array_equal(r[:, :u], recurrent[:, :u].T)  # each gate's recurrent block transposed
    np.testing.assert_array_equal(k[:, :u], kernel[:, :u].T.reshape((d, u), order="F"))

    class GRUResetAfter(GRU):
        reset_after = True
    gru = GRU(u)
    with pytest.raises(ValueError, match=r"reset_after=True.*reset_after=False|GRU\(reset_after=True\)"):
        preprocess_weights_for_loading(gru, [rng.standard_normal((d, 3 * u)), rng.standard_normal((u, 3 * u)),
                                             rng.standard_normal((2, 3 * u))])
    cudnn = [rng.standard_normal((d, 3 * u)), rng.standard_normal((u, 3 * u)), rng.standard_normal(6 * u)]
    converted = preprocess_weights_for_loading(GRUResetAfter(u), cudnn)
    np.testing.assert_array_equal(converted[2], cudnn[2].reshape(2, 3 * u))
    with pytest.raises(ValueError, match="CuDNNGRU"):
        preprocess_weights_for_loading(gru, cudnn)


def _nested(frozen):
    x = Input(shape=(4, 3))
    first = Dense(3, input_shape=(4, 3), trainable=not frozen)
    inner = Sequential([first, Dense(2)])
    return Model(x, TimeDistributed(Dense(2))(inner(x)))


@pytest.mark.parametrize("frozen", [False, True])
def test_functional_and_nested_models_round_trip(tmp_path, frozen):
    model = _randomise(_nested(frozen))
    model.save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5", "r") as f:
        inner = model.layers[1]
        names = _strings(f[inner.name].attrs["weight_names"])
    first, second = inner.layers
    expected = [second, first] if frozen else [first, second]  # Keras: a model's trainable weights first
    assert names == [f"{w.name}:0" for layer in expected for w in layer.weights]
    other = _nested(frozen)
    other.load_weights(tmp_path / "w.h5")
    assert _same(other.get_weights(), model.get_weights())


@pytest.mark.parametrize("damage", ["truncate", "count", "shape", "reset_after"])
def test_bad_files_raise_and_change_nothing(tmp_path, damage):
    model = _randomise(_rnn_stack())
    path = tmp_path / "w.h5"
    model.save_weights(path)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:1000])
        target = _rnn_stack()
    elif damage == "count":
        target = Sequential([LSTM(4, input_shape=(5, 3))])
    elif damage == "shape":
        target = Sequential([LSTM(5, input_shape=(5, 3), return_sequences=True), GRU(3, return_sequences=True),
                             SimpleRNN(2), Dense(2)])
    else:
        with h5py.File(path, "a") as f:
            name = model.layers[1].name
            g = f[name]
            del g[f"{name}/bias:0"]
            g.create_dataset(f"{name}/bias:0", data=np.zeros((2, 9), np.float32))
        target = _rnn_stack()
    before = target.get_weights()
    with pytest.raises(ValueError, match="w.h5"):
        target.load_weights(path)
    assert _same(target.get_weights(), before)


@pytest.mark.parametrize("release", ["2.0.8", "2.2.4"])
def test_keras_2_model_file_with_optimizer_weights(tmp_path, release):
    """A model file in Keras 2's layout: config, weights, training config, Adam's [iterations, m..., v...]."""
    source = _randomise(Sequential([Dense(3, input_shape=(2,), name="dense_1"), Dense(1, name="dense_2")]))
    path = tmp_path / "keras_model.h5"
    dense = [{"class_name": "Dense", "config": {"name": "dense_1", "units": 3, "batch_input_shape": [None, 2],
                                                "activation": "linear", "trainable": True}},
             {"class_name": "Dense", "config": {"name": "dense_2", "units": 1, "activation": "linear"}}]
    adam = {"lr": 0.01, "beta_1": 0.9, "beta_2": 0.999, "decay": 0.0, "epsilon": 1e-08}
    if release == "2.0.8":  # a Sequential config was a bare list
        config = {"class_name": "Sequential", "config": dense}
    else:
        config = {"class_name": "Sequential", "config": {"name": "sequential_1", "layers": dense}}
        adam["amsgrad"] = False
    training = {"optimizer_config": {"class_name": "Adam", "config": adam},
                "loss": "mean_squared_error", "metrics": [], "sample_weight_mode": None, "loss_weights": None}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.0.8"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["training_config"] = json.dumps(training).encode()
    _write_keras2(path, ["dense_1", "dense_2"],
                  {layer.name: [(f"{layer.name}/{w.name.split('/')[-1]}:0", w.data) for w in layer.weights]
                   for layer in source.layers}, group="model_weights")
    ms = [np.full(w.shape, 0.1 * (i + 1), np.float32) for i, w in enumerate(source.weights)]
    vs = [np.full(w.shape, 0.01 * (i + 1), np.float32) for i, w in enumerate(source.weights)]
    values = [np.array(7, np.int64)] + ms + vs
    with h5py.File(path, "a") as f:
        g = f.create_group("optimizer_weights")
        names = [f"training/Adam/Variable_{i}:0" for i in range(len(values))]
        g.attrs["weight_names"] = [n.encode() for n in names]
        for n, v in zip(names, values):
            g.create_dataset(n, data=v)
    model = load_model(path)
    assert [layer.name for layer in model.layers] == ["dense_1", "dense_2"]
    assert _same(model.get_weights(), source.get_weights())
    assert model.optimizer.lr == 0.01 and model.optimizer.iterations == 7
    np.testing.assert_array_equal(model.optimizer.get_state(model.weights[2])["v"], vs[2])
    if release == "2.2.4":
        training["optimizer_config"]["config"]["amsgrad"] = True
        with h5py.File(path, "a") as f:
            f.attrs["training_config"] = json.dumps(training).encode()
        with pytest.raises(ValueError, match="AMSGrad.*compile=False"):
            load_model(path)
        assert load_model(path, compile=False).optimizer is None


def test_our_model_file_keeps_the_exact_optimizer_state(tmp_path):
    model = Sequential([Dense(3, input_shape=(2,)), Dense(1)])
    model.compile("nadam", "mse")
    model.fit(_rng().standard_normal((8, 2)), np.ones((8, 1)), epochs=2, verbose=0)
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert {"model_config", "training_config", "keras_version"} <= set(f.attrs)
        assert {"model_weights", "optimizer_weights", "optimizer_state"} <= set(f)
    again = load_model(tmp_path / "m.h5")
    assert again.optimizer.m_schedule == model.optimizer.m_schedule
    assert again.optimizer.iterations == model.optimizer.iterations


def test_missing_h5py_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    model = Sequential([Dense(1, input_shape=(2,))])
    with pytest.raises(ImportError, match=r"\[h5\]"):
        model.save_weights(tmp_path / "w.h5")
    with pytest.raises(ImportError, match=r"\[h5\]"):
        model.save(tmp_path / "m.h5")
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------ Keras 3 as the oracle

@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


def _keras_stack(keras):
    L = keras.layers
    return keras.Sequential([keras.Input((6,), dtype="int32"), L.Embedding(20, 5),
                             L.LSTM(6, recurrent_activation="sigmoid", return_sequences=True),
                             L.GRU(4, reset_after=False, recurrent_activation="sigmoid", return_sequences=True),
                             L.SimpleRNN(3, return_sequences=True), L.TimeDistributed(L.Dense(2)),
                             L.Dense(3, activation="softmax")])


def _our_stack():
    from layers import Embedding
    return Sequential([Embedding(20, 5, input_length=6), LSTM(6, recurrent_activation="sigmoid",
                                                              return_sequences=True),
                       GRU(4, recurrent_activation="sigmoid", return_sequences=True),
                       SimpleRNN(3, return_sequences=True), TimeDistributed(Dense(2)),
                       Dense(3, activation="softmax")])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Keras' own torch glue warns about numpy 2
def test_keras_3_files_load_here_and_ours_load_in_keras_3(tmp_path, keras):
    reference = _keras_stack(keras)
    rng = _rng(5)
    for w in reference.weights:
        w.assign((0.5 * rng.standard_normal(w.shape)).astype("float32"))
    x = rng.integers(1, 20, (4, 6))
    want = np.asarray(reference.predict(x, verbose=0))
    reference.save_weights(tmp_path / "k.weights.h5")   # Keras 3's own layout
    reference.save(tmp_path / "k_model.h5")             # Keras 3's legacy HDF5 model file
    for name in ("k.weights.h5", "k_model.h5"):
        ours = _our_stack()
        ours.load_weights(tmp_path / name)
        np.testing.assert_allclose(ours.predict(x), want, atol=2e-6, err_msg=name)
    ours.save_weights(tmp_path / "ours.h5")
    twin = keras.models.clone_model(reference)
    twin.load_weights(tmp_path / "ours.h5")
    np.testing.assert_allclose(np.asarray(twin.predict(x, verbose=0)), want, atol=2e-6)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_keras_3_gru_default_is_refused_with_the_reason(tmp_path, keras):
    reference = keras.Sequential([keras.Input((4, 3)), keras.layers.GRU(2)])  # reset_after=True by default
    reference.save_weights(tmp_path / "g.weights.h5")
    model = Sequential([GRU(2, input_shape=(4, 3))])
    before = model.get_weights()
    with pytest.raises(ValueError, match="reset_after"):
        model.load_weights(tmp_path / "g.weights.h5")
    assert _same(model.get_weights(), before)
