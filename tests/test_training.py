"""The training loop (layers/training.py) through Sequential and a tiny two-input, two-output model."""
import time

import numpy as np
import pytest

import minigrad as mg
from layers import constraints, regularizers
from layers.core import Activation, Dense, Dropout, TimeDistributed
from layers.recurrent import LSTM
from layers.sequential import Sequential
from layers.training import TrainingMixin
from optim import SGD, Adam
from optim import callbacks as cbks_module
from optim.callbacks import EarlyStopping, LambdaCallback, ModelCheckpoint, ReduceLROnPlateau, ResetStatesCallback


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


def _separable(n=200, d=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = (x @ np.arange(1, d + 1) > 0).astype(np.float32)[:, None]
    return x, y


def _mlp(dropout=0.):
    return Sequential([Dense(8, activation="tanh", input_shape=(4,)), Dropout(dropout),
                       Dense(1, activation="sigmoid")])


# ------------------------------------------------------------ learning

def test_dense_model_learns_a_separable_task():
    x, y = _separable()
    model = _mlp()
    model.compile(Adam(lr=0.05), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] > 0.95
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.95 and loss < 0.2


def test_lstm_learns_the_sign_of_a_sequence_sum():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (512, 8, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.float32)
    model = Sequential([LSTM(16, input_shape=(8, 1)), Dense(1, activation="sigmoid")])
    model.compile(Adam(lr=0.01), "binary_crossentropy", metrics=["acc"])
    start = time.time()
    history = model.fit(x, y, batch_size=32, epochs=10, verbose=0, validation_split=0.25)
    assert time.time() - start < 10
    assert history.history["val_acc"][-1] > 0.9


def test_timedistributed_softmax_with_sparse_targets_learns():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 5, 3)).astype(np.float32)
    y = np.argmax(x, axis=-1)  # per timestep: which feature is largest
    model = Sequential([TimeDistributed(Dense(3, activation="softmax"), input_shape=(5, 3))])
    model.compile(Adam(lr=0.05), "sparse_categorical_crossentropy", metrics=["acc"])
    history = model.fit(x, y, batch_size=16, epochs=20, verbose=0)
    assert history.history["acc"][-1] > 0.9


# ------------------------------------------------------------ regularisation and constraints

def test_penalties_are_added_to_the_reported_loss_undivided_by_batch_size():
    reg_k, reg_b, reg_a = regularizers.l2(0.1), regularizers.l1(0.05), regularizers.l1(0.01)
    model = Sequential([Dense(2, input_shape=(3,), kernel_regularizer=reg_k, bias_regularizer=reg_b,
                              activity_regularizer=reg_a)])
    model.compile(SGD(lr=0.1), "mse")
    W = np.array([[0.5, -1.], [2., 0.], [-0.5, 1.5]], np.float32)
    b = np.array([0.3, -0.2], np.float32)
    model.set_weights([W, b])
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    y = rng.standard_normal((5, 2)).astype(np.float32)

    out = x @ W + b
    data = np.mean((out - y) ** 2)
    penalty = 0.1 * np.sum(W ** 2) + 0.05 * np.sum(np.abs(b)) + 0.01 * np.sum(np.abs(out))  # a sum over the batch
    assert model.evaluate(x, y, verbose=0) == pytest.approx(data + penalty, rel=1e-5)
    assert model.train_on_batch(x, y) == pytest.approx(data + penalty, rel=1e-5)

    # and the update follows the gradient of that total
    g_out = 2 * (out - y) / out.size + 0.01 * np.sign(out)
    g_W = x.T @ g_out + 2 * 0.1 * W
    g_b = g_out.sum(axis=0) + 0.05 * np.sign(b)
    new_W, new_b = model.get_weights()
    np.testing.assert_allclose(new_W, W - 0.1 * g_W, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_b, b - 0.1 * g_b, rtol=1e-5, atol=1e-6)


def test_activity_penalty_of_a_softmax_output_is_taken_on_the_probabilities():
    # the loss runs on logits, but Keras penalises the layer's output: l1 of softmax rows = 0.1 per sample
    model = Sequential([Dense(3, activation="softmax", input_shape=(2,), activity_regularizer=regularizers.l1(0.1))])
    model.compile("sgd", "categorical_crossentropy")
    x = np.random.default_rng(6).standard_normal((7, 2)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2, 0]]
    p = model.predict(x)
    data = np.mean(-np.sum(y * np.log(p), axis=1))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(data + 0.1 * 7, rel=1e-5)


def test_recurrent_regularizer_counts_in_the_loss():
    model = Sequential([LSTM(3, input_shape=(4, 2), recurrent_regularizer=regularizers.l2(0.5))])
    model.compile("sgd", "mse")
    x, y = np.zeros((2, 4, 2), np.float32), np.zeros((2, 3), np.float32)
    R = model.layers[0].recurrent_kernel.data
    assert model.evaluate(x, y, verbose=0) == pytest.approx(0.5 * float(np.sum(R ** 2)), rel=1e-5)


def test_constraints_hold_after_fit():
    x, y = _separable()
    model = Sequential([Dense(6, input_shape=(4,), kernel_constraint=constraints.non_neg()),
                        Dense(1, kernel_constraint=constraints.max_norm(0.5, axis=0))])
    model.compile(SGD(lr=0.5), "mse")
    model.fit(x, -3 * y, batch_size=16, epochs=3, verbose=0)  # pulls the weights well outside the constraints
    assert np.all(model.layers[0].kernel.data >= 0)
    norms = np.sqrt(np.sum(model.layers[1].kernel.data ** 2, axis=0))
    assert np.all(norms <= 0.5 + 1e-5)


# ------------------------------------------------------------ numerically stable crossentropies

@pytest.mark.parametrize("loss, activation, units, target", [
    ("categorical_crossentropy", "softmax", 3, np.array([[0., 0., 1.]])),
    ("sparse_categorical_crossentropy", "softmax", 3, np.array([2])),
    ("binary_crossentropy", "sigmoid", 1, np.array([[1.]])),
])
def test_crossentropy_is_computed_from_logits_at_extreme_values(loss, activation, units, target):
    model = Sequential([Dense(units, activation=activation, input_shape=(1,))])
    model.compile(SGD(lr=1e-4), loss)
    model.set_weights([np.full((1, units), 1000., np.float32) * np.array([1.] + [-1.] * (units - 1)),
                       np.zeros(units, np.float32)])
    x = np.ones((1, 1), np.float32)
    # the wrong class has a logit 1000 (binary: the target is 1 and the logit -1000 after flipping the sign)
    if units == 1:
        model.set_weights([np.full((1, 1), -1000., np.float32), np.zeros(1, np.float32)])
    value = model.evaluate(x, target, verbose=0)
    # from logits the exact loss is ~1000 or ~2000; a clipped probability would cap it near -log(1e-7) = 16
    assert np.isfinite(value) and value > 900
    assert np.isfinite(model.train_on_batch(x, target))
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert np.all(np.isfinite(model.predict(x)))


def test_logits_are_used_through_a_final_activation_layer():
    model = Sequential([Dense(2, input_shape=(1,)), Activation("softmax")])
    model.compile("sgd", "categorical_crossentropy")
    model.set_weights([np.array([[1000., -1000.]], np.float32), np.zeros(2, np.float32)])
    assert model.evaluate(np.ones((1, 1)), np.array([[0., 1.]]), verbose=0) == pytest.approx(2000., rel=1e-3)


# ------------------------------------------------------------ evaluate / *_on_batch / compile

def test_evaluate_returns_loss_or_loss_and_metrics():
    x, y = _separable(64)
    model = _mlp()
    model.compile("adam", "binary_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    model.compile("adam", "binary_crossentropy", metrics=["acc", "mae"])
    assert model.metrics_names == ["loss", "acc", "mae"]
    loss, acc, mae = model.evaluate(x, y, batch_size=10, verbose=0)
    pred = model.predict(x)
    assert acc == pytest.approx(np.mean(np.round(pred) == y))
    assert mae == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-5)
    eps = 1e-7
    p = np.clip(pred, eps, 1 - eps)
    assert loss == pytest.approx(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))), rel=1e-4)


def test_on_batch_methods_and_predict():
    x, y = _separable(16)
    model = _mlp()
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    assert len(model.train_on_batch(x, y)) == 2
    before = model.get_weights()
    loss, acc = model.test_on_batch(x, y)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # no update
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict(x, batch_size=5), rtol=1e-6)
    assert model.predict(x).shape == (16, 1)


def test_compile_is_required_and_optimizer_object_is_kept():
    x, y = _separable(8)
    model = _mlp()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y, verbose=0)
    opt = SGD(lr=0.01)
    model.compile(opt, "mse")
    assert model.optimizer is opt
    model.compile("rmsprop", "mse")
    assert type(model.optimizer).__name__ == "RMSprop"
    with pytest.raises(ValueError):
        model.compile("nope", "mse")


def test_sample_count_mismatch_and_bad_arguments():
    x, y = _separable(10)
    model = _mlp()
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(x, y[:9], verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5, verbose=0)


def test_frozen_layer_is_not_updated():
    x, y = _separable(32)
    model = Sequential([Dense(4, input_shape=(4,), trainable=False), Dense(1)])
    model.compile("sgd", "mse")
    frozen = model.layers[0].get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, model.layers[0].get_weights()))


# ------------------------------------------------------------ History, validation, callbacks

def test_history_contents_with_validation_data_and_split():
    x, y = _separable(100)
    model = _mlp()
    model.compile("adam", "binary_crossentropy", metrics=["acc"])
    h = model.fit(x, y, epochs=3, verbose=0, validation_data=(x[:20], y[:20]))
    assert set(h.history) == {"loss", "acc", "val_loss", "val_acc"}
    assert all(len(v) == 3 and all(isinstance(f, float) for f in v) for v in h.history.values())
    assert h.epoch == [0, 1, 2] and model.history is h
    # the last validation loss is what evaluate gives on the same data
    assert h.history["val_loss"][-1] == pytest.approx(model.evaluate(x[:20], y[:20], verbose=0)[0], rel=1e-5)

    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=2, verbose=0, validation_split=0.2, initial_epoch=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    h = model.fit(x, y, epochs=3, initial_epoch=1, verbose=0)
    assert h.epoch == [1, 2] and len(h.history["loss"]) == 2


def test_epoch_loss_is_the_size_weighted_mean_of_batch_losses():
    x, y = _separable(10)
    model = _mlp()
    model.compile(SGD(lr=0.), "mse")  # lr 0: every batch sees the same weights
    batch_losses = []
    cb = LambdaCallback(on_batch_end=lambda b, logs: batch_losses.append((logs["size"], logs["loss"])))
    h = model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False, callbacks=[cb])
    assert [s for s, _ in batch_losses] == [4, 4, 2]
    expected = sum(s * v for s, v in batch_losses) / 10
    assert h.history["loss"][0] == pytest.approx(expected, rel=1e-6)
    assert h.history["loss"][0] == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)


def test_shuffle_false_keeps_the_order_and_shuffle_true_permutes():
    seen = []

    def spy_loss(y_true, y_pred):
        seen.append(np.asarray(y_true).ravel().copy())
        return ((y_pred - y_true) ** 2).mean()

    x = np.arange(12, dtype=np.float32)[:, None]
    model = Sequential([Dense(1, input_shape=(1,))])
    model.compile("sgd", spy_loss)
    model.fit(x, x, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert np.array_equal(np.concatenate(seen), np.tile(np.arange(12), 2))
    seen.clear()
    model.fit(x, x, batch_size=4, epochs=1, shuffle=True, verbose=0)
    order = np.concatenate(seen)
    assert sorted(order) == list(range(12)) and not np.array_equal(order, np.arange(12))
    seen.clear()
    model.fit(x, x, batch_size=4, epochs=1, shuffle="batch", verbose=0)
    assert sorted(tuple(b) for b in seen) == [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9, 10, 11)]


def test_early_stopping_and_lambda_stop_training():
    x, y = _separable(32)
    model = _mlp()
    model.compile(SGD(lr=0.), "mse")  # the loss never improves
    stopper = EarlyStopping(monitor="loss", patience=1, min_delta=1e-3)
    h = model.fit(x, y, epochs=10, verbose=0, callbacks=[stopper])
    # the exact epoch is EarlyStopping's business (optim's tests); the loop must honour stop_training at once
    assert 2 <= len(h.history["loss"]) == stopper.stopped_epoch + 1 < 10

    def stop(batch, logs):
        model.stop_training = True

    h = model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[LambdaCallback(on_batch_end=stop)])
    assert len(h.history["loss"]) == 1


def test_reduce_lr_on_plateau_and_model_checkpoint(tmp_path):
    x, y = _separable(32)
    model = _mlp()
    model.compile(SGD(lr=0.1), "mse")
    # an improvement must exceed epsilon=10: none does, so the learning rate is cut
    cbs = [ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5, epsilon=10.),
           ModelCheckpoint(str(tmp_path / "w.{epoch:02d}.npz"), monitor="loss")]
    h = model.fit(x, y, epochs=3, verbose=0, callbacks=cbs)
    assert h.history["lr"][0] == pytest.approx(0.1) and model.optimizer.lr < 0.1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.01.npz", "w.02.npz", "w.03.npz"]


# ------------------------------------------------------------ progress output

def test_verbose_0_prints_nothing(capsys):
    x, y = _separable(40)
    model = _mlp()
    model.compile("sgd", "binary_crossentropy", metrics=["acc"])
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    model.evaluate(x, y, verbose=0)
    model.predict(x)
    assert capsys.readouterr().out == ""


def test_verbose_1_shows_a_live_progress_line_per_epoch(capsys, monkeypatch):
    monkeypatch.setattr(cbks_module, "_is_terminal", lambda: True)  # on a terminal the line is redrawn in place
    x, y = _separable(40)
    model = _mlp()
    model.compile("sgd", "binary_crossentropy", metrics=["acc"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=1, validation_split=0.2)
    out = capsys.readouterr().out
    assert "Train on 32 samples, validate on 8 samples" in out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "\r" in out and "32/32 [" in out  # the line is rewritten in place and finishes at 32/32
    final = [line for line in out.split("\n") if "32/32" in line]
    assert len(final) == 2
    for line in final:
        last = line.split("\r")[-1]
        assert "- loss:" in last and "- acc:" in last and "- val_loss:" in last and "- val_acc:" in last
        assert "s " in last  # elapsed time


def test_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = _separable(40)
    model = _mlp()
    model.compile("sgd", "binary_crossentropy", metrics=["acc"])
    model.fit(x, y, epochs=3, batch_size=8, verbose=2)
    lines = capsys.readouterr().out.strip().split("\n")
    assert len(lines) == 3 and "\r" not in "".join(lines)
    assert lines[0].startswith("Epoch 1/3") and "loss:" in lines[0] and "acc:" in lines[0]


# ------------------------------------------------------------ determinism

def _run(seed):
    mg.seed(seed)
    x, y = _separable(60)
    model = _mlp(dropout=0.5)
    model.compile(Adam(lr=0.01), "binary_crossentropy", metrics=["acc"])
    h = model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=True)
    return h.history["loss"], model.get_weights()


def test_same_seed_gives_identical_runs():
    loss_a, w_a = _run(7)
    loss_b, w_b = _run(7)
    assert loss_a == loss_b
    assert all(np.array_equal(a, b) for a, b in zip(w_a, w_b))
    loss_c, _ = _run(8)
    assert loss_c != loss_a


# ------------------------------------------------------------ stateful models

def _stateful(batch=4):
    model = Sequential([LSTM(3, stateful=True, batch_input_shape=(batch, 5, 2)), Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_stateful_sample_counts_must_divide_by_the_batch_size():
    model = _stateful()
    x, y = np.zeros((10, 5, 2), np.float32), np.zeros((10, 1), np.float32)
    with pytest.raises(ValueError, match="10 samples"):
        model.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    with pytest.raises(ValueError, match="10 samples"):
        model.evaluate(x, y, batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="batch size 4"):
        model.predict(x, batch_size=4)
    with pytest.raises(ValueError, match="built for batches of 4"):
        model.fit(x[:8], y[:8], verbose=0)  # the default batch_size=32 does not divide 8
    model.fit(x[:8], y[:8], batch_size=4, shuffle=False, verbose=0)
    assert model.predict(x[:8], batch_size=4).shape == (8, 1)
    assert model.predict(x[:4]).shape == (4, 1)  # N <= batch_size: one batch, as Keras allows


def test_stateful_states_carry_and_reset_states_callback_resets_each_epoch():
    model = _stateful()
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((8, 5, 2)).astype(np.float32), np.zeros((8, 1), np.float32)
    layer = model.layers[0]
    starts = []
    record = LambdaCallback(on_epoch_begin=lambda e, logs: starts.append([s.copy() for s in layer.states]))
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[ResetStatesCallback(), record])
    assert all(np.all(s == 0) for epoch in starts for s in epoch)
    assert any(np.any(s != 0) for s in layer.states)  # carried after the last batch
    model.reset_states()
    assert all(np.all(s == 0) for s in layer.states)


# ------------------------------------------------------------ several inputs and outputs

class TwoInTwoOut(TrainingMixin):
    """out_a = dense_a(x1 + x2 @ I), out_b = dense_b(x2): the smallest model with 2 inputs and 2 outputs."""

    _num_inputs = 2
    _num_outputs = 2

    def __init__(self):
        self.name = "two"
        self.a, self.b = Dense(1, input_shape=(3,)), Dense(2, activation="softmax", input_shape=(3,))
        self.a._maybe_build((None, 3))
        self.b._maybe_build((None, 3))
        self.layers = [self.a, self.b]
        self._output_layers = [self.a, self.b]
        self._init_training()

    def _forward(self, inputs, training=False, logits=None):
        x1, x2 = inputs
        logits = logits or [False, False]
        out_a = self.a(mg.Tensor(np.asarray(x1, np.float32)) + np.asarray(x2, np.float32), training=training)
        out_b = self.b(x2, training=training, **({"apply_activation": False} if logits[1] else {}))
        return [out_a, out_b], [None, None]


def test_multi_input_output_plumbing():
    rng = np.random.default_rng(5)
    x1, x2 = rng.standard_normal((20, 3)).astype(np.float32), rng.standard_normal((20, 3)).astype(np.float32)
    ya = (x1 + x2).sum(axis=1, keepdims=True)
    yb = np.eye(2, dtype=np.float32)[(x2[:, 0] > 0).astype(int)]
    model = TwoInTwoOut()
    model.compile(SGD(lr=0.1), ["mse", "categorical_crossentropy"], metrics={model.b.name: ["acc"]},
                  loss_weights=[1., 2.])
    assert model.metrics_names == ["loss", f"{model.a.name}_loss", f"{model.b.name}_loss", f"{model.b.name}_acc"]
    total, loss_a, loss_b, acc = model.evaluate([x1, x2], [ya, yb], verbose=0)
    pa, pb = model.predict([x1, x2])
    assert pa.shape == (20, 1) and pb.shape == (20, 2)
    assert loss_a == pytest.approx(np.mean((pa - ya) ** 2), rel=1e-5)
    assert loss_b == pytest.approx(np.mean(-np.sum(yb * np.log(pb), axis=1)), rel=1e-4)
    assert total == pytest.approx(loss_a + 2 * loss_b, rel=1e-5)
    assert acc == pytest.approx(np.mean(np.argmax(pb, 1) == np.argmax(yb, 1)))
    h = model.fit([x1, x2], [ya, yb], batch_size=5, epochs=5, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert f"{model.b.name}_acc" in h.history
    with pytest.raises(ValueError, match="2 inputs"):
        model.fit(x1, [ya, yb], verbose=0)
    with pytest.raises(ValueError, match="list of 3"):
        model.predict([x1, x2, x2])
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit([x1, x2[:10]], [ya, yb], verbose=0)
