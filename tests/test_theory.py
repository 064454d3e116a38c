"""Kernel movement, residual projections and spectrum history against direct computations.

The known answers: autograd Jacobians (``linearize(..., method="autograd")``) at every
snapshot, numpy's SVD of those feature matrices, and the network's outputs from
``predict``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import linfeat_widgets as lf
from linfeat_widgets import theory


@pytest.fixture(scope="module")
def data():
    """Fewer points than the homework's, so the per-snapshot autograd Jacobians stay quick."""
    return lf.make_dataset(n_samples=60)


@pytest.fixture(scope="module")
def run(data):
    model = lf.make_mlp(6, depth=2, seed=0)
    return lf.train(model, data, n_steps=60, save_every=20, dtype="float64", progress=False)


@pytest.fixture(scope="module")
def linearized_run(data):
    model = lf.make_mlp(6, depth=2, seed=0)
    return lf.train(model, data, n_steps=60, save_every=20, dtype="float64", progress=False, linearized=True)


_JACOBIANS = {}


def jacobian(history, step, data):
    """Autograd feature matrix at ``step``, computed once per (history, step)."""
    key = (id(history), int(step))
    if key not in _JACOBIANS:
        _JACOBIANS[key] = (history, lf.linearize(history.model(int(step)), data.X, method="autograd").matrix)
    return _JACOBIANS[key][1]


def test_steps_start_at_the_initialization(run, data):
    movement = lf.kernel_movement(run, data)
    np.testing.assert_array_equal(movement.steps, [0, 1, 20, 40, 60])
    assert movement.steps.dtype == np.int64
    assert movement.parameter_distance[0] == 0 and movement.kernel_distance[0] == 0
    np.testing.assert_array_equal(lf.residual_projections(run, data).steps, movement.steps)
    assert lf.spectrum_history(run, data).shape[0] == len(movement.steps)


def test_kernel_movement_matches_autograd_kernels(run, data):
    movement = lf.kernel_movement(run, data)
    K0 = jacobian(run, 0, data) @ jacobian(run, 0, data).T
    theta0 = run.initial_params
    for i, step in enumerate(movement.steps):
        J = jacobian(run, step, data)
        expected = np.linalg.norm(J @ J.T - K0) / np.linalg.norm(K0)
        np.testing.assert_allclose(movement.kernel_distance[i], expected, rtol=1e-9, atol=1e-13)
        theta = run.params_at(int(step))
        expected = np.linalg.norm(theta - theta0) / np.linalg.norm(theta0)
        np.testing.assert_allclose(movement.parameter_distance[i], expected, rtol=1e-12, atol=1e-15)
    # training moved both, so the test above compared non-zero values
    assert movement.kernel_distance[-1] > 1e-3 and movement.parameter_distance[-1] > 1e-3


def test_spectrum_history_matches_numpy_svd(run, data):
    spectra = lf.spectrum_history(run, data)
    d = run.params.shape[1]
    assert spectra.shape == (5, min(data.n_samples, d))
    for i, step in enumerate([0, *run.steps]):
        s = np.linalg.svd(jacobian(run, step, data), compute_uv=False)
        # through K = J J^T, values below ~sqrt(n eps) s_max are rounding: compare absolutely there
        np.testing.assert_allclose(spectra[i], s[: spectra.shape[1]], rtol=1e-9, atol=1e-7 * s[0])
        assert np.all(np.diff(spectra[i]) <= 0)
    top = lf.spectrum_history(run, data, n_components=3)
    np.testing.assert_array_equal(top, spectra[:, :3])
    assert lf.spectrum_history(run, data, n_components=10_000).shape == spectra.shape


@pytest.mark.parametrize("basis", ["initial", "current"])
def test_residual_projections_match_numpy_svd(run, data, basis):
    proj = lf.residual_projections(run, data, basis=basis)
    assert proj.basis == basis
    r = len(proj.singular_values)
    assert proj.coefficients.shape == (5, r) and proj.remainder.shape == (5,)
    for i, step in enumerate(proj.steps):
        U, s, _ = np.linalg.svd(jacobian(run, 0 if basis == "initial" else step, data), full_matrices=False)
        U = U[:, :r]
        residual = data.y - lf.predict(run.model(int(step)), data.X)
        scale = np.linalg.norm(residual)
        # singular vectors are defined up to sign: compare |c|, and the projection U U^T r
        np.testing.assert_allclose(np.abs(proj.coefficients[i]), np.abs(U.T @ residual), atol=1e-8 * scale)
        outside = np.linalg.norm(residual - U @ (U.T @ residual))
        np.testing.assert_allclose(proj.remainder[i], outside, atol=1e-9 * scale)
        # the coefficients and the remainder split the residual's norm
        np.testing.assert_allclose(np.hypot(np.linalg.norm(proj.coefficients[i]), proj.remainder[i]), scale, rtol=1e-12)
    last = 0 if basis == "initial" else proj.steps[-1]
    s = np.linalg.svd(jacobian(run, last, data), compute_uv=False)
    np.testing.assert_allclose(proj.singular_values, s[:r], rtol=1e-9, atol=1e-7 * s[0])
    # r is the numerical rank: the kept singular values are real features, the next one is not
    assert proj.singular_values[-1] > 1e-6 * s[0]


def test_initial_and_current_bases_agree_at_step_zero(run, data):
    initial = lf.residual_projections(run, data, basis="initial")
    current = lf.residual_projections(run, data, basis="current")
    r = min(len(initial.singular_values), len(current.singular_values))
    np.testing.assert_allclose(current.coefficients[0, :r], initial.coefficients[0, :r], atol=1e-10)


def test_linearized_run_has_fixed_features(linearized_run, data):
    movement = lf.kernel_movement(linearized_run, data)
    np.testing.assert_array_equal(movement.kernel_distance, 0.0)
    assert movement.parameter_distance[-1] > 1e-3
    spectra = lf.spectrum_history(linearized_run, data)
    s0 = np.linalg.svd(jacobian(linearized_run, 0, data), compute_uv=False)
    np.testing.assert_allclose(spectra, np.broadcast_to(s0[: spectra.shape[1]], spectra.shape), atol=1e-7 * s0[0])
    proj = lf.residual_projections(linearized_run, data)
    # f_t(X) is the linearized model's output, f(X; theta_0) + J_0 (theta_t - theta_0)
    U = np.linalg.svd(jacobian(linearized_run, 0, data), full_matrices=False)[0][:, : len(proj.singular_values)]
    for i, step in enumerate(proj.steps):
        residual = data.y - lf.predict(linearized_run.model(int(step)), data.X)
        np.testing.assert_allclose(np.abs(proj.coefficients[i]), np.abs(U.T @ residual), atol=1e-8)


def test_the_three_share_one_pass(run, data):
    first = lf.spectrum_history(run, data)
    assert theory._trajectory(run, data) is theory._trajectory(run, data)
    assert lf.residual_projections(run, data) is lf.residual_projections(run, data)
    np.testing.assert_array_equal(lf.spectrum_history(run, data), first)
    with pytest.raises(ValueError):
        first[0, 0] = 1.0  # results are read-only, since they are shared


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda h, d: lf.kernel_movement("history", d), "history"),
        (lambda h, d: lf.kernel_movement(h, d.X), "data"),
        (lambda h, d: lf.residual_projections(h, d, basis="final"), "basis"),
        (lambda h, d: lf.spectrum_history(h, d, n_components=0), "n_components"),
        (lambda h, d: lf.spectrum_history(h, d, n_components=2.5), "n_components"),
        (lambda h, d: lf.spectrum_history(None, d), "history"),
    ],
)
def test_bad_arguments_name_themselves(run, data, call, name):
    with pytest.raises(ValueError, match=name):
        call(run, data)


def test_history_of_another_module_is_refused(data):
    from torch import nn

    model = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1))
    history = lf.train(model, data, n_steps=4, save_every=2, backend="torch", progress=False)
    with pytest.raises(ValueError, match="history must come from"):
        lf.kernel_movement(history, data)


@settings(max_examples=8, deadline=None)
@given(
    width=st.integers(1, 6),
    depth=st.integers(1, 3),
    init=st.sampled_from(["elbows", "kaiming", 0.03, 3.0]),
    n_steps=st.integers(1, 12),
    linearized=st.booleans(),
)
def test_any_small_run_gives_finite_results_of_the_documented_shapes(width, depth, init, n_steps, linearized):
    data = lf.make_dataset(n_samples=12, n_grid=5)
    model = lf.make_mlp(width, depth=depth, init=init, seed=0)
    # a small lr keeps the 3.0-scale networks from diverging
    history = lf.train(
        model, data, n_steps=n_steps, save_every=5, lr=1e-4, dtype="float64", progress=False, linearized=linearized
    )
    S, d = len(history) + 1, history.params.shape[1]
    movement = lf.kernel_movement(history, data)
    for name in ("parameter_distance", "kernel_distance"):
        values = getattr(movement, name)
        assert values.shape == (S,) and np.all(np.isfinite(values)) and values[0] == 0
    for basis in ("initial", "current"):
        proj = lf.residual_projections(history, data, basis=basis)
        r = len(proj.singular_values)
        assert 1 <= r <= min(12, d)
        assert proj.coefficients.shape == (S, r) and proj.remainder.shape == (S,)
        assert np.all(np.isfinite(proj.coefficients)) and np.all(proj.remainder >= 0)
    spectra = lf.spectrum_history(history, data)
    assert spectra.shape == (S, min(12, d)) and np.all(spectra >= 0) and np.all(np.diff(spectra, axis=1) <= 0)
