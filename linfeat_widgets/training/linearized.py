"""The linearized model: a network's first-order Taylor model around its initialization.

``f_lin(x; theta) = f(x; theta_0) + J(x; theta_0) (theta - theta_0)`` is linear in theta,
with the network's linearized features at theta_0 as its fixed features. Training it with
the network's paradigm, learning rate, minibatch stream, batch size and snapshots shows
what the network would have learned had its features never moved.

Why this module computes the Jacobian itself
    The training stage sits below ``linearize`` in the package's one-way layering, so it
    cannot call :func:`~linfeat_widgets.linearize.mlp_factors`. The per-layer factors of a
    ReLU MLP's Jacobian are a dozen lines of numpy, so a private copy lives here
    (:func:`factors`, on flat parameter vectors) rather than moving ``linearize``'s code
    down a stage, which would reshape a module that others own. ``theory`` reuses the
    helpers here that ``linearize`` does not have (:func:`jacobian_times`).

How the training runs: the dual (n-dimensional) form of linear least-squares SGD
    With J = J(X; theta_0) (n, d) restricted to the trainable columns (every layer for
    ``"all"``, the output layer for ``"output"``), each step on minibatch B is
    ``theta <- theta - lr (2 / |B|) J_B^T r_B`` with ``r_B = f_lin(X_B) - y_B``. Every
    update lies in the row space of J, so ``theta_t - theta_0 = J^T a_t`` for a vector
    ``a_t`` (n,), and the training outputs move by ``u_t = J (theta_t - theta_0) = K a_t``
    with K = J J^T (n, n), the empirical neural tangent kernel at theta_0. A step is then
    ``c = -(2 lr / |B|) r_B``, ``u += K[B]^T c``, ``a[B] += c``: O(n |B|) work, whatever
    the number of parameters, and J itself is never formed (K comes from the per-layer
    factors, ``sum_l (D_l D_l^T) * (A_l A_l^T + 1)``). Parameters are rebuilt as
    ``theta_0 + J^T a`` only at snapshots, and the test outputs as
    ``f(X_test; theta_0) + K(X_test, X) a``. In exact arithmetic this is the same
    trajectory as SGD on theta; in floating point it agrees to rounding (the kernel and
    the factors are computed in float64, then cast to the run's dtype).

``"ridge"``
    The network is already linear in its output layer, so its first-order Taylor model
    in the output layer's parameters is the network itself: the linearized ridge solution
    is the network's ridge solution, and ``train(..., paradigm="ridge", linearized=True)``
    returns it (as a linearized :class:`History`).
"""

from __future__ import annotations

import copy
import itertools

import numpy as np
import torch
from torch import nn

from ..models import mlp_sizes
from .minibatches import minibatch_indices, snapshot_steps
from .plan import Plan, TrainingDiverged

__all__ = ["LinearizedMLP", "factors", "jacobian_times", "jacobian_transpose_times", "train_linearized"]


def _buffer_name(parameter: str) -> str:
    # buffer names may not contain dots
    return "theta0_" + parameter.replace(".", "_")


class LinearizedMLP(nn.Module):
    """The first-order Taylor model of one of this package's ReLU MLPs around its parameters.

    ``forward(x) = f(x; theta_0) + J(x; theta_0) (theta - theta_0)`` for inputs (n, 1),
    outputs (n, 1). Its parameters theta are named exactly like the network's
    (``"0.weight"``, ``"0.bias"``, ...), start at theta_0 and are what training moves;
    theta_0 is held in buffers. The forward pass propagates the tangent
    ``theta - theta_0`` through the network at theta_0 (forward-mode differentiation,
    written out for the MLP), so it is differentiable in theta like any module.

    Parameters
    ----------
    network : the network at theta_0, an ``nn.Sequential`` of ``Linear`` and ``ReLU``
        (:func:`~linfeat_widgets.models.make_mlp`); it is copied.
    """

    def __init__(self, network: nn.Module):
        super().__init__()
        if mlp_sizes(network) is None:
            raise ValueError(
                "network must be one of this package's ReLU MLPs (make_mlp); got "
                f"{type(network).__name__} that is not an nn.Sequential of Linear and ReLU with 1 input and 1 output"
            )
        for name, module in network.named_children():
            self.add_module(name, copy.deepcopy(module))
        for name, p in network.named_parameters():
            self.register_buffer(_buffer_name(name), p.detach().clone())

    def _layers(self) -> list[tuple[nn.Linear, torch.Tensor, torch.Tensor]]:
        out = []
        for name, module in self.named_children():
            if isinstance(module, nn.Linear):
                out.append(
                    (module, getattr(self, _buffer_name(f"{name}.weight")), getattr(self, _buffer_name(f"{name}.bias")))
                )
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``f(x; theta_0) + J(x; theta_0) (theta - theta_0)``, shape (n, 1) for x (n, 1)."""
        layers = self._layers()
        a, da = x, None
        for i, (layer, W0, b0) in enumerate(layers):
            dW, db = layer.weight - W0, layer.bias - b0
            z = a @ W0.T + b0
            # tangent of the pre-activation: the input's tangent through W0, plus the parameters' own
            dz = a @ dW.T + db if da is None else da @ W0.T + a @ dW.T + db
            if i < len(layers) - 1:
                mask = (z > 0).to(z.dtype)  # ReLU'(0) = 0, as PyTorch and the closed form take it
                a, da = z * mask, dz * mask
            else:
                a, da = z, dz
        return a + da

    def network(self) -> nn.Sequential:
        """A fresh copy of the network at theta_0 (the point of linearization)."""
        net = nn.Sequential(*(copy.deepcopy(m) for _, m in self.named_children()))
        with torch.no_grad():
            for (name, p), q in zip(net.named_parameters(), self.parameters()):
                p.copy_(getattr(self, _buffer_name(name)).to(q.dtype))
        return net


# --- the closed-form Jacobian of a ReLU MLP, on flat parameter vectors ------------------


def split_layers(sizes: tuple[int, ...], theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Flat parameters (d,) in ``named_parameters`` order -> [(W (out, in), b (out,)), ...]."""
    layers, start = [], 0
    for n_in, n_out in itertools.pairwise(sizes):
        W = theta[start : start + n_in * n_out].reshape(n_out, n_in)
        start += n_in * n_out
        layers.append((W, theta[start : start + n_out]))
        start += n_out
    return layers


def factors(sizes: tuple[int, ...], theta: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, list]:
    """Outputs and per-layer Jacobian factors of a ReLU MLP, in float64.

    Parameters
    ----------
    sizes : layer sizes ``(1, h1, ..., 1)``; theta : (d,) flat parameters; x : (n, 1).

    Returns
    -------
    (y (n,), [(A_l (n, in), D_l (n, out)), ...]) with A_l the layer's input and D_l the
    derivative of the output with respect to its pre-activation, so that the weight block
    of the Jacobian is ``J[p, (i, j)] = D_l[p, i] A_l[p, j]`` and the bias block is D_l.
    """
    weights = [(W.astype(np.float64), b.astype(np.float64)) for W, b in split_layers(sizes, theta)]
    inputs, masks, a = [], [], np.asarray(x, dtype=np.float64)
    for i, (W, b) in enumerate(weights):
        inputs.append(a)
        a = a @ W.T + b
        if i < len(weights) - 1:
            masks.append(a > 0)
            a = a * masks[-1]
    deltas, delta = [None] * len(weights), np.ones((a.shape[0], 1))
    for i in range(len(weights) - 1, -1, -1):
        deltas[i] = delta
        if i > 0:
            delta = (delta @ weights[i][0]) * masks[i - 1]
    return a[:, 0], list(zip(inputs, deltas))


def jacobian_times(fac: list, tangent: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """``J v`` (n,) without forming J: v given per layer as [(dW (out, in), db (out,)), ...]."""
    out = np.zeros(fac[0][0].shape[0])
    for (A, D), (dW, db) in zip(fac, tangent):
        out += np.einsum("pi,pi->p", A @ dW.T, D) + D @ db
    return out


def jacobian_transpose_times(fac: list, a: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """``J^T a`` for a (n,), per layer as [(dW (out, in), db (out,)), ...], without forming J."""
    return [((D * a[:, None]).T @ A, D.T @ a) for A, D in fac]


def kernel(fac1: list, fac2: list) -> np.ndarray:
    """``J1 J2^T`` (n1, n2) from per-layer factors: ``sum_l (D1 D2^T) * (A1 A2^T + 1)``."""
    out = np.zeros((fac1[0][0].shape[0], fac2[0][0].shape[0]))
    for (A1, D1), (A2, D2) in zip(fac1, fac2):
        out += (D1 @ D2.T) * (A1 @ A2.T + 1.0)
    return out


# --- training ------------------------------------------------------------------------


def train_linearized(model: nn.Module, plan: Plan, progress) -> tuple[np.ndarray, ...]:
    """SGD on the linearized model of ``model`` (one of this package's MLPs) as ``plan`` says.

    Returns ``(steps, params (S, d), train_error (S,), test_error (S,))`` as the other
    backends do: ``params`` are theta at each snapshot, the errors are ``f_lin``'s
    (minibatch MSE before the step's update, MSE on the noiseless test set).
    """
    sizes = mlp_sizes(model)
    dtype = plan.numpy_dtype
    with torch.no_grad():
        theta0 = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).cpu().numpy()
    data = plan.data
    f0, fac = factors(sizes, theta0, data.X)
    f0_test, fac_test = factors(sizes, theta0, data.X_test)
    # "output": only the last layer's parameters move, so only its Jacobian columns count
    first = len(fac) - 1 if plan.paradigm == "output" else 0
    K = np.ascontiguousarray(kernel(fac[first:], fac[first:]), dtype=dtype)
    K_test = np.ascontiguousarray(kernel(fac_test[first:], fac[first:]), dtype=dtype)
    offset = (f0 - data.y).astype(dtype)  # f_lin - y = offset + u
    offset_test = (f0_test - data.y_test).astype(dtype)
    u = np.zeros(plan.n_samples, dtype=dtype)  # f_lin(X) - f(X; theta_0)
    a = np.zeros(plan.n_samples, dtype=dtype)  # theta - theta_0 = J^T a
    scale = dtype.type(-2.0 * plan.lr / plan.batch_size)
    inv_batch = dtype.type(1.0 / plan.batch_size)
    rng = np.random.default_rng(plan.seed)
    theta0_64 = theta0.astype(np.float64)

    steps = snapshot_steps(plan.n_steps, plan.save_every)
    params = np.empty((len(steps), plan.n_params), dtype=dtype)
    train_error = np.empty(len(steps))
    test_error = np.empty(len(steps))
    losses = np.empty(int(np.max(np.diff(steps, prepend=0))), dtype=dtype)
    done = 0
    # overflow is detected below from the losses, and reported as TrainingDiverged
    with np.errstate(over="ignore", invalid="ignore"):
        for k, target in enumerate(steps):
            n_chunk = int(target) - done
            batches = minibatch_indices(rng, plan.n_samples, plan.batch_size, n_chunk)
            for i in range(n_chunk):
                rows = batches[i]
                r = u[rows] + offset[rows]
                losses[i] = (r @ r) * inv_batch
                c = r * scale
                u += c @ K[rows]  # K is symmetric: K[rows] holds the columns K[:, rows]
                a[rows] += c
            finite = np.isfinite(losses[:n_chunk])
            if not finite.all():
                first_bad = int(np.argmin(finite))
                raise TrainingDiverged(done + first_bad + 1, float(losses[first_bad]), plan.lr)
            done = int(target)
            residual = offset_test + K_test @ a
            test = float(np.mean(residual.astype(np.float64) ** 2))
            if not np.isfinite(test):
                raise TrainingDiverged(done, test, plan.lr, what="test error")
            delta = np.zeros_like(theta0_64)
            moved = jacobian_transpose_times(fac[first:], a.astype(np.float64))
            start = sum(W.size + b.size for W, b in split_layers(sizes, theta0_64)[:first])
            for dW, db in moved:
                delta[start : start + dW.size] = dW.ravel()
                start += dW.size
                delta[start : start + db.size] = db
                start += db.size
            params[k] = (theta0_64 + delta).astype(dtype)
            train_error[k] = float(losses[n_chunk - 1])
            test_error[k] = test
            progress(n_chunk)
    return steps, params, train_error, test_error
