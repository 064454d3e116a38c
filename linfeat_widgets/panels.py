"""The explorer's five panels, each drawing on a given matplotlib Axes.

Every panel builds its artists once, in its constructor, and afterwards only updates
their data (``set_data``, ``set_segments``, ``set_offsets``). ``update(...)`` returns
whether the Axes' layout changed (limits, title, the static artists): a host then has to
redraw the whole figure; otherwise redrawing the panel's :attr:`~Panel.animated` artists
over a saved background is enough (blitting).

With ``animated=True`` the artists that change from one snapshot to the next are marked
animated: a plain ``canvas.draw()`` leaves them out (the background) and
``savefig`` still includes them. With the default ``animated=False`` a panel is an
ordinary matplotlib plot, to use alone in any figure.

This module uses matplotlib only (no ipywidgets).
"""

from __future__ import annotations

import numpy as np
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.ticker import NullFormatter

from .data import Dataset
from .snapshots import LayerFeatures, Snapshot

__all__ = [
    "ErrorPanel",
    "FeaturePanel",
    "Panel",
    "PredictionPanel",
    "PrincipalFeaturePanel",
    "QuartileBand",
    "SpectrumPanel",
    "elbows_inside",
    "principal_colors",
    "relu_vertices",
]


def relu_vertices(weights: np.ndarray, biases: np.ndarray, x_range: tuple[float, float]) -> np.ndarray:
    """Vertices of each hidden unit's ``relu(w x + b)`` over ``x_range``, exact for every sign case.

    A ReLU of x is linear on either side of its elbow ``-b / w``, so three vertices draw it
    exactly: the two ends of the range and the elbow, clipped into the range (a unit whose
    elbow lies outside still gets its line). A unit with ``w = 0`` is the constant
    ``relu(b)``.

    Parameters
    ----------
    weights, biases : (w,) first-layer weights and biases.
    x_range : (low, high) the plotted interval.

    Returns
    -------
    (w, 3, 2) array: for unit i, the points ``(x, relu(w_i x + b_i))`` at ``low``, the
    clipped elbow and ``high``.
    """
    w = np.asarray(weights, dtype=np.float64)
    b = np.asarray(biases, dtype=np.float64)
    low, high = x_range
    middle = np.full_like(w, low)
    moving = w != 0
    middle[moving] = np.clip(-b[moving] / w[moving], low, high)
    x = np.stack([np.full_like(w, low), middle, np.full_like(w, high)], axis=1)
    return np.stack([x, np.maximum(w[:, None] * x + b[:, None], 0.0)], axis=2)


def elbows_inside(weights: np.ndarray, biases: np.ndarray, x_range: tuple[float, float]) -> np.ndarray:
    """Elbows ``-b_i / w_i`` (k,) of the units with ``w_i != 0`` whose elbow lies in ``x_range``."""
    w = np.asarray(weights, dtype=np.float64)
    b = np.asarray(biases, dtype=np.float64)
    moving = w != 0
    elbows = -b[moving] / w[moving]
    return elbows[(elbows >= x_range[0]) & (elbows <= x_range[1])]


class _AutoLimits:
    """Axis limits that only grow while the same thing is shown.

    Scrubbing through the snapshots of one run then keeps the axes still (the features
    are compared on one scale, and the panel can be blitted); limits change when data
    leave them, with a ``margin`` of headroom, or after :meth:`reset`. With ``log=True``
    the rule applies to log10 of the data.
    """

    def __init__(self, log: bool = False, margin: float = 0.1, min_span: float = 0.0):
        self.log, self.margin, self.min_span = log, margin, min_span
        self.reset()

    def reset(self) -> None:
        self.limits: tuple[float, float] | None = None
        self._changed = True

    def include(self, low: float, high: float) -> None:
        """Grow the limits to hold [low, high] (ignored if not finite, or not positive on a log axis)."""
        if self.log:
            if not (low > 0 and high > 0):
                return
            low, high = float(np.log10(low)), float(np.log10(high))
        if not (np.isfinite(low) and np.isfinite(high)):
            return
        if self.limits is not None:
            if self.limits[0] <= low and high <= self.limits[1]:
                return
            low, high = min(low, self.limits[0]), max(high, self.limits[1])
        if high - low <= 1e-12 * max(abs(low), abs(high), 1e-300):
            half = 0.5 if self.log else max(0.1 * abs(high), 1e-3)
            low, high = low - half, high + half
        if high - low < self.min_span:
            middle, half = 0.5 * (low + high), 0.5 * self.min_span
            low, high = middle - half, middle + half
        pad = self.margin * (high - low)
        self.limits = (low - pad, high + pad)
        self._changed = True

    def fit(self, low: float, high: float) -> tuple[float, float] | None:
        """Limits to set for data spanning [low, high], or None when the current ones still hold."""
        self.include(low, high)
        if not self._changed or self.limits is None:
            return None
        self._changed = False
        return (10 ** self.limits[0], 10 ** self.limits[1]) if self.log else self.limits


def _span(*arrays) -> tuple[float, float]:
    """(min, max) over the finite entries of ``arrays``, (nan, nan) when there are none."""
    values = [a[np.isfinite(a)] for a in (np.asarray(x, dtype=np.float64).reshape(-1) for x in arrays)]
    values = [v for v in values if v.size]
    if not values:
        return float("nan"), float("nan")
    return min(float(v.min()) for v in values), max(float(v.max()) for v in values)


def principal_colors(n: int) -> list:
    """The colors of principal directions 1..n: shared by the singular-value markers and the principal features."""
    cycle = _cycle_colors()
    return [cycle[j % len(cycle)] for j in range(int(n))]


def _cycle_colors() -> list:
    return rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])


class QuartileBand:
    """A band between the 25th and 75th percentile across seeds, with the median as a thin dashed line.

    Drawn below the selected seed's own line (``zorder`` 1), built once and updated with
    :meth:`set`.

    Attributes
    ----------
    fill : PolyCollection of the band; median : Line2D of the median.
    """

    def __init__(self, ax: Axes, color, label: str | None = None):
        self.fill = PolyCollection([np.zeros((0, 2))], facecolor=color, edgecolor="none", alpha=0.22, zorder=1)
        ax.add_collection(self.fill)
        (self.median,) = ax.plot([], [], "--", color=color, linewidth=0.9, alpha=0.9, zorder=1.5, label=label)

    @property
    def artists(self) -> tuple:
        """The band and the median line."""
        return self.fill, self.median

    def set(self, x: np.ndarray, quartiles: np.ndarray | None) -> None:
        """Show ``quartiles`` (3, k): 25th, 50th and 75th percentile at ``x`` (k,); None empties the band."""
        if quartiles is None:
            self.fill.set_verts([np.zeros((0, 2))])
            self.median.set_data([], [])
            return
        x = np.asarray(x, dtype=np.float64)
        low, middle, high = np.asarray(quartiles, dtype=np.float64)
        outline = np.concatenate([np.column_stack([x, low]), np.column_stack([x[::-1], high[::-1]])])
        self.fill.set_verts([outline])
        self.median.set_data(x, middle)


def _legend_above(ax: Axes, **kwargs) -> None:
    # Above the Axes, the legend never hides lines that are redrawn over it.
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01, 1.0, 0.1), mode="expand", frameon=False, **kwargs)


class Panel:
    """Base of the panels: the Axes, and the artists that change from snapshot to snapshot.

    Attributes
    ----------
    ax : the matplotlib Axes drawn on.
    animated : the artists updated per snapshot (marked animated when the panel was built
        with ``animated=True``); a host redraws exactly these when blitting.
    """

    def __init__(self, ax: Axes, animated: bool = False):
        if not isinstance(ax, Axes):
            raise ValueError(f"ax must be a matplotlib Axes; got {type(ax).__name__}")
        self.ax = ax
        self._animated_flag = bool(animated)
        self.animated: tuple = ()

    def _dynamic(self, *artists):
        """Register artists that change per snapshot; returns them."""
        for artist in artists:
            artist.set_animated(self._animated_flag)
        self.animated = (*self.animated, *artists)
        return artists[0] if len(artists) == 1 else artists

    @property
    def figure(self):
        """The Figure holding :attr:`ax`."""
        return self.ax.figure


class PredictionPanel(Panel):
    """The network's prediction, the training data, the ground truth and every hidden unit's ReLU.

    As the homework draws it: each first-layer unit's ``relu(w_i x + b_i)`` dotted, with a
    grey dot at its elbow ``-b_i / w_i``; but for every sign of ``w_i`` and ``b_i``, at
    its true height, including units whose elbow lies outside the plotted range (their
    line is drawn, without a dot) and units with ``w_i = 0`` (constant).

    Parameters
    ----------
    ax : the Axes to draw on.
    data : the Dataset: training points (``X`` (n, 1), ``y`` (n,)) and ground truth
        (``X_test``, ``y_test``), drawn once.
    clip : half-height of the y-axis, at least the homework's 2.5 and enough to show the
        data.
    animated : mark the per-snapshot artists animated (for blitting hosts).
    linearized : also draw the linearized model's prediction (a line labelled
        ``"linearized model"``), for runs trained with ``linearized=True``.

    Attributes
    ----------
    prediction : Line2D "prediction"; relus : LineCollection, one dotted line per unit;
    elbows : PathCollection of the grey elbow dots; data_points, ground_truth : static.
    linearized : Line2D "linearized model", or None when built without it.
    """

    def __init__(self, ax: Axes, data: Dataset, *, clip: float = 2.5, animated: bool = False, linearized: bool = False):
        super().__init__(ax, animated)
        if not isinstance(data, Dataset):
            raise ValueError(f"data must be a Dataset from make_dataset(); got {type(data).__name__}")
        self.x_range = tuple(float(v) for v in data.test_range)
        self.relus = self._dynamic(LineCollection([], linestyles=":", linewidths=1.5, colors=_cycle_colors()))
        ax.add_collection(self.relus, autolim=False)
        self.elbows = self._dynamic(ax.scatter([], [], c="darkgrey", s=30, zorder=2.5))
        (line,) = ax.plot([], [], "-", color="forestgreen", linewidth=2.0, label="prediction", zorder=3)
        self.prediction = self._dynamic(line)
        self.linearized = None
        if linearized:
            (line,) = ax.plot([], [], "--", color="purple", linewidth=1.6, label="linearized model", zorder=3.1)
            self.linearized = self._dynamic(line)
        self.data_points = ax.scatter(data.X[:, 0], data.y, c="darkorange", s=12.0, label="training data points")
        (self.ground_truth,) = ax.plot(
            data.X_test[:, 0], data.y_test, "--", color="royalblue", linewidth=2.0, label="Ground truth"
        )
        bound = max(float(clip), 1.05 * float(np.max(np.abs(data.y))), 1.05 * float(np.max(np.abs(data.y_test))))
        ax.set_xlim(*self.x_range)
        ax.set_ylim(-bound, bound)
        ax.set_xlabel("x")
        if linearized:
            _legend_above(ax, ncols=4, fontsize="x-small", handlelength=1.5, columnspacing=0.8)
        else:
            _legend_above(ax, ncols=3, fontsize="small")

    def update(self, snapshot: Snapshot, linearized: np.ndarray | None = None) -> bool:
        """Show ``snapshot``: its prediction on the grid and its first layer's ReLUs. Never changes the layout.

        ``linearized`` (m,) is the linearized model's prediction on ``snapshot.x`` at the
        same step, drawn when the panel was built with ``linearized=True`` (None empties
        that line).
        """
        self.prediction.set_data(snapshot.x, snapshot.prediction)
        if self.linearized is not None:
            self.linearized.set_data(*((snapshot.x, linearized) if linearized is not None else ([], [])))
        self.relus.set_segments(relu_vertices(snapshot.weights, snapshot.biases, self.x_range))
        elbows = elbows_inside(snapshot.weights, snapshot.biases, self.x_range)
        self.elbows.set_offsets(np.column_stack([elbows, np.zeros_like(elbows)]))
        return False


class ErrorPanel(Panel):
    """Train and test error against the iteration, log scale, with a marker at the selected step.

    Parameters
    ----------
    ax : the Axes to draw on.
    animated : mark the marker artists animated (for blitting hosts).
    linearized : also draw the linearized model's test error.
    bands : also draw quartile bands across seeds (see :meth:`set_bands`), under the
        selected seed's curves.

    Attributes
    ----------
    train_line, test_line : Line2D "Train Error" and "Test Error" (static per history).
    linearized_line : Line2D "Test Error (linearized)", or None when built without it.
    train_band, test_band : :class:`QuartileBand` across seeds, or None when built without.
    marker : vertical Line2D at the selected step; selected : its two dots on the curves.
    """

    def __init__(
        self,
        ax: Axes,
        *,
        animated: bool = False,
        linearized: bool = False,
        bands: bool = False,
        log_steps: bool = False,
    ):
        super().__init__(ax, animated)
        self.log_steps = bool(log_steps)
        (self.train_line,) = ax.plot([], [], label="Train Error")
        (self.test_line,) = ax.plot([], [], label="Test Error")
        self.train_band = self.test_band = None
        if bands:
            self.train_band = QuartileBand(ax, self.train_line.get_color())
            self.test_band = QuartileBand(ax, self.test_line.get_color(), label="median, 25-75% of seeds")
        self.linearized_line = None
        if linearized:
            (self.linearized_line,) = ax.plot([], [], "--", color="purple", label="Test Error (linearized)")
        self.marker = self._dynamic(ax.axvline(0.0, color="0.35", linewidth=1.0))
        (dots,) = ax.plot([], [], "o", color="black", markersize=4, zorder=3)
        self.selected = self._dynamic(dots)
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())  # minor labels crowd a small panel
        ax.set_ylim(1e-3, 1.0)
        ax.set_xlim(1.0, 10.0)
        ax.set_xscale("log" if self.log_steps else "linear")
        ax.set_xlabel("SGD iteration")
        ax.set_ylabel("MSE")
        wide = linearized or bands
        _legend_above(ax, ncols=3 if wide else 2, fontsize="x-small" if wide else "small")
        self._steps = np.zeros(0)

    def set_history(
        self,
        steps: np.ndarray,
        train_error: np.ndarray,
        test_error: np.ndarray,
        linearized_test_error: np.ndarray | None = None,
    ) -> bool:
        """Draw the curves of one History: ``steps``, ``train_error``, ``test_error`` (S,). Changes the layout.

        ``linearized_test_error`` (S,), the linearized model's test error at the same
        steps, is drawn when the panel was built with ``linearized=True`` (None empties it).
        """
        steps = np.asarray(steps, dtype=np.float64)
        self._steps = steps
        self.train_line.set_data(steps, train_error)
        self.test_line.set_data(steps, test_error)
        lines = [self.train_line, self.test_line]
        if self.linearized_line is not None:
            shown = linearized_test_error is not None
            self.linearized_line.set_data(*((steps, linearized_test_error) if shown else ([], [])))
            lines.append(self.linearized_line)
            if shown:
                test_error = np.concatenate([test_error, linearized_test_error])
        # one snapshot (ridge) gets a visible point; many get a plain line
        marker = "o" if len(steps) == 1 else "None"
        for line in lines:
            line.set_marker(marker)
        self._set_xlim()
        errors = np.concatenate([train_error, test_error])
        errors = errors[errors > 0]
        limits = _AutoLimits(log=True, margin=0.05, min_span=1.0).fit(*_span(errors))
        if limits is not None:
            self.ax.set_ylim(*limits)
        return True

    def _set_xlim(self) -> None:
        steps = self._steps
        if self.log_steps:
            # the homework's runs span 1 to 150,000 steps: decades read better than a linear axis
            steps = steps[steps > 0]
            if not len(steps):
                self.ax.set_xlim(1.0, 10.0)
            elif len(steps) == 1 or steps[-1] <= steps[0]:
                self.ax.set_xlim(steps[0] / 2.0, steps[0] * 2.0)
            else:
                self.ax.set_xlim(steps[0] / 1.25, steps[-1] * 1.25)
        elif len(steps):
            low, high = (steps[0] - 1.0, steps[0] + 1.0) if len(steps) == 1 else (min(0.0, steps[0]), steps[-1])
            self.ax.set_xlim(low, high)

    def set_log_steps(self, log_steps: bool) -> bool:
        """Put the steps on a log axis (True) or a linear one (False); True if the layout changed."""
        log_steps = bool(log_steps)
        if log_steps == self.log_steps:
            return False
        self.log_steps = log_steps
        self.ax.set_xscale("log" if log_steps else "linear")
        self._set_xlim()
        return True

    def set_bands(self, steps: np.ndarray, train: np.ndarray | None, test: np.ndarray | None) -> bool:
        """Draw the quartiles across seeds ``train`` and ``test`` (3, S) at ``steps`` (S,). Changes the layout.

        Call after :meth:`set_history`; the y-limits then also hold the bands. A panel
        built without ``bands=True`` ignores them.
        """
        if self.train_band is None:
            return False
        self.train_band.set(steps, train)
        self.test_band.set(steps, test)
        shown = [a for a in (train, test) if a is not None]
        errors = np.concatenate([np.asarray(a).reshape(-1) for a in (*shown, self.test_line.get_ydata())])
        errors = np.concatenate([errors, np.asarray(self.train_line.get_ydata())])
        errors = errors[errors > 0]
        limits = _AutoLimits(log=True, margin=0.05, min_span=1.0).fit(*_span(errors))
        if limits is not None:
            self.ax.set_ylim(*limits)
        return True

    def update(self, step: int, train_error: float, test_error: float) -> bool:
        """Move the marker to ``step`` and its errors. Never changes the layout."""
        self.marker.set_xdata([step, step])
        self.selected.set_data([step, step], [train_error, test_error])
        return False


class FeaturePanel(Panel):
    """One parameter tensor's linearized features as functions of x, beside the initialization's.

    The selected snapshot's features are coloured lines; the initialization's, when given,
    are dashed grey lines behind them. When only some of a wide block's features are kept
    (see :class:`~linfeat_widgets.snapshots.SnapshotCache`), the title says how many.

    Attributes
    ----------
    current : LineCollection of the selected snapshot's features, one line per column.
    initial : LineCollection of the initialization's features (static per layer).
    """

    def __init__(self, ax: Axes, *, animated: bool = False):
        super().__init__(ax, animated)
        self.initial = LineCollection([], colors="0.72", linestyles="--", linewidths=0.8)
        ax.add_collection(self.initial, autolim=False)
        self.current = self._dynamic(LineCollection([], linewidths=1.0, colors=_cycle_colors()))
        ax.add_collection(self.current, autolim=False)
        ax.set_xlabel("x")
        ax.set_ylabel("linearized feature")
        self._limits = _AutoLimits()
        self._shown_initial: LayerFeatures | None = None
        self._x_range: tuple[float, float] | None = None

    def fit_range(self, *values) -> None:
        """Start the y-limits afresh, holding ``values`` (arrays or numbers) and 0.

        E.g. ``fit_range(low, high)`` with the layer's range over the whole run, or
        ``fit_range(features.values)`` to fit one step.
        """
        self._limits.reset()
        self._limits.include(*_span(*values, 0.0))

    def reset(self, *expected: LayerFeatures) -> None:
        """Start the y-limits afresh, holding the ``expected`` features (e.g. the run's first and last).

        Call it when the run or the layer changes; while scrubbing the limits only grow.
        """
        self._limits.reset()
        for features in expected:
            self._limits.include(*_span(features.values, 0.0))

    @staticmethod
    def _segments(features: LayerFeatures) -> np.ndarray:
        values = features.values
        x = np.broadcast_to(features.x[:, None], values.shape)
        return np.stack([x, values], axis=-1).transpose(1, 0, 2)

    @staticmethod
    def title(features: LayerFeatures) -> str:
        """The title for ``features``: whose derivatives they are, and how many are drawn."""
        what = "all parameters" if features.key == "all" else features.key
        shown = f" ({len(features.columns)} of {features.n_columns} drawn)" if features.capped else ""
        return f"d y(x) / d θ, θ in {what}{shown}"

    def update(self, features: LayerFeatures, initial: LayerFeatures | None = None) -> bool:
        """Show ``features`` (m, c) and, if given, the initialization's ``initial``; True if the layout changed."""
        layout = False
        title = self.title(features)
        if self.ax.get_title() != title:
            self.ax.set_title(title, fontsize=self.ax.title.get_fontsize())  # the theme's size, kept
            layout = True
        x_range = (float(features.x[0]), float(features.x[-1]))
        if x_range != self._x_range:
            self.ax.set_xlim(*x_range)
            self._x_range = x_range
            layout = True
        if initial is not self._shown_initial:
            self.initial.set_segments(self._segments(initial) if initial is not None else [])
            self._shown_initial = initial
            layout = True
        self.current.set_segments(self._segments(features))
        limits = self._limits.fit(*_span(features.values, 0.0, [] if initial is None else initial.values))
        if limits is not None:
            self.ax.set_ylim(*limits)
            layout = True
        return layout


class SpectrumPanel(Panel):
    """Singular values of the feature matrix (log scale) at the selected step, beside the initialization's.

    Parameters
    ----------
    ax : the Axes to draw on.
    animated : mark the per-snapshot artists animated (for blitting hosts).
    band : also draw a quartile band across seeds at the selected step (see :meth:`update`).
    n_principal : ring the first n singular values in the principal features' colors.

    Attributes
    ----------
    current : Line2D of the selected snapshot's singular values (orange dots).
    initial : Line2D of the initialization's (grey dots, static per history).
    band : :class:`QuartileBand` across seeds at the selected step, or None when built without.
    top : rings around the first ``n_principal`` singular values, in :func:`principal_colors`
        (the colors of the principal features of the same index).
    """

    def __init__(self, ax: Axes, *, animated: bool = False, band: bool = False, n_principal: int = 0):
        super().__init__(ax, animated)
        (self.initial,) = ax.plot([], [], "o", color="0.6", markersize=3, label="initial")
        self.band = None
        if band:
            self.band = QuartileBand(ax, "darkorange")
            self._dynamic(*self.band.artists)
        (line,) = ax.plot([], [], "o", color="darkorange", markersize=3, label="selected")
        self.current = self._dynamic(line)
        # the top singular values ringed in the colors of the principal features of the same index
        self.principal_colors = principal_colors(max(int(n_principal), 0))
        self.top = self._dynamic(
            ax.scatter([], [], s=42, facecolors="none", edgecolors=self.principal_colors or "none", linewidths=1.6,
                       zorder=3)
        )  # fmt: skip
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(1e-3, 1.0)
        ax.set_xlabel("index")
        ax.set_ylabel("singular value")
        _legend_above(ax, ncols=2, fontsize="small")
        self._y = _AutoLimits(log=True, margin=0.08, min_span=1.0)
        self._x = _AutoLimits(margin=0.03)
        self._shown_initial: np.ndarray | None = None

    def reset(self, *expected: np.ndarray) -> None:
        """Start the limits afresh, holding the ``expected`` singular values (e.g. the run's first and last)."""
        self._x.reset()
        self._y.reset()
        for values in expected:
            values = np.asarray(values)
            self._y.include(*_span(values[values > 0]))
            self._x.include(1.0, float(max(len(values), 1)))

    def update(
        self, singular_values: np.ndarray, initial: np.ndarray | None = None, band: np.ndarray | None = None
    ) -> bool:
        """Show ``singular_values`` (r,) and the initialization's ``initial`` (r0,); True if the layout changed.

        ``band`` (3, k): the 25th, 50th and 75th percentile across seeds of the first k
        singular values at the same step, drawn under the selected seed's dots (ignored by
        a panel built without ``band=True``).
        """
        layout = False
        if self.band is not None:
            self.band.set(np.arange(1, 0 if band is None else np.shape(band)[1] + 1), band)
        if initial is not self._shown_initial:
            shown = np.zeros(0) if initial is None else np.asarray(initial)
            self.initial.set_data(np.arange(1, len(shown) + 1), shown)
            self._shown_initial = initial
            layout = True
        s = np.asarray(singular_values)
        self.current.set_data(np.arange(1, len(s) + 1), s)
        k = min(len(self.principal_colors), len(s))
        self.top.set_offsets(np.column_stack([np.arange(1, k + 1), s[:k]]) if k else np.zeros((0, 2)))
        if k:
            self.top.set_edgecolors(self.principal_colors[:k])
        both = np.concatenate([s, np.zeros(0) if initial is None else np.asarray(initial)])
        if band is not None and self.band is not None:
            both = np.concatenate([both, np.asarray(band).reshape(-1)])
        y = self._y.fit(*_span(both[both > 0]))
        if y is not None:
            self.ax.set_ylim(*y)
            layout = True
        x = self._x.fit(1.0, float(max(len(s), 0 if initial is None else len(initial), 1)))
        if x is not None:
            self.ax.set_xlim(min(x[0], 0.0), x[1])
            layout = True
        return layout


class PrincipalFeaturePanel(Panel):
    """The top principal features ``J(x) V[:, j]`` as functions of x, between training points too.

    Parameters
    ----------
    ax : the Axes to draw on.
    n_components : number of principal features drawn, at least 1.

    Attributes
    ----------
    lines : one Line2D per principal feature, labelled by its rank 1, 2, ...
    """

    def __init__(self, ax: Axes, n_components: int = 4, *, animated: bool = False):
        super().__init__(ax, animated)
        if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) or n_components < 1:
            raise ValueError(f"n_components must be an integer >= 1; got {n_components!r}")
        colors = principal_colors(int(n_components))
        lines = [ax.plot([], [], linewidth=1.5, color=c, label=f"{j + 1}")[0] for j, c in enumerate(colors)]
        self.lines = tuple(self._dynamic(line) for line in lines)
        ax.set_xlabel("x")
        ax.set_ylabel("principal feature")
        _legend_above(ax, ncols=min(int(n_components), 6), fontsize="small")
        self._limits = _AutoLimits()
        self._x_range: tuple[float, float] | None = None

    def reset(self, *expected: np.ndarray) -> None:
        """Start the y-limits afresh, holding the ``expected`` principal features (m, k): the run's first and last."""
        self._limits.reset()
        for values in expected:
            self._limits.include(*_span(np.asarray(values)[:, : len(self.lines)]))

    def update(self, x: np.ndarray, principal_features: np.ndarray) -> bool:
        """Show ``principal_features`` (m, k) on ``x`` (m,); lines beyond k are emptied. True if the layout changed."""
        layout = False
        x = np.asarray(x)
        pf = np.asarray(principal_features)
        for j, line in enumerate(self.lines):
            if j < pf.shape[1]:
                line.set_data(x, pf[:, j])
            else:
                line.set_data([], [])
        x_range = (float(x[0]), float(x[-1]))
        if x_range != self._x_range:
            self.ax.set_xlim(*x_range)
            self._x_range = x_range
            layout = True
        limits = self._limits.fit(*_span(pf[:, : len(self.lines)]))
        if limits is not None:
            self.ax.set_ylim(*limits)
            layout = True
        return layout
