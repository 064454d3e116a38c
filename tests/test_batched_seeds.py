"""train_seeds and sweep(batch_seeds=True): K seeds in one batched torch loop equal K separate trainings."""

import numpy as np
import pytest
import torch
from torch import nn

import linfeat_widgets as lf
from linfeat_widgets import train_seeds

SEEDS = (0, 1, 4)


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _per_seed(models, data, paradigm, dtype, **kwargs):
    return [
        lf.train(m, data, paradigm, seed=s, backend="torch", dtype=dtype, progress=False, **kwargs)
        for m, s in zip(models, SEEDS)
    ]


@pytest.mark.parametrize("depth, paradigm", [(2, "all"), (1, "all"), (2, "output"), (1, "ridge")])
def test_float64_batched_equals_per_seed_training(data, depth, paradigm):
    models = [lf.make_mlp(6, depth=depth, seed=10 + s) for s in SEEDS]
    batched = train_seeds(models, data, paradigm, n_steps=150, save_every=50, seeds=SEEDS, dtype="float64")
    for got, want in zip(batched, _per_seed(models, data, paradigm, "float64", n_steps=150, save_every=50)):
        assert got.config == want.config
        np.testing.assert_array_equal(got.steps, want.steps)
        np.testing.assert_array_equal(got.initial_params, want.initial_params)
        np.testing.assert_allclose(got.params, want.params, rtol=0, atol=1e-10)
        np.testing.assert_allclose(got.train_error, want.train_error, rtol=1e-10)
        np.testing.assert_allclose(got.test_error, want.test_error, rtol=1e-10)
    # not a copy of one run: the seeds went their own ways
    assert not np.allclose(batched[0].params[-1], batched[1].params[-1])


def test_float32_batched_agrees_within_rounding(data):
    """Float32 sums in another order: agreement to 1e-5 of the largest parameter after 300 steps (see train_seeds)."""
    models = [lf.make_mlp(8, depth=2, seed=s) for s in SEEDS]
    batched = train_seeds(models, data, "all", n_steps=300, save_every=100, seeds=SEEDS)
    for got, want in zip(batched, _per_seed(models, data, "all", "float32", n_steps=300, save_every=100)):
        assert got.params.dtype == np.float32
        scale = np.abs(want.params).max()
        np.testing.assert_allclose(got.params, want.params, rtol=0, atol=1e-5 * scale)
        np.testing.assert_allclose(got.test_error, want.test_error, rtol=1e-5)


def test_sweep_with_batched_seeds_equals_per_seed_sweep(data):
    kwargs = dict(widths=(4, 6), paradigms=("all", "output", "ridge"), seeds=SEEDS, n_steps=60, save_every=30)
    seen = []
    batched = lf.sweep(data, backend="torch", dtype="float64", batch_seeds=True, progress=seen.append, **kwargs)
    single = lf.sweep(data, backend="torch", dtype="float64", progress=False, **kwargs)
    assert batched.settings["batch_seeds"] is True and single.settings["batch_seeds"] is False
    assert list(batched) == list(single)
    for config in single:
        np.testing.assert_allclose(batched[config].params, single[config].params, rtol=0, atol=1e-10)
    assert sum(seen) == 2 * 2 * len(SEEDS) * 60  # two SGD paradigms, two widths, every seed


def test_progress_counts_every_seeds_steps(data):
    seen = []
    models = [lf.make_mlp(3, seed=s) for s in SEEDS]
    train_seeds(models, data, n_steps=25, save_every=10, seeds=SEEDS, progress=seen.append)
    # every batched step advances three seeds; sub-chunks end at least at each snapshot
    assert sum(seen) == 3 * 25 and all(k % 3 == 0 for k in seen) and len(seen) >= 4


def test_divergence_names_the_first_step_any_seed_diverged(data):
    models = [lf.make_mlp(5, seed=s) for s in SEEDS]
    with pytest.raises(lf.TrainingDiverged) as caught:
        train_seeds(models, data, lr=1e4, n_steps=200, save_every=200, seeds=SEEDS, progress=False)
    first = []
    for m, s in zip(models, SEEDS):
        with pytest.raises(lf.TrainingDiverged) as one:
            lf.train(m, data, lr=1e4, n_steps=200, save_every=200, seed=s, backend="torch", progress=False)
        first.append(one.value.step)
    assert caught.value.step == min(first)


def test_bad_arguments(data):
    models = [lf.make_mlp(3, seed=s) for s in SEEDS]
    with pytest.raises(ValueError, match="seeds must give one seed per model: got 2 seeds for 3 models"):
        train_seeds(models, data, seeds=(0, 1), n_steps=2)
    with pytest.raises(ValueError, match="models must be this package's ReLU MLPs"):
        train_seeds([models[0], lf.make_mlp(4)], data, seeds=(0, 1), n_steps=2)
    with pytest.raises(ValueError, match="models must be this package's ReLU MLPs"):
        train_seeds([nn.Sequential(nn.Linear(1, 2))], data, seeds=(0,))
    with pytest.raises(ValueError, match="models must hold at least one network"):
        train_seeds([], data, seeds=())
    with pytest.raises(ValueError, match="paradigm must be one of"):
        train_seeds(models, data, "adam", seeds=SEEDS, n_steps=2)
    with pytest.raises(ValueError, match="progress must be True"):
        train_seeds(models, data, seeds=SEEDS, n_steps=2, progress="yes")
    bad = lf.make_mlp(3, seed=9)
    with torch.no_grad():
        bad[0].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="model"):
        train_seeds([models[0], bad], data, seeds=(0, 1), n_steps=2)
