"""Keras 2.0's callback set (optim/callbacks.py): both spellings of metric names in logs and History,
LearningRateScheduler, CSVLogger, TerminateOnNaN, argument checks, and the progress bar off a terminal."""
import csv
import json
import pickle
import re
import warnings

import numpy as np
import pytest

import minigrad as mg
from layers import Dense, Sequential
from optim import SGD, callbacks
from optim.callbacks import (
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    Logs,
    ModelCheckpoint,
    Progbar,
    ProgbarLogger,
    ReduceLROnPlateau,
    TerminateOnNaN,
)


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


def model_and_data(metrics=("accuracy",), lr=0.1):
    x = np.random.default_rng(0).standard_normal((40, 3)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(SGD(lr=lr), "binary_crossentropy", metrics=list(metrics))
    return model, x, y


# ============================================================ Logs: one key per value, both spellings readable

def test_logs_answer_aliases_without_listing_them():
    logs = Logs({"accuracy": [0.5], "loss": [1.0]}, aliases={"acc": "accuracy"})
    assert logs["acc"] is logs["accuracy"] and logs.get("acc") == [0.5] and "acc" in logs
    assert list(logs) == ["accuracy", "loss"] and len(logs) == 2 and dict(logs) == {"accuracy": [0.5], "loss": [1.0]}
    assert json.loads(json.dumps(logs)) == {"accuracy": [0.5], "loss": [1.0]}
    logs["acc"] = [0.75]  # writes the logged entry, never a second key
    assert logs["accuracy"] == [0.75] and "acc" not in list(logs)
    logs.update({"acc": [0.8]}, lr=0.1)
    assert logs["accuracy"] == [0.8] and sorted(logs) == ["accuracy", "loss", "lr"]
    del logs["lr"]
    again = pickle.loads(pickle.dumps(logs))
    assert isinstance(again, Logs) and again["acc"] == [0.8]
    with pytest.raises(KeyError):
        logs["val_acc"]
    assert logs.get("val_acc", "none") == "none" and "nope" not in logs
    assert logs.copy()["acc"] == [0.8]


@pytest.mark.parametrize("given, other", [("accuracy", "acc"), ("acc", "accuracy"), ("mae", "mean_absolute_error")])
def test_history_and_monitors_read_both_spellings(given, other):
    model, x, y = model_and_data(metrics=[given])
    seen = {}
    peek = LambdaCallback(on_epoch_end=lambda e, logs: seen.update(val=logs.get("val_" + other),
                                                                   keys=sorted(logs)))
    stopper = EarlyStopping(monitor="val_" + other, patience=0, mode="max" if "acc" in given else "min")
    h = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, callbacks=[peek, stopper])
    assert sorted(h.history) == sorted(["loss", given, "val_loss", "val_" + given]) == seen["keys"]
    assert h.history[other] is h.history[given] and h.history["val_" + other] == h.history["val_" + given]
    assert seen["val"] == h.history["val_" + given][-1]
    assert model.metrics_names == ["loss", given]


def test_reduce_lr_and_checkpoint_monitor_the_keras_2_0_name(tmp_path):
    model, x, y = model_and_data(metrics=["accuracy"], lr=0.)  # nothing improves
    reduce = ReduceLROnPlateau(monitor="val_acc", patience=0, factor=0.5, verbose=0)
    check = ModelCheckpoint(str(tmp_path / "best.npz"), monitor="val_acc", save_best_only=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, callbacks=[reduce, check])
    assert not [r for r in record if "val_acc" in str(r.message)]  # neither callback missed its value
    assert np.isfinite(reduce.best) and np.isfinite(check.best)  # both read val_accuracy
    assert (tmp_path / "best.npz").exists()


def test_duplicate_metric_names_are_numbered_as_keras_2_0():
    model, x, y = model_and_data(metrics=["mae", "mae"])
    assert model.metrics_names == ["loss", "mae_1", "mae_2"]
    h = model.fit(x, y, epochs=1, verbose=0)
    assert h.history["mae_1"] == h.history["mae_2"]


# ============================================================ the new callbacks

def test_learning_rate_scheduler_sets_lr_each_epoch():
    model, x, y = model_and_data()
    lrs = []
    record = LambdaCallback(on_epoch_begin=lambda e, logs: lrs.append(model.optimizer.lr))
    model.fit(x, y, epochs=3, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1)), record])
    assert lrs == pytest.approx([0.1, 0.05, 0.1 / 3])
    model.fit(x, y, epochs=2, verbose=0, callbacks=[LearningRateScheduler(lambda epoch, lr: lr * 0.5), record])
    assert lrs[-2:] == pytest.approx([0.1 / 6, 0.1 / 12])
    def constant(value):
        return lambda epoch: value

    for bad in (float("nan"), -1., "0.1", None):
        with pytest.raises(ValueError, match="schedule returned"):
            model.fit(x, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(constant(bad))])
    with pytest.raises(ValueError, match="schedule"):
        LearningRateScheduler(0.1)


def test_csv_logger_writes_one_row_per_epoch_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    model, x, y = model_and_data()
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[CSVLogger(str(path))])
    rows = list(csv.DictReader(path.open()))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert sorted(rows[0]) == ["accuracy", "epoch", "loss", "val_accuracy", "val_loss"]
    h = model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[CSVLogger(path, append=True)])
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 3 and float(rows[2]["loss"]) == pytest.approx(h.history["loss"][0])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(path, separator=";")])
    assert path.read_text().splitlines()[0] == "epoch;accuracy;loss"


def test_csv_logger_fills_na_when_training_stops_mid_epoch(tmp_path):
    path = tmp_path / "log.csv"
    model, x, y = model_and_data()
    stop_second = LambdaCallback(on_batch_end=lambda b, logs: setattr(model, "stop_training", len(seen) == 1))
    seen = []
    record = LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, validation_split=0.25,
              callbacks=[record, stop_second, CSVLogger(path)])
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 2 and rows[1]["val_loss"] == "NA" and rows[1]["loss"] != "NA"


def test_terminate_on_nan_standalone(capsys):
    class Model:
        stop_training = False

    cb = TerminateOnNaN()
    cb.set_model(Model())
    cb.on_batch_end(0, {"loss": 0.5})
    assert not cb.model.stop_training
    cb.on_batch_end(4, {"loss": float("inf")})
    assert cb.model.stop_training and "Batch 4: Invalid loss" in capsys.readouterr().out


# ============================================================ arguments

@pytest.mark.parametrize("make, match", [
    (lambda: EarlyStopping(patience=-1), "patience"),
    (lambda: EarlyStopping(patience=1.5), "patience"),
    (lambda: EarlyStopping(patience=True), "patience"),
    (lambda: EarlyStopping(min_delta=float("nan")), "min_delta"),
    (lambda: EarlyStopping(mode="maximum"), "mode"),
    (lambda: EarlyStopping(monitor=3), "monitor"),
    (lambda: ReduceLROnPlateau(factor=0.), "factor"),
    (lambda: ReduceLROnPlateau(factor=1.), "factor"),
    (lambda: ReduceLROnPlateau(factor=-0.5), "factor"),
    (lambda: ReduceLROnPlateau(cooldown=-1), "cooldown"),
    (lambda: ReduceLROnPlateau(min_lr=-1e-3), "min_lr"),
    (lambda: ReduceLROnPlateau(epsilon=float("inf")), "epsilon"),
    (lambda: ReduceLROnPlateau(min_delta=-1.), "min_delta"),
    (lambda: ReduceLROnPlateau(patience=2.), "patience"),
    (lambda: ReduceLROnPlateau(mode="sideways"), "mode"),
    (lambda: ModelCheckpoint("w.npz", mode="big"), "mode"),
    (lambda: CSVLogger("log.csv", separator=",,"), "separator"),
    (lambda: CSVLogger(3), "filename"),
    (lambda: CSVLogger("log.csv", append="yes"), "append"),
    (lambda: LambdaCallback(on_epoch_end=3), "on_epoch_end"),
    (lambda: Progbar(-1), "target"),
    (lambda: Progbar(10, width=0), "width"),
    (lambda: Progbar(10, verbose=3), "verbose"),
    (lambda: Progbar(10, interval=-1), "interval"),
    (lambda: ProgbarLogger(verbose=5), "verbose"),
])
def test_bad_callback_arguments_name_themselves(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("bad, match", [([1], r"callbacks\[0\] is 1"), ([EarlyStopping], "EarlyStopping\\(...\\)"),
                                        (EarlyStopping(), "wrap it in a list"), ("history", "list")])
def test_fit_refuses_what_is_not_a_callback(bad, match):
    model, x, y = model_and_data()
    with pytest.raises(TypeError, match=match):
        model.fit(x, y, verbose=0, callbacks=bad)
    assert model.optimizer.iterations == 0


def test_duck_typed_callbacks_are_accepted():
    class Mine:
        def __init__(self):
            self.ends = 0

        def set_model(self, model):
            pass

        def set_params(self, params):
            pass

        def __getattr__(self, name):
            if name.startswith("on_"):
                return self._hook(name)
            raise AttributeError(name)

        def _hook(self, name):
            def hook(*args):
                if name == "on_epoch_end":
                    self.ends += 1
            return hook

    model, x, y = model_and_data()
    mine = Mine()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[mine])
    assert mine.ends == 2


# ============================================================ progress output off a terminal

def test_off_a_terminal_each_epoch_prints_one_finished_line(capsys, monkeypatch):
    monkeypatch.setattr(callbacks, "_is_terminal", lambda: False)
    model, x, y = model_and_data()
    model.fit(x, y, epochs=2, batch_size=4, verbose=1, validation_split=0.25)
    out = capsys.readouterr().out
    assert "\r" not in out and "\b" not in out
    lines = out.splitlines()
    assert lines[0] == "Train on 30 samples, validate on 10 samples"
    assert lines[1] == "Epoch 1/2" and lines[3] == "Epoch 2/2" and len(lines) == 5
    for line in (lines[2], lines[4]):
        assert re.fullmatch(r"30/30 \[=+\] - \d+s \d+(us|ms|s)/step - loss: \S+ - accuracy: \S+ - val_loss: \S+"
                            r" - val_accuracy: \S+", line), line


def test_is_terminal_follows_stdout(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    class Closed:
        def isatty(self):
            raise ValueError("I/O operation on closed file")

    monkeypatch.setattr("sys.stdout", Tty())
    assert callbacks._is_terminal()
    monkeypatch.setattr("sys.stdout", Closed())
    assert callbacks._is_terminal() is ("ipykernel" in __import__("sys").modules)
    assert Progbar(5, dynamic=True).dynamic and not Progbar(5, dynamic=False).dynamic


def test_history_standalone_still_records():
    h = History()
    h.set_params({"metric_aliases": {"acc": "accuracy"}})
    h.on_train_begin()
    h.on_epoch_end(0, {"accuracy": 0.5})
    assert h.history["acc"] == [0.5] and list(h.history) == ["accuracy"]


def test_callbacks_receive_the_validation_arrays_as_keras_2_0():
    model, x, y = model_and_data()
    seen = []

    class Peek(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(self.validation_data)

    w = np.linspace(0.5, 1., 10)
    model.fit(x, y, epochs=1, verbose=0, validation_data=(x[:10], y[:10], w), callbacks=[Peek()])
    vx, vy, vw = seen[0]
    np.testing.assert_array_equal(vx, x[:10])
    np.testing.assert_array_equal(vy, y[:10])
    np.testing.assert_array_equal(vw, w)
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[Peek()])
    assert len(seen[1]) == 3 and np.array_equal(seen[1][2], np.ones(10))
    model.fit(x, y, epochs=1, verbose=0, callbacks=[Peek()])
    assert seen[2] is None


def test_model_checkpoint_filepath_reads_either_spelling_of_a_metric(tmp_path):
    import numpy as np

    from layers import Dense, Sequential
    from optim.callbacks import ModelCheckpoint
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    x, y = np.random.default_rng(0).random((8, 2)), np.ones((8, 1))
    path = str(tmp_path / "w-{epoch:02d}-{val_acc:.2f}.npz")
    model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[ModelCheckpoint(path, monitor="val_acc")])
    (saved,) = [p.name for p in tmp_path.iterdir()]
    acc = model.history.history["val_accuracy"][0]
    assert saved == f"w-01-{acc:.2f}.npz"
