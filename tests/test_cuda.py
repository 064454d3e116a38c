"""device="cuda" on a machine with a GPU; skipped elsewhere."""

import numpy as np
import pytest
import torch

import linfeat_widgets as lf

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


def test_training_on_cuda_matches_cpu(data):
    model = lf.make_mlp(10, depth=2, seed=0)
    cpu = lf.train(model, data, n_steps=200, save_every=100, backend="torch", dtype="float64", progress=False)
    gpu = lf.train(
        model, data, n_steps=200, save_every=100, backend="torch", device="cuda", dtype="float64", progress=False
    )
    assert gpu.config["device"].startswith("cuda")
    np.testing.assert_allclose(gpu.params, cpu.params, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(gpu.test_error, cpu.test_error, rtol=1e-9)


def test_linearize_a_cuda_model(data):
    model = lf.make_mlp(10, depth=2, seed=0)
    cpu = lf.linearize(model, data.X, method="autograd").matrix
    np.testing.assert_allclose(lf.linearize(model.cuda(), data.X, method="autograd").matrix, cpu, atol=1e-12)
    np.testing.assert_allclose(lf.linearize(model.cuda(), data.X).matrix, cpu, atol=1e-12)


def test_batched_seeds_on_cuda_match_per_seed_training_on_cpu(data):
    seeds = (0, 1, 2, 3)
    kwargs = dict(widths=(10,), depths=(2,), seeds=seeds, n_steps=200, save_every=100, backend="torch")
    gpu = lf.sweep(data, device="cuda", dtype="float64", progress=False, **kwargs)
    assert gpu.settings["batch_seeds"] is True  # the default on a GPU with several seeds
    cpu = lf.sweep(data, dtype="float64", batch_seeds=False, progress=False, **kwargs)
    for config in cpu:
        assert gpu[config].config["device"].startswith("cuda")
        np.testing.assert_allclose(gpu[config].params, cpu[config].params, rtol=0, atol=1e-10)
        np.testing.assert_allclose(gpu[config].test_error, cpu[config].test_error, rtol=1e-10)
    f32 = lf.sweep(data, device="cuda", progress=False, **kwargs)
    ref = lf.sweep(data, batch_seeds=False, progress=False, **kwargs)
    for config in ref:
        scale = np.abs(ref[config].params).max()
        np.testing.assert_allclose(f32[config].params, ref[config].params, rtol=0, atol=1e-4 * scale)
