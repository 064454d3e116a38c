"""The reference trainer: the homework's PyTorch SGD loop, plus the closed-form ridge solve.

Kept deliberately plain (``torch.optim.SGD`` on a module, one minibatch per step) so it is
the yardstick the fast backend is checked against.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .history import flatten_parameters
from .minibatches import minibatch_indices, snapshot_steps
from .plan import Plan, TrainingDiverged, sub_chunks

__all__ = ["solve_ridge", "train_torch"]


def _tensor(array: np.ndarray, plan: Plan) -> torch.Tensor:
    # torch.tensor copies: the Dataset's arrays are read-only
    return torch.tensor(array, dtype=plan.torch_dtype, device=plan.device)


def train_torch(model: nn.Module, plan: Plan, progress) -> tuple[np.ndarray, ...]:
    """Run SGD as described by ``plan`` on ``model`` (already a private copy).

    Returns ``(steps, params (S, d), train_error (S,), test_error (S,))``.
    """
    data = plan.data
    X, y = _tensor(data.X, plan), _tensor(data.y, plan)[:, None]
    X_test, y_test = _tensor(data.X_test, plan), _tensor(data.y_test, plan)[:, None]
    trainable = plan.trainable_parameters(model)
    for p in model.parameters():
        p.requires_grad_(False)
    for p in trainable:
        p.requires_grad_(True)
    optimizer = torch.optim.SGD(trainable, lr=plan.lr)
    rng = np.random.default_rng(plan.seed)

    steps = snapshot_steps(plan.n_steps, plan.save_every)
    params = np.empty((len(steps), plan.n_params), dtype=plan.numpy_dtype)
    train_error = np.empty(len(steps))
    test_error = np.empty(len(steps))
    y64, y_test64 = y.double(), y_test.double()
    size, done = [16], 0
    for k, target in enumerate(steps):
        for n_sub in sub_chunks(int(target) - done, size):
            rows_of = minibatch_indices(rng, plan.n_samples, plan.batch_size, n_sub)
            batches = torch.as_tensor(rows_of, device=plan.device)
            # Keep losses on the device and look at them once per sub-chunk: no per-step sync.
            losses = torch.empty(n_sub, dtype=torch.float64, device=plan.device)
            for i in range(n_sub):
                rows = batches[i]
                out = model(X[rows])
                loss = F.mse_loss(out, y[rows])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                # the reported and checked loss is summed in float64, as the fast backend's:
                # a float32 sum can overflow where the mean does not
                losses[i] = F.mse_loss(out.detach().double(), y64[rows])
            finite = torch.isfinite(losses)
            if not bool(finite.all()):
                first = int(torch.nonzero(~finite)[0, 0])
                raise TrainingDiverged(done + first + 1, float(losses[first]), plan.lr)
            done += n_sub
            last_loss = float(losses[-1])
            progress(n_sub)
        with torch.no_grad():
            test = float(F.mse_loss(model(X_test).double(), y_test64))
        if not np.isfinite(test):
            raise TrainingDiverged(done, test, plan.lr, what="test error")
        params[k] = flatten_parameters(model)
        train_error[k] = last_loss
        test_error[k] = test
    return steps, params, train_error, test_error


def solve_ridge(model: nn.Module, plan: Plan) -> tuple[np.ndarray, ...]:
    """Set the output layer of ``model`` to the ridge solution on its penultimate features.

    Features are the last hidden layer's outputs ``phi(x)`` (n, w) plus a constant column;
    the output weights and bias minimise ``|Phi theta - y|^2 + lambda |theta|^2`` (the
    constant's weight is penalised too). Solved in float64 by least squares on the
    augmented system ``[Phi; sqrt(lambda) I] theta = [y; 0]``, which is better conditioned
    than the normal equations.

    Returns the same tuple as :func:`train_torch`, with one snapshot at step 1.
    """
    data = plan.data
    body, head = model[:-1], model[-1]
    with torch.no_grad():
        phi = body(_tensor(data.X, plan)).double().cpu().numpy()
    design = np.hstack([phi, np.ones((phi.shape[0], 1))])
    lam = plan.ridge_lambda
    width = design.shape[1]
    stacked = np.vstack([design, np.sqrt(lam) * np.eye(width)])
    target = np.concatenate([data.y, np.zeros(width)])
    theta, *_ = np.linalg.lstsq(stacked, target, rcond=None)
    if not np.all(np.isfinite(theta)):
        raise TrainingDiverged(1, float("nan"), plan.lr, what="ridge solution")
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(theta[:-1][None, :]))
        head.bias.copy_(torch.as_tensor(theta[-1:]))
        train = float(F.mse_loss(model(_tensor(data.X, plan)), _tensor(data.y, plan)[:, None]))
        test = float(F.mse_loss(model(_tensor(data.X_test, plan)), _tensor(data.y_test, plan)[:, None]))
    params = flatten_parameters(model)[None, :]
    return np.array([1], dtype=np.int64), params, np.array([train]), np.array([test])
