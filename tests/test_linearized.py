"""The linearized model f_lin(x; theta) = f(x; theta_0) + J(x; theta_0) (theta - theta_0) and its training.

Known answers: the network's own "output" trajectory (the network is linear in its output
layer), the closed-form decay of full-batch gradient descent along the singular directions,
direct evaluation of the errors, and torch.func's Jacobian.
"""

import numpy as np
import pytest
import torch
from torch import nn

import linfeat_widgets as lf
from linfeat_widgets.training import TrainingDiverged
from linfeat_widgets.training.linearized import LinearizedMLP
from linfeat_widgets.training.minibatches import minibatch_indices


@pytest.fixture(scope="module")
def model():
    return lf.make_mlp(8, depth=2, seed=3)


def lin(model, data, **kwargs):
    kwargs = {"n_steps": 200, "save_every": 50, "dtype": "float64", "progress": False, **kwargs}
    return lf.train(model, data, linearized=True, **kwargs)


@pytest.mark.parametrize("backend", ["fast", "torch"])
def test_output_paradigm_is_the_networks_own_trajectory(model, data, backend):
    kwargs = {"n_steps": 300, "save_every": 50, "dtype": "float64", "progress": False}
    network = lf.train(model, data, "output", backend=backend, **kwargs)
    linear = lin(model, data, paradigm="output", **kwargs)
    np.testing.assert_array_equal(linear.steps, network.steps)
    np.testing.assert_allclose(linear.params, network.params, rtol=0, atol=1e-10)
    np.testing.assert_allclose(linear.train_error, network.train_error, rtol=1e-10)
    np.testing.assert_allclose(linear.test_error, network.test_error, rtol=1e-10)
    # only the output layer moved
    hidden = linear.params.shape[1] - (8 + 1)
    np.testing.assert_array_equal(linear.params[:, :hidden], np.tile(linear.initial_params[:hidden], (7, 1)))
    assert np.linalg.norm(linear.params[-1, hidden:] - linear.initial_params[hidden:]) > 0.1


def test_output_paradigm_in_float32_agrees_to_rounding(model, data):
    kwargs = {"n_steps": 300, "save_every": 100, "progress": False}
    network = lf.train(model, data, "output", **kwargs)
    linear = lf.train(model, data, "output", linearized=True, **kwargs)
    assert linear.params.dtype == np.float32
    np.testing.assert_allclose(linear.params, network.params, atol=1e-4)
    np.testing.assert_allclose(linear.test_error, network.test_error, rtol=1e-3)


def test_full_batch_descent_decays_each_direction_at_its_rate(model, data):
    n, lr = data.n_samples, 0.05
    history = lin(model, data, lr=lr, batch_size=n, n_steps=400, save_every=100)
    proj = lf.residual_projections(history, data, basis="initial")
    s = proj.singular_values
    assert np.all(2 * lr * s**2 / n < 2)  # stable: every factor in (-1, 1)
    factor = 1 - 2 * lr * s**2 / n
    expected = factor[None, :] ** proj.steps[:, None] * proj.coefficients[0]
    scale = np.linalg.norm(proj.coefficients[0])
    np.testing.assert_allclose(proj.coefficients, expected, rtol=0, atol=1e-10 * scale)
    # the top direction is fitted, the smallest kept one has barely moved
    assert abs(proj.coefficients[-1, 0]) < 1e-3 * abs(proj.coefficients[0, 0])
    assert abs(proj.coefficients[-1, -1]) > 0.99 * abs(proj.coefficients[0, -1])
    # what lies outside span(U) is never fitted
    np.testing.assert_allclose(proj.remainder, proj.remainder[0], rtol=1e-9)


def test_model_is_the_first_order_taylor_model(model, data):
    history = lin(model, data)
    step = int(history.steps[-1])
    f_lin = history.model(step)
    assert isinstance(f_lin, LinearizedMLP)
    assert (
        tuple(n for n, _ in f_lin.named_parameters()) == history.names == tuple(n for n, _ in model.named_parameters())
    )
    # independently: torch.func's Jacobian of the network at theta_0, times theta - theta_0
    from torch.func import functional_call, jacrev, vmap

    network = history.model(0).network()
    theta0 = {k: v.detach() for k, v in network.named_parameters()}
    x = torch.tensor(data.X_test[::7], dtype=torch.float64)

    def output(p, xi):
        return functional_call(network, p, (xi[None, :],))[0, 0]

    jac = vmap(jacrev(output), in_dims=(None, 0))(theta0, x)
    J = torch.cat([jac[k].reshape(len(x), -1) for k in theta0], dim=1).numpy()
    f0 = network(x).detach().numpy()[:, 0]
    delta = history.params_at(step) - history.initial_params
    assert np.linalg.norm(delta) > 1e-2
    expected = f0 + J @ delta
    np.testing.assert_allclose(f_lin(x).detach().numpy()[:, 0], expected, rtol=1e-12, atol=1e-12)
    # at theta_0 the linearized model is the network
    np.testing.assert_allclose(history.model(0)(x).detach().numpy()[:, 0], f0, rtol=1e-14)


def test_errors_are_the_linearized_models(model, data):
    n_steps, batch = 6, 10
    history = lin(model, data, n_steps=n_steps, save_every=1, batch_size=batch, lr=0.1, seed=5)
    X, y = torch.tensor(data.X), torch.tensor(data.y)
    X_test, y_test = torch.tensor(data.X_test), torch.tensor(data.y_test)
    # the same minibatch stream as the network's training: seed 5, the same points at every step
    batches = minibatch_indices(np.random.default_rng(5), data.n_samples, batch, n_steps)
    with torch.no_grad():
        for k, step in enumerate(history.steps):
            test = torch.mean((history.model(int(step))(X_test)[:, 0] - y_test) ** 2)
            np.testing.assert_allclose(history.test_error[k], float(test), rtol=1e-12)
            rows = torch.as_tensor(batches[step - 1])
            train = torch.mean((history.model(int(step) - 1)(X[rows])[:, 0] - y[rows]) ** 2)
            np.testing.assert_allclose(history.train_error[k], float(train), rtol=1e-12)


def test_one_sgd_step_is_the_linear_least_squares_step(model, data):
    lr, batch = 0.1, 10
    history = lin(model, data, n_steps=1, save_every=1, batch_size=batch, lr=lr, seed=2)
    rows = minibatch_indices(np.random.default_rng(2), data.n_samples, batch, 1)[0]
    J = lf.linearize(model, data.X[rows], method="autograd").matrix
    f0 = lf.predict(model, data.X[rows])
    grad = 2 / batch * J.T @ (f0 - data.y[rows])
    np.testing.assert_allclose(history.params_at(1), history.initial_params - lr * grad, atol=1e-12)


def test_ridge_is_the_networks_ridge(model, data):
    network = lf.train(model, data, "ridge", dtype="float64", progress=False)
    linear = lin(model, data, paradigm="ridge")
    assert linear.config["linearized"] is True and network.config["linearized"] is False
    np.testing.assert_allclose(linear.params, network.params, atol=1e-12)
    np.testing.assert_allclose(linear.test_error, network.test_error, rtol=1e-10)


def test_save_and_load_round_trip(model, data, tmp_path):
    for dtype in ("float32", "float64"):
        history = lin(model, data, dtype=dtype)
        loaded = lf.History.load(history.save(tmp_path / f"lin_{dtype}.npz"))
        assert loaded.config["linearized"] is True
        np.testing.assert_array_equal(loaded.params, history.params)
        np.testing.assert_array_equal(loaded.initial_params, history.initial_params)
        x = torch.tensor(data.X_test[:50], dtype=getattr(torch, dtype))
        with torch.no_grad():
            np.testing.assert_array_equal(loaded.model(200)(x).numpy(), history.model(200)(x).numpy())
        assert isinstance(loaded.model(200), LinearizedMLP)


def test_divergence_is_reported(model, data):
    with pytest.raises(TrainingDiverged, match="step"):
        lin(model, data, lr=1e3, n_steps=2000, save_every=1000)


def test_bad_arguments(model, data):
    with pytest.raises(ValueError, match="linearized"):
        lf.train(model, data, n_steps=2, linearized="yes", progress=False)
    other = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1))
    with pytest.raises(ValueError, match="linearized=True needs one of this package's ReLU MLPs"):
        lf.train(other, data, n_steps=2, linearized=True, progress=False)
    with pytest.raises(ValueError, match="network must be"):
        LinearizedMLP(other)


def test_sweep_trains_network_and_linearized_model_from_one_initialization(data):
    settings = {"n_steps": 40, "save_every": 20, "dtype": "float64", "progress": False}
    result = lf.sweep(data, widths=(4, 6), paradigms=("all", "output"), linearized=True, n_jobs=2, **settings)
    assert result.has_linearized and result.settings["linearized"] is True
    for config in result:
        network = result.history(config.width, paradigm=config.paradigm)
        linear = result.history(config.width, paradigm=config.paradigm, linearized=True)
        assert network.config["linearized"] is False and linear.config["linearized"] is True
        np.testing.assert_array_equal(linear.initial_params, network.initial_params)
        alone = lf.train(result.initial_model(config.width), data, config.paradigm, linearized=True, **settings)
        np.testing.assert_array_equal(linear.params, alone.params)
    plain = lf.sweep(data, widths=(4,), **settings)
    assert not plain.has_linearized
    with pytest.raises(ValueError, match="linearized"):
        plain.history(linearized=True)
    with pytest.raises(ValueError, match="linearized"):
        lf.sweep(data, widths=(4,), linearized=1, **settings)
