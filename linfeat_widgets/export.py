"""Figures and animations for slides, drawn by the same panels the Explorer shows.

A :class:`PanelFigure` lays the panels of a selection out on one matplotlib Figure with an
Agg canvas (each panel in a sub-figure of its registered size, rows as in
:func:`~linfeat_widgets.panel_specs.panel_rows`, a status line as the title) and draws
them through a :class:`~linfeat_widgets.panel_specs.PanelBoard`, so a saved figure and
every frame of an animation are drawn by exactly the code that draws the widget.
:func:`save_figure` writes one view as PNG, SVG or PDF; :func:`animate` writes a GIF
(Pillow) or an MP4 (imageio-ffmpeg) over saved steps. Files are written under a temporary
name beside the target and moved into place only once complete, so a failed export never
destroys an earlier file.

This module uses matplotlib only (no ipywidgets): the command line uses it too.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._checks import check_float
from ._files import write_atomically
from .panel_specs import DEFAULT_PANELS, PANELS, STATES, PanelBoard, PanelContext, PanelView, panel_rows
from .themes import Theme, check_theme
from .training import History

__all__ = [
    "ANIMATION_FORMATS",
    "FIGURE_FORMATS",
    "PanelFigure",
    "animate",
    "context_of",
    "save_figure",
    "status_line",
]

#: File extensions :func:`save_figure` writes.
FIGURE_FORMATS = (".png", ".svg", ".pdf")
#: File extensions :func:`animate` writes.
ANIMATION_FORMATS = (".gif", ".mp4")

# room for the status line above the panels, in inches
_TITLE_HEIGHT = 0.4
# a GIF stores frame durations in hundredths of a second; ffmpeg needs some frame rate
_MAX_FPS = 100.0


def status_line(history: History, step: int) -> str:
    """The Explorer's status line as plain text: the step, its errors and the run's settings.

    Parameters
    ----------
    history : the run.
    step : a saved step of it.
    """
    i = history.index(step)
    width, depth = history.shapes[0][0], len(history.shapes) // 2 - 1
    paradigm = history.config.get("paradigm", "all")
    what = "ridge solution" if paradigm == "ridge" else f"SGD iteration {int(step):,}"
    return (
        f"{what}   train error {history.train_error[i]:.4g}   test error {history.test_error[i]:.4g}   "
        f"(width {width}, depth {depth}, paradigm {paradigm})"
    )


class PanelFigure:
    """The panels of a selection on one Agg Figure, with a title line above them.

    Parameters
    ----------
    panels : what :func:`~linfeat_widgets.panel_specs.panel_rows` accepts: ``"all"``,
        names, or rows of names; default the homework's five.
    context : the :class:`~linfeat_widgets.panel_specs.PanelContext` (dataset, number of
        principal features, linearized overlay); ``animated`` is ignored (the panels are
        built animated, for :meth:`frame`; a saved file shows every artist).
    dpi : resolution of the figure (pixels per inch).
    theme : ``"default"``, ``"lecture"`` (large fonts and thick lines, for slides) or a
        :class:`~linfeat_widgets.themes.Theme`, as the Explorer takes it.

    Attributes
    ----------
    figure : the composed Figure, size (max row width, sum of row heights + title) inches.
    board : the :class:`~linfeat_widgets.panel_specs.PanelBoard` on its sub-figures.
    title : the title's Text artist.
    """

    def __init__(
        self,
        panels: str | Iterable = DEFAULT_PANELS,
        context: PanelContext | None = None,
        dpi: float = 80,
        theme: str | Theme = "default",
    ):
        if not isinstance(context, PanelContext):
            raise ValueError(f"context must be a PanelContext; got {type(context).__name__}")
        dpi = check_float("dpi", dpi, positive=True)
        theme = check_theme(theme)
        rows = panel_rows(panels)
        widths = [sum(PANELS[name].size[0] for name in row) for row in rows]
        heights = [max(PANELS[name].size[1] for name in row) for row in rows]
        total_width, total_height = max(widths), sum(heights) + _TITLE_HEIGHT
        self.figure = Figure(figsize=(total_width, total_height), dpi=dpi)
        FigureCanvasAgg(self.figure)
        # nested sub-figures (a sub-figure ignores the placement of a nested gridspec): a
        # title band, then one per row, then one per panel in the row
        bands = self.figure.subfigures(len(rows) + 1, 1, height_ratios=[_TITLE_HEIGHT, *heights], hspace=0)
        cells = []
        for band, row, width in zip(bands[1:], rows, widths):
            ratios = [PANELS[name].size[0] for name in row]
            if total_width - width > 1e-9:
                ratios.append(total_width - width)  # rows narrower than the widest are left-aligned
            row_cells = np.atleast_1d(band.subfigures(1, len(ratios), width_ratios=ratios, wspace=0))
            for cell in row_cells[: len(row)]:
                # the board places each Axes with margins in inches, measured from its figure's size
                cell.get_size_inches = _size_inches(cell)
                cells.append(cell)
        queue = iter(cells)
        # animated artists: a canvas.draw() leaves them out (the background to blit over),
        # savefig draws them
        self.board = PanelBoard(
            rows, dataclasses.replace(context, animated=True), lambda size: next(queue), theme=theme
        )
        assert list(self.board.figures.values()) == cells, "the board built its figures out of row order"
        self.title = self.figure.suptitle("", y=1 - 0.08 / total_height, va="top", fontsize=theme.label_size)
        self._last: tuple | None = None
        self._background = None

    def __repr__(self) -> str:
        return f"PanelFigure(rows={self.board.rows}, size={tuple(self.figure.get_size_inches())})"

    def draw(self, view: PanelView, title: str | None = None) -> dict[str, bool]:
        """Draw ``view`` into the panels and set the title (default :func:`status_line` of its step).

        When only the step moved since the last draw (same history, layer and compare), only
        what follows the step is updated, as in the Explorer. Returns what
        :meth:`PanelBoard.draw` returns: name -> whether that panel's layout changed.
        """
        key = (id(view.history), view.layer, view.compare)
        changed = ("iteration",) if key == self._last else STATES
        layout = self.board.draw(view, changed)
        self._last = key
        self.title.set_text(status_line(view.history, view.step) if title is None else str(title))
        return layout

    def frame(self, view: PanelView, title: str | None = None) -> np.ndarray:
        """Draw ``view`` and render it: an RGB array (height, width, 3) of uint8.

        As the Explorer's hosts do, the figure is drawn in full only when a panel's layout
        changed (limits, a new run); otherwise the background of the last full draw is
        restored and only the artists that move from step to step (and the title) are
        drawn over it, which is what makes long animations quick.
        """
        layout = self.draw(view, title)
        canvas = self.figure.canvas
        self.title.set_animated(True)
        if self._background is None or any(layout.values()):
            canvas.draw()  # everything but the animated artists
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        else:
            canvas.restore_region(self._background)
        for panel in self.board.panels.values():
            for artist in sorted(panel.animated, key=lambda a: a.get_zorder()):
                if artist.get_visible():
                    self.figure.draw_artist(artist)
        self.figure.draw_artist(self.title)
        self.title.set_animated(False)
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()

    def close(self) -> None:
        """Release the figure's artists."""
        self.figure.clear()


def _size_inches(cell):
    def get_size_inches():
        return np.array([cell.bbox.width, cell.bbox.height]) / cell.figure.dpi

    return get_size_inches


def context_of(view: PanelView) -> PanelContext:
    """The :class:`PanelContext` a view's caches were made for: its dataset, principal features, overlay."""
    linearized = view.theory is not None and view.theory.linearized is not None
    return PanelContext(view.snapshots.data, n_principal=view.snapshots.n_principal, linearized=linearized)


# --- files ---------------------------------------------------------------------------------
def _check_path(path, formats: Sequence[str]) -> Path:
    """``path`` as a Path whose extension is one of ``formats``, in a folder that exists or can be made."""
    shown = ", ".join(formats)
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"path must be a file name ending in {shown}; got {path!r}")
    path = Path(path)
    if path.suffix.lower() not in formats:
        raise ValueError(f"path must end in one of {shown}; got {str(path)!r}")
    if path.is_dir():
        raise ValueError(f"path must be a file name, not a folder; got {str(path)!r}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"path {str(path)!r}: its folder cannot be made ({exc.strerror or exc})") from None
    return path


def save_figure(
    path: str | os.PathLike,
    view: PanelView,
    *,
    panels: str | Iterable = DEFAULT_PANELS,
    context: PanelContext | None = None,
    title: str | None = None,
    dpi: float | None = None,
    theme: str | Theme = "default",
) -> Path:
    """Save the panels of ``view`` as one figure: PNG, SVG or PDF by ``path``'s extension.

    Parameters
    ----------
    path : the file to write; its folder is made if missing. An earlier file there is
        replaced only once the new one is complete.
    view : what to draw (run, caches, step, layer).
    panels : which panels, as :class:`~linfeat_widgets.explorer.Explorer` takes them.
    context : how to build the panels; default :func:`context_of` the view.
    title : the figure's title; default :func:`status_line` of the view's step.
    dpi : resolution of a PNG (default 150; SVG and PDF are vector graphics).
    theme : the panels' fonts and lines: ``"default"``, ``"lecture"`` (for slides) or a
        :class:`~linfeat_widgets.themes.Theme`.

    Returns
    -------
    Path of the written file.
    """
    path = _check_path(path, FIGURE_FORMATS)
    dpi = 150.0 if dpi is None else check_float("dpi", dpi, positive=True)
    composed = PanelFigure(panels, context_of(view) if context is None else context, dpi=dpi, theme=theme)
    try:
        composed.draw(view, title)
        fmt = path.suffix.lower().lstrip(".")
        return write_atomically(path, lambda tmp: composed.figure.savefig(tmp, format=fmt, dpi=dpi))
    finally:
        composed.close()


def _check_steps(steps, history: History) -> list[int]:
    if steps is None:
        return [int(s) for s in history.steps]
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Iterable):
        raise ValueError(f"steps must be None (every saved step) or a sequence of saved steps; got {steps!r}")
    chosen = []
    for step in steps:
        if not isinstance(step, (int, np.integer)) or isinstance(step, bool) or int(step) not in history:
            raise ValueError(
                f"steps must be saved steps of the run ({int(history.steps[0])}, ..., {int(history.steps[-1])}, "
                f"{len(history)} snapshots); got {step!r}"
            )
        chosen.append(int(step))
    if not chosen:
        raise ValueError("steps must hold at least one saved step; got an empty sequence")
    return chosen


def _check_fps(fps) -> float:
    fps = check_float("fps", fps, positive=True)
    if fps > _MAX_FPS:
        raise ValueError(f"fps must be at most {_MAX_FPS:g} frames per second; got {fps!r}")
    return fps


def animate(
    path: str | os.PathLike,
    view: PanelView,
    steps: Iterable[int] | None = None,
    fps: float = 10,
    *,
    panels: str | Iterable = DEFAULT_PANELS,
    context: PanelContext | None = None,
    dpi: float = 80,
    progress: bool = True,
    theme: str | Theme = "default",
) -> Path:
    """Write an animation over saved steps: GIF through Pillow, MP4 through imageio-ffmpeg.

    Each frame is ``view`` moved to one step, drawn by the panels on an Agg figure with
    the status line as its title; nothing on screen is touched.

    Parameters
    ----------
    path : ``.gif`` or ``.mp4``; its folder is made if missing. An earlier file there is
        replaced only once the new one is complete.
    view : the run, its caches, layer and compare switch (its step is not used).
    steps : the saved steps to show, in order; default all of them.
    fps : frames per second, in (0, 100].
    panels, context : as for :func:`save_figure`.
    dpi : resolution of the frames.
    progress : show a progress bar (tqdm) while drawing.
    theme : as for :func:`save_figure`.

    Returns
    -------
    Path of the written file.
    """
    path = _check_path(path, ANIMATION_FORMATS)
    chosen = _check_steps(steps, view.history)
    fps = _check_fps(fps)
    dpi = check_float("dpi", dpi, positive=True)
    theme = check_theme(theme)
    if path.suffix.lower() == ".mp4":
        try:
            import imageio_ffmpeg
        except ImportError:
            raise ValueError(
                "path: writing .mp4 needs imageio-ffmpeg (pip install imageio-ffmpeg, which brings its own "
                "ffmpeg); or write a .gif"
            ) from None
        writer = _mp4_writer(imageio_ffmpeg, fps)
    else:
        writer = _gif_writer(fps)

    from tqdm.auto import tqdm

    composed = PanelFigure(panels, context_of(view) if context is None else context, dpi=dpi, theme=theme)

    def frames():
        with tqdm(total=len(chosen), desc=f"animate {path.name}", unit="frame", disable=not progress) as bar:
            for step in chosen:
                yield composed.frame(dataclasses.replace(view, step=step))
                bar.update(1)

    try:
        return write_atomically(path, lambda tmp: writer(tmp, frames()))
    finally:
        composed.close()


def _gif_writer(fps: float):
    from PIL import Image

    # GIF durations are whole hundredths of a second: round to the nearest representable
    duration = max(10, round(100.0 / fps) * 10)

    def write(tmp: Path, frames) -> None:
        # one palette, from the first frame, for all (the panels' colors barely change), so
        # colors do not flicker; frames are kept paletted, a third of their RGB size
        paletted, palette = [], None
        for frame in frames:
            image = Image.fromarray(frame)
            if palette is None:
                palette = image.quantize(colors=255, method=Image.Quantize.FASTOCTREE)
                paletted.append(palette)
            else:
                paletted.append(image.quantize(palette=palette, dither=Image.Dither.NONE))
        paletted[0].save(
            tmp, format="GIF", save_all=True, append_images=paletted[1:], duration=duration, loop=0, optimize=False
        )

    return write


def _mp4_writer(imageio_ffmpeg, fps: float):
    def write(tmp: Path, frames) -> None:
        writer = None
        try:
            for frame in frames:
                # yuv420p (what players expect) needs even sizes: pad with white
                height, width = frame.shape[:2]
                padded = np.full((height + height % 2, width + width % 2, 3), 255, dtype=np.uint8)
                padded[:height, :width] = frame
                if writer is None:
                    writer = imageio_ffmpeg.write_frames(
                        str(tmp),
                        (padded.shape[1], padded.shape[0]),
                        fps=fps,
                        macro_block_size=1,
                        codec="libx264",
                        output_params=["-f", "mp4"],
                        ffmpeg_log_level="error",
                    )
                    writer.send(None)
                writer.send(np.ascontiguousarray(padded))
        finally:
            if writer is not None:
                writer.close()

    return write
