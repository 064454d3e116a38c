import numpy as np
import pytest
from homework import homework_svd

import linfeat_widgets as lf
from linfeat_widgets.spectrum import _signs

GRID = np.linspace(0.0, 1.0, 301)[:, None]


def aligned(a, b):
    """Max difference between the columns of a and b, each compared up to sign."""
    signs = np.sign(np.sum(a * b, axis=0))
    return np.max(np.abs(a - b * signs))


@pytest.mark.parametrize("width, depth", [(10, 1), (7, 2), (5, 4)])
def test_svd_method_matches_numpy(data, width, depth):
    model = lf.make_mlp(width, depth=depth, seed=0)
    spectrum = lf.feature_svd(model, data.X, GRID, method="svd")
    J = lf.linearize(model, data.X).matrix
    s = np.linalg.svd(J, compute_uv=False)
    r = spectrum.rank
    assert r == np.linalg.matrix_rank(J)
    np.testing.assert_allclose(spectrum.singular_values, s[:r], rtol=1e-10)
    assert spectrum.V.shape == (J.shape[1], r)
    assert spectrum.principal_features.shape == (301, r)
    # principal features on the grid are J(grid) V
    np.testing.assert_allclose(spectrum.principal_features, lf.linearize(model, GRID).matrix @ spectrum.V, atol=1e-10)
    # and at the training points they are U S, what the homework plotted
    at_train = lf.feature_svd(model, data.X, method="svd")
    np.testing.assert_allclose(at_train.principal_features, at_train.U * at_train.singular_values, atol=1e-9)
    np.testing.assert_allclose(spectrum.V.T @ spectrum.V, np.eye(r), atol=1e-9)


def test_spectrum_equals_the_homeworks_solution(data):
    model = lf.make_mlp(10, seed=0)
    us, s = homework_svd(model, data.X)  # per-point float32 Jacobian, full SVD
    spectrum = lf.feature_svd(model, data.X, method="svd")
    r = spectrum.rank
    np.testing.assert_allclose(spectrum.singular_values, s[:r], rtol=1e-5)
    assert aligned(spectrum.principal_features[:, :5], us[:, :5]) < 1e-4 * s[0]


@pytest.mark.parametrize("width, depth", [(40, 2), (20, 1)])
def test_gram_method_matches_svd(data, width, depth):
    model = lf.make_mlp(width, depth=depth, seed=1)
    svd = lf.feature_svd(model, data.X, GRID, method="svd")
    gram = lf.feature_svd(model, data.X, GRID, method="gram")
    s = svd.singular_values
    assert gram.rank <= svd.rank
    big = s > 1e-4 * s[0]
    np.testing.assert_allclose(gram.singular_values[: big.sum()], s[big], rtol=1e-6)
    # well-separated leading directions agree (same sign convention)
    top = 5
    assert np.max(np.abs(gram.principal_features[:, :top] - svd.principal_features[:, :top])) < 1e-6 * s[0]
    assert np.max(np.abs(gram.V[:, :top] - svd.V[:, :top])) < 1e-6


def test_auto_picks_gram_when_parameters_outnumber_points(data):
    assert lf.feature_svd(lf.make_mlp(40, depth=2, seed=0), data.X).method == "gram"  # d = 1761 > 200
    assert lf.feature_svd(lf.make_mlp(10, seed=0), data.X).method == "svd"  # d = 31


def test_ntk_is_the_gram_matrix_of_the_features(data):
    model = lf.make_mlp(6, depth=3, seed=0)
    J = lf.linearize(model, data.X).matrix
    G = lf.linearize(model, GRID).matrix
    np.testing.assert_allclose(lf.ntk(model, data.X), J @ J.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lf.ntk(model, GRID, data.X), G @ J.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lf.ntk(model, GRID, data.X, method="autograd"), G @ J.T, rtol=1e-10, atol=1e-10)


def test_sign_convention_is_deterministic():
    U = np.random.default_rng(0).standard_normal((20, 4))
    fixed = U * _signs(U)
    np.testing.assert_array_equal(fixed, -U * _signs(-U))
    assert np.all(fixed[np.argmax(np.abs(fixed), axis=0), range(4)] > 0)


def test_bad_arguments(data):
    model = lf.make_mlp(5)
    with pytest.raises(ValueError, match="method must be one of 'auto', 'svd', 'gram'"):
        lf.feature_svd(model, data.X, method="eig")
    with pytest.raises(ValueError, match="X_eval must be finite"):
        lf.feature_svd(model, data.X, np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="rtol must be >= 0"):
        lf.feature_svd(model, data.X, rtol=-1.0)
