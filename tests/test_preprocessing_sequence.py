"""pad_sequences: Keras 2.0's semantics, held against a plain reference implementation."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layers.preprocessing import sequence
from layers.preprocessing.sequence import pad_sequences


def reference(seqs, maxlen, padding, truncating, value, sample_shape=()):
    """Step by step, as the Keras 2.0 docstring states it: keep the last (truncating='pre') or first maxlen steps,
    then put them at the end (padding='pre') or the start of a row of `value`."""
    if maxlen is None:
        maxlen = max(len(s) for s in seqs)
    rows = []
    for s in seqs:
        kept = list(s)
        if len(kept) > maxlen:
            kept = kept[len(kept) - maxlen:] if truncating == "pre" else kept[:maxlen]
        fill = [np.full(sample_shape, value).tolist()] * (maxlen - len(kept))
        rows.append(fill + kept if padding == "pre" else kept + fill)
    return rows


@given(seqs=st.lists(st.lists(st.integers(-50, 50), max_size=7), min_size=1, max_size=6),
       maxlen=st.one_of(st.none(), st.integers(0, 9)),
       padding=st.sampled_from(["pre", "post"]), truncating=st.sampled_from(["pre", "post"]),
       value=st.integers(-3, 3))
def test_matches_reference(seqs, maxlen, padding, truncating, value):
    out = pad_sequences(seqs, maxlen=maxlen, padding=padding, truncating=truncating, value=value)
    want = reference(seqs, maxlen, padding, truncating, value)
    assert out.dtype == np.int32
    assert out.shape == (len(seqs), max(len(s) for s in seqs) if maxlen is None else maxlen)
    assert out.tolist() == want


@given(lengths=st.lists(st.integers(0, 6), min_size=1, max_size=5), features=st.integers(1, 3),
       maxlen=st.one_of(st.none(), st.integers(1, 8)),
       padding=st.sampled_from(["pre", "post"]), truncating=st.sampled_from(["pre", "post"]),
       seed=st.integers(0, 1000))
def test_multi_dimensional_samples(lengths, features, maxlen, padding, truncating, seed):
    gen = np.random.default_rng(seed)
    seqs = [gen.normal(size=(n, features)) for n in lengths]
    out = pad_sequences(seqs, maxlen=maxlen, dtype="float64", padding=padding, truncating=truncating, value=-1.)
    want = reference([s.tolist() for s in seqs], maxlen, padding, truncating, -1., (features,))
    if any(lengths):
        assert out.shape[2:] == (features,)
        np.testing.assert_array_equal(out, np.array(want, dtype=float).reshape(out.shape))
    else:  # only empty sequences: no sample shape to learn, as in Keras
        assert out.shape == (len(seqs), max(lengths) if maxlen is None else maxlen)


def test_keras_examples():
    seqs = [[1, 2, 3], [4, 5], [6]]
    np.testing.assert_array_equal(pad_sequences(seqs), [[1, 2, 3], [0, 4, 5], [0, 0, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2), [[2, 3], [4, 5], [0, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2, truncating="post"), [[1, 2], [4, 5], [0, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, padding="post", value=9), [[1, 2, 3], [4, 5, 9], [6, 9, 9]])
    assert sequence.pad_sequences is pad_sequences


def test_empty_sequences_and_zero_length():
    np.testing.assert_array_equal(pad_sequences([[], [1, 2], []], value=7), [[7, 7], [1, 2], [7, 7]])
    assert pad_sequences([[], []]).shape == (2, 0)
    assert pad_sequences([], maxlen=3).shape == (0, 3)
    assert pad_sequences([[1, 2], [3]], maxlen=0).shape == (2, 0)  # Keras' s[-0:] kept everything and failed
    with pytest.raises(ValueError, match="empty.*maxlen"):
        pad_sequences([])


def test_inputs_of_other_kinds():
    ids = np.arange(6).reshape(2, 3)  # an array of sequences
    np.testing.assert_array_equal(pad_sequences(ids, maxlen=4), [[0, 0, 1, 2], [0, 3, 4, 5]])
    np.testing.assert_array_equal(pad_sequences(((1,), (2, 3))), [[0, 1], [2, 3]])  # tuples
    out = pad_sequences([np.array([0.5, 1.5])], maxlen=3, dtype="float32")
    assert out.dtype == np.float32 and out.tolist() == [[0., 0.5, 1.5]]
    assert pad_sequences([[True, False]], dtype=bool).tolist() == [[True, False]]
    assert pad_sequences([[1, 2]], dtype="int64", maxlen=np.int64(3)).dtype == np.int64


def test_misuse_raises_clearly():
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post', got 'middle'"):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="truncating must be 'pre' or 'post'"):
        pad_sequences([[1]], truncating="PRE")
    with pytest.raises(ValueError, match="list of sequences, got int"):
        pad_sequences(5)
    with pytest.raises(ValueError, match="list of sequences, got str"):
        pad_sequences("abc")
    with pytest.raises(ValueError, match="element 1 is a int"):
        pad_sequences([[1], 2])
    with pytest.raises(ValueError, match="element 0 is a str"):
        pad_sequences(["abc"])
    with pytest.raises(ValueError, match="maxlen"):
        pad_sequences([[1]], maxlen=-1)
    with pytest.raises(ValueError, match="maxlen"):
        pad_sequences([[1]], maxlen=2.5)
    with pytest.raises(ValueError, match=r"sequence 1 have shape \(3,\).*\(2,\)"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])
    with pytest.raises(ValueError, match="sequence 0 is ragged"):
        pad_sequences([[[1, 2], [3]]])
    with pytest.raises(ValueError, match="non-numeric"):
        pad_sequences([["a", "b"]])
    with pytest.raises(TypeError, match="dtype"):
        pad_sequences([[1]], dtype="not-a-dtype")
    with pytest.raises(TypeError, match="numeric"):
        pad_sequences([[1]], dtype=object)
    with pytest.raises(ValueError, match="value must be a number"):
        pad_sequences([[1]], value="x")


def test_values_the_dtype_cannot_hold_raise():
    # Keras casts silently: float features padded with the default dtype 'int32' would lose their fractions
    with pytest.raises(ValueError, match=r"int32 cannot represent 0.25, found in sequence 1.*float32"):
        pad_sequences([[1., 2.], [0.25]])
    with pytest.raises(ValueError, match="int8 cannot represent 300"):
        pad_sequences([[1], [300]], dtype="int8")
    with pytest.raises(ValueError, match="cannot represent nan"):
        pad_sequences([[np.nan]])
    with pytest.raises(ValueError, match="float32 cannot represent 1e"):
        pad_sequences([[1e300]], dtype="float32")
    with pytest.raises(ValueError, match="uint8 cannot represent -1, found in the padding value"):
        pad_sequences([[1]], dtype="uint8", value=-1)
    with pytest.raises(ValueError, match="padding value"):
        pad_sequences([[1]], value=0.5)
    np.testing.assert_array_equal(pad_sequences([[1., 2.], [3.]]), [[1, 2], [0, 3]])  # whole floats are fine
