"""Callbacks driven by a tiny stand-in training loop and a fake model (only the duck-typed attributes)."""
import re

import pytest

from optim import SGD, callbacks
from optim.callbacks import (
    BaseLogger,
    Callback,
    CallbackList,
    EarlyStopping,
    History,
    LambdaCallback,
    ModelCheckpoint,
    Progbar,
    ProgbarLogger,
    ReduceLROnPlateau,
    ResetStatesCallback,
)


class FakeOptimizer:
    def __init__(self, lr):
        self.lr = lr


class FakeModel:
    def __init__(self, lr=0.1):
        self.stop_training = False
        self.saved_weights = []
        self.saved_models = []
        self.resets = 0
        self.optimizer = FakeOptimizer(lr)

    def save_weights(self, path):
        self.saved_weights.append(path)

    def save(self, path):
        self.saved_models.append(path)

    def reset_states(self):
        self.resets += 1


def fit(callbacks, epoch_logs, model=None, samples=10, batch_size=4, verbose=0, metrics=None):
    """Drive callbacks as a fit loop would; ``epoch_logs[e]`` is epoch e's end-of-epoch logs. Returns the
    number of epochs run."""
    model = model or FakeModel()
    cbks = CallbackList(callbacks)
    cbks.set_model(model)
    keys = list(epoch_logs[0]) if epoch_logs else []
    cbks.set_params({"epochs": len(epoch_logs), "samples": samples, "steps": None, "batch_size": batch_size,
                     "verbose": verbose, "do_validation": any(k.startswith("val_") for k in keys),
                     "metrics": metrics if metrics is not None else keys})
    cbks.on_train_begin()
    ran = 0
    for epoch, logs in enumerate(epoch_logs):
        cbks.on_epoch_begin(epoch)
        for batch, start in enumerate(range(0, samples, batch_size)):
            size = min(batch_size, samples - start)
            cbks.on_batch_begin(batch, {"batch": batch, "size": size})
            batch_logs = {"batch": batch, "size": size}
            batch_logs.update({k: v for k, v in logs.items() if not k.startswith("val_")})
            cbks.on_batch_end(batch, batch_logs)
        cbks.on_epoch_end(epoch, dict(logs))
        ran += 1
        if model.stop_training:
            break
    cbks.on_train_end()
    return ran


# ============================================================ History, CallbackList, BaseLogger, Lambda

def test_history_records_every_epoch():
    h = History()
    fit([h], [{"loss": 1.0, "val_loss": 2.0}, {"loss": 0.5, "val_loss": 1.5}])
    assert h.epoch == [0, 1]
    assert h.history == {"loss": [1.0, 0.5], "val_loss": [2.0, 1.5]}
    fit([h], [{"loss": 3.0}])  # a new fit starts a new history
    assert h.history == {"loss": [3.0]}


def test_callback_list_shares_one_logs_dict_in_order():
    order = []

    class Adder(Callback):
        def on_epoch_end(self, epoch, logs=None):
            order.append("adder")
            logs["extra"] = 7

    class Reader(Callback):
        def on_epoch_end(self, epoch, logs=None):
            order.append("reader")
            assert logs["extra"] == 7

    model = FakeModel()
    cbks = CallbackList([Adder(), Reader()])
    cbks.set_model(model)
    cbks.set_params({"epochs": 1})
    assert all(cb.model is model and cb.params == {"epochs": 1} for cb in cbks)
    cbks.on_epoch_end(0)
    assert order == ["adder", "reader"] and len(cbks) == 2


def test_base_logger_averages_batches_weighted_by_size():
    bl = BaseLogger()
    bl.set_params({"metrics": ["loss"]})
    bl.on_epoch_begin(0)
    bl.on_batch_end(0, {"batch": 0, "size": 4, "loss": 1.0})
    bl.on_batch_end(1, {"batch": 1, "size": 2, "loss": 4.0})
    logs = {}
    bl.on_epoch_end(0, logs)
    assert logs == {"loss": pytest.approx((4 * 1.0 + 2 * 4.0) / 6)}


def test_lambda_callback():
    calls = []
    cb = LambdaCallback(on_epoch_begin=lambda e, logs: calls.append(("eb", e)),
                        on_epoch_end=lambda e, logs: calls.append(("ee", e, logs["loss"])),
                        on_batch_end=lambda b, logs: calls.append(("be", b)),
                        on_train_begin=lambda logs: calls.append("tb"),
                        on_train_end=lambda logs: calls.append("te"))
    fit([cb], [{"loss": 0.5}], samples=6, batch_size=4)
    assert calls == ["tb", ("eb", 0), ("be", 0), ("be", 1), ("ee", 0, 0.5), "te"]


def test_reset_states_callback_resets_at_each_epoch_begin():
    model = FakeModel()
    fit([ResetStatesCallback()], [{"loss": 1.0}] * 3, model=model)
    assert model.resets == 3


# ============================================================ EarlyStopping

def losses_logs(values, key="val_loss"):
    return [{"loss": 1.0, key: v} for v in values]


@pytest.mark.parametrize("patience, ran", [(0, 2), (1, 3), (2, 4), (4, 6)])
def test_early_stopping_stops_after_patience_epochs_without_improvement(patience, ran):
    # best at epoch 0 (1.0 again at epoch 3 is no improvement): Keras 2.0 tolerates `patience` bad epochs and
    # stops at the next one
    es = EarlyStopping(patience=patience)
    assert fit([es], losses_logs([1.0, 1.1, 1.2, 1.0, 1.3, 1.4, 1.5, 1.6])) == ran
    assert es.stopped_epoch == ran - 1


def test_early_stopping_improvement_resets_the_wait():
    es = EarlyStopping(patience=1)
    assert fit([es], losses_logs([1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.86, 0.7])) == 7


def test_early_stopping_min_delta_and_mode():
    # improvements of 0.01 are below min_delta 0.05: they do not count
    es = EarlyStopping(min_delta=0.05, patience=1)
    assert fit([es], losses_logs([1.0, 0.99, 0.98, 0.5])) == 3
    # 'acc' in the name -> maximise in auto mode
    es = EarlyStopping(monitor="val_acc", patience=0)
    assert fit([es], losses_logs([0.5, 0.6, 0.7, 0.65, 0.9], key="val_acc")) == 4
    es = EarlyStopping(monitor="val_loss", mode="max", patience=0)
    assert fit([es], losses_logs([0.5, 0.6, 0.4])) == 3


def test_early_stopping_without_the_monitored_value_warns_and_continues():
    with pytest.warns(RuntimeWarning, match="val_loss"):
        assert fit([EarlyStopping()], [{"loss": 1.0}] * 3) == 3


def test_early_stopping_verbose_message(capsys):
    fit([EarlyStopping(patience=0, verbose=1)], losses_logs([1.0, 2.0, 3.0]))
    assert "Epoch 00002: early stopping" in capsys.readouterr().out


# ============================================================ ModelCheckpoint

def test_model_checkpoint_formats_the_path_with_epoch_and_logs():
    model = FakeModel()
    ckpt = ModelCheckpoint("w.{epoch:02d}-{val_loss:.2f}.npz")
    fit([ckpt], losses_logs([0.5, 0.25]), model=model)
    assert model.saved_weights == ["w.01-0.50.npz", "w.02-0.25.npz"]


def test_model_checkpoint_save_best_only_and_period():
    model = FakeModel()
    fit([ModelCheckpoint("best-{epoch}.npz", save_best_only=True)], losses_logs([0.5, 0.7, 0.4, 0.4]),
        model=model)
    assert model.saved_weights == ["best-1.npz", "best-3.npz"]
    model = FakeModel()
    fit([ModelCheckpoint("every2-{epoch}", period=2)], losses_logs([1.0] * 5), model=model)
    assert model.saved_weights == ["every2-2", "every2-4"]
    model = FakeModel()
    fit([ModelCheckpoint("acc-{epoch}", monitor="val_acc", save_best_only=True)],
        losses_logs([0.5, 0.4, 0.9], key="val_acc"), model=model)
    assert model.saved_weights == ["acc-1", "acc-3"]


def test_model_checkpoint_full_model_and_errors(capsys):
    model = FakeModel()
    fit([ModelCheckpoint("m.npz", save_weights_only=False, verbose=1)], losses_logs([1.0]), model=model)
    assert model.saved_models == ["m.npz"] and model.saved_weights == []
    assert "saving model to m.npz" in capsys.readouterr().out
    with pytest.raises(KeyError, match="val_acc"):
        fit([ModelCheckpoint("{val_acc}.npz")], losses_logs([1.0]))
    with pytest.warns(RuntimeWarning):
        fit([ModelCheckpoint("x", monitor="val_acc", save_best_only=True)], losses_logs([1.0]))


# ============================================================ ReduceLROnPlateau

def test_reduce_lr_on_plateau_lowers_lr_after_patience():
    model = FakeModel(lr=0.1)
    h = History()
    cb = ReduceLROnPlateau(factor=0.5, patience=2)
    fit([cb, h], losses_logs([1.0] * 8), model=model)
    # bad epochs 1, 2 tolerated, halve at epoch 3; 4, 5 tolerated, halve at epoch 6. logs['lr'] is the rate the
    # epoch was trained with, recorded before the reduction
    assert h.history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])
    assert model.optimizer.lr == pytest.approx(0.025)


def test_reduce_lr_on_plateau_min_lr_cooldown_and_real_optimizer(capsys):
    model = FakeModel()
    model.optimizer = SGD(lr=0.1)
    cb = ReduceLROnPlateau(factor=0.1, patience=0, min_lr=0.005, verbose=1)
    fit([cb], losses_logs([1.0, 1.0, 1.0, 1.0]), model=model)
    assert model.optimizer.lr == pytest.approx(0.005)
    assert "reducing learning rate to" in capsys.readouterr().out
    model = FakeModel(lr=1.0)
    cb = ReduceLROnPlateau(factor=0.5, patience=0, cooldown=2)
    h = History()
    fit([cb, h], losses_logs([1.0] * 6), model=model)
    # reduce at epoch 1; epochs 2 and 3 count the cooldown down (Keras: the last one already acts), so the next
    # reductions come at epochs 3 and 5
    assert h.history["lr"] == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.25, 0.25])
    with pytest.raises(ValueError):
        ReduceLROnPlateau(factor=1.0)


def test_reduce_lr_on_plateau_improvement_keeps_lr():
    model = FakeModel(lr=0.1)
    fit([ReduceLROnPlateau(patience=1)], losses_logs([1.0, 0.9, 0.8, 0.7]), model=model)
    assert model.optimizer.lr == 0.1


# ============================================================ progress output

LOGS = [{"loss": 0.5, "acc": 0.75, "val_loss": 0.6, "val_acc": 0.7},
        {"loss": 0.25, "acc": 0.875, "val_loss": 0.4, "val_acc": 0.8}]


def test_progbar_logger_verbose_0_prints_nothing(capsys):
    fit([ProgbarLogger()], LOGS, verbose=0)
    assert capsys.readouterr().out == ""


def test_progbar_logger_verbose_1(capsys, monkeypatch):
    monkeypatch.setattr(callbacks, "_is_terminal", lambda: True)  # on a terminal the line is redrawn in place
    fit([ProgbarLogger()], LOGS, samples=10, batch_size=4, verbose=1)
    out = capsys.readouterr().out
    lines = out.split("\n")
    assert lines[0] == "Epoch 1/2"
    # the live line is rewritten with \r; its final state carries the epoch's values and the validation ones
    final = lines[1].split("\r")[-1].rstrip()
    assert re.fullmatch(r"10/10 \[=+\] - \d+s \d+(us|ms|s)/step - loss: 0\.5000 - acc: 0\.7500"
                        r" - val_loss: 0\.6000 - val_acc: 0\.7000", final), final
    assert "\r 4/10 [" in lines[1] or "\r 8/10 [" in lines[1]  # an intermediate redraw
    assert lines[2] == "Epoch 2/2"
    assert "- loss: 0.2500 - acc: 0.8750 - val_loss: 0.4000 - val_acc: 0.8000" in lines[3]
    assert out.endswith("\n") and len(lines) == 5


def test_progbar_logger_verbose_2(capsys):
    fit([ProgbarLogger()], LOGS, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"Epoch 1/2 - \d+s - loss: 0\.5000 - acc: 0\.7500 - val_loss: 0\.6000"
                        r" - val_acc: 0\.7000", lines[0]), lines[0]
    assert lines[1].startswith("Epoch 2/2 - ")


def test_progbar_standalone_bar_and_averaging(capsys):
    bar = Progbar(target=100, width=10, interval=0, dynamic=True)
    bar.update(10, [("loss", 1.0)])
    bar.update(30, [("loss", 0.0)])  # running mean weighted by units: (10 * 1 + 20 * 0) / 30
    bar.update(100, [("loss", 0.0)])
    out = capsys.readouterr().out
    draws = out.split("\r")[1:]
    assert draws[0].startswith(" 10/100 [>.........] - ETA: ")
    assert "loss: 0.3333" in draws[1]
    assert re.match(r"100/100 \[==========\] - \d+s \d+(us|ms|s)/step - loss: 0\.1000\s*\n$", draws[2])
    Progbar(target=5, verbose=0).update(5, [("loss", 1.0)])
    bar2 = Progbar(target=5, verbose=2)
    bar2.update(2, [("loss", 1e-5)])
    bar2.update(5, [("loss", 1e-5)])
    assert re.fullmatch(r" - \d+s - loss: 1\.0000e-05\n", capsys.readouterr().out)


def test_model_checkpoint_whole_model_saving_is_refused_clearly(tmp_path):
    from optim.callbacks import ModelCheckpoint

    class WeightsOnly:
        def save_weights(self, path):
            raise AssertionError("not asked for")

    cb = ModelCheckpoint(str(tmp_path / "m.npz"), save_weights_only=False, monitor="loss")
    cb.set_model(WeightsOnly())
    import pytest
    with pytest.raises(NotImplementedError, match="save_weights_only=True"):
        cb.on_epoch_end(0, {"loss": 1.0})
