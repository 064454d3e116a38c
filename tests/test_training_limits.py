"""train and sweep refuse, before allocating anything, what would not fit, and coerce nothing silently."""

import importlib
import re

import numpy as np
import pytest
import torch

import linfeat_widgets as lf
from linfeat_widgets.training import plan, trainer

sweep_module = importlib.import_module("linfeat_widgets.training.sweep")


def _bytes_in(message: str) -> int:
    return int(re.search(r"\(([\d,]+) bytes\)", message).group(1).replace(",", ""))


# --- memory -------------------------------------------------------------------------------
def test_too_many_snapshots_are_refused_with_the_estimate(data, monkeypatch):
    allocations = []
    monkeypatch.setattr(lf.training.fast_backend, "train_fast", lambda *a: allocations.append(a))
    model = lf.make_mlp(10, seed=0)  # 31 parameters
    with pytest.raises(ValueError, match=r"n_steps / save_every: 1,000,000,000,002 snapshots of 31 float32") as info:
        lf.train(model, data, n_steps=10**12, save_every=1, progress=False)
    # 4 bytes per parameter plus the step and two errors, per snapshot
    assert _bytes_in(str(info.value)) == (10**12 + 2) * (31 * 4 + 24)
    assert "raise save_every" in str(info.value)
    assert allocations == []


def test_the_snapshot_estimate_is_an_upper_bound_of_a_real_history(data):
    history = lf.train(lf.make_mlp(10, seed=0), data, n_steps=250, save_every=100, progress=False)
    estimate = trainer.snapshot_bytes(31, 250, 100, "float32")
    actual = history.params.nbytes + history.steps.nbytes + history.train_error.nbytes + history.test_error.nbytes
    assert actual <= estimate <= 2 * actual


def test_the_limit_is_half_of_this_machines_memory(data, monkeypatch):
    import os

    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert plan.memory_budget() == total // 2
    monkeypatch.setattr(plan, "memory_budget", lambda: 10_000)
    with pytest.raises(ValueError, match=r"more than the 10.0 KB a run may use"):
        lf.train(lf.make_mlp(10, seed=0), data, n_steps=1000, save_every=1, progress=False)


def test_a_huge_width_is_refused_by_sweep_before_any_network_is_built(data, monkeypatch):
    built = []
    monkeypatch.setattr(sweep_module, "make_mlp", lambda *a, **k: built.append(a))
    with pytest.raises(ValueError, match=r"widths, depths, n_steps / save_every: this sweep") as info:
        lf.sweep(data, widths=(10, 10**9), n_steps=10, progress=False)
    assert "3,000,000,001 parameters" in str(info.value)
    assert _bytes_in(str(info.value)) > 3 * 10**9 * 4
    assert built == []


def test_too_many_snapshots_in_a_sweep_are_refused(data):
    with pytest.raises(ValueError, match="raise save_every"):
        lf.sweep(data, widths=(10,), n_steps=10**13, save_every=1, progress=False)


def test_a_huge_batch_on_a_wide_model_is_refused(data, monkeypatch):
    monkeypatch.setattr(plan, "memory_budget", lambda: 2_000_000)
    with pytest.raises(ValueError, match=r"model and batch_size: training this model \(batch_size 200, widest") as info:
        lf.train(lf.make_mlp(300, seed=0), data, n_steps=1, batch_size=200, progress=False)
    # activations of 3 layers for 200 + 1200 + 200 points, 300 wide, in float32
    assert _bytes_in(str(info.value)) >= 3 * 1600 * 300 * 4


# --- coercions ----------------------------------------------------------------------------
@pytest.mark.parametrize("progress", ["yes", 1, None, 0.5])
def test_progress_is_true_false_or_a_callable(data, progress):
    with pytest.raises(ValueError, match="progress must be True .*, False .* or a callable"):
        lf.train(lf.make_mlp(3, seed=0), data, n_steps=2, progress=progress)
    with pytest.raises(ValueError, match="progress must be True"):
        lf.sweep(data, widths=(3,), n_steps=2, progress=progress)


@pytest.mark.parametrize("seed", [2**63, 2**64, -1, True, 1.0, "0"])
def test_seeds_outside_the_int64_range_are_refused(data, seed):
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*63 - 1\]"):
        lf.train(lf.make_mlp(3, seed=0), data, n_steps=2, seed=seed, progress=False)
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*63 - 1\]"):
        lf.sweep(data, widths=(3,), n_steps=2, seed=seed, progress=False)


def test_the_largest_seed_trains(data):
    history = lf.train(lf.make_mlp(3, seed=0), data, n_steps=2, seed=2**63 - 1, progress=False)
    assert history.config["seed"] == 2**63 - 1


def test_a_zero_dimensional_array_is_one_width(data):
    runs = lf.sweep(data, widths=np.array(4), depths=np.array(1), n_steps=3, progress=False)
    assert runs.widths == (4,) and runs.depths == (1,)


@pytest.mark.parametrize("widths", [4.0, (4, 5.5), True, (True,), np.array(4.5), "4", np.array([4.0])])
def test_floats_bools_and_strings_are_not_widths(data, widths):
    with pytest.raises(ValueError, match="widths must be an integer >= 1"):
        lf.sweep(data, widths=widths, n_steps=2, progress=False)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_steps": 0}, "n_steps must be an integer >= 1"),
        ({"n_steps": 2.5}, "n_steps must be an integer >= 1"),
        ({"save_every": True}, "save_every must be an integer >= 1"),
        ({"lr": -1.0}, "lr must be > 0"),
        ({"dtype": "float16"}, "dtype must be one of"),
    ],
)
def test_sweep_checks_what_train_would_refuse_before_building_networks(data, kwargs, match, monkeypatch):
    built = []
    monkeypatch.setattr(sweep_module, "make_mlp", lambda *a, **k: built.append(a))
    with pytest.raises(ValueError, match=match):
        lf.sweep(data, widths=(3,), progress=False, **{"n_steps": 2, **kwargs})
    assert built == []


def test_a_model_with_nan_parameters_is_refused(data):
    model = lf.make_mlp(3, seed=0)
    with torch.no_grad():
        model[0].bias[1] = float("inf")
    with pytest.raises(ValueError, match=r"model has NaN or infinite parameters \(in '0.bias'\)"):
        lf.train(model, data, n_steps=2, progress=False)
