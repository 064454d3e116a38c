"""Several seeds of one network trained together: one batched SGD computation in torch.

Seed k keeps its own initial network and its own minibatch stream
(``numpy.random.default_rng(seeds[k])``), exactly as :func:`train` would use them, but
every step runs the K networks at once with batched matrix products (``torch.baddbmm``).
On a GPU that turns K small kernels per layer into one; on the CPU it mainly serves to
check the batched path against per-seed training.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ..data import Dataset
from ..models import mlp_sizes
from .history import History, flatten_parameters
from .minibatches import minibatch_indices, snapshot_steps
from .plan import Plan, TrainingDiverged, check_progress, sub_chunks
from .progress import progress_bar
from .trainer import make_plan, solve_ridge

__all__ = ["train_seeds"]


def train_seeds(
    models: Sequence[nn.Module],
    data: Dataset,
    paradigm: str = "all",
    n_steps: int = 150_000,
    save_every: int = 1000,
    lr: float | None = None,
    seeds: Sequence[int] = (0,),
    device: str | torch.device = "cpu",
    *,
    dtype: str = "float32",
    batch_size: int | None = None,
    ridge_lambda: float = 1e-5,
    progress: bool | Callable[[int], object] = True,
) -> list[History]:
    """Train ``models[k]`` with minibatch seed ``seeds[k]``, all K runs in one batched loop.

    Each History equals, up to rounding, ``train(models[k], data, ..., seed=seeds[k],
    backend="torch", device=device)``: the same initial network, the same minibatches, the
    same SGD update. Only the order of floating-point sums differs (batched instead of
    single matrix products): in float64 the parameters agree to about 1e-15; in float32
    to about 1e-8 of the largest parameter after a few hundred steps, and SGD can let
    such rounding differences grow along a long run (the tests allow 1e-10 in float64 and
    1e-5 in float32).

    Parameters
    ----------
    models : K networks of the same layer sizes, each one of this package's ReLU MLPs
        (:func:`make_mlp`); they are never modified.
    seeds : K minibatch seeds, one per network.
    data, paradigm, n_steps, save_every, lr, device, dtype, batch_size, ridge_lambda :
        as for :func:`train`. ``"ridge"`` has nothing to batch: each network gets its
        closed-form solve.
    progress : a bar, ``False``, or a callable receiving the steps done, counted over all
        K runs (K per batched step).

    Returns
    -------
    list of K :class:`History`, ``config["backend"] == "torch"``.
    """
    models = list(models)
    seeds = list(seeds)
    if not models:
        raise ValueError("models must hold at least one network")
    if len(seeds) != len(models):
        raise ValueError(f"seeds must give one seed per model: got {len(seeds)} seeds for {len(models)} models")
    sizes = {mlp_sizes(m) for m in models}
    if None in sizes or len(sizes) != 1:
        raise ValueError("models must be this package's ReLU MLPs (make_mlp), all of the same layer sizes")
    plans = [
        make_plan(m, data, paradigm, n_steps, save_every, lr, s, device, dtype, batch_size, ridge_lambda)
        for m, s in zip(models, seeds)
    ]
    progress = check_progress(progress)
    templates = [copy.deepcopy(m).cpu().to(plans[0].torch_dtype) for m in models]
    initial = [flatten_parameters(t) for t in templates]
    if plans[0].paradigm == "ridge":
        results = [solve_ridge(copy.deepcopy(t).to(p.device), p) for t, p in zip(templates, plans)]
        used = "closed form"
    else:
        with progress_bar(n_steps * len(models), progress, f"train {paradigm} ({len(models)} seeds, batched)") as bar:
            results = _sgd(np.stack(initial), next(iter(sizes)), plans, bar)
        used = "torch"
    return [
        # the network itself trained, never its linearized model: the same config train() writes
        History(t, steps, params, train_error, test_error, init, {**p.config(used), "linearized": False})
        for t, init, p, (steps, params, train_error, test_error) in zip(templates, initial, plans, results)
    ]


def _forward(layers: list[tuple[torch.Tensor, torch.Tensor]], h: torch.Tensor) -> torch.Tensor:
    """K networks on K batches: h (K, B, 1) -> (K, B)."""
    for i, (weight, bias) in enumerate(layers):
        if i:
            h = torch.relu(h)
        # bias (K, 1, out) + h (K, B, in) @ weight^T (K, in, out)
        h = torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))
    return h[..., 0]


def _sgd(theta0: np.ndarray, sizes: tuple[int, ...], plans: list[Plan], progress) -> list[tuple[np.ndarray, ...]]:
    """Batched SGD from ``theta0`` (K, d); one result tuple per plan, as ``train_torch`` returns."""
    plan = plans[0]
    n_models = len(plans)
    dev, dt = plan.device, plan.torch_dtype
    theta = torch.tensor(theta0, dtype=dt, device=dev)
    layers, start = [], 0
    for n_in, n_out in itertools.pairwise(sizes):
        weight = theta[:, start : start + n_in * n_out].reshape(n_models, n_out, n_in).clone()
        start += n_in * n_out
        bias = theta[:, start : start + n_out].clone()
        start += n_out
        layers.append((weight, bias))
    trainable = [t for layer in (layers[-1:] if plan.paradigm == "output" else layers) for t in layer]
    for p in trainable:
        p.requires_grad_(True)

    data = plan.data
    X = torch.tensor(data.X, dtype=dt, device=dev)
    y = torch.tensor(data.y, dtype=dt, device=dev)
    X_test = torch.tensor(data.X_test, dtype=dt, device=dev).expand(n_models, -1, -1)
    # the reported and checked errors are summed in float64, as train() does in both backends
    y64 = y.double()
    y_test64 = torch.tensor(data.y_test, dtype=torch.float64, device=dev)
    rngs = [np.random.default_rng(p.seed) for p in plans]

    steps = snapshot_steps(plan.n_steps, plan.save_every)
    params = np.empty((len(steps), n_models, plan.n_params), dtype=plan.numpy_dtype)
    train_error = np.empty((len(steps), n_models))
    test_error = np.empty((len(steps), n_models))
    size, done = [1], 0  # as train(): grows to about CHUNK_SECONDS of batched steps after a few sub-chunks
    for k, target in enumerate(steps):
        # bounded sub-chunks, as train() runs: progress (and a sweep's cancellation) is
        # seen about every CHUNK_SECONDS whatever save_every is
        for n_sub in sub_chunks(int(target) - done, size):
            rows = np.stack([minibatch_indices(r, plan.n_samples, plan.batch_size, n_sub) for r in rngs], axis=1)
            rows = torch.as_tensor(rows, device=dev)  # (n_sub, K, B)
            losses = torch.empty((n_sub, n_models), dtype=torch.float64, device=dev)
            for i in range(n_sub):
                batch = rows[i]
                out = _forward(layers, X[batch])
                # the runs share no parameter, so the gradient of the summed loss is each run's own
                loss = ((out - y[batch]) ** 2).mean(dim=1)
                grads = torch.autograd.grad(loss.sum(), trainable)
                with torch.no_grad():
                    for p, g in zip(trainable, grads):
                        p.add_(g, alpha=-plan.lr)  # the update torch.optim.SGD makes
                losses[i] = ((out.detach().double() - y64[batch]) ** 2).mean(dim=1)
            finite = torch.isfinite(losses)
            if not bool(finite.all()):
                first = int(torch.nonzero(~finite.all(dim=1))[0, 0])
                bad = losses[first][~finite[first]][0]
                raise TrainingDiverged(done + first + 1, float(bad), plan.lr)
            done += n_sub
            last_loss = losses[-1].cpu().numpy()
            progress(n_sub * n_models)
        with torch.no_grad():
            test = ((_forward(layers, X_test).double() - y_test64) ** 2).mean(dim=1).cpu().numpy()
            flat = torch.cat([t.reshape(n_models, -1) for layer in layers for t in layer], dim=1)
        if not np.all(np.isfinite(test)):
            raise TrainingDiverged(done, float(test[~np.isfinite(test)][0]), plan.lr, what="test error")
        params[k] = flat.detach().cpu().numpy()
        train_error[k] = last_loss
        test_error[k] = test
    return [(steps, params[:, j].copy(), train_error[:, j], test_error[:, j]) for j in range(n_models)]
