"""The compiled trainer against the torch reference, snapshot by snapshot.

Tolerances: in float64 both backends do the same arithmetic up to the order of sums, so
parameters agree to ~1e-12 after hundreds of steps (we allow 1e-9). In float32 rounding
differences of ~1e-7 per step accumulate; over 200 steps parameters agree to ~1e-5 (we
allow 1e-4 absolute) and errors to 1e-4 relative.
"""

import itertools

import numpy as np
import pytest
import torch
from torch import nn

import linfeat_widgets as lf
from linfeat_widgets.training import BackendFallbackWarning, fast_backend, plan, torch_backend


def both(model, data, **kwargs):
    kwargs = {"n_steps": 300, "save_every": 100, "progress": False, "seed": 5, **kwargs}
    return lf.train(model, data, backend="fast", **kwargs), lf.train(model, data, backend="torch", **kwargs)


@pytest.mark.parametrize("paradigm", ["all", "output"])
@pytest.mark.parametrize("width, depth", [(3, 1), (17, 1), (8, 2), (12, 2), (5, 4)])
def test_fast_equals_torch_in_float64(data, width, depth, paradigm):
    fast, ref = both(lf.make_mlp(width, depth=depth, seed=width), data, paradigm=paradigm, dtype="float64")
    assert fast.config["backend"] == "fast" and ref.config["backend"] == "torch"
    assert np.array_equal(fast.steps, ref.steps)
    np.testing.assert_allclose(fast.params, ref.params, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(fast.train_error, ref.train_error, rtol=1e-9)
    np.testing.assert_allclose(fast.test_error, ref.test_error, rtol=1e-9)


@pytest.mark.parametrize("width, depth", [(10, 1), (40, 1), (20, 2), (6, 4)])
def test_fast_equals_torch_in_float32(data, width, depth):
    fast, ref = both(lf.make_mlp(width, depth=depth, seed=0), data, n_steps=200)
    assert fast.params.dtype == np.float32
    np.testing.assert_allclose(fast.params, ref.params, rtol=0, atol=1e-4)
    np.testing.assert_allclose(fast.test_error, ref.test_error, rtol=1e-4)
    np.testing.assert_allclose(fast.train_error, ref.train_error, rtol=1e-4)


def test_output_paradigm_keeps_hidden_layers(data):
    model = lf.make_mlp(10, depth=2, seed=0)
    fast = lf.train(model, data, paradigm="output", n_steps=100, backend="fast", progress=False)
    hidden = sum(p.numel() for p in list(model.parameters())[:-2])
    np.testing.assert_array_equal(
        fast.params[:, :hidden], np.broadcast_to(fast.initial_params[:hidden], (4, hidden))[: len(fast.steps)]
    )


def test_divergence_is_reported_at_the_same_step_as_torch(data):
    model = lf.make_mlp(10, depth=2, seed=0)
    steps = []
    for backend in ("fast", "torch"):
        with pytest.raises(lf.TrainingDiverged, match="try a smaller learning rate") as info:
            lf.train(model, data, lr=50.0, n_steps=3000, backend=backend, dtype="float64", progress=False)
        steps.append(info.value.step)
    assert steps[0] == steps[1]


# in float32, where torch used to stop a step earlier than the fast backend (its float32
# sum overflowed while the fast backend's float64 sum of per-point squares did not)
@pytest.mark.parametrize(
    "lr, seed, width, depth, n_steps, save_every",
    [(200.0, 1, 10, 2, 10, 1), (200.0, 3, 10, 2, 10, 1), (50.0, 1, 10, 2, 300, 100), (5.0, 2, 5, 3, 300, 100)],
)
def test_both_backends_stop_at_the_same_step_for_the_same_reason(data, lr, seed, width, depth, n_steps, save_every):
    model = lf.make_mlp(width, depth=depth, seed=seed)
    found = []
    for backend in ("fast", "torch"):
        with pytest.raises(lf.TrainingDiverged) as info:
            lf.train(model, data, lr=lr, n_steps=n_steps, save_every=save_every, backend=backend, progress=False)
        found.append((info.value.step, str(info.value).split(" became")[0], np.isfinite(info.value.value)))
    assert found[0] == found[1]
    assert not found[0][2]


def test_a_huge_but_finite_test_error_is_kept_by_both_backends(data):
    # an absurd error is not divergence: only NaN or infinity is, in both backends alike
    fast, ref = both(lf.make_mlp(10, seed=0), data, lr=20.0, n_steps=10, save_every=1)
    assert np.all(np.isfinite(fast.test_error)) and fast.test_error[-1] > 1e30
    np.testing.assert_allclose(fast.test_error, ref.test_error, rtol=1e-4)
    np.testing.assert_allclose(fast.train_error, ref.train_error, rtol=1e-4)


def test_errors_are_summed_in_float64_from_the_float32_outputs(data):
    fast, ref = both(lf.make_mlp(10, seed=0), data, n_steps=3, save_every=1)
    # torch's forward is the one evaluated here, so its error matches to float64 rounding
    # (a float32 sum would be off by ~1e-7); the fast kernel's forward rounds differently
    for history, rel in ((ref, 1e-12), (fast, 1e-6)):
        model = history.model(3)
        with torch.no_grad():
            out = model(torch.tensor(data.X_test, dtype=torch.float32))[:, 0].double().numpy()
        expected = np.mean((out - data.y_test.astype(np.float32).astype(np.float64)) ** 2)
        assert history.test_error[-1] == pytest.approx(expected, rel=rel)


def test_auto_picks_fast_for_mlps_on_the_cpu(data):
    history = lf.train(lf.make_mlp(5, seed=0), data, n_steps=10, progress=False)
    assert history.config["backend"] == "fast"
    ridge = lf.train(lf.make_mlp(5, seed=0), data, paradigm="ridge")
    assert ridge.config["backend"] == "closed form"


def test_explicit_fast_on_an_unsupported_model_says_why(data):
    model = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1))
    with pytest.raises(ValueError, match="backend='fast' cannot train this: it trains this package's ReLU MLPs"):
        lf.train(model, data, n_steps=5, backend="fast")
    # ridge is a closed-form solve whatever the backend, so a sweep with backend="fast" can include it
    assert lf.train(lf.make_mlp(3), data, paradigm="ridge", backend="fast").config["backend"] == "closed form"


def test_without_numba_auto_falls_back_with_one_warning(data, monkeypatch):
    monkeypatch.setattr(fast_backend, "_compiled", None)
    monkeypatch.setattr(fast_backend, "_import_error", "numba is not importable (simulated)")
    with pytest.warns(BackendFallbackWarning, match="numba is not importable") as record:
        history = lf.train(lf.make_mlp(4, seed=0), data, n_steps=20, progress=False)
    assert len(record) == 1
    assert history.config["backend"] == "torch"
    with pytest.raises(ValueError, match="backend='fast' cannot train this: numba is not importable"):
        lf.train(lf.make_mlp(4, seed=0), data, n_steps=20, backend="fast", progress=False)


@pytest.mark.parametrize("backend", ["fast", "torch"])
def test_progress_callback_receives_every_step_in_bounded_sub_chunks(data, backend):
    seen = []
    n_steps = 2500 if backend == "fast" else 600
    lf.train(lf.make_mlp(4, seed=0), data, n_steps=n_steps, save_every=n_steps, backend=backend, progress=seen.append)
    assert sum(seen) == n_steps
    assert seen[0] == 1 and len(seen) > 2  # step 1's snapshot, then the rest cut into sub-chunks
    assert max(seen) <= plan.MAX_CHUNK_STEPS


@pytest.mark.parametrize("backend", ["fast", "torch"])
def test_where_a_run_is_cut_into_sub_chunks_does_not_change_it(data, backend, monkeypatch):
    model = lf.make_mlp(6, depth=2, seed=1)
    kwargs = {"n_steps": 300, "save_every": 120, "backend": backend, "progress": False, "seed": 3}
    reference = lf.train(model, data, **kwargs)
    module = fast_backend if backend == "fast" else torch_backend
    cuts = []

    def odd_cuts(n_steps, state):
        sizes = itertools.cycle([1, 7, 2, 50])
        while n_steps > 0:
            k = min(next(sizes), n_steps)
            cuts.append(k)
            yield k
            n_steps -= k

    monkeypatch.setattr(module, "sub_chunks", odd_cuts)
    cut = lf.train(model, data, **kwargs)
    assert len(cuts) > 10
    np.testing.assert_array_equal(cut.params, reference.params)
    np.testing.assert_array_equal(cut.train_error, reference.train_error)
    np.testing.assert_array_equal(cut.test_error, reference.test_error)


def test_a_progress_callback_that_raises_stops_training(data):
    calls = []

    def stop(k):
        calls.append(k)
        if sum(calls) > 100:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        lf.train(lf.make_mlp(4, seed=0), data, n_steps=100_000, save_every=100_000, progress=stop)
    assert sum(calls) < 100_000


def test_parallel_sweep_equals_sequential(data):
    kwargs = {
        "widths": (4, 6),
        "depths": (1, 2),
        "paradigms": ("all", "output"),
        "n_steps": 150,
        "save_every": 50,
        "progress": False,
    }
    parallel = lf.sweep(data, n_jobs=2, **kwargs)
    sequential = lf.sweep(data, n_jobs=1, **kwargs)
    assert list(parallel) == list(sequential)
    for config in parallel:
        assert parallel[config].config["backend"] == "fast"
        np.testing.assert_array_equal(parallel[config].params, sequential[config].params)


def test_parallel_sweep_reports_the_first_failure(data):
    with pytest.raises(lf.TrainingDiverged):
        lf.sweep(data, widths=(4, 6, 8), depths=(2,), lr=80.0, n_steps=3000, n_jobs=2, progress=False)


def test_memory_is_a_parameter_vector_per_snapshot(data):
    history = lf.train(lf.make_mlp(40, depth=2, seed=0), data, n_steps=3000, save_every=1000, progress=False)
    d = 1761
    assert history.params.shape == (4, d)
    assert history.nbytes == 5 * d * 4 + 4 * 3 * 8  # 4 snapshots + the initial vector, float32; steps and errors
