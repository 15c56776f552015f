"""Merge layers against Keras 3's (torch backend), which kept Keras 2.0's shape rules; skipped without Keras."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from layers import merge  # noqa: E402

rng = np.random.default_rng(3)


def numpy_of(x):
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


@pytest.mark.parametrize("name", ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"])
@pytest.mark.parametrize("shapes", [[(4, 3), (4, 3)], [(4, 5, 3), (4, 3)], [(4, 1, 3), (4, 5, 1)],
                                    [(4, 2, 3), (4, 3), (4, 1, 3)]], ids=str)
def test_elementwise_matches_keras3(name, shapes):
    if name == "Subtract":
        shapes = shapes[:2]
    xs = [rng.normal(size=s).astype(np.float32) for s in shapes]
    want = numpy_of(getattr(keras.layers, name)()(xs))
    got = getattr(merge, name)()(xs).data
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("axis", [-1, 1, 2])
def test_concatenate_matches_keras3(axis):
    xs = [rng.normal(size=(2, 3, 4)).astype(np.float32) for _ in range(3)]
    np.testing.assert_array_equal(merge.Concatenate(axis=axis)(xs).data,
                                  numpy_of(keras.layers.Concatenate(axis=axis)(xs)))


@pytest.mark.parametrize("shapes, axes", [([(4, 5), (4, 5)], 1), ([(4, 6, 5), (4, 3, 5)], 2),
                                          ([(4, 6, 5), (4, 6, 3)], 1), ([(4, 6, 5), (4, 5, 3)], (2, 1)),
                                          ([(4, 6, 5), (4, 3, 6)], (1, 2)), ([(4, 5), (4, 5, 3)], (1, 1)),
                                          ([(4, 6, 5), (4, 5)], (-1, -1))], ids=str)
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_matches_keras3(shapes, axes, normalize):
    xs = [rng.normal(size=s).astype(np.float32) for s in shapes]
    want = numpy_of(keras.layers.Dot(axes=axes, normalize=normalize)(xs))
    got = merge.Dot(axes=axes, normalize=normalize)(xs).data
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
