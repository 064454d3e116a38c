"""Panels of the linear picture over a whole run: kernel movement, residual by direction, spectrum history.

Each draws one run's arrays (from :mod:`linfeat_widgets.theory`, passed in as plain
arrays) once per run with ``set_run(...)``, which changes the layout, and marks the
selected step with ``update(step)``, which moves only the animated marker artists; while
the arrays are being computed, ``set_pending()`` says so. As in
:mod:`linfeat_widgets.panels`, every artist is built in the constructor.

This module uses matplotlib only (no ipywidgets).
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.image import NonUniformImage
from matplotlib.ticker import MaxNLocator, NullFormatter

from .panels import Panel, _AutoLimits, _legend_above, _span

__all__ = ["MovementPanel", "ResidualPanel", "SpectrumHistoryPanel"]


def _steps_index(steps: np.ndarray) -> dict[int, int]:
    return {int(s): i for i, s in enumerate(steps)}


def _positive_span(*arrays) -> tuple[float, float]:
    values = np.concatenate([np.asarray(a, dtype=np.float64).reshape(-1) for a in arrays])
    return _span(values[values > 0])


class _StepMarker:
    """A vertical line at the selected step and dots where it crosses the panel's curves."""

    def __init__(self, panel: Panel, color: str = "0.35"):
        ax = panel.ax
        self.line = panel._dynamic(ax.axvline(1.0, color=color, linewidth=1.0))
        (dots,) = ax.plot([], [], "o", color="black", markersize=3.5, zorder=3)
        self.dots = panel._dynamic(dots)

    def show(self, step: float, values=()) -> None:
        self.line.set_xdata([step, step])
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        self.dots.set_data(np.full(len(values), float(step)), values)


class _RunPanel(Panel):
    """A panel that draws a whole run's arrays: until they are there it says they are being computed.

    Attributes
    ----------
    note : Text in the middle of the Axes ("computing…" while :attr:`pending`).
    pending : True until :meth:`set_run` drew a run (and again after :meth:`set_pending`).
    """

    def __init__(self, ax: Axes, animated: bool = False):
        super().__init__(ax, animated)
        self.note = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center", va="center", color="0.4", zorder=5)
        self.pending = True

    def set_pending(self, text: str = "computing…") -> bool:
        """Show that the run's arrays are being computed (the old run's stay hidden). Changes the layout."""
        self.pending = True
        self.note.set_text(text)
        for artist in self._run_artists():
            artist.set_visible(False)
        return True

    def _ready(self) -> None:
        self.pending = False
        self.note.set_text("")
        for artist in self._run_artists():
            artist.set_visible(True)

    def _run_artists(self) -> tuple:
        return self.animated


class MovementPanel(_RunPanel):
    """Parameter and kernel distance from the initialization against the step, log axes.

    Step 0 (the initialization, where both distances are 0) has no place on log axes: the
    lines start at the first saved step.

    Attributes
    ----------
    parameter_line : Line2D of ``||theta_t - theta_0|| / ||theta_0||`` against the step.
    kernel_line : Line2D of ``||K_t - K_0||_F / ||K_0||_F`` against the step.
    marker, selected : the vertical line at the selected step and its dots on the curves.
    """

    def __init__(self, ax: Axes, *, animated: bool = False):
        super().__init__(ax, animated)
        (self.parameter_line,) = ax.plot([], [], color="C0", label="parameters ‖θ−θ₀‖/‖θ₀‖")
        (self.kernel_line,) = ax.plot([], [], color="C3", label="kernel ‖K−K₀‖/‖K₀‖")
        marker = _StepMarker(self)
        self._marker = marker
        self.marker, self.selected = marker.line, marker.dots
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(1.0, 10.0)
        ax.set_ylim(1e-4, 1.0)
        ax.set_xlabel("SGD iteration")
        ax.set_ylabel("relative distance from init")
        _legend_above(ax, ncols=1, fontsize="small")
        self._index: dict[int, int] = {}

    def set_run(self, steps: np.ndarray, parameter_distance: np.ndarray, kernel_distance: np.ndarray) -> bool:
        """Draw one run: ``steps`` (S,) with 0 first, and the two distances (S,). Changes the layout."""
        self._ready()
        steps = np.asarray(steps, dtype=np.float64)
        keep = steps > 0
        steps = steps[keep]
        parameters = np.asarray(parameter_distance, dtype=np.float64)[keep]
        kernel = np.asarray(kernel_distance, dtype=np.float64)[keep]
        self.parameter_line.set_data(steps, parameters)
        self.kernel_line.set_data(steps, kernel)
        self._values = np.stack([parameters, kernel], axis=1)
        self._index = _steps_index(steps)
        low, high = (steps[0], steps[-1]) if len(steps) else (1.0, 10.0)
        self.ax.set_xlim(*((low / 2, high * 2) if high <= low else (low, high)))
        limits = _AutoLimits(log=True, margin=0.05, min_span=1.0).fit(*_positive_span(parameters, kernel))
        self.ax.set_ylim(*(limits or (1e-4, 1.0)))
        return True

    def _run_artists(self) -> tuple:
        return (self.parameter_line, self.kernel_line, *self.animated)

    def update(self, step: int) -> bool:
        """Mark ``step`` (a saved step). Never changes the layout."""
        i = self._index[int(step)]
        self._marker.show(step, self._values[i])
        return False


class ResidualPanel(_RunPanel):
    """``|c_k(t)|``, the residual along each singular direction k, as an image: k down, step across.

    Color is on a log scale; the feature matrix's singular values ``s_k`` are drawn on a
    narrow axis at the right, sharing k, so a row's decay can be read against its
    ``s_k`` (the linear picture fits large ``s_k`` first).

    Attributes
    ----------
    image : NonUniformImage of ``|coefficients|.T`` (r, S), columns at the steps (step 0
        included), zeros masked; colors from the 2nd percentile of the run's values to its
        maximum (smaller values take the lowest color).
    side : the Axes of the singular values; singular_line : its Line2D ``(s_k, k)``.
    colorbar : the colorbar of :attr:`image`.
    marker : vertical Line2D at the selected step.
    """

    def __init__(self, ax: Axes, *, animated: bool = False):
        super().__init__(ax, animated)
        self.image = NonUniformImage(ax, interpolation="nearest", cmap="viridis", norm=LogNorm(1e-3, 1.0))
        self.image.set_data(np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.ones((2, 2)))
        ax.add_image(self.image)
        self.marker = self._dynamic(ax.axvline(0.0, color="white", linewidth=1.2))
        self.side = ax.inset_axes((1.03, 0.0, 0.2, 1.0), sharey=ax)
        (self.singular_line,) = self.side.plot([], [], ".-", color="0.3", markersize=2.5, linewidth=0.8)
        self.side.set_xscale("log")
        self.side.set_xlim(1e-3, 1.0)
        self.side.tick_params(labelleft=False, labelsize="x-small")
        self.side.xaxis.set_minor_formatter(NullFormatter())
        self.side.set_xlabel("$s_k$", fontsize="small")
        self.colorbar = ax.figure.colorbar(self.image, cax=ax.inset_axes((1.28, 0.0, 0.04, 1.0)))
        self.colorbar.ax.tick_params(labelsize="x-small")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.set_xlabel("SGD iteration")
        ax.set_ylabel("direction k")
        ax.set_title("|c_k| = |u_k · (y − f(X))|, u_k at init", fontsize="small")
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(2.5, 0.5)

    def set_run(self, steps: np.ndarray, coefficients: np.ndarray, singular_values: np.ndarray) -> bool:
        """Draw one run: ``steps`` (S,), ``coefficients`` (S, r) and ``singular_values`` (r,). Changes the layout."""
        self._ready()
        steps = np.asarray(steps, dtype=np.float64)
        magnitude = np.abs(np.asarray(coefficients, dtype=np.float64)).T  # (r, S): k down, step across
        r = magnitude.shape[0]
        k = np.arange(1, r + 1, dtype=np.float64)
        # NonUniformImage needs two columns and two rows: a lone one is widened, not dropped
        x = steps if len(steps) > 1 else np.array([steps[0] - 0.5, steps[0] + 0.5])
        y = k if r > 1 else np.array([1.0, 1.0 + 1e-9])
        shown = np.broadcast_to(magnitude, (len(y), len(x)))
        self.image.set_data(x, y, np.ma.masked_less_equal(shown, 0.0))
        positive = magnitude[magnitude > 0]
        if positive.size:
            # the smallest few percent would stretch the color scale over decades nobody reads
            high = float(positive.max())
            low = max(float(np.percentile(positive, 2.0)), high * 1e-8)
            self.image.set_clim(low, high if high > low else high * 10)
        self.singular_line.set_data(np.asarray(singular_values, dtype=np.float64), k)
        s_low, s_high = _positive_span(singular_values)
        if np.isfinite(s_high):
            self.side.set_xlim(s_low / 1.5, s_high * 1.5)
        half = 0.5 * (x[-1] - x[0]) / max(len(x) - 1, 1)
        self.ax.set_xlim(x[0] - half, x[-1] + half)
        self.ax.set_ylim(r + 0.5, 0.5)
        return True

    def _run_artists(self) -> tuple:
        return (self.image, self.singular_line, *self.animated)

    def update(self, step: int) -> bool:
        """Mark ``step``. Never changes the layout."""
        self.marker.set_xdata([step, step])
        return False


class SpectrumHistoryPanel(_RunPanel):
    """The top singular values of the feature matrix against the step, log scale.

    Parameters
    ----------
    ax : the Axes to draw on.
    n_lines : how many singular values get a line (the largest), at least 1.

    Attributes
    ----------
    lines : one Line2D per singular value ``s_1, s_2, ...`` against the step.
    marker, selected : the vertical line at the selected step and its dots on the lines.
    """

    def __init__(self, ax: Axes, n_lines: int = 8, *, animated: bool = False):
        super().__init__(ax, animated)
        if isinstance(n_lines, bool) or not isinstance(n_lines, (int, np.integer)) or n_lines < 1:
            raise ValueError(f"n_lines must be an integer >= 1; got {n_lines!r}")
        self.lines = tuple(ax.plot([], [], linewidth=1.2, label=f"{j + 1}")[0] for j in range(int(n_lines)))
        marker = _StepMarker(self)
        self._marker = marker
        self.marker, self.selected = marker.line, marker.dots
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(1e-3, 1.0)
        ax.set_xlabel("SGD iteration")
        ax.set_ylabel("singular value $s_k$")
        _legend_above(ax, ncols=min(int(n_lines), 8), fontsize="x-small", handlelength=1.0)
        self._index: dict[int, int] = {}
        self._values = np.zeros((0, 0))

    def set_run(self, steps: np.ndarray, singular_values: np.ndarray) -> bool:
        """Draw one run: ``steps`` (S,) and ``singular_values`` (S, k), largest first. Changes the layout."""
        self._ready()
        steps = np.asarray(steps, dtype=np.float64)
        values = np.asarray(singular_values, dtype=np.float64)[:, : len(self.lines)]
        for j, line in enumerate(self.lines):
            if j < values.shape[1]:
                line.set_data(steps, values[:, j])
            else:
                line.set_data([], [])
        self._values = values
        self._index = _steps_index(steps)
        low, high = (steps[0], steps[-1]) if len(steps) > 1 else (steps[0] - 1.0, steps[0] + 1.0)
        self.ax.set_xlim(low, high)
        limits = _AutoLimits(log=True, margin=0.05, min_span=1.0).fit(*_positive_span(values))
        self.ax.set_ylim(*(limits or (1e-3, 1.0)))
        return True

    def _run_artists(self) -> tuple:
        return (*self.lines, *self.animated)

    def update(self, step: int) -> bool:
        """Mark ``step`` (0 or a saved step). Never changes the layout."""
        self._marker.show(step, self._values[self._index[int(step)]])
        return False
