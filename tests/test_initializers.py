"""layers.initializers: name lookup, Keras 2.0 formulas on fused recurrent shapes, orthogonality, seeding, dtype."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from layers import initializers

NAMES = ['zeros', 'ones', 'constant', 'glorot_uniform', 'glorot_normal', 'orthogonal', 'he_normal', 'he_uniform',
         'lecun_uniform', 'lecun_normal', 'random_normal', 'random_uniform', 'truncated_normal', 'identity']
RANDOM_NAMES = ['glorot_uniform', 'glorot_normal', 'orthogonal', 'he_normal', 'he_uniform', 'lecun_uniform',
                'lecun_normal', 'random_normal', 'random_uniform', 'truncated_normal']
# std of N(0, 1) truncated to [-2, 2]; Keras 2.0.x's 'normal' variance scaling did not divide by it.
TRUNCATED_STD = 0.87962566103423978

D, U = 30, 50   # a fused LSTM kernel is (D, 4U), its recurrent kernel (U, 4U)


# ---------------------------------------------------------------- lookup

@pytest.mark.parametrize('name', NAMES)
@pytest.mark.parametrize('dtype', [None, 'float32', np.float64])
def test_every_name_resolves_and_gives_the_shape_and_dtype(name, dtype):
    init = initializers.get(name)
    assert isinstance(init, initializers.Initializer)
    shape = (6, 6)  # square, so 'identity' works too
    w = init(shape) if dtype is None else init(shape, dtype=dtype)
    assert w.shape == shape
    assert w.dtype == (np.float32 if dtype is None else np.dtype(dtype))


@pytest.mark.parametrize('bad', ['glorot', 'Glorot_Uniform', 'xavier', ''])
def test_unknown_name_raises_listing_valid_names(bad):
    with pytest.raises(ValueError) as info:
        initializers.get(bad)
    message = str(info.value)
    assert repr(bad) in message
    for name in NAMES:
        assert repr(name) in message


def test_none_and_other_uninterpretable_identifiers_raise():
    for bad in (None, 3.5):
        with pytest.raises(ValueError, match=repr(bad)):
            initializers.get(bad)


def test_callables_classes_and_config_dicts():
    def custom(shape, dtype='float32'):
        return np.full(shape, 7, dtype=dtype)
    assert initializers.get(custom) is custom
    assert isinstance(initializers.get(initializers.Zeros), initializers.Zeros)
    init = initializers.get({'class_name': 'RandomUniform', 'config': {'minval': 1.0, 'maxval': 2.0}})
    w = init((100,))
    assert np.all((w >= 1) & (w <= 2))
    for original in (initializers.glorot_uniform(seed=3), initializers.Orthogonal(gain=2.0),
                     initializers.Constant(0.5), initializers.Zeros()):
        config = initializers.serialize(original)
        rebuilt = initializers.get(config)
        assert type(rebuilt) is type(original) and rebuilt.get_config() == original.get_config()


def test_keras_1_spellings_resolve():
    assert isinstance(initializers.get('zero'), initializers.Zeros)
    assert isinstance(initializers.get('one'), initializers.Ones)
    assert isinstance(initializers.get('uniform'), initializers.RandomUniform)
    assert isinstance(initializers.get('normal'), initializers.RandomNormal)


# ---------------------------------------------------------------- constant initializers

def test_zeros_ones_constant():
    assert np.array_equal(initializers.get('zeros')((2, 3)), np.zeros((2, 3)))
    assert np.array_equal(initializers.get('ones')(4), np.ones(4))
    assert np.array_equal(initializers.Constant(2.5)((3,), dtype='float64'), np.full(3, 2.5))


def test_identity_square_only():
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((4, 4)), 3.0 * np.eye(4))
    for shape in [(3, 4), (4,), (2, 2, 2)]:
        with pytest.raises(ValueError, match=str(shape).replace('(', r'\(').replace(')', r'\)')):
            initializers.Identity()(shape)


# ---------------------------------------------------------------- variance scaling on fused shapes

def test_glorot_uniform_bound_and_variance_over_the_whole_fused_kernel():
    mg.seed(0)
    w = initializers.get('glorot_uniform')((D, 4 * U)).astype(np.float64)
    limit = np.sqrt(6.0 / (D + 4 * U))   # fans of the whole (D, 4U) kernel, not of one gate block
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    assert abs(w.mean()) < 0.05 * limit
    np.testing.assert_allclose(w.var(), limit ** 2 / 3, rtol=0.05)  # variance of U[-L, L] = 2 / (fan_in + fan_out)


@pytest.mark.parametrize('name, limit', [
    ('he_uniform', np.sqrt(6.0 / D)),
    ('lecun_uniform', np.sqrt(3.0 / D)),
])
def test_uniform_fan_in_limits(name, limit):
    w = initializers.get(name)((D, 4 * U))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit


@pytest.mark.parametrize('name, stddev', [
    ('glorot_normal', np.sqrt(2.0 / (D + 4 * U))),
    ('he_normal', np.sqrt(2.0 / D)),
    ('lecun_normal', np.sqrt(1.0 / D)),
    ('truncated_normal', 0.05),
])
def test_normal_variants_are_truncated_normals_as_in_keras_2_0(name, stddev):
    mg.seed(1)
    w = initializers.get(name)((D, 4 * U)).astype(np.float64)
    assert np.abs(w).max() <= 2 * stddev * (1 + 1e-6)            # redrawn beyond two standard deviations
    np.testing.assert_allclose(w.std(), TRUNCATED_STD * stddev, rtol=0.05)


def test_random_normal_and_uniform_defaults():
    mg.seed(2)
    n = initializers.get('random_normal')((200, 50)).astype(np.float64)
    np.testing.assert_allclose(n.std(), 0.05, rtol=0.05)
    assert np.abs(n).max() > 2 * 0.05  # untruncated
    u = initializers.get('random_uniform')((200, 50))
    assert np.abs(u).max() <= 0.05


@pytest.mark.parametrize('mode, n', [('fan_in', 8), ('fan_out', 20), ('fan_avg', 14)])
def test_variance_scaling_modes(mode, n):
    w = initializers.VarianceScaling(scale=3.0, mode=mode, distribution='uniform', seed=0)((8, 20))
    limit = np.sqrt(3 * 3.0 / n)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit


def test_fans():
    assert initializers.compute_fans((3, 5)) == (3.0, 5.0)
    assert initializers.compute_fans((16,)) == (4.0, 4.0)      # Keras: sqrt(size) when nothing is known
    assert initializers.compute_fans((3, 2, 5)) == (6.0, 15.0)  # channels-last conv kernel


def test_variance_scaling_rejects_bad_arguments():
    with pytest.raises(ValueError, match='scale'):
        initializers.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match='fan_sum'):
        initializers.VarianceScaling(mode='fan_sum')
    with pytest.raises(ValueError, match='gaussian'):
        initializers.VarianceScaling(distribution='gaussian')
    with pytest.raises(ValueError, match='int32'):
        initializers.get('glorot_uniform')((2, 2), dtype='int32')


# ---------------------------------------------------------------- orthogonal

def test_orthogonal_fused_recurrent_kernel_has_orthonormal_rows_only():
    w = initializers.get('orthogonal')((U, 4 * U), dtype='float64')
    np.testing.assert_allclose(w @ w.T, np.eye(U), atol=1e-10)
    # The whole fused matrix is orthonormal by rows; a single U x U gate block is not orthogonal.
    block = w[:, :U]
    assert not np.allclose(block @ block.T, np.eye(U), atol=1e-3)


def test_orthogonal_square_is_a_true_orthogonal_matrix():
    w = initializers.get('orthogonal')((U, U), dtype='float64')
    np.testing.assert_allclose(w @ w.T, np.eye(U), atol=1e-10)
    np.testing.assert_allclose(w.T @ w, np.eye(U), atol=1e-10)


def test_orthogonal_tall_and_higher_rank_shapes_have_orthonormal_columns():
    w = initializers.Orthogonal()((4 * U, U), dtype='float64')
    np.testing.assert_allclose(w.T @ w, np.eye(U), atol=1e-10)
    w3 = initializers.Orthogonal()((2, 3, 4), dtype='float64').reshape(6, 4)  # flattened to (prod(shape[:-1]), 4)
    np.testing.assert_allclose(w3.T @ w3, np.eye(4), atol=1e-10)


def test_orthogonal_gain_scales():
    base = initializers.Orthogonal(seed=5)((U, 4 * U), dtype='float64')
    scaled = initializers.Orthogonal(gain=2.5, seed=5)((U, 4 * U), dtype='float64')
    np.testing.assert_allclose(scaled, 2.5 * base, rtol=1e-12)
    np.testing.assert_allclose(scaled @ scaled.T, 2.5 ** 2 * np.eye(U), atol=1e-9)


# ---------------------------------------------------------------- seeding

@pytest.mark.parametrize('name', RANDOM_NAMES)
def test_mg_seed_makes_draws_reproducible(name):
    mg.seed(0)
    a = initializers.get(name)((7, 12))
    b = initializers.get(name)((7, 12))
    mg.seed(0)
    c = initializers.get(name)((7, 12))
    assert np.array_equal(a, c)
    assert not np.array_equal(a, b)  # the project generator moves on between calls


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2 ** 31), name=st.sampled_from(RANDOM_NAMES))
def test_own_seed_gives_the_same_weights_whatever_the_project_generator(seed, name):
    init = initializers.get({'class_name': name, 'config': {'seed': seed}})
    mg.seed(1)
    a = init((5, 9))
    mg.seed(2)
    state = mg.get_rng().bit_generator.state
    b = init((5, 9))
    assert np.array_equal(a, b)
    assert mg.get_rng().bit_generator.state == state  # a seeded initializer leaves the project generator alone


def test_float32_and_float64_draws_from_one_seed_agree_to_rounding():
    init = initializers.glorot_uniform(seed=11)
    np.testing.assert_allclose(init((4, 6)), init((4, 6), dtype='float64'), rtol=1e-6)
