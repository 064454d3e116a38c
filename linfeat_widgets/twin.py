"""A board's twin: the same panels on hidden Agg figures, drawing other states ahead of the user.

A switch of width or layer changes a panel's limits and static lines, so its figure must
be drawn again in full, unless its host already keeps a background of that state (see
:class:`~linfeat_widgets.canvas.BackgroundStore`). A :class:`TwinBoard` draws such states
ahead, in the kernel's idle time, on figures nobody sees: the same panels, sizes, dpi and
theme as the shown board's, so that a background drawn there is the one the shown figure
would draw. The shown figures are never touched.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping

from .canvas import FigureHost, new_figure, prerender
from .panel_specs import STATES, PanelBoard, PanelView

__all__ = ["TwinBoard"]


class TwinBoard:
    """The panels of ``board`` on hidden Agg figures; what they draw ahead goes to the ``hosts``' stores.

    Parameters
    ----------
    board : the shown :class:`~linfeat_widgets.panel_specs.PanelBoard`.
    hosts : name -> the shown :class:`~linfeat_widgets.canvas.FigureHost` of each panel.
    theme, layout, dpi : the options ``board`` was built with.

    Attributes
    ----------
    board : the twin's own PanelBoard (Agg figures).
    names : the panels it draws ahead: those whose arrays are at hand (not the theory
        panels, computed in the background on demand).
    """

    def __init__(self, board: PanelBoard, hosts: Mapping[str, FigureHost], *, theme, layout, dpi: float):
        self.shown, self.hosts = board, hosts
        self.board = PanelBoard(
            board.rows, board.context, lambda size: new_figure(size, dpi, "image"), theme=theme, layout=layout, dpi=dpi
        )
        self.names = tuple(name for name in self.board.names if not self.board.specs[name].theory)
        self._drawn: set[tuple] = set()

    def __repr__(self) -> str:
        return f"TwinBoard(names={self.names}, states drawn={len(self._drawn)})"

    def forget(self) -> None:
        """Forget which states were drawn ahead (the runs changed: draw them again)."""
        self._drawn.clear()

    def draw_ahead(self, run: Hashable, view: PanelView, names: Iterable[str]) -> Iterator[None]:
        """Draw ``names`` in the state ``view`` shows and keep their backgrounds; a generator, one figure per step.

        ``run`` names the run ``view`` shows (its Config). Each state is drawn once, at the
        step ``view`` selects: most panels' backgrounds do not depend on the step, and one
        whose limits grew at another step is drawn in full on the switch (then kept).
        """
        names = [name for name in names if name in self.names]
        sizes = tuple((tuple(f.get_size_inches()), f.dpi) for f in self.shown.figures.values())
        state = (run, view.layer, tuple(names), view.compare, view.fit_step, view.log_steps, sizes)
        if not names or state in self._drawn:
            return
        self._drawn.add(state)
        self.board.draw(view, STATES, names)
        for name in names:
            shown, hidden = self.shown.figures[name], self.board.figures[name]
            if hidden.dpi != shown.dpi:  # ipympl draws at the screen's pixel ratio
                hidden.set_dpi(shown.dpi)
            if tuple(hidden.get_size_inches()) != tuple(shown.get_size_inches()):  # resized in the browser
                hidden.set_size_inches(shown.get_size_inches())
            if prerender(hidden, self.board.panels[name].animated, self.hosts[name].backgrounds):
                yield
