"""What the panels draw for one snapshot, computed once and cached.

A :class:`SnapshotCache` wraps one :class:`~linfeat_widgets.training.History` and its
:class:`~linfeat_widgets.data.Dataset`. For a saved step it computes, on first request,
everything the explorer draws, from the math API alone:

- :meth:`SnapshotCache.snapshot`: the prediction on a dense grid (:func:`predict`), the
  first hidden layer's weights and biases (the ReLUs and their elbows), and the spectrum of
  the feature matrix at the training inputs with the top principal features on the grid
  (:func:`feature_svd` with ``n_components``);
- :meth:`SnapshotCache.features`: one parameter tensor's linearized features on the grid
  (:func:`linearize`, ``.columns(key)``), at most ``max_columns`` of them.

Scrubbing back and forth then costs only a dictionary look-up. This module is part of the
math: it imports neither matplotlib nor ipywidgets.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from ._checks import check_int
from .data import Dataset
from .linearize import linearize, predict
from .models import mlp_sizes
from .spectrum import feature_svd
from .training import History

__all__ = ["LayerFeatures", "Snapshot", "SnapshotCache"]


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One snapshot of a training run, as the panels draw it.

    Attributes
    ----------
    step : the saved step; 0 is the initialization.
    train_error, test_error : the History's errors at ``step`` (NaN at step 0, where none
        were recorded).
    x : (m,) the dense grid, shared by every snapshot of a cache.
    prediction : (m,) the network's output on ``x``.
    weights, biases : (w,) the first hidden layer's weights ``w_i`` and biases ``b_i``:
        unit i is ``relu(w_i x + b_i)``, with its elbow at ``-b_i / w_i``.
    singular_values : (r,) singular values of the feature matrix at the training inputs,
        decreasing, rank-cut as :func:`feature_svd` does.
    principal_features : (m, k) the top ``k = min(n_principal, r)`` principal features
        ``J(x) V[:, :k]`` on ``x``.
    """

    step: int
    train_error: float
    test_error: float
    x: np.ndarray
    prediction: np.ndarray
    weights: np.ndarray
    biases: np.ndarray
    singular_values: np.ndarray
    principal_features: np.ndarray


@dataclass(frozen=True, eq=False)
class LayerFeatures:
    """The linearized features of one parameter tensor (or ``"all"``) on the dense grid.

    Attributes
    ----------
    step : the snapshot's step (0: initialization).
    key : ``"all"`` or a parameter name such as ``"0.weight"``.
    x : (m,) the dense grid.
    values : (m, c) column j is ``d y(x) / d theta`` for the parameter ``columns[j]`` of
        ``key``'s block.
    columns : (c,) which of the block's ``n_columns`` columns are kept: all of them, or
        ``max_columns`` evenly spaced ones when the block is wider.
    n_columns : the block's width (its number of parameters).
    """

    step: int
    key: str
    x: np.ndarray
    values: np.ndarray
    columns: np.ndarray
    n_columns: int

    @property
    def capped(self) -> bool:
        """True when only some of the block's columns are kept."""
        return len(self.columns) < self.n_columns


def _nbytes(value) -> int:
    return sum(getattr(value, f.name).nbytes for f in fields(value) if isinstance(getattr(value, f.name), np.ndarray))


class _LRU:
    """A least-recently-used store bounded by the bytes of the arrays it holds."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._items: OrderedDict = OrderedDict()

    def __contains__(self, key) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key, compute: Callable[[], object]):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key][0]
        value = compute()
        size = _nbytes(value)
        self._items[key] = (value, size)
        self.nbytes += size
        # the newest item always stays, even alone over budget
        while self.nbytes > self.max_bytes and len(self._items) > 1:
            _, (_, dropped) = self._items.popitem(last=False)
            self.nbytes -= dropped
        return value


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


def kept_columns(n_columns: int, max_columns: int) -> np.ndarray:
    """Indices of the columns drawn out of ``n_columns``: all, or ``max_columns`` evenly spaced ones.

    Evenly spaced, so that with ``"all"`` every parameter tensor is represented.
    """
    if n_columns <= max_columns:
        return np.arange(n_columns)
    return np.unique(np.linspace(0, n_columns - 1, max_columns).round().astype(np.int64))


class SnapshotCache:
    """Per-snapshot predictions, features and spectra of one History, each computed once.

    Parameters
    ----------
    history : a :class:`History` of one of this package's ReLU MLPs (:func:`make_mlp`).
    data : the :class:`Dataset` it was trained on: its training inputs ``X`` fit the SVD.
    n_grid : number of points of the dense grid, evenly spaced over ``data.test_range``,
        at least 2.
    n_principal : how many principal features to evaluate on the grid, at least 1.
    max_columns : most features kept per (step, key); wider blocks (``"all"``, a
        ``width x width`` weight) keep evenly spaced columns. At least 1.
    max_bytes : memory bound of the cache; least recently used snapshots are dropped
        beyond it.

    Attributes
    ----------
    grid : (m,) the dense grid, read-only.
    keys : what :meth:`features` accepts: the parameter names, then ``"all"``.
    """

    def __init__(
        self,
        history: History,
        data: Dataset,
        *,
        n_grid: int = 256,
        n_principal: int = 4,
        max_columns: int = 120,
        max_bytes: int = 32 * 2**20,
    ):
        if not isinstance(history, History):
            raise ValueError(f"history must be a History from train() or sweep(); got {type(history).__name__}")
        if not isinstance(data, Dataset):
            raise ValueError(f"data must be a Dataset from make_dataset(); got {type(data).__name__}")
        if mlp_sizes(history.model(0)) is None:
            raise ValueError(
                "history must come from one of this package's ReLU MLPs (make_mlp): "
                "nn.Sequential of Linear and ReLU layers, 1 input, 1 output"
            )
        self.history = history
        self.data = data
        self.n_principal = check_int("n_principal", n_principal, 1)
        self.max_columns = check_int("max_columns", max_columns, 1)
        self.grid = _read_only(np.linspace(*data.test_range, check_int("n_grid", n_grid, 2)))
        self.keys: tuple[str, ...] = (*history.names, "all")
        self._sizes = {name: int(np.prod(shape, dtype=np.int64)) for name, shape in zip(history.names, history.shapes)}
        self._sizes["all"] = sum(self._sizes.values())
        self._store = _LRU(check_int("max_bytes", max_bytes, 0))
        self._model_step: int | None = None
        self._model = None
        self._ranges: dict[tuple[str, int], tuple[float, float]] = {}
        self._per_step: dict[int, dict[str, tuple[float, float]]] = {}

    def __repr__(self) -> str:
        return (
            f"SnapshotCache(snapshots={len(self.history)}, grid={len(self.grid)}, cached={len(self._store)}, "
            f"nbytes={self._store.nbytes})"
        )

    @property
    def steps(self) -> np.ndarray:
        """The History's saved steps (S,)."""
        return self.history.steps

    @property
    def nbytes(self) -> int:
        """Bytes of arrays currently cached."""
        return self._store.nbytes

    def is_cached(self, step: int, key: str | None = None) -> bool:
        """Whether :meth:`snapshot` (``key=None``) or :meth:`features` of ``step`` is cached."""
        return (("snapshot", int(step)) if key is None else ("features", int(step), key)) in self._store

    def _check_step(self, step) -> int:
        if isinstance(step, (int, np.integer)) and int(step) == 0:
            return 0
        self.history.index(step)  # raises ValueError naming the saved steps
        return int(step)

    def _check_key(self, key) -> str:
        if key not in self._sizes:
            accepted = ", ".join(repr(k) for k in self.keys)
            raise ValueError(f"layer must be one of {accepted}; got {key!r}")
        return key

    def model(self, step: int):
        """The network of ``step`` (a fresh module from :meth:`History.model`, reused for one step)."""
        step = self._check_step(step)
        if self._model_step != step:
            self._model, self._model_step = self.history.model(step), step
        return self._model

    def snapshot(self, step: int) -> Snapshot:
        """Prediction, first-layer ReLUs and spectrum at ``step`` (0: initialization)."""
        step = self._check_step(step)
        return self._store.get(("snapshot", step), lambda: self._compute_snapshot(step))

    def features(self, step: int, key: str) -> LayerFeatures:
        """The linearized features of ``key`` on the grid at ``step`` (0: initialization).

        ``key`` is a parameter name (``"0.weight"``, ``"0.bias"``, ``"2.weight"``, ...) or
        ``"all"``; values are ``linearize(model, grid).columns(key)[:, columns]``.
        """
        step, key = self._check_step(step), self._check_key(key)
        return self._store.get(("features", step, key), lambda: self._compute_features(step, key))

    def feature_range(self, key: str) -> tuple[float, float]:
        """(min, max) of ``key``'s features over the whole run: the initialization and every saved step.

        Every snapshot's features on the grid count, so the range holds the steps between
        the first and the last too. Each snapshot is linearized once for all the keys
        (:meth:`warm` can do it ahead, a step at a time); the features themselves are not
        kept, so a range does not push the snapshots out of the cache.
        """
        key = self._check_key(key)
        steps = (0, *(int(s) for s in self.history.steps))
        cached = (key, len(steps))
        if cached not in self._ranges:
            low, high = np.inf, -np.inf
            for step in steps:
                step_low, step_high = self._step_ranges(step)[key]
                low, high = min(low, step_low), max(high, step_high)
            self._ranges[cached] = (low, high) if low <= high else (float("nan"), float("nan"))
        return self._ranges[cached]

    def _step_ranges(self, step: int) -> dict[str, tuple[float, float]]:
        """(min, max) of every key's kept features at ``step`` (inf, -inf where none is finite), computed once."""
        if step not in self._per_step:
            jacobian = None
            ranges = {}
            for key in self.keys:
                if self.is_cached(step, key):
                    values = self.features(step, key).values
                else:
                    jacobian = linearize(self.model(step), self.grid) if jacobian is None else jacobian
                    values, _ = self._kept(jacobian.columns(key))
                values = values[np.isfinite(values)]
                ranges[key] = (float(values.min()), float(values.max())) if values.size else (np.inf, -np.inf)
            self._per_step[step] = ranges
        return self._per_step[step]

    def warm(self, steps=None):
        """Compute ahead what the panels will ask for, one step per iteration: a generator.

        For each of ``steps`` (default: the initialization, then every saved step from the
        last backwards), its :meth:`snapshot` and its share of every key's
        :meth:`feature_range`. Each ``next()`` does at most one step's work (a few
        milliseconds), so a caller can stop between any two, e.g. when the user acts.
        """
        steps = (0, *(int(s) for s in self.history.steps[::-1])) if steps is None else steps
        for step in steps:
            step = self._check_step(step)
            if not self.is_cached(step):
                self.snapshot(step)
                yield
            if step not in self._per_step:
                self._step_ranges(step)
                yield

    def _compute_snapshot(self, step: int) -> Snapshot:
        model = self.model(step)
        spectrum = feature_svd(model, self.data.X, self.grid, n_components=self.n_principal)
        first = model[0]
        if step == 0:
            train_error = test_error = float("nan")
        else:
            i = self.history.index(step)
            train_error, test_error = float(self.history.train_error[i]), float(self.history.test_error[i])
        return Snapshot(
            step=step,
            train_error=train_error,
            test_error=test_error,
            x=self.grid,
            prediction=_read_only(predict(model, self.grid)),
            weights=_read_only(first.weight.detach().cpu().double().numpy()[:, 0]),
            biases=_read_only(first.bias.detach().cpu().double().numpy()),
            singular_values=_read_only(spectrum.singular_values),
            principal_features=_read_only(spectrum.principal_features),
        )

    def _kept(self, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The columns of ``block`` (m, c) that are drawn, and their indices (see :func:`kept_columns`)."""
        columns = kept_columns(block.shape[1], self.max_columns)
        return (block if len(columns) == block.shape[1] else block[:, columns]), columns

    def _compute_features(self, step: int, key: str) -> LayerFeatures:
        block = linearize(self.model(step), self.grid).columns(key)
        values, columns = self._kept(block)
        return LayerFeatures(
            step=step,
            key=key,
            x=self.grid,
            values=_read_only(values),
            columns=_read_only(columns),
            n_columns=block.shape[1],
        )
