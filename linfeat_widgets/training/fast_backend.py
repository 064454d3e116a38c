"""The fast trainer: many SGD steps per call in one compiled loop, no Python per step.

The homework's loop spends its time on per-step Python and framework overhead around
tiny matrices (a 40 x 40 layer, 40 points). Here numba compiles the whole run of steps
between two snapshots (forward pass, MSE, backward pass and SGD update of a ReLU MLP) into
one function that releases the GIL, so independent trainings run in parallel threads.

Same semantics as the torch backend: the same initial parameters, learning rate and
paradigm, the same minibatch stream (:func:`~.minibatches.minibatch_indices`), and the
update ``theta <- theta - lr * grad`` applied to all trainable parameters at once after
the backward pass. Arithmetic is in the plan's dtype (float32 by default, as PyTorch's),
with sums possibly in another order, so trajectories agree with PyTorch to rounding:
see tests/test_fast_backend.py for the tolerances.

``"output"`` trains the output layer on the last hidden layer's activations, which do
not change; they are computed once, so each step is a linear model's.
"""

from __future__ import annotations

import itertools

import numpy as np
from torch import nn

from ..models import mlp_sizes
from .history import flatten_parameters
from .minibatches import minibatch_indices, snapshot_steps
from .plan import MAX_CHUNK_STEPS, Plan, TrainingDiverged, sub_chunks

__all__ = ["train_fast", "unavailable_reason", "unsupported_reason"]

_compiled = None
_import_error: str | None = None


def _smoke_test(compiled) -> None:
    """Compile (or load from the disk cache) the float32 kernels on a tiny network."""
    _, sgd, mse = compiled
    net = _Net((1, 2, 1), np.zeros(7), np.dtype(np.float32))
    X, y = np.zeros((3, 1), np.float32), np.zeros(3, np.float32)
    work = np.zeros((2, 2), np.float32)
    batches = np.zeros((1, 2), np.int64)
    sgd(
        *net.args,
        X,
        y,
        batches,
        np.float32(0.1),
        np.zeros(1),
        net.acts(2),
        work,
        work.copy(),
        work.copy(),
        np.zeros(7, np.float32),
    )
    mse(*net.args, X, y, net.acts(3), np.zeros(2, np.float32))


def kernels():
    """The compiled kernels ``(forward, sgd, mse)``, or ``None`` when they cannot be built."""
    global _compiled, _import_error
    if _compiled is None and _import_error is None:
        try:
            from . import _numba_kernels as numba_kernels

            compiled = (numba_kernels.forward, numba_kernels.sgd, numba_kernels.mse)
        except ImportError as exc:  # numba is a dependency, but a broken install must not break train()
            _import_error = f"numba is not importable ({exc})"
            return None
        try:
            _smoke_test(compiled)
        except Exception as exc:  # any compiler failure: report it and let "auto" use torch
            _import_error = f"numba could not compile the training loop ({type(exc).__name__}: {exc})"
            return None
        _compiled = compiled
    return _compiled


def unavailable_reason() -> str | None:
    """Why the fast backend cannot run on this machine, or ``None`` when it can."""
    kernels()
    return _import_error


def unsupported_reason(model: nn.Module, plan: Plan) -> str | None:
    """Why the fast backend cannot train ``model`` as ``plan`` says, or ``None`` when it can."""
    if mlp_sizes(model) is None:
        return "it trains this package's ReLU MLPs (make_mlp), and this model is another module"
    if plan.device.type != "cpu":
        return f"it runs on the CPU, and device is {str(plan.device)!r}"
    return None


class _Net:
    """The flat parameters of an MLP as the kernels take them, plus each weight transposed."""

    def __init__(self, sizes: tuple[int, ...], theta: np.ndarray, dtype: np.dtype):
        self.sizes = np.asarray(sizes, dtype=np.int64)
        w_off, b_off, start = [], [], 0
        for n_in, n_out in itertools.pairwise(sizes):
            w_off.append(start)
            b_off.append(start + n_in * n_out)
            start += n_in * n_out + n_out
        self.w_off = np.asarray(w_off, dtype=np.int64)
        self.b_off = np.asarray(b_off, dtype=np.int64)
        self.theta = np.array(theta, dtype=dtype)
        self.wt = np.zeros_like(self.theta)
        for n_in, n_out, wo in zip(sizes[:-1], sizes[1:], w_off):
            block = self.theta[wo : wo + n_in * n_out].reshape(n_out, n_in)
            self.wt[wo : wo + n_in * n_out] = block.T.ravel()
        self.dtype = dtype
        self.max_width = max(sizes)

    @property
    def args(self) -> tuple[np.ndarray, ...]:
        """The leading arguments of every kernel: parameters, transposed weights, layout."""
        return self.theta, self.wt, self.sizes, self.w_off, self.b_off

    def acts(self, m: int) -> np.ndarray:
        """A zeroed activation buffer for m points, shape (layers + 1, m, max width)."""
        return np.zeros((len(self.sizes), m, self.max_width), dtype=self.dtype)


def train_fast(model: nn.Module, plan: Plan, progress) -> tuple[np.ndarray, ...]:
    """Run SGD as described by ``plan`` with the compiled kernels.

    Returns ``(steps, params (S, d), train_error (S,), test_error (S,))``, as the torch
    backend does. ``model`` is not modified.
    """
    forward, sgd, mse = kernels()
    dtype = plan.numpy_dtype
    sizes = mlp_sizes(model)
    full = _Net(sizes, flatten_parameters(model), dtype)
    data = plan.data
    X = np.ascontiguousarray(data.X, dtype=dtype)
    y = np.ascontiguousarray(data.y, dtype=dtype)
    X_test = np.ascontiguousarray(data.X_test, dtype=dtype)
    y_test = np.ascontiguousarray(data.y_test, dtype=dtype)
    z = np.zeros(full.max_width, dtype=dtype)

    if plan.paradigm == "output":
        # the hidden layers are frozen: train a linear model on the last hidden activations
        acts = full.acts(len(X))
        forward(*full.args, X, acts, z)
        inputs = np.ascontiguousarray(acts[-2, :, : sizes[-2]])
        head = int(full.w_off[-1])
        net = _Net((sizes[-2], 1), full.theta[head:], dtype)
    else:
        inputs, head, net = X, 0, full

    batch = plan.batch_size
    acts = net.acts(batch)
    xb = np.zeros((batch, int(net.sizes[0])), dtype=dtype)
    g = np.zeros((batch, net.max_width), dtype=dtype)
    g_prev = np.zeros_like(g)
    grad = np.zeros_like(net.theta)
    test_acts = full.acts(len(X_test))
    lr = dtype.type(plan.lr)
    rng = np.random.default_rng(plan.seed)

    steps = snapshot_steps(plan.n_steps, plan.save_every)
    params = np.empty((len(steps), plan.n_params), dtype=dtype)
    train_error = np.empty(len(steps))
    test_error = np.empty(len(steps))
    losses = np.empty(MAX_CHUNK_STEPS)
    size, done = [64], 0
    for k, target in enumerate(steps):
        # bounded sub-chunks, whatever save_every is: Python sees Ctrl-C between them
        for n_sub in sub_chunks(int(target) - done, size):
            batches = minibatch_indices(rng, plan.n_samples, batch, n_sub)
            bad = sgd(*net.args, inputs, y, batches, lr, losses, acts, xb, g, g_prev, grad)
            if bad >= 0:
                raise TrainingDiverged(done + bad + 1, float(losses[bad]), plan.lr)
            done += n_sub
            last_loss = float(losses[n_sub - 1])
            progress(n_sub)
        if head:
            full.theta[head:] = net.theta
            full.wt[head:] = net.wt
        test = float(mse(*full.args, X_test, y_test, test_acts, z))
        if not np.isfinite(test):
            raise TrainingDiverged(done, test, plan.lr, what="test error")
        params[k] = full.theta
        train_error[k] = last_loss
        test_error[k] = test
    return steps, params, train_error, test_error
