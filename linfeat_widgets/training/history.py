"""Snapshots of one training run: parameters, train and test error, in step order."""

from __future__ import annotations

import copy
import os
import tempfile
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..models import mlp_from_sizes, mlp_sizes
from .linearized import LinearizedMLP

__all__ = ["History"]

_FORMAT = "linfeat_widgets.History/1"


@dataclass(frozen=True)
class _Layout:
    """Where each parameter tensor lives in a flat parameter vector."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, model: nn.Module) -> _Layout:
        named = list(model.named_parameters())
        return cls(tuple(n for n, _ in named), tuple(tuple(p.shape) for _, p in named))

    @property
    def sizes(self) -> list[int]:
        return [int(np.prod(s, dtype=np.int64)) for s in self.shapes]

    @property
    def n_params(self) -> int:
        return sum(self.sizes)

    def split(self, flat: np.ndarray) -> list[np.ndarray]:
        """Flat vector (d,) -> list of arrays shaped like the parameters."""
        out, start = [], 0
        for size, shape in zip(self.sizes, self.shapes):
            out.append(flat[start : start + size].reshape(shape))
            start += size
        return out


def flatten_parameters(model: nn.Module) -> np.ndarray:
    """All parameters of ``model`` as one numpy vector (d,), in ``named_parameters`` order."""
    with torch.no_grad():
        return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).cpu().numpy()


class History(Mapping):
    """Snapshots of a training run, in step order.

    It reads like the homework's ``history`` dict: ``history.keys()`` are the saved steps,
    ``history[step]["state"]`` is a state dict, ``history[step]["train_error"]`` and
    ``history[step]["test_error"]`` are floats, so the homework's own cells keep working.
    Each snapshot holds only a parameter vector, not a copy of a module.

    Attributes
    ----------
    steps : int64 (S,) the saved steps; step s holds the parameters after s updates.
    train_error : float64 (S,) the minibatch MSE of that step, computed before its update
        (the homework's "train error"); for ``"ridge"``, the MSE on the whole training set.
    test_error : float64 (S,) the MSE on the noiseless test set at the snapshot.
    params : (S, d) the parameters of every snapshot, flattened in
        ``model.named_parameters()`` order, in the dtype of training.
    initial_params : (d,) the parameters before training (step 0).
    names, shapes : name and shape of each parameter tensor.
    config : dict of the run's settings (paradigm, lr, seed, backend, dtype, ...).
    lr : float64 (S,) the learning rate of the chunk ending at each snapshot, for runs whose
        rate changed along the way (a live run); ``None`` when it is ``config["lr"]`` throughout.
    """

    def __init__(
        self,
        template: nn.Module,
        steps: np.ndarray,
        params: np.ndarray,
        train_error: np.ndarray,
        test_error: np.ndarray,
        initial_params: np.ndarray,
        config: dict[str, Any],
        lr: np.ndarray | None = None,
    ):
        self._template = copy.deepcopy(template).cpu()
        self._layout = _Layout.of(self._template)
        self.steps = np.asarray(steps, dtype=np.int64)
        self.params = np.asarray(params)
        self.train_error = np.asarray(train_error, dtype=np.float64)
        self.test_error = np.asarray(test_error, dtype=np.float64)
        self.initial_params = np.asarray(initial_params)
        self.config = dict(config)
        for array in (self.steps, self.params, self.train_error, self.test_error, self.initial_params):
            array.setflags(write=False)
        n = len(self.steps)
        if self.params.shape != (n, self._layout.n_params) or len(self.train_error) != n or len(self.test_error) != n:
            raise ValueError("History arrays disagree in length")
        self._position = {int(s): i for i, s in enumerate(self.steps)}
        self.lr = None if lr is None else np.array(lr, dtype=np.float64)
        if self.lr is not None:
            if self.lr.shape != (n,) or not np.all(np.isfinite(self.lr)) or np.any(self.lr <= 0):
                raise ValueError(f"lr must hold one positive finite learning rate per snapshot ({n}); got {lr!r}")
            self.lr.setflags(write=False)

    # --- the homework's dict interface -------------------------------------------------
    def __getitem__(self, step: int) -> dict[str, Any]:
        i = self.index(step)
        return {
            "state": self.state(step),
            "train_error": float(self.train_error[i]),
            "test_error": float(self.test_error[i]),
        }

    def __iter__(self) -> Iterator[int]:
        return (int(s) for s in self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __contains__(self, step: object) -> bool:
        return isinstance(step, (int, np.integer)) and int(step) in self._position

    def __repr__(self) -> str:
        c = self.config
        return (
            f"History(paradigm={c.get('paradigm')!r}, snapshots={len(self)}, "
            f"last_step={int(self.steps[-1])}, final_test_error={self.test_error[-1]:.4g}, "
            f"backend={c.get('backend')!r}, dtype={c.get('dtype')!r})"
        )

    # --- snapshots ----------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names in ``named_parameters`` order, e.g. ``("0.weight", "0.bias", ...)``."""
        return self._layout.names

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        """Shape of each parameter tensor."""
        return self._layout.shapes

    @property
    def nbytes(self) -> int:
        """Bytes held by the snapshot arrays (parameters and errors)."""
        arrays = (self.steps, self.params, self.train_error, self.test_error, self.initial_params)
        return int(sum(a.nbytes for a in arrays))

    def index(self, step: int) -> int:
        """Position of ``step`` in :attr:`steps`; raises ``ValueError`` for an unsaved step."""
        if isinstance(step, (int, np.integer)) and int(step) in self._position:
            return self._position[int(step)]
        shown = ", ".join(str(s) for s in self.steps[:3])
        raise ValueError(
            f"step {step!r} was not saved; saved steps are {shown}, ..., {int(self.steps[-1])} "
            f"({len(self)} snapshots); step 0 is the initialization"
        )

    def params_at(self, step: int) -> np.ndarray:
        """Flat parameter vector (d,) at ``step``; step 0 is the initialization."""
        if isinstance(step, (int, np.integer)) and int(step) == 0:
            return self.initial_params
        return self.params[self.index(step)]

    def state(self, step: int) -> OrderedDict[str, torch.Tensor]:
        """State dict at ``step`` (step 0: initialization), tensors on the CPU."""
        arrays = self._layout.split(self.params_at(step))
        return OrderedDict((n, torch.from_numpy(a.copy())) for n, a in zip(self.names, arrays))

    def model(self, step: int) -> nn.Module:
        """A fresh module holding the parameters of ``step`` (step 0: initialization).

        Each call returns a new module, so drawing or evaluating a snapshot never changes
        another one.
        """
        model = copy.deepcopy(self._template)
        with torch.no_grad():
            for p, value in zip(model.parameters(), self._layout.split(self.params_at(step))):
                p.copy_(torch.tensor(value))
        return model

    # --- saving -------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Save to a ``.npz`` file; the previous file at ``path`` survives any failure.

        The file is written beside ``path`` under a temporary name and moved into place
        only once complete. Works for this package's ReLU MLPs (see :func:`mlp_sizes`) and
        their linearized runs (``train(..., linearized=True)``).
        """
        path = Path(path)
        # a linearized run is saved as its network's sizes plus config["linearized"]
        linearized = isinstance(self._template, LinearizedMLP)
        sizes = mlp_sizes(self._template.network() if linearized else self._template)
        if sizes is None:
            raise ValueError("History.save supports the package's ReLU MLPs (make_mlp); this model is another module")
        if path.suffix != ".npz":
            raise ValueError(f"path must end in '.npz'; got {str(path)!r}")
        arrays = {
            "format": np.array(_FORMAT),
            "sizes": np.array(sizes, dtype=np.int64),
            "steps": self.steps,
            "params": self.params,
            "train_error": self.train_error,
            "test_error": self.test_error,
            "initial_params": self.initial_params,
            "config_keys": np.array(list(self.config), dtype=str),
            "config_values": np.array([repr(v) for v in self.config.values()], dtype=str),
        }
        if self.lr is not None:
            arrays["lr"] = self.lr
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        """Read a History written by :meth:`save`."""
        import ast

        with np.load(Path(path), allow_pickle=False) as data:
            if "format" not in data or str(data["format"]) != _FORMAT:
                raise ValueError(f"{str(path)!r} is not a History file written by History.save")
            sizes = tuple(int(s) for s in data["sizes"])
            config = {str(k): ast.literal_eval(str(v)) for k, v in zip(data["config_keys"], data["config_values"])}
            template = mlp_from_sizes(sizes).to(torch.float64 if data["params"].dtype == np.float64 else torch.float32)
            if config.get("linearized") is True:
                template = _linearized_template(template, data["initial_params"])
            return cls(
                template,
                data["steps"],
                data["params"],
                data["train_error"],
                data["test_error"],
                data["initial_params"],
                config,
                lr=data["lr"] if "lr" in data else None,
            )


def _linearized_template(network: nn.Module, initial_params: np.ndarray) -> LinearizedMLP:
    """The linearized model around ``network`` set to ``initial_params`` (theta_0)."""
    with torch.no_grad():
        for p, value in zip(network.parameters(), _Layout.of(network).split(np.asarray(initial_params))):
            p.copy_(torch.as_tensor(value))
    return LinearizedMLP(network)
