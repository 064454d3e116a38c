"""One run's theory arrays and linearized model, computed once on first use, for the panels.

A :class:`TheoryCache` wraps one :class:`~linfeat_widgets.training.History` (and, when the
sweep trained one, the linearized model's History of the same configuration). On first
request it computes, with the functions of :mod:`linfeat_widgets.theory`:

- :attr:`TheoryCache.movement`: :func:`~linfeat_widgets.theory.kernel_movement`;
- :attr:`TheoryCache.projections`: :func:`~linfeat_widgets.theory.residual_projections`
  in the initialization's basis;
- :attr:`TheoryCache.spectrum`: :func:`~linfeat_widgets.theory.spectrum_history`;

and per saved step the linearized model's prediction on the grid. Each is computed once
per run, on first use or in a background thread (:meth:`TheoryCache.prepare`); moving the
selected step afterwards only indexes them. This module is part of the
math: it imports neither matplotlib nor ipywidgets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from .data import Dataset
from .linearize import linearize, predict
from .training import Config, History, Sweep

__all__ = ["THEORY", "TheoryCache", "linearized_history"]


def linearized_history(sweep: Sweep, config: Config) -> History | None:
    """The linearized model's History of ``config``, or None when ``sweep`` trained none.

    Runs trained by ``sweep(..., linearized=True)`` (``sweep.has_linearized``) are read
    with ``Sweep.history(..., linearized=True)``.
    """
    if not sweep.has_linearized:
        return None
    return sweep.history(config.width, config.depth, config.paradigm, linearized=True)


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


#: The theory arrays a :class:`TheoryCache` holds, by name.
THEORY = ("movement", "projections", "spectrum")


class TheoryCache:
    """Kernel movement, residual projections and spectrum history of one run, each computed once.

    Each array is computed on first use: reading :attr:`movement`, :attr:`projections` or
    :attr:`spectrum` computes it there and then, or :meth:`prepare` computes several in a
    background thread (the Explorer does so inside a running event loop, so that the kernel
    stays responsive), after which reading them costs nothing.

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
    computed : names (from :data:`THEORY`) of the arrays computed so far.
    error : the exception a background computation raised, or None (reading the array
        raises it again).
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
            if linearized.names != history.names or not np.allclose(
                linearized.initial_params, history.initial_params, rtol=1e-6, atol=1e-7
            ):
                raise ValueError("linearized must be the linearization of history's initial network (same theta_0)")
        self.history = history
        self.data = data
        self.linearized = linearized
        if grid is None:
            grid = np.linspace(*data.test_range, 256)
        grid = np.asarray(grid, dtype=np.float64)
        if grid.ndim != 1 or len(grid) < 2 or not np.all(np.isfinite(grid)):
            raise ValueError(f"grid must be a finite 1-D array of at least 2 inputs; got shape {grid.shape}")
        self.grid = _read_only(grid)
        self.error: BaseException | None = None
        self._values: dict[str, object] = {}
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._linearized_predictions: dict[int, np.ndarray] = {}
        self._taylor: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def __repr__(self) -> str:
        linearized = "" if self.linearized is None else ", linearized"
        return f"TheoryCache(snapshots={len(self.history)}, computed={sorted(self.computed)}{linearized})"

    @property
    def computed(self) -> set[str]:
        """Names of the theory arrays computed so far."""
        return set(self._values)

    def ready(self, names=THEORY) -> bool:
        """Whether every one of ``names`` (from :data:`THEORY`) is computed."""
        return all(name in self._values for name in names)

    def _compute(self, name: str):
        from . import theory

        if name == "movement":
            return theory.kernel_movement(self.history, self.data)
        if name == "projections":
            return theory.residual_projections(self.history, self.data, basis="initial")
        return _read_only(theory.spectrum_history(self.history, self.data))

    def _get(self, name: str):
        if name not in self._values:
            if self.error is not None:
                raise self.error
            with self._lock:  # a background computation of the same array finishes first
                if name not in self._values:
                    self._values[name] = self._compute(name)
        return self._values[name]

    def prepare(self, names=THEORY, done: Callable[[], object] | None = None) -> bool:
        """Compute ``names`` in a background thread, then call ``done()`` (in that thread).

        The computation is numpy and torch work that releases the GIL for most of its time.
        Returns False (and starts nothing) when they are all computed already, or a
        computation is under way (its ``done`` is called, not this one).
        """
        names = tuple(name for name in names if name not in self._values)
        unknown = set(names) - set(THEORY)
        if unknown:
            raise ValueError(f"names must be from {THEORY}; got {sorted(unknown)}")
        if not names or (self._worker is not None and self._worker.is_alive()):
            return False

        def work():
            try:
                for name in names:
                    self._get(name)
            except Exception as exc:  # kept, raised again where the panel reads it
                self.error = exc
            if done is not None:
                done()

        self._worker = threading.Thread(target=work, name="linfeat-theory", daemon=True)
        self._worker.start()
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background computation to end; True when none is running any more."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return worker is None or not worker.is_alive()

    @property
    def movement(self):
        """:class:`~linfeat_widgets.theory.Movement` of the run: distances (S,) at 0 and every saved step."""
        return self._get("movement")

    @property
    def projections(self):
        """:class:`~linfeat_widgets.theory.Projections` of the residual on the initial singular vectors."""
        return self._get("projections")

    @property
    def spectrum(self) -> np.ndarray:
        """(S, k) singular values of the feature matrix at 0 and every saved step, largest first."""
        return self._get("spectrum")

    @property
    def steps(self) -> np.ndarray:
        """(S,) 0 (the initialization), then the saved steps: the rows of the theory arrays."""
        return np.concatenate([[0], self.history.steps]).astype(np.int64)

    def linearized_prediction(self, step: int) -> np.ndarray | None:
        """The linearized model's prediction (m,) on :attr:`grid` at ``step``, or None without a linearized run.

        ``f(grid; theta_0) + J(grid; theta_0) (theta_t - theta_0)`` with theta_t the
        linearized run's parameters at ``step``: the features at theta_0 on the grid are
        computed once per run, after which a step costs one matrix-vector product (the same
        values as ``predict(linearized.model(step), grid)``, up to rounding).
        """
        if self.linearized is None:
            return None
        if not (isinstance(step, (int, np.integer)) and int(step) == 0):
            self.history.index(step)  # ValueError naming the saved steps
        step = int(step)
        if step not in self._linearized_predictions:
            if self._taylor is None:
                network = self.history.model(0)
                theta0 = self.linearized.initial_params.astype(np.float64)
                self._taylor = (predict(network, self.grid), linearize(network, self.grid).matrix, theta0)
            f0, features, theta0 = self._taylor
            theta = self.linearized.params_at(step).astype(np.float64)
            self._linearized_predictions[step] = _read_only(f0 + features @ (theta - theta0))
        return self._linearized_predictions[step]
