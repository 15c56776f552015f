"""Smoke test of examples/custom_cell.py: a user-written peephole LSTM cell, gradient-checked and trained beside
the built-in LSTM, with tiny settings into a temporary folder."""
import importlib.util
import json

import numpy as np
import pytest
from example_loader import load_example

import minigrad as mg

TINY = ["--epochs", "2", "--length", "5", "--samples", "1000", "--test", "200", "--units", "8", "--batch-size", "10"]


@pytest.fixture(scope="module")
def example():
    """The example module (it imports adding_problem)."""
    with load_example('custom_cell.py', ('_common', 'adding_problem')) as module:
        yield module


def test_the_example_gradchecks_trains_and_plots(example, tmp_path, capsys):
    assert example.main(TINY + ["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "gradient check" in out and "passed" in out
    assert "peephole LSTM (user cell)" in out and "LSTM (built in)" in out and "s/epoch" in out
    assert (tmp_path / "custom_cell.png").exists() == (importlib.util.find_spec("matplotlib") is not None)


def test_the_example_fails_when_the_cell_learns_nothing(example, tmp_path, capsys):
    assert example.main(TINY + ["--lr", "0", "--out", str(tmp_path)]) == 1
    assert "FAILED" in capsys.readouterr().err


def test_the_peephole_cell_is_an_lstm_when_its_peepholes_are_zero_and_round_trips(example):
    from layers import LSTM, RNN, deserialize, serialize
    layer = RNN(example.PeepholeLSTMCell(3, dtype="float64"), return_sequences=True)
    lstm = LSTM(3, recurrent_activation="sigmoid", return_sequences=True, dtype="float64")
    x = np.random.default_rng(0).standard_normal((2, 5, 4))
    layer(x)
    lstm(x)
    kernel, recurrent, peephole, bias = layer.get_weights()
    assert peephole.shape == (3, 3) and np.all(peephole == 0)
    lstm.set_weights([kernel, recurrent, bias])
    np.testing.assert_allclose(layer(x).data, lstm(x).data, rtol=1e-12)
    again = deserialize(json.loads(json.dumps(serialize(layer))))      # registered: no custom_objects needed
    assert type(again.cell) is example.PeepholeLSTMCell and again.cell.units == 3


def test_the_gradient_check_catches_a_wrong_cell(example, monkeypatch):
    call = example.PeepholeLSTMCell.call

    def leaky(self, inputs, states, training=False):
        h, new = call(self, inputs, states, training)
        return h, [mg.Tensor(new[0].data), new[1]]      # h's value, cut from the graph: gradients go wrong
    monkeypatch.setattr(example.PeepholeLSTMCell, "call", leaky)
    with pytest.raises(mg.GradcheckError):
        example.gradcheck_cell(2, 0)
