"""Panels register, the Explorer composes: what each panel is called, follows and draws.

A :class:`PanelSpec` describes one panel: its name, the size of its figure, which parts
of the state it follows (:data:`STATES`: ``"history"``, the run shown; ``"iteration"``;
``"layer"``; ``"compare"``), how to build the panel on an Axes and how to draw a
:class:`PanelView` (the run, its caches and the selected step) into it. :data:`PANELS` is the
registry, name to spec; :data:`LAYOUT` is the default arrangement in rows.

A :class:`PanelBoard` builds the figures and panels of a selection of names and redraws
exactly those that a change affects. The :class:`~linfeat_widgets.explorer.Explorer`
shows a board's figures in widgets; anything else that draws the panels (a saved figure,
an animation) uses a board on plain Agg figures, so there is one plotting code path.
Adding a panel touches this module and the panel's own class, not the Explorer.

This module uses matplotlib only (no ipywidgets).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .data import Dataset
from .ensemble import EnsembleCache
from .panels import ErrorPanel, FeaturePanel, Panel, PredictionPanel, PrincipalFeaturePanel, SpectrumPanel
from .snapshots import SnapshotCache
from .themes import REFERENCE_DPI, Theme, apply_theme, check_theme, panel_sizes
from .theory_cache import THEORY, TheoryCache
from .theory_panels import MovementPanel, ResidualPanel, SpectrumHistoryPanel
from .training import History

__all__ = [
    "DEFAULT_PANELS",
    "LAYOUT",
    "PANELS",
    "STATES",
    "PanelBoard",
    "PanelContext",
    "PanelSpec",
    "PanelView",
    "panel_rows",
]

#: What a panel may follow: the run shown, the selected step, the layer, the compare switch,
#: the features' scale (fit to the selected step or the whole run), the error panel's step axis.
STATES = ("history", "iteration", "layer", "compare", "fit_step", "log_steps")

# inches: left, right, bottom, top; fixed, because a layout engine would re-measure every
# tick label at every full draw
_MARGINS = (0.7, 0.25, 0.48, 0.34)


@dataclass(frozen=True)
class PanelContext:
    """What a panel needs to be built: fixed for the lifetime of a board.

    Attributes
    ----------
    data : the Dataset every run of the sweep trained on.
    n_principal : principal features drawn.
    animated : mark the per-snapshot artists animated (for blitting hosts).
    linearized : the sweep holds linearized runs (panels then build their overlays).
    ensemble : the sweep holds several seeds (panels then build their quartile bands).
    """

    data: Dataset
    n_principal: int = 4
    animated: bool = False
    linearized: bool = False
    ensemble: bool = False


@dataclass(frozen=True, eq=False)
class PanelView:
    """What the panels draw: one run, its caches and the selected state.

    Attributes
    ----------
    history : the :class:`History` shown.
    snapshots : its :class:`SnapshotCache` (predictions, features, spectra per step).
    step : the selected saved step.
    layer : whose linearized features are drawn (a parameter name or ``"all"``).
    compare : draw the initialization's features behind the selected step's.
    theory : the run's :class:`~linfeat_widgets.theory_cache.TheoryCache` (theory arrays
        and the linearized model), or None: then the theory panels cannot be drawn and no
        linearized model is overlaid.
    compute_theory : a theory panel whose arrays are not computed yet computes them (True),
        or shows that they are being computed elsewhere (False: the Explorer computes
        them in a background thread and draws them when they are ready).
    ensemble : the :class:`~linfeat_widgets.ensemble.EnsembleCache` of the run's
        configuration across seeds, or None: then no quartile bands are drawn.
    fit_step : the features panel's y-limits fit the selected step (True), or the
        selected layer over the whole run (False, the default: one scale while scrubbing).
    log_steps : the error panel puts the steps on a log axis.
    """

    history: History
    snapshots: SnapshotCache
    step: int
    layer: str = "0.weight"
    compare: bool = True
    theory: TheoryCache | None = None
    compute_theory: bool = True
    ensemble: EnsembleCache | None = None
    fit_step: bool = False
    log_steps: bool = False

    @classmethod
    def of(
        cls,
        history: History,
        data: Dataset,
        step: int | None = None,
        *,
        layer: str = "0.weight",
        compare: bool = True,
        linearized: History | None = None,
        n_grid: int = 256,
    ) -> PanelView:
        """A view of one History with fresh caches, e.g. to draw a board outside the Explorer.

        ``step`` defaults to the last saved one; ``linearized`` is the linearized model's
        History of the same run, if any.
        """
        snapshots = SnapshotCache(history, data, n_grid=n_grid)
        theory = TheoryCache(history, data, grid=snapshots.grid, linearized=linearized)
        step = int(history.steps[-1]) if step is None else step
        history.index(step)  # ValueError naming the saved steps
        return cls(history, snapshots, int(step), layer, compare, theory)

    def require_theory(self, panel: str) -> TheoryCache:
        """:attr:`theory`, or a ValueError saying that ``panel`` needs it."""
        if self.theory is None:
            raise ValueError(f"the {panel!r} panel needs a view with theory (a TheoryCache); got theory=None")
        return self.theory

    def theory_for(self, panel: str, names) -> TheoryCache | None:
        """:attr:`theory` when ``names`` may be read now (computed, or :attr:`compute_theory`), else None."""
        theory = self.require_theory(panel)
        return theory if self.compute_theory or theory.ready(names) else None

    @property
    def linearized_prediction(self):
        """The linearized model's prediction (m,) on the grid at :attr:`step`, or None."""
        return None if self.theory is None else self.theory.linearized_prediction(self.step)


@dataclass(frozen=True)
class PanelSpec:
    """One registered panel.

    Attributes
    ----------
    name : the name ``Explorer(panels=...)`` accepts, e.g. ``"prediction"``.
    attribute : the Explorer attribute holding the panel, e.g. ``"prediction_panel"``.
    description : one line for documentation and error messages.
    size : (width, height) of its figure in inches.
    depends : the :data:`STATES` whose change redraws the panel.
    build : ``build(ax, context) -> Panel``: the panel with all its artists, built once.
    draw : ``draw(panel, view, changed) -> bool``: update the panel in place for ``view``;
        ``changed`` (a frozenset, non-empty) holds which of ``depends`` changed (all of
        them on the first draw). Returns True when the Axes' layout changed (a full
        redraw is due), False when redrawing the panel's animated artists suffices.
    margins : (left, right, bottom, top) of the Axes inside the figure, in inches.
    theory : the arrays of the run's :class:`~linfeat_widgets.theory_cache.TheoryCache`
        it reads (from :data:`~linfeat_widgets.theory_cache.THEORY`), computed before it
        can draw a run.
    title : the figure's title: what the panel shows (a panel naming the layer adds it
        in its Axes' own title).
    caption : one line for a student who never read the homework: how to read the panel
        (the Explorer shows it under the panel and as its tooltip).
    """

    name: str
    attribute: str
    description: str
    size: tuple[float, float]
    depends: frozenset[str]
    build: Callable[[Axes, PanelContext], Panel]
    draw: Callable[[Panel, PanelView, frozenset[str]], bool]
    margins: tuple[float, float, float, float] = field(default=_MARGINS)
    theory: frozenset[str] = frozenset()
    title: str = ""
    caption: str = ""

    def __post_init__(self):
        unknown = set(self.depends) - set(STATES)
        if unknown:
            raise ValueError(f"depends must name states from {STATES}; got {sorted(unknown)}")
        unknown = set(self.theory) - set(THEORY)
        if unknown:
            raise ValueError(f"theory must name arrays from {THEORY}; got {sorted(unknown)}")


# --- the five panels of the homework -----------------------------------------------------
def _draw_prediction(panel: PredictionPanel, view: PanelView, changed: frozenset[str]) -> bool:
    linearized = view.linearized_prediction if panel.linearized is not None else None
    return panel.update(view.snapshots.snapshot(view.step), linearized)


def _draw_errors(panel: ErrorPanel, view: PanelView, changed: frozenset[str]) -> bool:
    layout = panel.set_log_steps(view.log_steps)
    if "history" in changed:
        history = view.history
        linearized = None if view.theory is None else view.theory.linearized
        layout = layout | panel.set_history(
            history.steps,
            history.train_error,
            history.test_error,
            None if linearized is None else linearized.test_error,
        )
    if "history" in changed and panel.train_band is not None:
        band = None if view.ensemble is None else view.ensemble.errors
        layout = panel.set_bands(view.history.steps, *((None, None) if band is None else (band.train, band.test)))
    snap = view.snapshots.snapshot(view.step)
    return panel.update(view.step, snap.train_error, snap.test_error) or layout


def _draw_features(panel: FeaturePanel, view: PanelView, changed: frozenset[str]) -> bool:
    snapshots = view.snapshots
    initial = snapshots.features(0, view.layer) if view.compare else None
    current = snapshots.features(view.step, view.layer)
    if view.fit_step:
        # the selected step's own scale: early steps' small features fill the panel
        panel.fit_range(current.values, [] if initial is None else initial.values)
    elif changed & {"history", "layer", "fit_step"}:
        # one scale for the whole run, from every snapshot of the layer (computed once per run and layer)
        panel.fit_range(*snapshots.feature_range(view.layer))
    return panel.update(current, initial)


def _first_and_last(view: PanelView):
    return view.snapshots.snapshot(0), view.snapshots.snapshot(int(view.history.steps[-1]))


def _draw_spectrum(panel: SpectrumPanel, view: PanelView, changed: frozenset[str]) -> bool:
    first, last = _first_and_last(view)
    if "history" in changed:
        panel.reset(first.singular_values, last.singular_values)
    band = None if view.ensemble is None else view.ensemble.spectrum_band(view.step)
    return panel.update(view.snapshots.snapshot(view.step).singular_values, first.singular_values, band)


def _draw_principal(panel: PrincipalFeaturePanel, view: PanelView, changed: frozenset[str]) -> bool:
    if "history" in changed:
        first, last = _first_and_last(view)
        panel.reset(first.principal_features, last.principal_features)
    snap = view.snapshots.snapshot(view.step)
    return panel.update(snap.x, snap.principal_features)


def _draw_run(name: str, set_run: Callable[[TheoryCache], bool]):
    """The draw of a theory panel: the run's arrays once per run, then only the marker."""

    def draw(panel, view: PanelView, changed: frozenset[str]) -> bool:
        theory = view.theory_for(name, PANELS[name].theory)
        if theory is None:  # being computed elsewhere: say so, once per run
            return panel.set_pending() if "history" in changed or not panel.pending else False
        layout = set_run(panel, theory) if "history" in changed or panel.pending else False
        return panel.update(view.step) or layout

    return draw


_draw_movement = _draw_run(
    "movement",
    lambda panel, t: panel.set_run(t.movement.steps, t.movement.parameter_distance, t.movement.kernel_distance),
)
_draw_residual = _draw_run(
    "residual",
    lambda panel, t: panel.set_run(t.projections.steps, t.projections.coefficients, t.projections.singular_values),
)
_draw_spectrum_history = _draw_run("spectrum_history", lambda panel, t: panel.set_run(t.steps, t.spectrum))


_RUN_AND_STEP = frozenset({"history", "iteration"})

_SPECS = (
    PanelSpec(
        "prediction",
        "prediction_panel",
        "the network's prediction, the data, the ground truth and every hidden unit's ReLU",
        (6.0, 3.5),
        _RUN_AND_STEP,
        lambda ax, c: PredictionPanel(ax, c.data, animated=c.animated, linearized=c.linearized),
        _draw_prediction,
        title="Prediction f(x) and the hidden units",
        caption=(
            "Green: the network's output f(x) at the selected step; dotted: each hidden unit's ReLU, a grey dot "
            "at its elbow; orange: the noisy training points; blue dashed: the true function."
        ),
    ),
    PanelSpec(
        "errors",
        "error_panel",
        "train and test error against the iteration, the selected step marked",
        (4.4, 3.5),
        _RUN_AND_STEP | {"log_steps"},
        lambda ax, c: ErrorPanel(ax, animated=c.animated, linearized=c.linearized, bands=c.ensemble),
        _draw_errors,
        title="Train and test error",
        caption=(
            "Mean squared error on the training points and on the true function, against the SGD step; the "
            "vertical line marks the step shown."
        ),
    ),
    PanelSpec(
        "features",
        "feature_panel",
        "one layer's linearized features, beside the initialization's",
        (3.9, 3.0),
        frozenset({"history", "iteration", "layer", "compare", "fit_step"}),
        lambda ax, c: FeaturePanel(ax, animated=c.animated),
        _draw_features,
        title="Linearized features",
        caption=(
            "Each line is one feature: how f(x) changes as one parameter of the chosen layer moves (df/dθ). Grey "
            "dashed: the same features at initialization. Near initialization, training fits y with a combination"
            " of these."
        ),
    ),
    PanelSpec(
        "spectrum",
        "spectrum_panel",
        "singular values of the feature matrix at the selected step and at initialization",
        (3.3, 3.0),
        _RUN_AND_STEP,
        lambda ax, c: SpectrumPanel(ax, animated=c.animated, band=c.ensemble, n_principal=c.n_principal),
        _draw_spectrum,
        title="Singular values",
        caption=(
            "How strongly the feature matrix J(X) (one row per training point) stretches each direction, largest "
            "first. Gradient descent learns along large singular values first; ringed: the principal features' "
            "colors."
        ),
    ),
    PanelSpec(
        "principal",
        "principal_panel",
        "the top principal features as functions of x",
        (3.9, 3.0),
        _RUN_AND_STEP,
        lambda ax, c: PrincipalFeaturePanel(ax, c.n_principal, animated=c.animated),
        _draw_principal,
        title="Principal features",
        caption=(
            "The feature combinations along the top singular directions, J(x)v_j as functions of x: the shapes "
            "the network fits fastest. Colors match the singular values' rings."
        ),
    ),
    PanelSpec(
        "movement",
        "movement_panel",
        "how far the parameters and the kernel moved from the initialization, against the step",
        (4.2, 3.2),
        _RUN_AND_STEP,
        lambda ax, c: MovementPanel(ax, animated=c.animated),
        _draw_movement,
        margins=(0.7, 0.25, 0.48, 0.62),
        theory=frozenset({"movement"}),
        title="Movement from the initialization",
        caption=(
            "How far the parameters and the kernel K = J Jᵀ have moved from their initial values, relative to "
            "them: small movement means the linearization stays accurate."
        ),
    ),
    PanelSpec(
        "residual",
        "residual_panel",
        "the residual along each singular direction of the initial feature matrix, against the step",
        (5.2, 3.2),
        _RUN_AND_STEP,
        lambda ax, c: ResidualPanel(ax, animated=c.animated),
        _draw_residual,
        margins=(0.55, 1.6, 0.48, 0.34),
        theory=frozenset({"projections"}),
        title="Residual along singular directions",
        caption=(
            "The part of the remaining error y - f(X) along each singular direction of the initial features: "
            "while the features stay put, the parts along large singular values shrink first."
        ),
    ),
    PanelSpec(
        "spectrum_history",
        "spectrum_history_panel",
        "the top singular values of the feature matrix against the step",
        (4.2, 3.2),
        _RUN_AND_STEP,
        lambda ax, c: SpectrumHistoryPanel(ax, animated=c.animated),
        _draw_spectrum_history,
        theory=frozenset({"spectrum"}),
        title="Singular values over training",
        caption=(
            "The largest singular values of the feature matrix at every saved step: how the features themselves "
            "change while the network trains."
        ),
    ),
)

#: The registry: every panel the Explorer can show, by name.
PANELS: Mapping[str, PanelSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})

#: The panels an Explorer shows unless told otherwise (the homework's five).
DEFAULT_PANELS: tuple[str, ...] = ("prediction", "errors", "features", "spectrum", "principal")

#: The default arrangement: rows of panel names; a selection keeps this order.
LAYOUT: tuple[tuple[str, ...], ...] = (
    ("prediction", "errors"),
    ("features", "spectrum", "principal"),
    ("movement", "residual", "spectrum_history"),
)


def panel_rows(panels: str | Iterable = DEFAULT_PANELS) -> tuple[tuple[str, ...], ...]:
    """The rows of panel names a selection stands for.

    Parameters
    ----------
    panels : ``"all"`` (every registered panel), a sequence of names (arranged as in
        :data:`LAYOUT`), or a sequence of rows, each a sequence of names (arranged as
        given).

    Returns
    -------
    tuple of rows, each a non-empty tuple of distinct registered names.
    """
    accepted = ", ".join(map(repr, PANELS))
    if isinstance(panels, str):
        if panels == "all":
            return _arranged(tuple(PANELS))
        panels = (panels,)  # one name
    try:
        entries = list(panels)
    except TypeError:
        raise ValueError(f"panels must be 'all' or a sequence of names from {accepted}; got {panels!r}") from None
    if not entries:
        raise ValueError(f"panels must name at least one panel of {accepted}")
    nested = [not isinstance(entry, str) for entry in entries]
    if any(nested) and not all(nested):
        raise ValueError("panels must be a sequence of names or a sequence of rows of names, not a mixture")
    rows = [tuple(row) for row in entries] if all(nested) else [tuple(entries)]
    names = [name for row in rows for name in row]
    unknown = [name for name in names if not isinstance(name, str) or name not in PANELS]
    if unknown:
        raise ValueError(f"panels must be names from {accepted} or 'all'; got {', '.join(map(repr, unknown))}")
    if len(set(names)) < len(names):
        raise ValueError(f"panels must name each panel once; got {names}")
    if any(not row for row in rows):
        raise ValueError("panels: every row must name at least one panel")
    return tuple(rows) if all(nested) else _arranged(rows[0])


def _arranged(names: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """``names`` in the rows of :data:`LAYOUT`; a registered name LAYOUT lacks gets a row of its own."""
    chosen = set(names)
    rows = [tuple(name for name in row if name in chosen) for row in LAYOUT]
    placed = {name for row in LAYOUT for name in row}
    extra = tuple(name for name in PANELS if name in chosen and name not in placed)
    return tuple(row for row in (*rows, extra) if row)


def set_margins(figure: Figure, margins: tuple[float, float, float, float] = _MARGINS) -> None:
    """Place a figure's Axes with fixed margins ``(left, right, bottom, top)`` in inches."""
    left, right, bottom, top = margins
    width, height = figure.get_size_inches()
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height)


def _agg_figure(size: tuple[float, float], dpi: float = 80) -> Figure:
    figure = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


class PanelBoard:
    """The figures and panels of a selection, each built once, redrawn by what a change affects.

    Parameters
    ----------
    panels : what :func:`panel_rows` accepts: ``"all"``, names, or rows of names.
    context : the :class:`PanelContext` the panels are built with.
    new_figure : ``new_figure(size) -> Figure`` (size in inches); default a plain Figure
        with an Agg canvas at 80 dpi (for saving); the Explorer passes one that makes
        ipympl canvases when it shows them.
    theme : a name of :data:`~linfeat_widgets.themes.THEMES` (``"default"``,
        ``"lecture"``) or a :class:`~linfeat_widgets.themes.Theme`: fonts and line widths.
    layout : None (each panel at its registered size), or a name of
        :data:`~linfeat_widgets.themes.LAYOUTS` (``"wide"``, ``"compact"``) or a
        :class:`~linfeat_widgets.themes.GridLayout`: every row as wide as the layout, every
        panel as high.
    dpi : the figures' dpi, for a layout's sizes (which keep their pixels at any dpi).

    Attributes
    ----------
    rows : the names, in rows.
    names : the names, in row order.
    specs, figures, panels : name -> :class:`PanelSpec`, Figure, panel.
    titles : name -> the figure's title Text (the spec's title).
    theme : the :class:`~linfeat_widgets.themes.Theme` applied.
    """

    def __init__(
        self,
        panels: str | Iterable = DEFAULT_PANELS,
        context: PanelContext | None = None,
        new_figure: Callable[[tuple[float, float]], Figure] | None = None,
        *,
        theme: str | Theme = "default",
        layout=None,
        dpi: float = REFERENCE_DPI,
    ):
        if not isinstance(context, PanelContext):
            raise ValueError(f"context must be a PanelContext; got {type(context).__name__}")
        self.rows = panel_rows(panels)
        self.names = tuple(name for row in self.rows for name in row)
        self.context = context
        new_figure = _agg_figure if new_figure is None else new_figure
        self.specs = {name: PANELS[name] for name in self.names}
        self.theme = check_theme(theme)
        sizes = {} if layout is None else panel_sizes(self.rows, layout, dpi)
        self.figures: dict[str, Figure] = {}
        self.panels: dict[str, Panel] = {}
        self.titles = {}
        # room for the figure's title above whatever the panel puts over its Axes (a legend, a subtitle)
        title_room = (self.theme.title_size + 8.0) / 72.0
        for name, spec in self.specs.items():
            figure = new_figure(sizes.get(name, spec.size))
            with matplotlib.rc_context(self.theme.rc()):
                ax = figure.add_subplot()
                self.panels[name] = spec.build(ax, context)
            apply_theme(ax, self.theme)
            left, right, bottom, top = (m * self.theme.margin_scale for m in spec.margins)
            if spec.title:
                height = figure.get_size_inches()[1]
                self.titles[name] = figure.text(
                    0.5, 1 - 0.06 / height, spec.title, ha="center", va="top",
                    fontsize=self.theme.title_size, fontweight="bold",
                )  # fmt: skip
                top += title_room
            set_margins(figure, (left, right, bottom, top))
            self.figures[name] = figure

    def __repr__(self) -> str:
        return f"PanelBoard(rows={self.rows})"

    @property
    def theory(self) -> tuple[str, ...]:
        """The theory arrays (from :data:`~linfeat_widgets.theory_cache.THEORY`) the panels read."""
        needed = set().union(*(spec.theory for spec in self.specs.values()))
        return tuple(name for name in THEORY if name in needed)

    def affected(self, changed: Iterable[str]) -> tuple[str, ...]:
        """The names of the panels that follow any of the ``changed`` states."""
        changed = set(changed)
        return tuple(name for name, spec in self.specs.items() if spec.depends & changed)

    def draw(
        self, view: PanelView, changed: Iterable[str] = STATES, names: Iterable[str] | None = None
    ) -> dict[str, bool]:
        """Update, in place, every panel that follows one of the ``changed`` states.

        Parameters
        ----------
        view : what to show.
        changed : which of :data:`STATES` changed since the last draw; all of them (the
            default) on the first draw or after a new run.
        names : only these panels (default: all of the board's).

        Returns
        -------
        dict: name of each panel updated -> whether its layout changed (a full redraw of
        its figure is due; otherwise redrawing its animated artists suffices).
        """
        return dict(self.draw_each(view, changed, names))

    def draw_each(self, view: PanelView, changed: Iterable[str] = STATES, names: Iterable[str] | None = None):
        """:meth:`draw`, one panel at a time: yields (name, layout changed) after updating each panel.

        A host can then show each panel as soon as it is updated, the first row first,
        rather than after every panel's update.
        """
        changed = frozenset(changed)
        chosen = set(self.names if names is None else names)
        for name, spec in self.specs.items():
            mine = spec.depends & changed if name in chosen else frozenset()
            if mine:
                yield name, bool(spec.draw(self.panels[name], view, mine))
