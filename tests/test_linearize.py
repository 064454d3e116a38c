import numpy as np
import pytest
import torch
from homework import finite_difference_jacobian, one_hidden_layer_jacobian, per_point_jacobian
from torch import nn

import linfeat_widgets as lf

X = np.linspace(-0.2, 1.2, 37)[:, None]


def mlp64(width, depth, seed=0):
    return lf.make_mlp(width, depth=depth, seed=seed).double()


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("width", [3, 7])
def test_closed_form_equals_the_homeworks_per_point_loop(width, depth):
    model = mlp64(width, depth)
    ours = lf.linearize(model, X).matrix
    theirs = per_point_jacobian(model, X)
    assert ours.shape == theirs.shape == (37, sum(p.numel() for p in model.parameters()))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_autograd_equals_closed_form(depth):
    model = mlp64(5, depth, seed=2)
    np.testing.assert_allclose(
        lf.linearize(model, X, method="autograd").matrix,
        lf.linearize(model, X, method="closed_form").matrix,
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_closed_form_equals_finite_differences(depth):
    model = mlp64(5, depth, seed=1)
    ours = lf.linearize(model, X).matrix
    fd = finite_difference_jacobian(model, X, h=1e-6)
    # a point within h of a kink would differ; none is for this seed
    np.testing.assert_allclose(ours, fd, rtol=1e-6, atol=1e-7)


def test_one_hidden_layer_closed_form():
    model = mlp64(9, 1, seed=3)
    np.testing.assert_allclose(lf.linearize(model, X).matrix, one_hidden_layer_jacobian(model, X), atol=1e-14)


def test_float32_model_is_differentiated_in_float64():
    model = lf.make_mlp(6, depth=2, seed=0)
    features = lf.linearize(model, X)
    assert features.matrix.dtype == np.float64
    np.testing.assert_allclose(features.matrix, lf.linearize(model.double(), X).matrix, atol=1e-15)


def test_linearized_model_predicts_a_small_parameter_change():
    model = mlp64(8, 2, seed=4)
    J = lf.linearize(model, X).matrix
    delta = 1e-7 * np.random.default_rng(0).standard_normal(J.shape[1])
    before = lf.predict(model, X)
    with torch.no_grad():
        flat = torch.nn.utils.parameters_to_vector(model.parameters())
        torch.nn.utils.vector_to_parameters(flat + torch.as_tensor(delta), model.parameters())
    np.testing.assert_allclose(lf.predict(model, X) - before, J @ delta, atol=1e-12)


def test_column_names_and_selection():
    model = lf.make_mlp(4, depth=2, seed=0)
    features = lf.linearize(model, X)
    assert features.parameters == ("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias")
    assert features.layers == ("0", "2", "4")
    assert features.names[:5] == ("0.weight.0", "0.weight.1", "0.weight.2", "0.weight.3", "0.bias.0")
    assert features.names[8:10] == ("2.weight.0", "2.weight.1")
    assert features.columns("0.bias").shape == (37, 4)
    assert features.columns("2").shape == (37, 16 + 4)
    assert features.columns("all").shape == (37, 4 + 4 + 16 + 4 + 4 + 1)
    np.testing.assert_array_equal(features.columns("2.weight"), features.matrix[:, 8:24])
    layer = features.select("2")
    assert layer.parameters == ("2.weight", "2.bias")
    np.testing.assert_array_equal(layer.columns("2.bias"), features.columns("2.bias"))
    with pytest.raises(ValueError, match="key must be one of 'all', '0', '2', '4', '0.weight'"):
        features.columns("1")


def test_bias_feature_is_the_gated_output_weight():
    """dy/db_i of a one-hidden-layer net is a_i for x past the elbow and 0 before it."""
    model = lf.make_mlp(5, seed=0)
    bias = lf.linearize(model, X).columns("0.bias")
    w = model[0].weight.detach().double().numpy()[:, 0]
    b = model[0].bias.detach().double().numpy()
    a = model[2].weight.detach().double().numpy()[0]
    active = X * w + b > 0
    np.testing.assert_allclose(bias, np.where(active, a, 0.0), atol=1e-7)


def test_any_module_via_autograd():
    model = nn.Sequential(nn.Linear(1, 6), nn.Tanh(), nn.Linear(6, 1)).double()
    features = lf.linearize(model, X)
    np.testing.assert_allclose(features.matrix, finite_difference_jacobian(model, X), rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="method='closed_form' needs one of this package's ReLU MLPs"):
        lf.linearize(model, X, method="closed_form")


def test_predict_equals_forward():
    model = lf.make_mlp(12, depth=3, seed=0)
    with torch.no_grad():
        expected = model(torch.tensor(X, dtype=torch.float32))[:, 0].numpy()
    np.testing.assert_allclose(lf.predict(model, X), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lf.predict(model, X[:, 0]), lf.predict(model, X))


@pytest.mark.parametrize("by", ["layer", "parameter"])
def test_gradient_norms_equal_the_feature_matrix_formula(data, by):
    model = lf.make_mlp(10, depth=2, seed=0)
    norms = lf.gradient_norms(model, data.X, data.y, by=by)
    features = lf.linearize(model, data.X)
    residual = lf.predict(model, data.X) - data.y
    gradient = 2.0 / len(residual) * features.matrix.T @ residual
    keys = features.layers if by == "layer" else features.parameters
    assert list(norms) == list(keys)
    for key in keys:
        assert norms[key] == pytest.approx(np.linalg.norm(gradient[features.slice(key)]), rel=1e-10)


@pytest.mark.parametrize(
    "x, match",
    [
        (np.array([0.1, np.nan]), "x must be finite; it has 1 NaN"),
        (np.array([[0.1, 0.2]]), "x must have shape \\(n,\\) or \\(n, 1\\)"),
        (np.zeros((0, 1)), "x must have shape"),
        ("abc", "x must be an array of real numbers .*; got strings"),
        (["0.5", "0.25"], "x must be an array of real numbers .*; got strings"),
        (np.array([0.5 + 1j]), "x must be an array of real numbers .*; got complex numbers"),
        (np.array([True, False]), "x must be an array of real numbers .*; got booleans"),
        (torch.tensor([1 + 2j]), "x must be an array of real numbers; got a tensor of torch.complex64"),
        (np.ma.masked_array([0.1, 0.2], [0, 1]), "x must be an array of real numbers; got a masked array"),
    ],
)
def test_bad_inputs(x, match):
    with pytest.raises(ValueError, match=match):
        lf.linearize(lf.make_mlp(3), x)


def test_bad_method_and_model():
    with pytest.raises(ValueError, match="method must be one of 'auto', 'closed_form', 'autograd'"):
        lf.linearize(lf.make_mlp(3), X, method="loop")
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        lf.linearize(None, X)
    with pytest.raises(ValueError, match=r"y must have shape \(n,\), one target per input"):
        lf.gradient_norms(lf.make_mlp(3), X, np.zeros(3))
