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
