"""Bad functional graphs and bad inputs raise clear errors, at graph construction where possible."""
import numpy as np
import pytest

import minigrad as mg
from layers import LSTM, Dense, Embedding, Flatten, SimpleRNN
from layers.functional import Input, Model


def test_input_arguments():
    with pytest.raises(ValueError, match="not both"):
        Input(shape=(3,), batch_shape=(2, 3))
    with pytest.raises(ValueError, match="shape"):
        Input()
    with pytest.raises(ValueError, match="positive integers"):
        Input(shape=(0, 3))


def test_incompatible_shape_raises_at_construction_naming_both_shapes():
    dense = Dense(3)
    dense(Input(shape=(4,)))
    with pytest.raises(ValueError, match=r"4.*\(None, 5\)"):
        dense(Input(shape=(5,)))
    lstm = LSTM(2)
    lstm(Input(shape=(None, 4)))
    with pytest.raises(ValueError, match=r"\(None, None, 4\).*\(None, None, 6\)"):
        lstm(Input(shape=(None, 6)))
    with pytest.raises(ValueError, match=r"3-D input.*\(None, 4\)"):
        LSTM(2)(Input(shape=(4,)))


def test_mixing_symbolic_and_concrete_raises():
    x = Input(shape=(None, 3))
    h = Input(shape=(2,))
    with pytest.raises(ValueError, match=r"mix of symbolic tensors.*initial_state\[1\].*ndarray"):
        LSTM(2)(x, initial_state=[h, np.zeros((1, 2))])
    with pytest.raises(ValueError, match=r"mix of symbolic.*the input.*ndarray"):
        SimpleRNN(2)(np.zeros((1, 4, 3)), initial_state=[h])
    with pytest.raises(ValueError, match="mix of symbolic"):
        Dense(2)([x, mg.Tensor(np.zeros((1, 3)))])


def test_initial_state_checked_at_construction():
    x = Input(shape=(None, 3))
    h, c = Input(shape=(2,)), Input(shape=(5,))
    with pytest.raises(ValueError, match=r"2 state\(s\).*passed 1"):
        LSTM(2)(x, initial_state=[h])
    with pytest.raises(ValueError, match=r"initial state 1 \(c\).*expected shape \(None, 2\), found shape \(None, 5\)"):
        LSTM(2)(x, initial_state=[h, c])
    with pytest.raises(TypeError, match="no states"):
        Dense(2)(Input(shape=(3,)), initial_state=[h])


def test_masked_input_to_a_layer_without_mask_support_raises_at_construction():
    emb = Embedding(5, 3, mask_zero=True)(Input(shape=(4,)))
    with pytest.raises(TypeError, match="does not support masking"):
        Flatten()(emb)


def test_disconnected_input_is_named():
    a, b = Input(shape=(3,), name="used"), Input(shape=(3,), name="unused_extra")
    with pytest.raises(ValueError, match="'unused_extra'.*disconnected"):
        Model([a, b], Dense(2)(a))


def test_output_needing_an_unlisted_input_is_named():
    x = Input(shape=(None, 3), name="seq")
    h = Input(shape=(2,), name="state_h")
    out = SimpleRNN(2)(x, initial_state=[h])
    with pytest.raises(ValueError, match=r"Graph disconnected.*'state_h'.*not among the model's inputs \[seq\]"):
        Model(x, out)


def test_model_inputs_must_be_inputs():
    x = Input(shape=(3,))
    hidden = Dense(2)(x)
    with pytest.raises(ValueError, match="Input"):
        Model(hidden, Dense(1)(hidden))
    with pytest.raises(TypeError, match="symbolic"):
        Model(x, np.zeros(3))
    with pytest.raises(ValueError, match="twice"):
        Model([x, x], hidden)


def two_inputs():
    a, b = Input(shape=(4,), name="a"), Input(shape=(None, 3), name="b")
    return Model([a, b], SimpleRNN(4)(b, initial_state=[a]))


def test_wrong_number_of_input_arrays():
    model = two_inputs()
    with pytest.raises(ValueError, match=r"expects 2 input array\(s\) \(for a, b\), but received 1"):
        model(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"expects 2 input array\(s\).*received 3"):
        model([np.zeros((2, 4))] * 3)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="2 inputs.*3"):
        model.fit([np.zeros((2, 4))] * 3, np.zeros((2, 4)), verbose=0)
    with pytest.raises(ValueError, match="2 inputs"):
        model.predict(np.zeros((2, 4)))


def test_wrong_input_shapes_name_expected_and_found():
    model = two_inputs()
    with pytest.raises(ValueError, match=r"'b'.*\(None, None, 3\).*\(2, 5, 7\)"):
        model([np.zeros((2, 4)), np.zeros((2, 5, 7))])
    with pytest.raises(ValueError, match=r"'a'.*\(None, 4\).*\(2, 4, 1\)"):
        model.predict([np.zeros((2, 4, 1)), np.zeros((2, 5, 3))])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"'b'.*\(None, None, 3\).*\(8, 5, 2\)"):
        model.fit([np.zeros((8, 4)), np.zeros((8, 5, 2))], np.zeros((8, 4)), verbose=0)


def test_model_called_symbolically_on_the_wrong_shape():
    model = two_inputs()
    with pytest.raises(ValueError, match=r"'b'.*expected shape \(None, None, 3\), found shape \(None, None, 2\)"):
        model([Input(shape=(4,)), Input(shape=(None, 2))])
    with pytest.raises(ValueError, match=r"2 input\(s\).*1 tensor"):
        model(Input(shape=(4,)))


def test_model_called_on_a_mix_of_symbolic_and_arrays():
    model = two_inputs()
    with pytest.raises(ValueError, match=r"mix of symbolic.*the input\[1\]"):
        model([Input(shape=(4,)), np.zeros((1, 5, 3))])
