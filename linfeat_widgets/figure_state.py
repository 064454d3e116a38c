"""A fingerprint of what a figure's full draw puts on screen, leaving out its animated artists.

A host blits a panel by restoring the *background* (the figure drawn without its animated
artists) and drawing the animated artists over it. A background stays valid for as long as
everything else on the figure looks the same: the limits, scales, ticks and labels, the
static lines, texts, collections and patches. :func:`static_fingerprint` hashes exactly
that state, so a host can keep the backgrounds of several states (a width, a layer) and
restore the right one when a switch comes back to a state it has drawn before, instead of
drawing the whole figure again.

Two figures in the same state (the same size, dpi and artists, built by the same code) have
the same fingerprint, so a background drawn on a hidden twin figure can stand in for the
shown one's. An artist of a kind this module does not know how to describe makes the
fingerprint unique (it never matches another), so such a figure is always drawn in full:
a missed reuse costs time, never a wrong picture.

This module uses matplotlib only.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.offsetbox import OffsetBox
from matplotlib.patches import Patch
from matplotlib.spines import Spine
from matplotlib.text import Text
from matplotlib.ticker import NullLocator

__all__ = ["static_fingerprint"]

_unique = itertools.count()


class _Hasher:
    def __init__(self):
        self._h = hashlib.blake2b(digest_size=16)

    def value(self, *values) -> None:
        self._h.update(repr(values).encode())

    def array(self, array) -> None:
        a = np.ascontiguousarray(np.asarray(array))
        if a.dtype == object:
            self.value(a.tolist())
            return
        self._h.update(repr((a.dtype.str, a.shape)).encode())
        self._h.update(a.tobytes())

    def digest(self) -> bytes:
        return self._h.digest()


def _common(h: _Hasher, artist: Artist) -> None:
    h.value(type(artist).__name__, artist.get_zorder(), artist.get_alpha(), artist.get_clip_on())


def _axes(h: _Hasher, ax: Axes) -> None:
    h.value(
        ax.get_position().bounds,
        ax.get_xlim(),
        ax.get_ylim(),
        ax.get_xscale(),
        ax.get_yscale(),
        ax.get_facecolor(),
        ax.get_frame_on(),
        ax.get_axisbelow(),
    )


def _axis(h: _Hasher, axis: Axis) -> None:
    # the ticks follow from the limits, the locators and the formatters: hash where they fall and what they say
    # the locators' own output (get_minorticklocs would locate the major ticks a second time to drop overlaps)
    minor = np.zeros(0) if isinstance(axis.minor.locator, NullLocator) else np.asarray(axis.minor.locator())
    for ticker, locs in ((axis.major, np.asarray(axis.major.locator())), (axis.minor, minor)):
        h.array(locs)
        h.value(type(ticker.locator).__name__, type(ticker.formatter).__name__, ticker.formatter.format_ticks(locs))
    h.value(axis.get_inverted(), getattr(axis, "_major_tick_kw", None), getattr(axis, "_minor_tick_kw", None))


def _line(h: _Hasher, line: Line2D) -> None:
    h.array(line.get_xydata())
    h.value(
        line.get_color(),
        line.get_linewidth(),
        line.get_linestyle(),
        line.get_marker(),
        line.get_markersize(),
        line.get_markerfacecolor(),
        line.get_markeredgecolor(),
        line.get_markeredgewidth(),
        line.get_drawstyle(),
    )


def _text(h: _Hasher, text: Text) -> None:
    # an axis label, an offset text or an Axes title is placed by the draw itself (from the ticks' extents):
    # its position then follows from the rest, and hashing it would tell a drawn figure from an undrawn twin
    placed = getattr(text, "_linfeat_placed", False)
    h.value(
        text.get_text(),
        None if placed else text.get_unitless_position(),
        text.get_color(),
        text.get_fontsize(),
        text.get_fontweight(),
        text.get_fontfamily(),
        text.get_fontstyle(),
        text.get_rotation(),
        text.get_horizontalalignment(),
        text.get_verticalalignment(),
        text.get_bbox_patch() is not None,
    )


def _collection(h: _Hasher, collection: Collection) -> None:
    paths = collection.get_paths()
    # one hash for all the paths (a layer's features are a hundred lines): their vertices end to end, and the lengths
    h.array(np.array([len(path.vertices) for path in paths]))
    if paths:
        h.array(np.concatenate([path.vertices for path in paths]))
        codes = [path.codes for path in paths if path.codes is not None]
        h.value(len(codes))
        if codes:
            h.array(np.concatenate(codes))
    h.array(collection.get_offsets())
    h.array(collection.get_facecolor())
    h.array(collection.get_edgecolor())
    h.array(collection.get_linewidth())
    h.value(collection.get_linestyle())
    sizes = getattr(collection, "get_sizes", None)
    if sizes is not None:
        h.array(sizes())


def _spine(h: _Hasher, spine: Spine) -> None:
    # a spine's path is placed at draw time, from the limits: hash where it is asked to be, not its path
    h.value(
        spine.spine_type,
        getattr(spine, "_position", None),
        getattr(spine, "_bounds", None),
        spine.get_edgecolor(),
        spine.get_linewidth(),
        spine.get_linestyle(),
    )


def _patch(h: _Hasher, patch: Patch) -> None:
    h.array(patch.get_path().vertices)
    h.array(patch.get_patch_transform().get_matrix())
    h.value(
        patch.get_facecolor(), patch.get_edgecolor(), patch.get_linewidth(), patch.get_linestyle(), patch.get_fill()
    )


def _image(h: _Hasher, image: AxesImage) -> None:
    h.array(image.get_array())
    h.value(image.get_extent(), image.get_cmap().name, image.get_clim())


# the kinds described, most specific first; an artist of any other kind is described by nothing at all
_DESCRIBE = (
    (Axes, _axes),
    (Axis, _axis),
    (Line2D, _line),
    (Text, _text),
    (Collection, _collection),
    (Spine, _spine),
    (Patch, _patch),
    (AxesImage, _image),
    # a legend's place and boxes follow from its contents (visited) and its fixed anchor
    (Legend, lambda h, legend: h.value(legend._loc, legend.get_frame_on())),
    (OffsetBox, lambda h, box: None),
)


def _axis_texts(axis: Axis) -> tuple[Text, Text]:
    return axis.label, axis.offsetText


def static_fingerprint(figure: Figure, animated: Iterable[Artist] = ()) -> bytes:
    """16 bytes that change whenever a full draw of ``figure`` without ``animated`` would.

    Parameters
    ----------
    figure : the Figure.
    animated : artists left out (a panel's animated artists, redrawn over the background);
        their children are left out with them.

    Returns
    -------
    bytes, equal for two figures whose backgrounds would be pixel-identical: the same size
    and dpi, and the same artists in the same states. A visible artist of a kind not
    described here (see ``_DESCRIBE``) makes the result unique.
    """
    if not isinstance(figure, Figure):
        raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
    skip = {id(a) for a in animated}
    for ax in figure.get_axes():
        for text in (ax.title, ax._left_title, ax._right_title, *_axis_texts(ax.xaxis), *_axis_texts(ax.yaxis)):
            text._linfeat_placed = True
    h = _Hasher()
    h.value(tuple(figure.get_size_inches()), figure.dpi, figure.get_facecolor(), figure.get_edgecolor())

    def visit(artist: Artist) -> None:
        if id(artist) in skip:
            return
        visible = artist.get_visible()
        h.value(type(artist).__name__, visible)
        if not visible:
            return
        if artist is not figure:
            _common(h, artist)
            for kind, describe in _DESCRIBE:
                if isinstance(artist, kind):
                    describe(h, artist)
                    break
            else:
                h.value("unknown", next(_unique))  # never the same twice: always drawn in full
        if isinstance(artist, Axis):
            children = _axis_texts(artist)  # not the ticks: described by the axis
        else:
            children = artist.get_children()
        for child in children:
            visit(child)

    visit(figure)
    return h.digest()
