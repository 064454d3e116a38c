"""Show a matplotlib Figure as a widget and redraw it in place, by blitting where it can.

Two hosts, chosen once when the figure is made:

``"ipympl"``
    Under ``%matplotlib widget`` the figure's own ipympl canvas is the widget (no header).
    A full redraw is one ``canvas.draw_idle()``; ipympl's front end then asks for the
    frame.
``"image"``
    Anywhere else (the inline backend, Colab without its custom widget manager, VS Code,
    scripts, tests) the figure is drawn with Agg and shown as a PNG in a fixed-size
    :class:`ipywidgets.Image`.

Either way a refresh that leaves the layout alone (limits, titles, static artists) only
restores the background saved at the last full draw and redraws the panels' animated
artists over it (blitting): ticks and text, the slow part of a matplotlib draw, are not
redrawn when only the snapshot moves.
"""

from __future__ import annotations

import importlib
import itertools
import struct
import zlib
from collections.abc import Iterable

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._checks import check_choice

__all__ = ["MODES", "FigureHost", "encode_png", "new_figure", "resolve_mode"]

#: How figures are shown: "auto" picks "ipympl" under ``%matplotlib widget``, else "image".
MODES = ("auto", "ipympl", "image")

_IPYMPL_BACKENDS = ("module://ipympl.backend_nbagg", "widget", "ipympl")
_numbers = itertools.count(1_000_001)


def resolve_mode(mode: str = "auto") -> str:
    """``"ipympl"`` or ``"image"``: ``"auto"`` is ``"ipympl"`` when pyplot's backend is ipympl's."""
    mode = check_choice("mode", mode, MODES)
    if mode != "auto":
        return mode
    return "ipympl" if matplotlib.get_backend().lower() in _IPYMPL_BACKENDS else "image"


def new_figure(figsize: tuple[float, float], dpi: float, mode: str = "auto") -> Figure:
    """A Figure for a host: with an ipympl canvas (``"ipympl"``) or an Agg canvas (``"image"``).

    The figure is not registered with pyplot, so ``plt.gcf()``, ``plt.show()`` and the
    inline backend never pick it up, and a later ``plt.plot`` never draws into it.
    """
    mode = resolve_mode(mode)
    figure = Figure(figsize=figsize, dpi=dpi)
    if mode == "ipympl":
        import matplotlib.pyplot as plt

        backend = importlib.import_module("ipympl.backend_nbagg")
        # under ioff the backend neither displays the figure nor queues it for display
        with plt.ioff():
            backend.new_figure_manager_given_figure(next(_numbers), figure)
    else:
        FigureCanvasAgg(figure)
    return figure


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pixels: np.ndarray, level: int = 1) -> bytes:
    """PNG bytes of an RGBA image (h, w, 4) uint8, rows unfiltered, zlib at ``level``.

    Written out here rather than with Pillow for speed: Pillow tries every PNG row filter
    on every row, which costs three times the compression itself on a plot's mostly flat
    pixels; this is the image fallback's cost per refresh.
    """
    height, width, channels = pixels.shape
    if channels != 4 or pixels.dtype != np.uint8:
        raise ValueError(f"pixels must be RGBA uint8 of shape (h, w, 4); got {pixels.dtype} {pixels.shape}")
    rows = np.empty((height, 1 + 4 * width), dtype=np.uint8)
    rows[:, 0] = 0  # filter type "none" on every row
    rows[:, 1:] = pixels.reshape(height, -1)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(rows, level)),
            _chunk(b"IEND", b""),
        )
    )


def _check_artists(animated) -> list:
    """``animated`` as a list of matplotlib artists, else ``ValueError`` naming the argument."""
    if isinstance(animated, (str, bytes)) or not isinstance(animated, Iterable):
        raise ValueError(f"animated must be an iterable of matplotlib artists (a panel's .animated); got {animated!r}")
    artists = list(animated)
    for artist in artists:
        if not isinstance(artist, Artist):
            raise ValueError(
                f"animated must hold matplotlib artists (a panel's .animated); got {type(artist).__name__} {artist!r}"
            )
    return artists


def _is_ipympl_canvas(canvas) -> bool:
    return isinstance(canvas, widgets.DOMWidget) and type(canvas).__module__.startswith("ipympl")


class FigureHost:
    """A Figure shown as a widget, refreshed in place: a full draw or a blit of its animated artists.

    Parameters
    ----------
    figure : a Figure from :func:`new_figure` (or any Figure with an Agg-based canvas).
    animated : the artists redrawn over the saved background when blitting (a panel's
        ``animated``); they should have been marked animated.

    Attributes
    ----------
    figure : the Figure.
    widget : what to put in a layout: the ipympl canvas, or an :class:`ipywidgets.Image`.
    mode : ``"ipympl"`` or ``"image"``.
    full_draws, blits : how many refreshes of each kind were made (for tests and
        benchmarks).
    """

    def __init__(self, figure: Figure, animated: Iterable = ()):
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
        self.figure = figure
        self.animated = tuple(sorted(_check_artists(animated), key=lambda a: a.get_zorder()))
        self.full_draws = 0
        self.blits = 0
        self._background = None
        self._background_size: tuple[float, float] | None = None
        canvas = figure.canvas
        if _is_ipympl_canvas(canvas):
            self.mode = "ipympl"
            canvas.header_visible = False
            canvas.footer_visible = False
            self.widget = canvas
        else:
            if not isinstance(canvas, FigureCanvasAgg):
                FigureCanvasAgg(figure)
            self.mode = "image"
            width, height = (round(v) for v in figure.bbox.size)
            self.widget = widgets.Image(
                format="png", layout=widgets.Layout(width=f"{width}px", height=f"{height}px", object_fit="contain")
            )
        self._canvas = figure.canvas
        self._cid = self._canvas.mpl_connect("draw_event", self._on_draw)

    def __repr__(self) -> str:
        return f"FigureHost(mode={self.mode!r}, full_draws={self.full_draws}, blits={self.blits})"

    def _on_draw(self, event) -> None:
        # Every full draw, ours or one the front end asked for: keep the frame without the
        # animated artists, then add them so that the frame shown is complete.
        # (savefig draws animated artists itself, with its own renderer.)
        if event.canvas is not self._canvas or self._canvas.is_saving():
            return
        self._background = self._canvas.copy_from_bbox(self.figure.bbox)
        self._background_size = tuple(self.figure.bbox.size)
        self._draw_animated()

    def _draw_animated(self) -> None:
        for artist in self.animated:
            if artist.get_visible():
                self.figure.draw_artist(artist)

    def _can_blit(self) -> bool:
        return self._background is not None and self._background_size == tuple(self.figure.bbox.size)

    @property
    def awaiting_draw(self) -> bool:
        """True while the next refresh must be a full draw (under ipympl: until the front end's draw)."""
        return not self._can_blit()

    def refresh(self, full: bool = False) -> None:
        """Show the figure's current state: a full draw if ``full`` (or nothing to blit onto yet), else a blit."""
        canvas = self._canvas
        if full or not self._can_blit():
            self.full_draws += 1
            if self.mode == "ipympl":
                self._background = None  # until the front end's draw brings a new one
                canvas.draw_idle()
                return
            canvas.draw()
        else:
            self.blits += 1
            canvas.restore_region(self._background)
            self._draw_animated()
            if self.mode == "ipympl":
                canvas.blit(self.figure.bbox)
                return
        self.widget.value = self.png()

    def png(self) -> bytes:
        """The canvas' current pixels as PNG bytes (without drawing anything)."""
        return encode_png(np.asarray(self._canvas.buffer_rgba()))

    def close(self) -> None:
        """Disconnect from the figure and close the widget (and with it an ipympl canvas)."""
        self._canvas.mpl_disconnect(self._cid)
        self._background = None
        self.widget.close()
