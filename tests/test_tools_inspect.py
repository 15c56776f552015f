"""The tape made visible (tape_table, track_ops) and NaN/Inf tracking (detect_anomaly)."""
import io

import numpy as np
import pytest

import minigrad as mg
import minigrad.tensor as mg_tensor
from layers import SimpleRNN


def leaf(*shape, seed=0, name=None):
    return mg.Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True, name=name)


def test_tape_table_lists_ops_in_order_with_shapes():
    x, w = leaf(4, 3, name="x"), leaf(3, 2, seed=1, name="w")
    y = mg.tanh(x @ w).sum()
    entries = mg.tape(y)
    assert [e.op for e in entries] == ["MatMul", "Tanh", "Sum"]
    assert entries[0].inputs == [("leaf", "x", (4, 3)), ("leaf", "w", (3, 2))]
    assert entries[1].inputs == [("op", (0, 0), (4, 2))]
    assert [e.outputs[0][0] for e in entries] == [(4, 2), (4, 2), ()]
    table = mg.tape_table(y)
    lines = table.splitlines()
    assert lines[0].split() == ["#", "op", "inputs", "output"]
    assert "MatMul" in lines[1] and "x (4, 3), w (3, 2)" in lines[1] and lines[1].rstrip().endswith("(4, 2)")
    assert "Tanh" in lines[2] and "#0 (4, 2)" in lines[2]
    assert "Sum" in lines[3] and lines[3].rstrip().endswith("()")
    assert "3 ops, 2 leaves" in lines[-1]
    out = io.StringIO()
    mg.print_tape(y, file=out)
    assert out.getvalue().strip() == table
    assert mg.tape(mg.Tensor(np.ones(2)) * 2) == []           # nothing requires grad: nothing recorded


def test_tape_table_of_several_outputs_and_long_tapes():
    x = leaf(4, 6)
    a, b, c = mg.split(x, 3, axis=1)
    y = a * 2
    for _ in range(50):
        y = y + b
    table = mg.tape_table([y, c], max_rows=6)
    assert "(46 more ops)" in table and "52 ops" in table   # one split + mul + 50 adds


def test_track_ops_tags_each_unrolled_step_with_its_timestep():
    mg.seed(0)
    layer = SimpleRNN(3, unroll=True, go_backwards=True, name="rnn")
    x = mg.get_rng().standard_normal((2, 4, 2))
    with mg.track_ops():
        with mg.scope("model"):
            loss = (layer(x) ** 2).sum()
    entries = mg.tape(loss)
    steps = [e.timestep for e in entries if e.op == "Tanh"]
    assert steps == [3, 2, 1, 0]                             # processing order of go_backwards
    assert all(e.scope == "model/rnn" for e in entries if e.timestep is not None)
    assert entries[0].timestep is None and entries[0].scope == "model"   # the input projection, before the loop
    assert entries[0].where is not None and "recurrent_cells.py" in entries[0].where   # the cell's input product
    assert "step_inputs" in entries[0].where
    table = mg.tape_table(loss)
    assert table.splitlines()[0].split() == ["#", "op", "inputs", "output", "t", "scope"]
    # off again: nothing is tagged, and the hook is gone
    assert mg_tensor._hook is None
    assert all(e.timestep is None for e in mg.tape((layer(x) ** 2).sum()))


def test_detect_anomaly_names_the_op_of_a_log_of_a_negative_number():
    x = mg.Tensor(np.array([2.0, -1.0, 3.0]), requires_grad=True)
    with pytest.raises(mg.AnomalyError, match=r"Log .*forward pass.*1 NaN.*index \(1,\)") as err:
        with mg.detect_anomaly():
            with np.errstate(invalid="ignore"):
                y = mg.exp(x) + mg.log(x)
    assert err.value.op == "Log" and err.value.phase == "forward" and err.value.index == (1,)
    assert "test_tools_inspect.py" in err.value.where
    assert mg_tensor._hook is None                           # the block restored the off state
    with np.errstate(invalid="ignore"):
        y = mg.log(x)                                        # off: no check, no error
    assert np.isnan(y.data[1])


def test_detect_anomaly_names_the_timestep_of_an_unrolled_layer():
    # h_t = sqrt(x_t W + h_{t-1} R) with W = I, R = 0: the first negative input is at timestep 3
    layer = SimpleRNN(2, activation=mg.sqrt, unroll=True, use_bias=False, name="sqrt_rnn", dtype="float64")
    x = np.abs(np.random.default_rng(0).standard_normal((2, 6, 2))) + 0.1
    x[1, 3, 0] = -1.0
    x[0, 5, 1] = -1.0
    layer.build(x.shape)
    layer.set_weights([np.eye(2), np.zeros((2, 2))])
    with pytest.raises(mg.AnomalyError, match=r"Sqrt \(timestep 3, scope 'sqrt_rnn'") as err:
        with mg.detect_anomaly(), np.errstate(invalid="ignore"):
            layer(x)
    assert err.value.timestep == 3 and err.value.op == "Sqrt" and err.value.index == (1, 0)


def test_detect_anomaly_in_the_backward_pass():
    x = mg.Tensor(np.array([4.0, 0.0]), requires_grad=True)
    with pytest.raises(mg.AnomalyError, match=r"backward of Sqrt.*input 0.*1 Inf") as err:
        with mg.detect_anomaly(), np.errstate(divide="ignore"):
            y = mg.sqrt(x).sum()                             # finite forward: sqrt(0) = 0
            y.backward()                                     # d sqrt / dx = 1 / (2 sqrt(0)) = inf
    assert err.value.phase == "backward" and err.value.index == (1,)
    assert x.grad is None                                    # raised before anything reached the leaf


def test_contexts_nest_and_restore():
    with mg.detect_anomaly():
        with mg.track_ops():
            assert mg_tensor._hook is not None
        with np.errstate(invalid="ignore"), pytest.raises(mg.AnomalyError):
            mg.log(leaf(1) * 0 - 1)                          # anomaly checks still on after the inner block
    assert mg_tensor._hook is None
    steps = [0, 1, 2]
    assert mg.tag_timesteps(steps) is steps                  # off: the loop's iterable itself, zero cost
