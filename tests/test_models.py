import numpy as np
import pytest
import torch
from torch import nn

import linfeat_widgets as lf
from linfeat_widgets.models import mlp_from_sizes, mlp_sizes


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_layout_and_parameter_names_match_the_homework(depth):
    model = lf.make_mlp(7, depth=depth, seed=0)
    kinds = [type(m) for m in model]
    assert kinds == [nn.Linear] + [nn.ReLU, nn.Linear] * depth
    names = [n for n, _ in model.named_parameters()]
    expected = [f"{2 * i}.{k}" for i in range(depth + 1) for k in ("weight", "bias")]
    assert names == expected
    assert model[0].weight.shape == (7, 1) and model[-1].weight.shape == (1, 7)
    assert mlp_sizes(model) == (1,) + (7,) * depth + (1,)
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_homework_state_dict_loads():
    homework = nn.Sequential(nn.Linear(1, 10), nn.ReLU(), nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 1))
    model = lf.make_mlp(10, depth=2)
    model.load_state_dict(homework.state_dict())


def test_elbows_sorted_inside_range_and_weights_are_pytorch_default():
    model = lf.make_mlp(40, seed=3)
    w = model[0].weight.detach().double().numpy()[:, 0]
    b = model[0].bias.detach().double().numpy()
    elbows = -b / w
    assert np.all((elbows >= 0) & (elbows <= 1))
    assert np.all(np.diff(elbows) >= -1e-6)  # sorted up to float32 rounding of b
    # PyTorch's default for Linear(1, w): uniform in [-1, 1] (fan_in = 1)
    assert np.all(np.abs(w) <= 1.0)
    default = lf.make_mlp(40, init="default", seed=3)
    assert torch.equal(default[0].weight, model[0].weight)
    assert torch.equal(default[2].weight, model[2].weight)


def test_elbow_range():
    model = lf.make_mlp(30, seed=1, elbow_range=(-1.0, 0.4))
    elbows = -(model[0].bias / model[0].weight[:, 0]).detach().numpy()
    assert elbows.min() >= -1.0 - 1e-6 and elbows.max() <= 0.4 + 1e-6


def test_same_seed_same_network_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = lf.make_mlp(20, depth=2, seed=5)
    after = torch.rand(3)
    assert torch.equal(before, after)
    b = lf.make_mlp(20, depth=2, seed=5)
    c = lf.make_mlp(20, depth=2, seed=6)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert not torch.equal(a[0].weight, c[0].weight)


def test_uniform_scale_init():
    for scale in (0.03, 3.0):
        model = lf.make_mlp(40, depth=2, init=scale, seed=0)
        values = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        assert values.abs().max() <= scale
        assert values.abs().max() > 0.9 * scale


def test_kaiming_init_variance_and_zero_biases():
    model = lf.make_mlp(400, depth=2, init="kaiming", seed=0)
    w = model[2].weight.detach().numpy()
    assert abs(w.var() - 2 / 400) < 0.1 * (2 / 400)
    assert all(float(layer.bias.detach().abs().max()) == 0.0 for layer in model if isinstance(layer, nn.Linear))


def test_mlp_sizes_rejects_other_modules():
    assert mlp_sizes(nn.Sequential(nn.Linear(1, 3), nn.Tanh(), nn.Linear(3, 1))) is None
    assert mlp_sizes(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))) is None
    assert mlp_sizes(nn.Sequential(nn.Linear(1, 3), nn.ReLU(), nn.Linear(3, 2))) is None
    assert mlp_sizes(nn.Linear(1, 1)) is None
    assert mlp_sizes(mlp_from_sizes((1, 3, 5, 1))) == (1, 3, 5, 1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"width": 0}, "width must be an integer >= 1"),
        ({"width": 2.5}, "width must be an integer"),
        ({"width": 5, "depth": 0}, r"depth must be an integer with 1 <= depth <= 1000"),
        ({"width": 2, "depth": 10**6}, r"depth must be an integer with 1 <= depth <= 1000; got 1000000"),
        (
            {"width": 10**6, "depth": 2},
            r"make_mlp\(width=1000000, depth=2\) with 1,000,004,000,001 parameters would need about .* TiB",
        ),
        ({"width": 5, "init": 3e38}, r"init must be at most 1.701e\+38"),
        ({"width": 5, "init": float("inf")}, "init must be one of"),
        ({"width": 5, "init": True}, "init must be one of"),
        (
            {"width": 5, "seed": 2**64},
            r"seed must be an integer with 0 <= seed <= 2\*\*64 - 1; got 1844",
        ),
        ({"width": 5, "seed": True}, "seed must be an integer"),
        ({"width": 5, "seed": np.timedelta64(3)}, "seed must be an integer"),
        ({"width": 5, "elbow_range": {0.0, 1.0}}, "elbow_range must be a pair"),
        ({"width": 5, "elbow_range": b"ab"}, "elbow_range must be a pair"),
        ({"width": 5, "init": "xavier"}, "init must be one of 'elbows', 'default', 'kaiming' or a positive number"),
        ({"width": 5, "init": -1.0}, "init must be one of"),
        ({"width": 5, "init": float("nan")}, "init must be one of"),
        ({"width": 5, "seed": -1}, "seed must be an integer with 0 <= seed"),
        ({"width": 5, "elbow_range": (1.0, 0.0)}, "elbow_range must be a non-empty interval"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lf.make_mlp(**kwargs)
