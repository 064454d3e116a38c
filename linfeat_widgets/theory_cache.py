"""One run's theory arrays and linearized model, computed once on first use, for the panels.

A :class:`TheoryCache` wraps one :class:`~linfeat_widgets.training.History` (and, when the
sweep trained one, the linearized model's History of the same configuration). On first
request it computes, with the functions of :mod:`linfeat_widgets.theory`:

- :attr:`TheoryCache.movement`: :func:`~linfeat_widgets.theory.kernel_movement`;
- :attr:`TheoryCache.projections`: :func:`~linfeat_widgets.theory.residual_projections`
  in the initialization's basis;
- :attr:`TheoryCache.spectrum`: :func:`~linfeat_widgets.theory.spectrum_history`;

and per saved step the linearized model's prediction on the grid. Each is computed once
per run; moving the selected step afterwards only indexes them. This module is part of the
math: it imports neither matplotlib nor ipywidgets.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from .data import Dataset
from .linearize import predict
from .training import Config, History, Sweep

__all__ = ["TheoryCache", "linearized_history"]


def linearized_history(sweep: Sweep, config: Config) -> History | None:
    """The linearized model's History of ``config``, or None when ``sweep`` trained none.

    Runs trained by ``sweep(..., linearized=True)`` are read with
    ``Sweep.history(..., linearized=True)``.
    """
    if "linearized" not in inspect.signature(sweep.history).parameters:
        return None  # a Sweep from before linearized runs existed
    try:
        return sweep.history(config.width, config.depth, config.paradigm, linearized=True)
    except (ValueError, KeyError):
        # config is one of the sweep's own, so the only refusal left is "no linearized model trained"
        return None


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


class TheoryCache:
    """Kernel movement, residual projections and spectrum history of one run, each computed once.

    Parameters
    ----------
    history : the network's :class:`History`.
    data : the :class:`Dataset` it was trained on (the theory is evaluated on its ``X``, ``y``).
    grid : (m,) inputs the linearized model's prediction is evaluated on (the
        :class:`~linfeat_widgets.snapshots.SnapshotCache` grid); default 256 points over
        ``data.test_range``.
    linearized : the linearized model's History of the same configuration (same saved
        steps), or None.

    Attributes
    ----------
    history, data, grid, linearized : as given (grid read-only).
    computed : names of the theory arrays computed so far (``"movement"``,
        ``"projections"``, ``"spectrum"``).
    """

    def __init__(
        self, history: History, data: Dataset, *, grid: np.ndarray | None = None, linearized: History | None = None
    ):
        if not isinstance(history, History):
            raise ValueError(f"history must be a History from train() or sweep(); got {type(history).__name__}")
        if not isinstance(data, Dataset):
            raise ValueError(f"data must be a Dataset from make_dataset(); got {type(data).__name__}")
        if linearized is not None:
            if not isinstance(linearized, History):
                raise ValueError(f"linearized must be a History or None; got {type(linearized).__name__}")
            if not np.array_equal(linearized.steps, history.steps):
                raise ValueError("linearized must have saved the same steps as history")
        self.history = history
        self.data = data
        self.linearized = linearized
        if grid is None:
            grid = np.linspace(*data.test_range, 256)
        grid = np.asarray(grid, dtype=np.float64)
        if grid.ndim != 1 or len(grid) < 2 or not np.all(np.isfinite(grid)):
            raise ValueError(f"grid must be a finite 1-D array of at least 2 inputs; got shape {grid.shape}")
        self.grid = _read_only(grid)
        self.computed: set[str] = set()
        self._linearized_predictions: dict[int, np.ndarray] = {}

    def __repr__(self) -> str:
        linearized = "" if self.linearized is None else ", linearized"
        return f"TheoryCache(snapshots={len(self.history)}, computed={sorted(self.computed)}{linearized})"

    @functools.cached_property
    def movement(self):
        """:class:`~linfeat_widgets.theory.Movement` of the run: distances (S,) at 0 and every saved step."""
        from . import theory

        self.computed.add("movement")
        return theory.kernel_movement(self.history, self.data)

    @functools.cached_property
    def projections(self):
        """:class:`~linfeat_widgets.theory.Projections` of the residual on the initial singular vectors."""
        from . import theory

        self.computed.add("projections")
        return theory.residual_projections(self.history, self.data, basis="initial")

    @functools.cached_property
    def spectrum(self) -> np.ndarray:
        """(S, k) singular values of the feature matrix at 0 and every saved step, largest first."""
        from . import theory

        self.computed.add("spectrum")
        return _read_only(theory.spectrum_history(self.history, self.data))

    @property
    def steps(self) -> np.ndarray:
        """(S,) 0 (the initialization), then the saved steps: the rows of the theory arrays."""
        return np.concatenate([[0], self.history.steps]).astype(np.int64)

    def linearized_prediction(self, step: int) -> np.ndarray | None:
        """The linearized model's prediction (m,) on :attr:`grid` at ``step``, or None without a linearized run."""
        if self.linearized is None:
            return None
        step = (
            0
            if isinstance(step, (int, np.integer)) and int(step) == 0
            else int(self.history.steps[self.history.index(step)])
        )
        if step not in self._linearized_predictions:
            self._linearized_predictions[step] = _read_only(predict(self.linearized.model(step), self.grid))
        return self._linearized_predictions[step]
