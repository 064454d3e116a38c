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

A host keeps the backgrounds of the states it has drawn, keyed by the figure's
:func:`~linfeat_widgets.figure_state.static_fingerprint`, in a :class:`BackgroundStore`: a
switch back to a width or a layer shown before restores that state's background instead of
drawing the figure again. A hidden twin of the figure can fill the store ahead of time
(:func:`prerender`), so that even a first switch can blit.

Under ipympl the frames sent to the browser are encoded by :func:`encode_png` (zlib level
1, no row filters) rather than by Pillow: a frame of a blit is mostly unchanged pixels,
sent as transparent, and Pillow's default spends several milliseconds per frame trying
every row filter on them.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import struct
import zlib
from collections import OrderedDict
from collections.abc import Iterable

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._checks import check_choice, check_int
from .figure_state import static_fingerprint

__all__ = ["MODES", "BackgroundStore", "FigureHost", "encode_png", "new_figure", "prerender", "resolve_mode"]

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
        backend = importlib.import_module("ipympl.backend_nbagg")
        # not registered with pyplot, never queued for display: the host shows the canvas
        backend.FigureManager(_ipympl_canvas_class()(figure), next(_numbers))
    else:
        FigureCanvasAgg(figure)
    return figure


@functools.cache
def _ipympl_canvas_class():
    """The canvas class of ipympl, sending its frames encoded by :func:`encode_png` (made once, on first use)."""
    backend = importlib.import_module("ipympl.backend_nbagg")

    class FastFrameCanvas(backend.Canvas):
        """An ipympl canvas whose frames are PNGs of :func:`encode_png`: the same protocol, a faster encoder."""

        def get_diff_image(self):
            # matplotlib's WebAgg protocol: a "full" frame replaces the image, a "diff" frame is drawn over it
            # with its unchanged pixels transparent
            if not self._png_is_old:
                return None
            pixels = np.asarray(self.get_renderer().buffer_rgba())
            frame = pixels.view(np.uint32)[:, :, 0]
            last = self._last_buff
            if self._force_full or frame.shape != last.shape or (pixels[:, :, 3] != 255).any():
                self.set_image_mode("full")
                sent = frame
            else:
                self.set_image_mode("diff")
                sent = np.where(frame != last, frame, 0)
            self._last_buff = frame.copy()
            self._force_full = False
            self._png_is_old = False
            return encode_png(np.ascontiguousarray(sent).view(np.uint8).reshape(*sent.shape, 4))

    return FastFrameCanvas


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
    return isinstance(canvas, widgets.DOMWidget) and any(
        cls.__module__.startswith("ipympl") for cls in type(canvas).__mro__
    )


class BackgroundStore:
    """Saved backgrounds by static fingerprint, least recently used dropped beyond ``max_bytes``.

    A shown figure's host keeps what it draws here, and :func:`prerender` adds what a hidden
    twin of the figure draws ahead (the fingerprint holds the size and dpi, so only a
    background of the same pixels can match).

    Attributes
    ----------
    max_bytes : the bound; nbytes : the bytes held (4 per pixel); hits : look-ups that
    found a background.
    """

    def __init__(self, max_bytes: int = 24 * 2**20):
        self.max_bytes = check_int("max_bytes", max_bytes, 0)
        self.nbytes = 0
        self.hits = 0
        self._items: OrderedDict[bytes, tuple[object, tuple[float, float], int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key) -> bool:
        return key in self._items

    def __repr__(self) -> str:
        return f"BackgroundStore(backgrounds={len(self)}, nbytes={self.nbytes}, hits={self.hits})"

    def get(self, key: bytes):
        """The background saved under ``key`` (a region for ``restore_region``), or None."""
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item[0]

    def put(self, key: bytes, region, size: tuple[float, float]) -> None:
        """Keep ``region`` (a ``copy_from_bbox`` of a figure ``size`` pixels wide and high) under ``key``."""
        if key in self._items:
            self.nbytes -= self._items.pop(key)[2]
        nbytes = 4 * round(size[0]) * round(size[1])
        self._items[key] = (region, tuple(size), nbytes)
        self.nbytes += nbytes
        while self.nbytes > self.max_bytes and len(self._items) > 1:
            _, (_, _, dropped) = self._items.popitem(last=False)
            self.nbytes -= dropped

    def clear(self) -> None:
        """Forget every background."""
        self._items.clear()
        self.nbytes = 0


class FigureHost:
    """A Figure shown as a widget, refreshed in place: a full draw or a blit of its animated artists.

    Parameters
    ----------
    figure : a Figure from :func:`new_figure` (or any Figure with an Agg-based canvas).
    animated : the artists redrawn over the saved background when blitting (a panel's
        ``animated``); they should have been marked animated.
    backgrounds : the :class:`BackgroundStore` to keep the backgrounds in (share it with
        a hidden twin that draws ahead, see :func:`prerender`); default a new one.

    Attributes
    ----------
    figure : the Figure.
    widget : what to put in a layout: the ipympl canvas, or an :class:`ipywidgets.Image`.
    mode : ``"ipympl"`` or ``"image"``.
    backgrounds : the BackgroundStore.
    full_draws, blits, restores : how many refreshes drew the whole figure, drew only the
        animated artists, and of those how many restored a background saved for another
        state (for tests and benchmarks).
    """

    def __init__(self, figure: Figure, animated: Iterable = (), backgrounds: BackgroundStore | None = None):
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
        if backgrounds is not None and not isinstance(backgrounds, BackgroundStore):
            raise ValueError(f"backgrounds must be a BackgroundStore or None; got {type(backgrounds).__name__}")
        self.figure = figure
        self.animated = tuple(sorted(_check_artists(animated), key=lambda a: a.get_zorder()))
        self.backgrounds = BackgroundStore() if backgrounds is None else backgrounds
        self.full_draws = 0
        self.blits = 0
        self.restores = 0
        self._background = None
        self._background_size: tuple[float, float] | None = None
        self._drawing_key: bytes | None = None
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
        return (
            f"FigureHost(mode={self.mode!r}, full_draws={self.full_draws}, blits={self.blits}, "
            f"restores={self.restores})"
        )

    def fingerprint(self) -> bytes:
        """The figure's :func:`~linfeat_widgets.figure_state.static_fingerprint` without the animated artists."""
        return static_fingerprint(self.figure, self.animated)

    def _on_draw(self, event) -> None:
        # Every full draw, ours or one the front end asked for: keep the frame without the
        # animated artists, then add them so that the frame shown is complete.
        # (savefig draws animated artists itself, with its own renderer.)
        if event.canvas is not self._canvas or self._canvas.is_saving():
            return
        key = self.fingerprint() if self._drawing_key is None else self._drawing_key
        self._background = self._canvas.copy_from_bbox(self.figure.bbox)
        self._background_size = tuple(self.figure.bbox.size)
        self.backgrounds.put(key, self._background, self._background_size)
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
        """Show the figure's current state: a blit, unless ``full`` (the layout changed) or nothing was drawn yet.

        A full refresh first looks for a background saved for the figure's state (its
        static fingerprint): found, it is restored and the animated artists drawn over it;
        otherwise the whole figure is drawn.
        """
        if full or not self._can_blit():
            key = self.fingerprint()
            saved = self.backgrounds.get(key)
            size = tuple(self.figure.bbox.size)
            if saved is not None and (self._background is not None or self.mode == "image"):
                self._background, self._background_size = saved, size
                self.restores += 1
                self._blit()
            else:
                self._draw_all(key)
        else:
            self._blit()
        if self.mode == "image":
            self.widget.value = self.png()

    def _blit(self) -> None:
        self.blits += 1
        self._canvas.restore_region(self._background)
        self._draw_animated()
        if self.mode == "ipympl":
            self._canvas.blit(self.figure.bbox)

    def _draw_all(self, key: bytes) -> None:
        self.full_draws += 1
        canvas = self._canvas
        if self.mode == "ipympl" and canvas.syncing_data_url:
            # no front end has shown the canvas yet: it asks for its first frame when it does
            self._background = None
            canvas.draw_idle()
            return
        self._drawing_key = key
        try:
            canvas.draw()  # under ipympl this sends the frame too
        finally:
            self._drawing_key = None

    def png(self) -> bytes:
        """The canvas' current pixels as PNG bytes (without drawing anything)."""
        return encode_png(np.asarray(self._canvas.buffer_rgba()))

    def close(self) -> None:
        """Disconnect from the figure and close the widget (and with it an ipympl canvas)."""
        self._canvas.mpl_disconnect(self._cid)
        self._background = None
        self.widget.close()


def prerender(figure: Figure, animated: Iterable, backgrounds: BackgroundStore) -> bool:
    """Draw ``figure`` without ``animated`` (not shown anywhere) and keep its background in ``backgrounds``.

    ``figure`` is a hidden twin of a shown one (an Agg figure of the same size, dpi and
    panels, put in another state): a host sharing ``backgrounds`` then restores this
    background when its own figure reaches the same state. Returns False, drawing nothing,
    when the state's background is already kept.
    """
    if not isinstance(backgrounds, BackgroundStore):
        raise ValueError(f"backgrounds must be a BackgroundStore; got {type(backgrounds).__name__}")
    artists = _check_artists(animated)
    key = static_fingerprint(figure, artists)
    if key in backgrounds:
        return False
    canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else FigureCanvasAgg(figure)
    hidden = [a for a in artists if a.get_visible()]
    for artist in hidden:
        artist.set_visible(False)  # animated artists are left out of a draw anyway; this holds for unmarked ones too
    try:
        FigureCanvasAgg.draw(canvas)
    finally:
        for artist in hidden:
            artist.set_visible(True)
    backgrounds.put(key, canvas.copy_from_bbox(figure.bbox), tuple(figure.bbox.size))
    return True
