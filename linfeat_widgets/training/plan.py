"""A validated description of one training run, shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..data import Dataset

__all__ = ["DEFAULT_LR", "PARADIGMS", "Plan", "TrainingDiverged"]

#: The homework's three training paradigms.
PARADIGMS = ("all", "output", "ridge")

#: The homework's learning rates: small when every layer trains (noisy gradients), large
#: when only the output layer does.
DEFAULT_LR = {"all": 0.02, "output": 0.2}


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite; raised with the step, so nothing is silently NaN."""

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
