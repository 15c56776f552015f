"""to_categorical with Keras 2.0's semantics and clear errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from layers import utils
from layers.utils import np_utils, to_categorical


@given(ids=hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                      elements=st.integers(0, 5)),
       extra=st.integers(0, 3))
def test_rows_are_one_hot_in_flattened_order(ids, extra):
    out = to_categorical(ids)
    assert out.shape == (ids.size, ids.max() + 1) and out.dtype == np.float64
    np.testing.assert_array_equal(out, np.eye(ids.max() + 1)[ids.ravel()])
    n = int(ids.max()) + 1 + extra
    np.testing.assert_array_equal(to_categorical(ids, n), np.eye(n)[ids.ravel()])
    np.testing.assert_array_equal(to_categorical(ids.astype(float), n), np.eye(n)[ids.ravel()])


def test_keras_forms():
    np.testing.assert_array_equal(to_categorical([0, 2, 1]), [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(to_categorical([[1], [0]], 3), [[0, 1, 0], [1, 0, 0]])  # a column of ids
    assert to_categorical(np.array([[1, 0], [2, 2]])).shape == (4, 3)  # flattened, as Keras 2.0
    assert to_categorical([], 4).shape == (0, 4)
    assert to_categorical(np.int64(2), 3).tolist() == [[0., 0., 1.]]
    assert utils.to_categorical is np_utils.to_categorical is to_categorical


@pytest.mark.parametrize("y, num_classes, match", [
    ([-1, 2], None, "must be >= 0, found -1"),  # Keras would index the last class
    ([0, 1.5], None, "integer class ids, found 1.5"),  # Keras would truncate to 1
    ([np.nan], 3, "integer class ids, found nan"),
    ([0, 3], 3, r"class id 3 is out of range for num_classes=3"),
    ([0], 0, "num_classes must be a positive integer"),
    ([0], -2, "num_classes must be a positive integer"),
    ([0], 2.0, "num_classes must be a positive integer"),
    ([0], True, "num_classes must be a positive integer"),
    ([], None, "empty.*num_classes"),
])
def test_bad_ids_raise(y, num_classes, match):
    with pytest.raises(ValueError, match=match):
        to_categorical(y, num_classes)


def test_non_numeric_ids_raise_type_error():
    with pytest.raises(TypeError, match="integer class ids"):
        to_categorical(["a", "b"])
