"""The model contract: what takes the closed form and the fast trainer, what is refused.

Only modules exactly as make_mlp builds them take the closed-form Jacobian and the fast
backend; every other module must go through autograd (and torch training), so that a
module that computes something else is never silently differentiated as an MLP.
"""

import copy
import warnings

import numpy as np
import pytest
import torch
from homework import per_point_jacobian
from torch import nn

import linfeat_widgets as lf
from linfeat_widgets.models import mlp_from_sizes, mlp_sizes
from linfeat_widgets.training import BackendFallbackWarning

X = np.linspace(-0.2, 1.2, 23)


class Doubled(nn.Sequential):
    """A Sequential of Linear and ReLU layers whose own forward doubles the output."""

    def forward(self, x):
        return 2 * super().forward(x)


def doubled(width=5, seed=0):
    model = Doubled(*lf.make_mlp(width, seed=seed))
    return model


def test_make_mlp_and_mlp_from_sizes_are_mlps():
    assert mlp_sizes(lf.make_mlp(4, depth=2, seed=0)) == (1, 4, 4, 1)
    assert mlp_sizes(mlp_from_sizes((1, 3, 2, 1))) == (1, 3, 2, 1)
    assert mlp_sizes(lf.make_mlp(4, seed=0).double()) == (1, 4, 1)


def _with_forward_hook(model):
    model.register_forward_hook(lambda module, args, out: out * 3)
    return model


def _with_layer_pre_hook(model):
    model[0].register_forward_pre_hook(lambda module, args: (args[0] + 1,))
    return model


def _with_patched_forward(model):
    original = model.forward
    model.forward = lambda x: original(x) - 1
    return model


def _with_extra_parameter(model):
    model.register_parameter("scale", nn.Parameter(torch.ones(1)))
    return model


def _with_meta_layer(model):
    model[0] = nn.Linear(1, 5, device="meta")
    return model


def _with_linear_subclass(model):
    class Scaled(nn.Linear):
        def forward(self, x):
            return 0.5 * super().forward(x)

    layer = Scaled(1, 5)
    layer.load_state_dict(model[0].state_dict())
    model[0] = layer
    return model


def _without_bias(model):
    model[-1] = nn.Linear(5, 1, bias=False)
    return model


def _with_tanh(model):
    model[1] = nn.Tanh()
    return model


def _with_mixed_dtypes(model):
    model[0] = model[0].double()
    return model


def _with_shared_layer(model):
    square = nn.Linear(5, 5)
    return nn.Sequential(model[0], nn.ReLU(), square, nn.ReLU(), square, nn.ReLU(), model[2])


def _with_shared_weight(model):
    second = nn.Linear(5, 5)
    third = nn.Linear(5, 5)
    third.weight = second.weight
    return nn.Sequential(model[0], nn.ReLU(), second, nn.ReLU(), third, nn.ReLU(), model[2])


def _with_two_outputs(model):
    model[-1] = nn.Linear(5, 2)
    return model


@pytest.mark.parametrize(
    "change",
    [
        doubled,
        lambda m: _with_forward_hook(m),
        _with_layer_pre_hook,
        _with_patched_forward,
        _with_extra_parameter,
        _with_meta_layer,
        _with_linear_subclass,
        _without_bias,
        _with_tanh,
        _with_mixed_dtypes,
        _with_two_outputs,
        _with_shared_layer,
        _with_shared_weight,
    ],
)
def test_anything_else_is_not_an_mlp(change):
    model = change(lf.make_mlp(5, seed=0)) if change is not doubled else doubled()
    assert mlp_sizes(model) is None


def test_global_hooks_turn_off_the_closed_form():
    handle = torch.nn.modules.module.register_module_forward_hook(lambda module, args, out: out)
    try:
        assert mlp_sizes(lf.make_mlp(3, seed=0)) is None
    finally:
        handle.remove()
    assert mlp_sizes(lf.make_mlp(3, seed=0)) == (1, 3, 1)


def test_subclass_with_its_own_forward_predicts_and_linearizes_what_it_computes():
    model = doubled()
    with torch.no_grad():
        direct = model(torch.tensor(X[:, None], dtype=torch.float32)).double().numpy()[:, 0]
    np.testing.assert_allclose(lf.predict(model, X), direct, rtol=1e-6, atol=1e-6)
    # twice the plain MLP's, computed in float64 both ways
    plain = lf.make_mlp(5, seed=0)
    np.testing.assert_allclose(lf.predict(model, X), 2 * lf.predict(plain, X), rtol=1e-12, atol=1e-12)
    features = lf.linearize(model, X)
    reference = per_point_jacobian(copy.deepcopy(model).double(), X)
    np.testing.assert_allclose(features.matrix, reference, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(features.matrix, 2 * lf.linearize(plain, X).matrix, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="method='closed_form' needs one of this package's ReLU MLPs exactly"):
        lf.linearize(model, X, method="closed_form")
    np.testing.assert_allclose(lf.ntk(model, X), 4 * lf.ntk(plain, X), rtol=1e-10, atol=1e-12)


def test_shared_layers_are_differentiated_once_per_parameter():
    model = _with_shared_layer(lf.make_mlp(5, seed=0))
    features = lf.linearize(model, X)
    d = sum(p.numel() for p in model.parameters())  # the shared layer counted once
    assert features.matrix.shape == (len(X), d)
    reference = per_point_jacobian(copy.deepcopy(model).double(), X)
    np.testing.assert_allclose(features.matrix, reference, rtol=1e-10, atol=1e-12)


def test_hooked_mlp_is_differentiated_with_its_hook():
    model = _with_forward_hook(lf.make_mlp(5, seed=0))
    plain = lf.make_mlp(5, seed=0)
    np.testing.assert_allclose(lf.predict(model, X), 3 * lf.predict(plain, X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lf.linearize(model, X).matrix, 3 * lf.linearize(plain, X).matrix, rtol=1e-10)


def test_subclass_trains_with_torch_auto_warns_and_fast_refuses():
    data = lf.make_dataset(n_samples=20, n_grid=20)
    kwargs = dict(n_steps=40, save_every=20, progress=False, seed=3)
    with pytest.warns(BackendFallbackWarning, match="this model is another module"):
        auto = lf.train(doubled(), data, backend="auto", **kwargs)
    reference = lf.train(doubled(), data, backend="torch", **kwargs)
    assert auto.config["backend"] == "torch"
    np.testing.assert_array_equal(auto.params, reference.params)
    np.testing.assert_array_equal(auto.test_error, reference.test_error)
    with pytest.raises(ValueError, match="backend='fast' cannot train this"):
        lf.train(doubled(), data, backend="fast", **kwargs)
    # and the torch run really trained the doubled network: its test error is that of 2 * mlp
    model = auto.model(40)
    pred = lf.predict(model, data.X_test)
    assert np.isclose(np.mean((pred - data.y_test) ** 2), auto.test_error[-1], rtol=1e-4)


def test_plain_mlp_still_takes_the_fast_backend():
    data = lf.make_dataset(n_samples=20, n_grid=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BackendFallbackWarning)
        history = lf.train(lf.make_mlp(4, seed=0), data, n_steps=20, save_every=10, progress=False)
    if lf.training.fast_backend.unavailable_reason() is None:
        assert history.config["backend"] == "fast"


# --- models outside the contract are refused ------------------------------------------


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def forward(self, x):
        return self.layer(x)


def _apis(model):
    """Every math function, called on ``model`` with small valid other arguments."""
    return {
        "linearize": lambda: lf.linearize(model, X),
        "predict": lambda: lf.predict(model, X),
        "ntk": lambda: lf.ntk(model, X),
        "feature_svd": lambda: lf.feature_svd(model, X),
        "gradient_norms": lambda: lf.gradient_norms(model, X, np.zeros_like(X)),
    }


def _nan_parameter():
    model = lf.make_mlp(4, seed=0)
    with torch.no_grad():
        model[0].weight[1, 0] = float("nan")
    return model


def _inf_parameter():
    model = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1))
    with torch.no_grad():
        model[2].bias[0] = float("inf")
    return model


@pytest.mark.parametrize(
    "make, match",
    [
        (TwoInputs, r"one input and one output .*on inputs of shape \(2, 1\) it raised RuntimeError"),
        (lambda: nn.Sequential(nn.Linear(1, 4), nn.ReLU(), nn.Linear(4, 2)), r"it returned shape \(2, 2\)"),
        (
            lambda: nn.Sequential(nn.Linear(1, 4), nn.ReLU(), nn.Linear(4, 1), nn.Flatten(0)),
            r"it returned shape \(2,\)",
        ),
        (lambda: nn.Sequential(nn.Linear(1, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)), r"this one has buffers \(1\."),
        (lambda: nn.Sequential(nn.Linear(1, 4, device="meta"), nn.ReLU(), nn.Linear(4, 1)), "meta device"),
        (_nan_parameter, r"parameter '0.weight' has 1 NaN or infinite entries"),
        (_inf_parameter, r"parameter '2.bias' has 1 NaN or infinite entries"),
        (nn.ReLU, "this ReLU has no parameters"),
    ],
)
@pytest.mark.parametrize("api", ["linearize", "predict", "ntk", "feature_svd", "gradient_norms"])
def test_models_outside_the_contract_are_refused(make, match, api):
    with pytest.raises(ValueError, match="model must be a torch.nn.Module with one input and one output") as info:
        _apis(make())[api]()
    assert info.match(match)


@pytest.mark.parametrize("api", ["linearize", "predict", "ntk", "feature_svd"])
@pytest.mark.parametrize("kind", ["mlp", "other"])
def test_inputs_that_overflow_are_refused_naming_the_input(api, kind):
    if kind == "mlp":
        model = lf.make_mlp(4, seed=0)
    else:
        model = nn.Sequential(nn.Linear(1, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1e30)  # finite in float32; a large input then overflows float64
    big = np.array([0.5, 1e300])
    names = {"linearize": "x", "predict": "x", "ntk": "x1", "feature_svd": "X_fit"}
    call = {
        "linearize": lambda: lf.linearize(model, big),
        "predict": lambda: lf.predict(model, big),
        "ntk": lambda: lf.ntk(model, big),
        "feature_svd": lambda: lf.feature_svd(model, big),
    }[api]
    with pytest.raises(ValueError, match=rf"^{names[api]} is too large for this network: its .* overflow float64"):
        call()


def test_overflow_in_the_evaluation_inputs_names_them():
    model = lf.make_mlp(4, seed=0)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1e30)
    with pytest.raises(ValueError, match="^X_eval is too large"):
        lf.feature_svd(model, X, np.array([0.5, 1e300]))
    with pytest.raises(ValueError, match="^x2 is too large"):
        lf.ntk(model, X, np.array([0.5, 1e300]))


def test_gradient_norms_refuses_overflow():
    model = lf.make_mlp(4, seed=0)
    with torch.no_grad():
        model[0].weight.fill_(1e30)
    with pytest.raises(ValueError, match="^X is too large for this network"):
        lf.gradient_norms(model, np.array([0.5, 1e308]), np.zeros(2))
    with pytest.raises(ValueError, match="^X and y are too large for this network"):
        lf.gradient_norms(model, np.array([0.5, 0.25]), np.array([1e300, 0.0]))


@pytest.mark.parametrize("key", [["0"], 0, None, True])
def test_feature_keys_must_be_strings(key):
    features = lf.linearize(lf.make_mlp(3, seed=0), X)
    with pytest.raises(ValueError, match="key must be one of 'all', '0', '2', '0.weight'"):
        features.columns(key)


def test_shared_layers_never_take_the_fast_backend():
    data = lf.make_dataset(n_samples=20, n_grid=20)
    model = _with_shared_layer(lf.make_mlp(5, seed=0))
    with pytest.raises(ValueError, match="backend='fast' cannot train this"):
        lf.train(model, data, n_steps=20, save_every=10, progress=False, backend="fast")
