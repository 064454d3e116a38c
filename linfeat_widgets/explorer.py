"""The Explorer: controls and panels composed, redrawn in place; ``explore`` builds one in a call.

The explorer keeps its state in traits (``width``, ``depth``, ``paradigm``, ``seed``,
``iteration``, ``layer``, ``compare``). A change, from a control or from code, marks what depends on it
and, once every consequence is settled (a new width may move the iteration to the nearest
saved step of the new run and the layer to one the new network has), redraws each
affected panel exactly once: a blit when only the snapshot moved, a full draw when the
axes changed. What a snapshot needs (prediction, features, SVD) comes from a
:class:`~linfeat_widgets.snapshots.SnapshotCache`, computed on first visit.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import html
import inspect
import numbers
import sys
import traceback
from collections.abc import Mapping

import ipywidgets as widgets
import numpy as np
from traitlets import Any, TraitError, TraitType, observe, validate

from ._checks import check_float, check_int
from .canvas import FigureHost, new_figure, resolve_mode
from .controls import (
    DepthSelector,
    IterationSlider,
    LayerSelector,
    ParadigmSelector,
    SeedSelector,
    StepButtons,
    WidthSelector,
    format_step,
)
from .dashboard import ChoiceView, close_tree, control_group, panel_card, panel_grid
from .data import Dataset, make_dataset
from .ensemble import EnsembleCache
from .models import mlp_sizes
from .panel_specs import DEFAULT_PANELS, PANELS, PanelBoard, PanelContext, PanelView
from .player import PlayControl
from .snapshots import SnapshotCache
from .themes import check_layout, check_theme
from .theory_cache import TheoryCache, linearized_history
from .training import Config, History, Sweep, sweep
from .training.minibatches import snapshot_steps
from .twin import TwinBoard
from .warmup import Warmer

__all__ = ["Explorer", "explore"]

_CONFIG = frozenset({"width", "depth", "paradigm", "seed"})
_STATE = ("width", "depth", "paradigm", "seed", "iteration", "layer", "compare", "fit_step", "log_steps")


class SelectionError(TraitError, ValueError):
    """A value the explorer cannot show; a ``ValueError`` (and a ``TraitError``, so traitlets rolls back)."""


def _whole(name: str, value, what: str) -> int:
    """``value`` as an int if it is a whole number (not a bool, string or fraction), else SelectionError."""
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    raise SelectionError(f"{name} must be an integer ({what}); got {value!r}")


def _flag(name: str, value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise SelectionError(f"{name} must be True or False; got {value!r}")


class _Whole(TraitType):
    """An integer trait that refuses, rather than truncates, 500.7, True and "500" (unlike CInt)."""

    default_value = 0
    info_text = "an integer"

    def validate(self, obj, value):
        return _whole(self.name, value, self.help)


class _Flag(TraitType):
    """A bool trait whose refusal is a ValueError too."""

    default_value = True
    info_text = "True or False"

    def validate(self, obj, value):
        return _flag(self.name, value)


def _as_sweep(source, data: Dataset | None) -> Sweep:
    """A Sweep from a Sweep, or from one History and its Dataset."""
    if isinstance(source, Sweep):
        if data is not None and data is not source.data:
            raise ValueError("data must be left out with a Sweep: the sweep knows its dataset")
        return source
    if isinstance(source, History):
        if not isinstance(data, Dataset):
            raise ValueError("data must be the Dataset the history was trained on (a History does not hold it)")
        sizes = mlp_sizes(source.model(0))
        if sizes is None:
            raise ValueError("history must come from one of this package's ReLU MLPs (make_mlp)")
        config = Config(width=sizes[1], depth=len(sizes) - 2, paradigm=str(source.config.get("paradigm", "all")))
        return Sweep(data, {config: source}, dict(source.config))
    if isinstance(source, Mapping) and not source:
        raise ValueError("sweep is empty: it must hold at least one History (see lf.sweep)")
    raise ValueError(f"sweep must be a Sweep from lf.sweep() or a History with its data; got {type(source).__name__}")


class Explorer(widgets.VBox):
    """Scrub training, switch width, depth, paradigm and layer; the chosen panels redrawn in place.

    Parameters
    ----------
    sweep : a :class:`Sweep` from :func:`sweep`, or one :class:`History` (then pass its
        ``data``).
    width, depth, paradigm, seed : the run shown first; default the sweep's first of each.
        A sweep of several seeds also shows, in the error and singular-values panels,
        the quartiles across its seeds, under the selected seed's own curves.
    iteration : the step shown first; defaults to the run's last saved step.
    layer : whose features panel 3 shows first: a parameter name or ``"all"``
        (default ``"0.weight"``, the homework's part (a)).
    compare : draw the initialization's features behind the selected step's.
    fit_step : the features panel's y-limits fit the selected step; by default (False)
        they fit the selected layer over the whole run (every saved step), so scrubbing
        keeps one scale.
    log_steps : put the error panel's steps on a log axis (runs span 1 to 150,000).
    data : the Dataset, only when ``sweep`` is a History.
    mode : ``"auto"`` (ipympl canvases under ``%matplotlib widget``, else PNG images),
        ``"ipympl"`` or ``"image"`` (e.g. in Colab without its custom widget manager).
    dpi : resolution of the figures.
    n_grid : points of the dense grid the functions of x are drawn on.
    n_principal : principal features drawn.
    max_lines : most feature lines drawn; wider blocks (``"all"``) draw evenly spaced ones.
    panels : which panels, by name (see :data:`~linfeat_widgets.panel_specs.PANELS`):
        default the homework's five, ``"prediction"``, ``"errors"``, ``"features"``,
        ``"spectrum"``, ``"principal"``; ``"all"`` for every registered panel; or rows of
        names, e.g. ``(("prediction", "errors"), ("spectrum",))``.
    theme : ``"default"``, or ``"lecture"``: large fonts and thick lines that read on a
        projector (see :data:`~linfeat_widgets.themes.THEMES`; a
        :class:`~linfeat_widgets.themes.Theme` is accepted too).
    layout : ``"wide"`` (default: each row of panels 800 px wide, every panel the same
        height, fitting JupyterLab at 1,280 px with its file browser open) or ``"compact"``
        (560 px), see
        :data:`~linfeat_widgets.themes.LAYOUTS`.
    background : compute a run's theory arrays (for ``"movement"``, ``"residual"``,
        ``"spectrum_history"``) in a background thread, the panels saying "computing…"
        until they are drawn, so that the kernel stays responsive. Default: when a running
        event loop (a Jupyter kernel's) can draw them afterwards; otherwise on first use.
        With that event loop the explorer also works ahead whenever the controls rest for
        0.3 s (see :meth:`warm_up`).

    Attributes
    ----------
    width, depth, paradigm, seed, iteration, layer, compare, fit_step, log_steps : the state (traits; set
        them to move the explorer, observe them to follow it).
    figures : the matplotlib Figures drawn into, one per panel, in the order of ``panels``
        (by default prediction, errors, features, singular values, principal features).
    prediction_panel, error_panel, feature_panel, spectrum_panel, principal_panel : the
        panels (None for a panel not shown); hosts : name -> :class:`FigureHost`, one per
        figure; board : the :class:`~linfeat_widgets.panel_specs.PanelBoard` that builds
        and updates them.
    iteration_slider, layer_selector, width_selector, depth_selector, paradigm_selector,
    seed_selector, compare_checkbox : the controls (the seed selector is hidden for one
    seed).
    play_button : an :class:`ipywidgets.Play` stepping the iteration slider through the saved
        steps; player : the :class:`~linfeat_widgets.player.PlayControl` holding it and its
        speed control (frames per second).
    step_buttons : :class:`~linfeat_widgets.controls.StepButtons`, previous and next saved
    step beside the slider; fit_step_checkbox, log_steps_checkbox : the two scale toggles;
    choice_views : name -> :class:`~linfeat_widgets.dashboard.ChoiceView` (a selector with
    one option shown as text); cards : name -> the panel's canvas over its caption; grid :
    the cards in the board's rows.
    status : HTML readout of the configuration, step, train and test error.
    errors : Output where an error raised while redrawing is shown (it is also raised).
    sweep, history, snapshots : the sweep, the History shown and its SnapshotCache.
    mode : ``"ipympl"`` or ``"image"``.
    warmer : the :class:`~linfeat_widgets.warmup.Warmer` that works ahead in the kernel's
        idle time (``warmer.done``: all done for the state shown).
    """

    # checked by the validators below, which name what is accepted (a wrong type included)
    width = _Whole(help="hidden units per layer of the run shown")
    depth = _Whole(help="number of hidden layers of the run shown")
    paradigm = Any("all", help="training paradigm of the run shown: 'all', 'output' or 'ridge'")
    seed = _Whole(help="seed of the run shown (its initial network and minibatch stream)")
    iteration = _Whole(help="the saved step shown (SGD iteration)")
    layer = Any("0.weight", help="whose linearized features are drawn: a parameter name such as '0.weight', or 'all'")
    compare = _Flag(True, help="draw the initialization's features behind the selected step's")
    fit_step = _Flag(False, help="fit the features panel's scale to the selected step, not the whole run")
    log_steps = _Flag(False, help="put the error panel's steps on a log axis")

    def __init__(
        self,
        sweep: Sweep | History,
        *,
        width: int | None = None,
        depth: int | None = None,
        paradigm: str | None = None,
        seed: int | None = None,
        iteration: int | None = None,
        layer: str = "0.weight",
        compare: bool = True,
        fit_step: bool = False,
        log_steps: bool = False,
        data: Dataset | None = None,
        mode: str = "auto",
        dpi: float = 80,
        n_grid: int = 256,
        n_principal: int = 4,
        max_lines: int = 120,
        panels=DEFAULT_PANELS,
        background: bool | None = None,
        theme: str = "default",
        layout: str = "wide",
    ):
        self.sweep = _as_sweep(sweep, data)
        self._loop = _event_loop(background)
        self._options = {
            "n_grid": check_int("n_grid", n_grid, 2),
            "n_principal": check_int("n_principal", n_principal, 1),
            "max_columns": check_int("max_lines", max_lines, 1),
        }
        self.mode = resolve_mode(mode)
        dpi = check_float("dpi", dpi, positive=True)
        theme, layout = check_theme(theme), check_layout(layout)
        compare = _flag("compare", compare)
        fit_step, log_steps = _flag("fit_step", fit_step), _flag("log_steps", log_steps)
        config = self.sweep.config(
            self.sweep.widths[0] if width is None else _whole("width", width, "one of the swept widths"),
            self.sweep.depths[0] if depth is None else _whole("depth", depth, "one of the swept depths"),
            self.sweep.paradigms[0] if paradigm is None else paradigm,
            None if seed is None else _whole("seed", seed, "one of the swept seeds"),
        )
        self._caches: dict[Config, SnapshotCache] = {}
        self._theories: dict[Config, TheoryCache] = {}
        self._ensembles: dict[Config, EnsembleCache] = {}
        self._config: Config | None = None
        self._busy = 0
        self._syncing = False
        self._pending: set[str] = set()
        self.error: BaseException | None = None
        self.history = self.sweep[config]
        self.snapshots = self._cache(config)
        steps = self.history.steps
        if iteration is not None:
            iteration = _whole("iteration", iteration, "a saved step")
            self.history.index(iteration)  # ValueError naming the saved steps
        if layer not in self.snapshots.keys:
            raise ValueError(f"layer must be one of {', '.join(map(repr, self.snapshots.keys))}; got {layer!r}")

        self.width_selector = WidthSelector(self.sweep.widths, config.width)
        self.depth_selector = DepthSelector(self.sweep.depths, config.depth)
        self.paradigm_selector = ParadigmSelector(self.sweep.paradigms, config.paradigm)
        self.seed_selector = SeedSelector(self.sweep.seeds, config.seed)
        if len(self.sweep.seeds) == 1:
            self.seed_selector.layout.display = "none"
        self.iteration_slider = IterationSlider(steps, int(steps[-1]) if iteration is None else int(iteration))
        self.layer_selector = LayerSelector(self.snapshots.keys, layer)
        self.compare_checkbox = widgets.Checkbox(value=bool(compare), description="show initialization", indent=False)
        self.fit_step_checkbox = widgets.Checkbox(
            value=fit_step,
            description="fit features to this step",
            indent=False,
            tooltip="scale the features panel to the selected step (else to the layer over the whole run)",
        )
        self.log_steps_checkbox = widgets.Checkbox(
            value=log_steps, description="log steps", indent=False, tooltip="the error panel's steps on a log axis"
        )
        self.step_buttons = StepButtons(self.iteration_slider)
        self.iteration_slider.layout.width = "min(480px, calc(100% - 80px))"
        self.player = PlayControl(self.iteration_slider)
        self.play_button = self.player.play
        self.status = widgets.HTML()
        self.status.add_class("linfeat-status")
        self.errors = widgets.Output()
        self.errors.add_class("linfeat-errors")

        context = PanelContext(
            self.sweep.data,
            n_principal=n_principal,
            animated=True,
            linearized=self.sweep.has_linearized,
            ensemble=len(self.sweep.seeds) > 1,
        )
        self._board_options = dict(theme=theme, layout=check_layout(layout), dpi=dpi)
        self.board = PanelBoard(panels, context, lambda size: new_figure(size, dpi, self.mode), **self._board_options)
        self._twin: TwinBoard | None = None  # the same panels on hidden figures, drawing ahead (see _warm_plan)
        self.warmer = Warmer(self._loop, self._warm_plan)
        for name, spec in PANELS.items():
            setattr(self, spec.attribute, self.board.panels.get(name))
        self.hosts = {name: FigureHost(self.board.figures[name], p.animated) for name, p in self.board.panels.items()}

        for control, name in (
            (self.width_selector, "width"),
            (self.depth_selector, "depth"),
            (self.paradigm_selector, "paradigm"),
            (self.seed_selector, "seed"),
            (self.layer_selector, "layer"),
            (self.compare_checkbox, "compare"),
            (self.fit_step_checkbox, "fit_step"),
            (self.log_steps_checkbox, "log_steps"),
        ):
            control.observe(functools.partial(self._on_control, name), "value")
        self.iteration_slider.observe(self._on_slider, "index")

        self.choice_views = {
            name: ChoiceView(getattr(self, f"{name}_selector")) for name in ("width", "depth", "paradigm", "seed")
        }
        if len(self.sweep.seeds) == 1:
            self.choice_views["seed"].layout.display = "none"  # one seed: nothing to choose or to say
        self.cards = {
            name: panel_card(
                host.widget,
                self.board.specs[name].title,
                self.board.specs[name].caption,
                self.board.figures[name].get_size_inches()[0] * dpi,
            )
            for name, host in self.hosts.items()
        }
        self.grid = panel_grid(self.board.rows, self.cards)
        super().__init__(
            children=[
                # children[0], the run, is what a LiveExplorer replaces with its own controls
                control_group("run", list(self.choice_views.values()), "which trained network is shown"),
                widgets.HBox(
                    [
                        control_group(
                            "step",
                            [
                                # the buttons hug the slider: one row that never wraps, the slider taking what is left
                                widgets.HBox(
                                    [self.step_buttons.previous, self.iteration_slider, self.step_buttons.next],
                                    layout=widgets.Layout(flex_flow="row nowrap", align_items="center", width="100%"),
                                ),
                                self.player,
                            ],
                            "the saved step shown",
                        ),
                        control_group(
                            "view",
                            [
                                self.layer_selector,
                                self.compare_checkbox,
                                self.fit_step_checkbox,
                                self.log_steps_checkbox,
                            ],
                            "what the panels draw",
                        ),
                    ],
                    layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"),
                ),
                self.status,
                self.grid,
                self.errors,
            ]
        )
        self.add_class("linfeat-explorer")
        with self._batch():
            self.width, self.depth, self.paradigm = config.width, config.depth, config.paradigm
            self.seed = config.seed
            self.iteration = self.iteration_slider.value
            self.layer = layer
            self.compare = bool(compare)
            self.fit_step, self.log_steps = fit_step, log_steps
            self._pending.update(_STATE)
        self.warmer.restart(delay=1.0)  # once the front end has shown the panels

    # --- public surface ------------------------------------------------------------------
    @property
    def figures(self) -> tuple:
        """The Figures, one per panel shown, in row order (by default the homework's five)."""
        return tuple(host.figure for host in self.hosts.values())

    @property
    def panels(self) -> tuple:
        """The panels shown, in the order of :attr:`figures`."""
        return tuple(self.board.panels.values())

    def select(self, **state) -> None:
        """Set several of ``width``, ``depth``, ``paradigm``, ``iteration``, ``layer``, ``compare`` at once.

        They are checked together (an iteration of the new width's run is accepted) and
        each affected panel is redrawn once.
        """
        unknown = set(state) - set(_STATE)
        if unknown:
            raise ValueError(f"select accepts {', '.join(_STATE)}; got {', '.join(sorted(unknown))}")
        with self._batch():
            for name, value in state.items():
                setattr(self, name, value)

    def show_sweep(self, sweep: Sweep | History, *, grown: bool = False, **state) -> None:
        """Show another sweep (or History of the same dataset), e.g. a live run that has grown.

        ``state`` (``iteration``, ``layer``, ...) is set with it; the controls follow and
        every panel is redrawn once. An iteration the new run lacks moves to its nearest
        saved step. The old sweep's caches are dropped, unless ``grown``: each new run then
        extends the old run of its configuration (the same snapshots, and more), so what
        was computed per snapshot is kept.
        """
        sweep = _as_sweep(sweep, self.sweep.data if isinstance(sweep, History) else None)
        if sweep.data is not self.sweep.data:
            raise ValueError("sweep must be trained on the Dataset the explorer shows")
        unknown = set(state) - set(_STATE)
        if unknown:
            raise ValueError(f"show_sweep accepts {', '.join(_STATE)}; got {', '.join(sorted(unknown))}")
        self.sweep = sweep
        kept = {c: cache for c, cache in self._caches.items() if grown and c in sweep}
        self._caches.clear()
        for config, cache in kept.items():
            cache.history = sweep[config]  # the same snapshots at the old steps: their entries stay valid
            self._caches[config] = cache
        self._theories.clear()
        if self._twin is not None:
            self._twin.forget()  # the runs have changed: their states are drawn ahead again
        self._config = None
        state.setdefault("width", sweep.widths[0] if self.width not in sweep.widths else self.width)
        state.setdefault("depth", sweep.depths[0] if self.depth not in sweep.depths else self.depth)
        state.setdefault("paradigm", sweep.paradigms[0] if self.paradigm not in sweep.paradigms else self.paradigm)
        config = sweep.config(state["width"], state["depth"], state["paradigm"])
        history = sweep[config]
        if "iteration" not in state and self.iteration not in history:
            state["iteration"] = self.iteration_slider.nearest(self.iteration, history.steps)
        if "layer" not in state and self.layer not in (*history.names, "all"):
            state["layer"] = "0.weight"
        with self._batch():
            self._pending.update(_STATE)
            for name, value in state.items():
                setattr(self, name, value)

    def view(self) -> PanelView:
        """What the panels show now: the run, its caches, the selected step, layer and compare switch."""
        return self._view()

    def save_figure(self, path, dpi: float | None = None):
        """Save the panels shown, at the selected step, as one figure titled with the status line.

        PNG, SVG or PDF by ``path``'s extension; ``dpi`` sets a PNG's resolution (default
        150). The explorer's theme, at the panels' registered sizes. Drawn on its own figure
        (see :mod:`linfeat_widgets.export`): the widget is not touched. An earlier file at
        ``path`` is replaced only once the new one is complete. Returns the Path written.
        """
        from .export import save_figure

        return save_figure(
            path, self.view(), panels=self.board.rows, context=self.board.context, dpi=dpi, theme=self.board.theme
        )

    def animate(self, path, steps=None, fps: float = 10, *, dpi: float = 80, progress: bool = True):
        """Write an animation of the panels shown over saved steps of the run shown: GIF or MP4.

        ``steps``: the saved steps to show, in order (default all of them); ``fps``: frames
        per second. GIF through Pillow, MP4 through imageio-ffmpeg (``pip install
        imageio-ffmpeg``). Frames are drawn headless by the same panels, in the explorer's
        theme, on their own figure, with a progress bar; the widget on screen is not
        touched. Returns the Path.
        """
        from .export import animate

        return animate(
            path,
            self.view(),
            steps,
            fps,
            panels=self.board.rows,
            context=self.board.context,
            dpi=dpi,
            progress=progress,
            theme=self.board.theme,
        )

    def close(self) -> None:
        """Close the controls, the canvases or images and this widget; the figures are released."""
        # getattr: ipywidgets also calls close() on an explorer whose construction failed
        for host in getattr(self, "hosts", {}).values():
            host.close()
        for name in (
            "width_selector",
            "depth_selector",
            "paradigm_selector",
            "seed_selector",
            "iteration_slider",
            "layer_selector",
            "compare_checkbox",
            "fit_step_checkbox",
            "log_steps_checkbox",
            "step_buttons",
            "player",
            "status",
            "errors",
        ):
            if hasattr(self, name):
                getattr(self, name).close()
        for child in self.children:
            close_tree(child)  # the groups, the grid and the cards nest their widgets
        if hasattr(self, "warmer"):
            self.warmer.stop()
        self._twin = None
        getattr(self, "_caches", {}).clear()
        getattr(self, "_theories", {}).clear()
        getattr(self, "_ensembles", {}).clear()
        super().close()

    def warm_up(self) -> None:
        """Compute and draw ahead, now, what switching runs and layers will need.

        In a Jupyter kernel this happens by itself in idle time (see :attr:`warmer`):
        every snapshot of the run shown and of the runs one click away (another width,
        depth, paradigm or seed), each layer's feature range, and the backgrounds of those
        runs' and layers' panels, drawn on hidden twin figures. Then the first switch to
        any of them restores a saved background instead of drawing the figures again.
        Call this in a script or before a lecture to do it all at once.
        """
        self.warmer.run()

    def _neighbours(self) -> list[Config]:
        """The runs one click away: the run shown with one of width, depth, paradigm, seed changed."""
        current, found = self._config, []
        for name in ("width", "depth", "paradigm", "seed"):
            for value in getattr(self.sweep, f"{name}s"):
                config = dataclasses.replace(current, **{name: value})
                if config != current and config in self.sweep and config not in found:
                    found.append(config)
        return found

    def _warm_plan(self):
        """The work ahead for the state shown, one small step per ``next()`` (run by :attr:`warmer`)."""
        if self._config is None or (self.comm is None and self._loop is not None):
            return  # not drawn yet, or closed
        current, layer, step = self._config, self.layer, self.iteration
        yield from self._cache(current).warm()
        if self._twin is None:
            self._twin = TwinBoard(self.board, self.hosts, **self._board_options)
            yield
        for key in self.snapshots.keys:
            if key != layer:
                yield from self._twin.draw_ahead(current, self._view_of(current, step, key), ["features"])
        for config in self._neighbours():
            yield from self._cache(config).warm()
            nearest = self.iteration_slider.nearest(step, self.sweep[config].steps)
            keys = self._cache(config).keys
            shown = layer if layer in keys else "0.weight"
            yield from self._twin.draw_ahead(config, self._view_of(config, nearest, shown), self._twin.names)
            for key in keys:
                if key != shown:
                    yield from self._twin.draw_ahead(config, self._view_of(config, nearest, key), ["features"])

    def _view_of(self, config: Config, step: int, layer: str, compute_theory: bool = False) -> PanelView:
        """What the panels would show for ``config`` at ``step`` and ``layer``, the other settings as they are.

        ``compute_theory``: a theory panel computes its arrays on the spot (see :class:`PanelView`);
        never when drawing ahead.
        """
        return PanelView(
            self.sweep[config],
            self._cache(config),
            step,
            layer,
            self.compare,
            self._theory(config),
            compute_theory,
            self._ensemble(config),
            self.fit_step,
            self.log_steps,
        )

    # --- validation: against the run the (possibly new) width, depth, paradigm select ----
    def _run_config(self) -> Config:
        try:
            return self.sweep.config(self.width, self.depth, self.paradigm, self.seed)
        except ValueError as exc:
            raise SelectionError(str(exc)) from None

    @validate("width", "depth", "paradigm", "seed")
    def _valid_run(self, proposal):
        name, value = proposal.trait.name, proposal.value
        swept = getattr(self.sweep, f"{name}s")
        if value not in swept:
            raise SelectionError(f"{name} must be one of {swept} (the swept {name}s); got {value!r}")
        return value

    @validate("iteration")
    def _valid_iteration(self, proposal):
        try:
            self.sweep[self._run_config()].index(proposal.value)
        except ValueError as exc:
            raise SelectionError(f"iteration must be a saved step of the run shown: {exc}") from None
        return proposal.value

    @validate("layer")
    def _valid_layer(self, proposal):
        keys = (*self.sweep[self._run_config()].names, "all")
        if proposal.value not in keys:
            raise SelectionError(f"layer must be one of {', '.join(map(repr, keys))}; got {proposal.value!r}")
        return proposal.value

    # --- reacting --------------------------------------------------------------------------
    @observe(*_STATE)
    def _on_state(self, change) -> None:
        self._pending.add(change["name"])
        if not self._busy:
            self._flush()

    @contextlib.contextmanager
    def _batch(self):
        """Hold redraws (and cross-validate the traits together) until the outermost batch ends."""
        self._busy += 1
        try:
            with self.hold_trait_notifications():
                yield
        finally:
            self._busy -= 1
        if not self._busy:
            self._flush()

    @contextlib.contextmanager
    def _quiet_controls(self):
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    def _on_control(self, name: str, change) -> None:
        # a control moved by the user sets the trait of the same name (not while the explorer syncs the controls)
        if not self._syncing:
            setattr(self, name, change["new"])

    def _on_slider(self, change) -> None:
        if not self._syncing and change["new"] is not None:
            self.iteration = self.iteration_slider.steps[change["new"]]

    def _cache(self, config: Config) -> SnapshotCache:
        if config not in self._caches:
            self._caches[config] = SnapshotCache(self.sweep[config], self.sweep.data, **self._options)
        return self._caches[config]

    def _theory(self, config: Config) -> TheoryCache:
        # per run: the theory arrays are computed on first use, then only indexed
        if config not in self._theories:
            history, grid = self.sweep[config], self._cache(config).grid
            linearized = linearized_history(self.sweep, config)
            self._theories[config] = TheoryCache(history, self.sweep.data, grid=grid, linearized=linearized)
        return self._theories[config]

    def _ensemble(self, config: Config) -> EnsembleCache | None:
        # per configuration, not per seed: switching seeds keeps the bands and each seed's cache
        if len(self.sweep.seeds) == 1:
            return None
        key = dataclasses.replace(config, seed=None)
        if key not in self._ensembles:
            self._ensembles[key] = EnsembleCache(self.sweep, config, self._cache)
        return self._ensembles[key]

    def _flush(self) -> None:
        """Settle the consequences of the pending changes, then redraw what they affect, once."""
        if not self._pending:
            return
        with _prompt_sends():
            self._flush_pending()

    def _flush_pending(self) -> None:
        try:
            self._busy += 1
            try:
                if self._pending & _CONFIG:
                    self._switch_run()
                self._sync_controls()
            finally:
                self._busy -= 1
            pending, self._pending = self._pending, set()
            self._redraw(pending)
        except Exception as exc:
            self._pending = set(_STATE)  # the next change redraws everything
            self._show_error(exc)
            raise
        if self.error is not None:
            self.error = None
            self.errors.outputs = ()
        self.warmer.restart()

    def _switch_run(self) -> None:
        config = self._run_config()
        if config == self._config:
            return
        self._config = config
        self.history = self.sweep[config]
        self.snapshots = self._cache(config)
        steps = self.history.steps
        if self.iteration not in self.history:
            self.iteration = self.iteration_slider.nearest(self.iteration, steps)
        if self.layer not in self.snapshots.keys:
            self.layer = "0.weight"
        self._pending.add("history")

    def _sync_controls(self) -> None:
        with self._quiet_controls():
            self.width_selector.set_choices(self.sweep.widths, self.width)
            self.depth_selector.set_choices(self.sweep.depths, self.depth)
            self.paradigm_selector.set_choices(self.sweep.paradigms, self.paradigm)
            self.seed_selector.set_choices(self.sweep.seeds, self.seed)
            self.iteration_slider.set_choices(self.history.steps, self.iteration)
            self.layer_selector.set_choices(self.snapshots.keys, self.layer)
            self.compare_checkbox.value = self.compare
            self.fit_step_checkbox.value = self.fit_step
            self.log_steps_checkbox.value = self.log_steps

    def _redraw(self, pending: set[str]) -> None:
        theory = self._theory(self._config)
        needed = self.board.theory
        if self._loop is not None and needed and not theory.ready(needed):
            config, loop = self._config, self._loop
            theory.prepare(needed, lambda: loop.call_soon_threadsafe(self._theory_ready, config))
        # each panel is shown as soon as it is updated, the first row first
        for name, full in self.board.draw_each(self._view(compute_theory=self._loop is None), pending):
            self.hosts[name].refresh(full=full)
        self._show_status()

    def _view(self, compute_theory: bool = True) -> PanelView:
        return self._view_of(self._config, self.iteration, self.layer, compute_theory)

    def _theory_ready(self, config: Config) -> None:
        """Draw the theory panels once their arrays, computed in the background, are there (in the event loop)."""
        if self.comm is None or config != self._config:
            return  # closed, or another run is shown: its own computation draws it
        names = [name for name, spec in self.board.specs.items() if spec.theory]
        try:
            for name, full in self.board.draw(self._view(), {"history"}, names).items():
                self.hosts[name].refresh(full=full)
            self._show_status()
        except Exception as exc:  # raised in the event loop, where nobody would see it: shown in the explorer
            self._show_error(exc)

    def _show_status(self) -> None:
        config, i = self._config, self.history.index(self.iteration)
        what = "ridge solution" if config.paradigm == "ridge" else f"SGD iteration {format_step(self.iteration)}"
        seed = f", seed {config.seed} of {len(self.sweep.seeds)}" if len(self.sweep.seeds) > 1 else ""
        self.status.value = (
            f"<b>{what}</b> &nbsp; train error {self.history.train_error[i]:.4g} &nbsp; "
            f"test error {self.history.test_error[i]:.4g} &nbsp; "
            f"<span style='color:#666'>width {config.width}, depth {config.depth}, "
            f"paradigm {html.escape(config.paradigm)}{seed}, {len(self.history)} snapshots</span>"
        )
        theory = self._theories.get(config)
        if (
            self._loop is not None
            and theory is not None
            and theory.error is None
            and not theory.ready(self.board.theory)
        ):
            self.status.value += " &nbsp; <i style='color:#666'>computing the theory panels…</i>"

    def _show_error(self, exc: BaseException) -> None:
        self.error = exc
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.errors.outputs = ()
        self.errors.append_stderr(text)
        self.status.value = (
            f"<span style='color:#b00'><b>{html.escape(type(exc).__name__)}</b>: {html.escape(str(exc))}</span>"
        )


@contextlib.contextmanager
def _prompt_sends(interval: float = 0.0005):
    """Hand the GIL over every ``interval`` seconds (Python's default: 0.005) while the explorer redraws.

    A Jupyter kernel sends its messages from a second thread, which needs the GIL for each
    one; while the redraw holds it, a frame waits up to one switch interval per hand-over.
    Every panel's frame then leaves the kernel as soon as it is ready, not after the next
    panel's.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, previous))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _event_loop(background: bool | None):
    """The running event loop that draws what background threads computed, or None to compute on first use."""
    if background is not None and not isinstance(background, bool):
        raise ValueError(f"background must be True, False or None; got {background!r}")
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if background and loop is None:
        raise ValueError("background=True needs a running event loop (as in a Jupyter kernel) to draw in")
    return loop if background is not False else None


def explore(
    *,
    data: Dataset | None = None,
    target="piecewise_linear",
    n_samples: int = 200,
    sigma: float = 0.1,
    data_seed: int = 1,
    widths=(10, 20, 40),
    depths=(1,),
    paradigms=("all",),
    init="elbows",
    n_steps: int = 150_000,
    save_every: int = 1000,
    seed: int | None = None,
    backend: str = "auto",
    seeds=None,
    lr: float | None = None,
    progress: bool = True,
    **explorer_options,
) -> Explorer:
    """Build the homework's dataset, train its sweep and open an :class:`Explorer`, in one call.

    ``lf.explore()`` trains widths 10, 20 and 40 (one hidden layer, all layers trained,
    150,000 SGD steps, a snapshot every 1,000) on the homework's data, with a progress
    bar, and returns the explorer; ``lf.explore(depths=(1, 2), target="sin(20x)")`` adds
    the second hidden layer of part (c) on the other target.

    Parameters
    ----------
    data : a ready Dataset; otherwise one is made by :func:`make_dataset` from
        ``target``, ``n_samples``, ``sigma`` and ``data_seed``.
    widths, depths, paradigms, init, n_steps, save_every, seed, backend, seeds, lr : passed
        to :func:`sweep` (``seeds=range(8)``: an ensemble, shown with quartile bands).
    progress : show a progress bar while training.
    **explorer_options : passed to :class:`Explorer` (``width``, ``layer``, ``mode``, ...).

    Returns
    -------
    Explorer
    """
    # an option's typo must not cost a sweep: check what can be checked before training
    _check_explorer_options(explorer_options, widths, depths, paradigms, n_steps, save_every)
    if data is None:
        data = make_dataset(target=target, n_samples=n_samples, sigma=sigma, seed=data_seed)
    trained = sweep(
        data,
        widths=widths,
        depths=depths,
        paradigms=paradigms,
        init=init,
        n_steps=n_steps,
        save_every=save_every,
        seed=seed,
        backend=backend,
        seeds=seeds,
        lr=lr,
        progress=progress,
    )
    return Explorer(trained, **explorer_options)


def _listed(values) -> tuple:
    if isinstance(values, np.ndarray):
        return tuple(np.ravel(values).tolist())
    if isinstance(values, (str, int)) or not hasattr(values, "__iter__"):
        return (values,)
    return tuple(values)


def _check_explorer_options(options: dict, widths, depths, paradigms, n_steps, save_every) -> None:
    """Refuse the :class:`Explorer` options of :func:`explore` that would fail after the sweep trained."""
    accepted = [name for name in inspect.signature(Explorer.__init__).parameters if name not in ("self", "sweep")]
    accepted = [name for name in accepted if name != "data"]  # explore's own data argument
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"explore got unknown option(s) {', '.join(map(repr, unknown))}; besides sweep()'s arguments it "
            f"accepts the Explorer's: {', '.join(accepted)}"
        )
    # a throwaway copy of the defaults, so the checks below see every option
    given = {
        name: p.default
        for name, p in inspect.signature(Explorer.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    given.update(options)
    checks = {
        "mode": resolve_mode,
        "dpi": lambda v: check_float("dpi", v, positive=True),
        "n_grid": lambda v: check_int("n_grid", v, 2),
        "n_principal": lambda v: check_int("n_principal", v, 1),
        "max_lines": lambda v: check_int("max_lines", v, 1),
        "theme": check_theme,
        "layout": check_layout,
        "compare": lambda v: _flag("compare", v),
        "fit_step": lambda v: _flag("fit_step", v),
        "log_steps": lambda v: _flag("log_steps", v),
    }
    for name, check in checks.items():
        if name in given:
            check(given[name])
    for name in ("width", "depth", "paradigm", "layer", "iteration"):
        given.setdefault(name, None)
    widths, depths, paradigms = _listed(widths), _listed(depths), _listed(paradigms)
    choices = {"width": widths, "depth": depths, "paradigm": paradigms}
    for name in ("width", "depth"):
        if given[name] is not None:
            _whole(name, given[name], f"one of the swept {name}s")
    for name, swept in choices.items():
        if given[name] is not None and given[name] not in swept:
            raise ValueError(f"{name} must be one of {swept} (the {name}s to be swept); got {given[name]!r}")
    depth = depths[0] if given["depth"] is None else given["depth"]
    if isinstance(depth, numbers.Integral) and 0 < depth < 10_000:
        layers = [f"{2 * i}.{kind}" for i in range(depth + 1) for kind in ("weight", "bias")]
        if given["layer"] not in (*layers, "all"):
            raise ValueError(f"layer must be one of {', '.join(map(repr, (*layers, 'all')))}; got {given['layer']!r}")
    if given["iteration"] is not None:
        step = _whole("iteration", given["iteration"], "a saved step")
        paradigm = paradigms[0] if given["paradigm"] is None else given["paradigm"]
        ok_counts = all(isinstance(v, numbers.Integral) and v >= 1 for v in (n_steps, save_every))
        if paradigm != "ridge" and ok_counts and n_steps // save_every < 10**7:
            saved = snapshot_steps(int(n_steps), int(save_every))
            if step not in saved:
                raise ValueError(
                    f"iteration must be a step that will be saved: 1, every save_every={save_every:,} and the last, "
                    f"n_steps={n_steps:,}; got {step!r}"
                )
