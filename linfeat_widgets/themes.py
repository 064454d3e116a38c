"""Themes and grid layouts of the panels: small descriptions that a board applies, not code in the Explorer.

A :class:`Theme` says how large the fonts and how thick the lines are (``"default"`` for a
notebook, ``"lecture"`` for a projector seen from the back of a room); a :class:`GridLayout`
says how wide a row of panels is and how high every panel is (``"wide"``, ``"compact"``),
so that the panels form a grid of equal heights that fits the notebook's width.
:func:`panel_sizes` turns a layout and rows of panel names into figure sizes;
:func:`apply_theme` sets a built panel's fonts and line widths.

This module uses matplotlib only (no ipywidgets).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.legend import Legend

__all__ = [
    "LAYOUTS",
    "THEMES",
    "GridLayout",
    "Theme",
    "apply_theme",
    "check_layout",
    "check_theme",
    "panel_sizes",
]

#: The dpi the layouts' sizes are measured at: a layout keeps its width in pixels at any dpi.
REFERENCE_DPI = 80.0


@dataclass(frozen=True)
class Theme:
    """Fonts and lines of the panels.

    Attributes
    ----------
    name : ``"default"`` or ``"lecture"``.
    font_size : tick labels and legends, in points.
    label_size : axis labels, in points.
    title_size : panel titles, in points.
    legend_size : legends, in points (legends sit above the Axes, so they get less room).
    line_scale : multiplies every line's width and every marker's size.
    margin_scale : multiplies the panels' margins (larger fonts need more room).
    """

    name: str
    font_size: float
    label_size: float
    title_size: float
    legend_size: float
    line_scale: float = 1.0
    margin_scale: float = 1.0

    def rc(self) -> dict:
        """The rcParams for building a panel in this theme (``matplotlib.rc_context(theme.rc())``)."""
        return {
            "font.size": self.font_size,
            "axes.labelsize": self.label_size,
            "axes.titlesize": self.title_size,
            "xtick.labelsize": self.font_size,
            "ytick.labelsize": self.font_size,
            "legend.fontsize": self.legend_size,
            "lines.linewidth": 1.5 * self.line_scale,
            # legends sit in a strip above the Axes: larger text leaves less room for handles and gaps
            "legend.handlelength": 2.0 / self.line_scale**0.5,
            "legend.columnspacing": 2.0 / self.line_scale,
            "legend.handletextpad": 0.8 / self.line_scale**0.5,
        }


#: The themes by name.
THEMES: Mapping[str, Theme] = MappingProxyType(
    {
        "default": Theme("default", font_size=8.5, label_size=9.0, title_size=10.0, legend_size=8.5),
        "lecture": Theme(
            "lecture",
            font_size=12.0,
            label_size=13.0,
            title_size=14.0,
            legend_size=9.5,
            line_scale=1.7,
            margin_scale=1.4,
        ),
    }
)


@dataclass(frozen=True)
class GridLayout:
    """The panels' grid: every row of panels as wide as ``width``, every panel ``height`` high.

    Attributes
    ----------
    name : ``"wide"`` or ``"compact"``.
    width : a row's width in inches at :data:`REFERENCE_DPI` (its panels share it equally).
    height : every panel's height in inches at :data:`REFERENCE_DPI`.
    """

    name: str
    width: float
    height: float


#: The layouts by name. "wide" is 800 px a row: it fits JupyterLab's output area in a 1,280 px
#: window with the file browser open, or a 1,000 px one without; "compact" (560 px) fits a
#: 1,000 px window with the file browser open.
LAYOUTS: Mapping[str, GridLayout] = MappingProxyType(
    {
        "wide": GridLayout("wide", width=10.0, height=3.2),
        "compact": GridLayout("compact", width=7.0, height=2.6),
    }
)


def check_theme(theme) -> Theme:
    """``theme`` (a name of :data:`THEMES` or a :class:`Theme`) as a Theme, else ValueError."""
    if isinstance(theme, Theme):
        return theme
    if isinstance(theme, str) and theme in THEMES:
        return THEMES[theme]
    raise ValueError(f"theme must be one of {', '.join(map(repr, THEMES))} or a Theme; got {theme!r}")


def check_layout(layout) -> GridLayout:
    """``layout`` (a name of :data:`LAYOUTS` or a :class:`GridLayout`) as a GridLayout, else ValueError."""
    if isinstance(layout, GridLayout):
        if not (np.isfinite(layout.width) and np.isfinite(layout.height) and layout.width > 0 and layout.height > 0):
            raise ValueError(f"layout must have a positive, finite width and height; got {layout!r}")
        return layout
    if isinstance(layout, str) and layout in LAYOUTS:
        return LAYOUTS[layout]
    raise ValueError(f"layout must be one of {', '.join(map(repr, LAYOUTS))} or a GridLayout; got {layout!r}")


def panel_sizes(rows, layout, dpi: float = REFERENCE_DPI) -> dict[str, tuple[float, float]]:
    """Each panel's figure size (width, height) in inches: rows share the layout's width, one height for all.

    Parameters
    ----------
    rows : rows of panel names, e.g. ``PanelBoard.rows``.
    layout : a name of :data:`LAYOUTS` or a :class:`GridLayout`.
    dpi : the figures' dpi; sizes scale by ``REFERENCE_DPI / dpi`` so the pixels stay the same.
    """
    layout = check_layout(layout)
    scale = REFERENCE_DPI / float(dpi)
    return {name: (layout.width / len(row) * scale, layout.height * scale) for row in rows for name in row if len(row)}


def apply_theme(ax: Axes, theme: Theme) -> None:
    """Set ``ax``'s fonts (ticks, labels, title, legend) and scale its lines and markers for ``theme``.

    Call once, after the panel built its artists (widths are multiplied, not set).
    """
    theme = check_theme(theme)
    ax.tick_params(labelsize=theme.font_size)
    ax.xaxis.label.set_fontsize(theme.label_size)
    ax.yaxis.label.set_fontsize(theme.label_size)
    ax.title.set_fontsize(theme.font_size)  # an Axes' own title is a subtitle: the board titles the figure
    legend = ax.get_legend()
    if isinstance(legend, Legend):
        for text in legend.get_texts():
            text.set_fontsize(theme.legend_size)
    if theme.line_scale == 1.0:
        return
    for line in ax.lines:
        line.set_linewidth(line.get_linewidth() * theme.line_scale)
        line.set_markersize(line.get_markersize() * theme.line_scale**0.5)
    for collection in ax.collections:
        if isinstance(collection, LineCollection):
            collection.set_linewidths(np.asarray(collection.get_linewidths()) * theme.line_scale)
        elif isinstance(collection, PathCollection):
            # markers' areas grow like their widths, not squared: dense scatters would merge
            collection.set_sizes(np.asarray(collection.get_sizes()) * theme.line_scale)
