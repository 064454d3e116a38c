"""A validated description of one training run, shared by every backend."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..data import Dataset

__all__ = ["CHUNK_SECONDS", "DEFAULT_LR", "MAX_CHUNK_STEPS", "PARADIGMS", "Plan", "TrainingDiverged", "sub_chunks"]

#: The homework's three training paradigms.
PARADIGMS = ("all", "output", "ridge")

#: The homework's learning rates: small when every layer trains (noisy gradients), large
#: when only the output layer does.
DEFAULT_LR = {"all": 0.02, "output": 0.2}


#: A backend returns to Python about this often (seconds), whatever ``save_every`` is, so that
#: Ctrl-C (KeyboardInterrupt) and a sweep's cancellation are seen within a fraction of a second.
CHUNK_SECONDS = 0.05

#: ... and never runs more steps than this in one call (also bounds the minibatch buffers).
MAX_CHUNK_STEPS = 4096


def sub_chunks(n_steps: int, state: list[int]) -> Iterator[int]:
    """Cut ``n_steps`` steps into sub-chunks that each take about :data:`CHUNK_SECONDS`.

    Yields the size of the next sub-chunk; the time until the next ``next()`` is taken as
    its cost, and the next size is scaled to hit the target (growing at most fourfold per
    sub-chunk, so one fast call cannot make the next one long). ``state`` is a one-item
    list holding the current size, shared across the snapshot intervals of one run.

    Where the run is cut does not change the results: the minibatch stream does not depend
    on it (see :func:`~.minibatches.minibatch_indices`) and the kernels keep no other state.
    """
    left = n_steps
    while left > 0:
        k = min(state[0], left)
        start = time.perf_counter()
        yield k
        elapsed = time.perf_counter() - start
        left -= k
        if k == state[0]:
            rate = k / max(elapsed, 1e-6)
            state[0] = int(min(max(1.0, rate * CHUNK_SECONDS), 4 * k, MAX_CHUNK_STEPS))


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite; raised with the step, so nothing is silently NaN.

    Both backends apply one rule: training diverged at the first step whose minibatch
    loss, or at the first snapshot whose test error, is NaN or infinite. Each error is a
    mean of squared errors summed in float64 from the network's outputs in the training
    dtype, so it is infinite only when the mean itself overflows float64 (a float32 sum
    could overflow where the mean does not). A huge but finite error is not divergence:
    the History keeps it. Both backends then stop at the same step; the one known way they
    could still differ is a parameter that has itself become infinite while the loss is
    still finite, since the fast kernel skips products with activations that are exactly
    0 where PyTorch computes ``0 * inf = NaN``.
    """

    def __init__(self, step: int, value: float, lr: float | None, what: str = "minibatch loss"):
        self.step, self.value, self.lr = step, value, lr
        hint = f"; try a smaller learning rate than lr={lr:g}" if lr else ""
        super().__init__(f"training diverged: the {what} became {value} at step {step}{hint}")


@dataclass(frozen=True)
class Plan:
    """Everything a backend needs to train, checked up front by :func:`train`."""

    data: Dataset
    paradigm: str
    lr: float | None
    n_steps: int
    save_every: int
    seed: int | None
    batch_size: int
    ridge_lambda: float
    device: torch.device
    dtype: str
    n_params: int

    @property
    def n_samples(self) -> int:
        """Number of training points."""
        return self.data.n_samples

    @property
    def torch_dtype(self) -> torch.dtype:
        """The dtype as a torch dtype."""
        return getattr(torch, self.dtype)

    @property
    def numpy_dtype(self) -> np.dtype:
        """The dtype as a numpy dtype."""
        return np.dtype(self.dtype)

    def trainable_parameters(self, model: nn.Module) -> list[nn.Parameter]:
        """The parameters SGD updates: all of them, or only the output layer's."""
        if self.paradigm == "output":
            return list(model[-1].parameters())
        return list(model.parameters())

    def config(self, backend: str) -> dict:
        """The run's settings as plain literals, stored in the History."""
        return {
            "paradigm": self.paradigm,
            "lr": self.lr,
            "n_steps": self.n_steps,
            "save_every": self.save_every,
            "seed": self.seed,
            "batch_size": self.batch_size,
            "ridge_lambda": self.ridge_lambda,
            "device": str(self.device),
            "dtype": self.dtype,
            "backend": backend,
        }
