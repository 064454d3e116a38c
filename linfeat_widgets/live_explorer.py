"""Lecture mode: an Explorer whose run trains while the class watches.

:func:`live` builds a :class:`LiveExplorer`: a :class:`~linfeat_widgets.training.live.LiveRun`
(the training, in a background thread) shown by an :class:`~linfeat_widgets.explorer.Explorer`
(the panels), with Play, Pause, Step and Reset buttons, a learning-rate control (log
scale), a speed control, and width, depth and paradigm controls that start a new run.
This module is a thin layer: the worker knows nothing of widgets, and the panels are the
Explorer's.

The worker only raises a flag after each snapshot; the kernel's event loop looks at the
flag at most ``refresh_rate`` times per second and redraws the newest state, so frames
are skipped, never queued, and the kernel stays free between refreshes.
"""

from __future__ import annotations

import asyncio
import html
import math
import time

import ipywidgets as widgets

from ._checks import check_float, check_int
from .data import Dataset, make_dataset
from .explorer import Explorer
from .models import make_mlp
from .training import PARADIGMS
from .training.live import LiveRun

__all__ = ["DEFAULT_SPEED", "LiveExplorer", "live"]

#: Steps per second when ``speed`` is left out: the homework's 150,000 steps in 75 s, a
#: snapshot every quarter second at ``save_every=500``; fast enough to see SGD work, slow
#: enough to talk over.
DEFAULT_SPEED = 2000.0

# after a refresh that took t seconds, wait at least this times t: drawing <= 1/4 of the time
_DRAW_SHARE_WAIT = 3.0

_SPEEDS = (100, 300, 1000, 2000, 5000, 20_000, 100_000, math.inf)
_WIDTHS = (5, 10, 20, 40, 80)
_DEPTHS = (1, 2, 3, 4)


def _speed_label(speed: float) -> str:
    return "full speed" if math.isinf(speed) else f"{speed:,.0f} steps/s"


class LiveExplorer(widgets.VBox):
    """An Explorer over a run that grows while it trains; see :func:`live`.

    Attributes
    ----------
    run : the :class:`~linfeat_widgets.training.live.LiveRun` training now (replaced on
        reset by width, depth or paradigm).
    explorer : the :class:`~linfeat_widgets.explorer.Explorer` showing it.
    play_button, pause_button, step_button, reset_button : the buttons.
    lr_slider : learning rate, log scale; speed_slider : steps per second.
    width_control, depth_control, paradigm_control : a change starts a new run.
    live_status : HTML line: running or paused, the step, the lr, or the worker's error.
    refreshes : how many times the panels were refreshed from the run.
    """

    def __init__(
        self,
        data: Dataset | None = None,
        width: int = 20,
        depth: int = 1,
        paradigm: str = "all",
        init="elbows",
        lr: float | None = None,
        save_every: int = 500,
        seed: int = 0,
        speed: float | str | None = None,
        panels=None,
        *,
        max_steps: int | None = 150_000,
        backend: str = "auto",
        refresh_rate: float = 10,
        auto_refresh: bool = True,
        **explorer_options,
    ):
        self.data = make_dataset() if data is None else data
        if not isinstance(self.data, Dataset):
            raise ValueError(f"data must be a Dataset from make_dataset() or None; got {type(data).__name__}")
        self._settings = {
            "init": init,
            "save_every": check_int("save_every", save_every, 1),
            "seed": check_int("seed", seed, 0),
            "max_steps": None if max_steps is None else check_int("max_steps", max_steps, 1),
            "backend": backend,
        }
        self._interval = 1.0 / check_float("refresh_rate", refresh_rate, positive=True)
        speed = _check_speed(speed)
        if panels is not None:
            explorer_options["panels"] = panels
        self.refreshes = 0
        self._dirty = False
        self._was_running = False
        self._closed = False
        self._handle = None
        self._last_shown: tuple | None = None  # ((run number, resets), version) on screen
        self._runs_made = 0

        self.run = self._new_run(width, depth, paradigm, lr, speed)
        self.explorer = Explorer(self.run.history, data=self.data, **explorer_options)
        # width, depth and paradigm are this widget's own controls: they start a new run
        # (a Layout of its own: the explorer's rows share theirs)
        self.explorer.children[0].layout = widgets.Layout(display="none")
        # one Play button on screen: the run's (the explorer's replays saved steps; the run grows them)
        self.explorer.player.layout = widgets.Layout(display="none")

        self.play_button = widgets.Button(description="Play", icon="play", button_style="success")
        self.pause_button = widgets.Button(description="Pause", icon="pause")
        self.step_button = widgets.Button(description="Step", icon="step-forward", tooltip="train one save interval")
        self.reset_button = widgets.Button(
            description="Reset", icon="undo", tooltip="start over from the initialization"
        )
        for button in (self.play_button, self.pause_button, self.step_button, self.reset_button):
            button.layout.width = "auto"
        self.play_button.on_click(lambda _: self.play())
        self.pause_button.on_click(lambda _: self.pause())
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())

        start_lr = self.run.lr if self.run.lr is not None else 0.02
        self.lr_slider = widgets.FloatLogSlider(
            value=start_lr, base=10, min=-4, max=1, step=0.05, description="lr", readout_format=".2g",
            continuous_update=False, disabled=self.run.lr is None,
        )  # fmt: skip
        speeds = sorted({*_SPEEDS, speed})
        self.speed_slider = widgets.SelectionSlider(
            options=[(_speed_label(s), s) for s in speeds], value=speed, description="speed",
            continuous_update=False, style={"description_width": "initial"},
        )  # fmt: skip
        self.width_control = widgets.Dropdown(
            options=sorted({*_WIDTHS, int(width)}), value=int(width), description="width",
            layout=widgets.Layout(width="150px"),
        )  # fmt: skip
        self.depth_control = widgets.Dropdown(
            options=sorted({*_DEPTHS, int(depth)}), value=int(depth), description="depth",
            layout=widgets.Layout(width="150px"),
        )  # fmt: skip
        self.paradigm_control = widgets.ToggleButtons(
            options=PARADIGMS, value=self.run.paradigm, description="paradigm", style={"button_width": "auto"}
        )
        self.lr_slider.observe(self._on_lr, "value")
        self.speed_slider.observe(self._on_speed, "value")
        for control in (self.width_control, self.depth_control, self.paradigm_control):
            control.observe(self._on_config, "value")
        self.live_status = widgets.HTML()
        self.live_status.add_class("linfeat-live-status")

        row = widgets.Layout(flex_flow="row wrap", align_items="center")
        buttons = (self.play_button, self.pause_button, self.step_button, self.reset_button)
        super().__init__(
            children=[
                widgets.HBox([*buttons, self.lr_slider, self.speed_slider], layout=row),
                widgets.HBox([self.width_control, self.depth_control, self.paradigm_control], layout=row),
                self.live_status,
                self.explorer,
            ]
        )
        self.add_class("linfeat-live")
        self._show_live_status()
        self._loop = None
        if auto_refresh:
            try:
                self._loop = asyncio.get_running_loop()  # the kernel's: refreshes run between cells
            except RuntimeError:
                self._loop = None  # a plain script: call refresh() yourself
        if self._loop is not None:
            self._schedule()

    # --- the run -----------------------------------------------------------------------------
    def _new_run(self, width, depth, paradigm, lr, speed) -> LiveRun:
        s = self._settings
        model = make_mlp(width, depth, s["init"], seed=s["seed"], elbow_range=self.data.x_range)
        run = LiveRun(
            model, self.data, paradigm, save_every=s["save_every"], lr=lr, seed=s["seed"], backend=s["backend"],
            max_steps=s["max_steps"], speed=None if math.isinf(speed) else speed,
        )  # fmt: skip
        run.step()  # step 1: the explorer needs a snapshot to show
        self._runs_made += 1
        run.add_listener(self._wake)
        return run

    def _wake(self) -> None:
        # called from the worker thread: only raise the flag; the kernel's loop draws
        self._dirty = True

    def play(self) -> None:
        """Train in the background; the panels follow."""
        self.run.play()
        self._show_live_status()

    def pause(self) -> None:
        """Stop training (returns once the worker has stopped) and show the newest snapshot."""
        self.run.pause()
        self.refresh()

    def step(self) -> None:
        """Train one save interval and show it; an error is shown in the status line."""
        try:
            self.run.step()
        except Exception:  # shown by refresh(): the run keeps its snapshots
            pass
        self.refresh()

    def reset(self) -> None:
        """Start over from the initialization (same width, depth, paradigm, lr and speed)."""
        self._replace_run()

    def _replace_run(self) -> None:
        old = self.run
        old.close()
        lr = self.lr_slider.value if self.paradigm_control.value != "ridge" else None
        if self.paradigm_control.value != old.paradigm:
            lr = None  # each paradigm starts at its own default
        self.run = self._new_run(
            self.width_control.value, self.depth_control.value, self.paradigm_control.value, lr,
            self.speed_slider.value,
        )  # fmt: skip
        if self.run.lr is not None and self.lr_slider.value != self.run.lr:
            self.lr_slider.value = self.run.lr
        self.lr_slider.disabled = self.run.lr is None
        self._last_shown = None
        self.refresh()

    def _on_lr(self, change) -> None:
        if self.run.lr is not None:
            self.run.lr = change["new"]
            self._show_live_status()

    def _on_speed(self, change) -> None:
        self.run.speed = None if math.isinf(change["new"]) else change["new"]

    def _on_config(self, change) -> None:
        self._replace_run()

    # --- showing -----------------------------------------------------------------------------
    @property
    def history(self):
        """The run's snapshots so far."""
        return self.run.history

    @property
    def running(self) -> bool:
        """Whether the run is training now."""
        return self.run.running

    def refresh(self) -> bool:
        """Show the run's newest state now; False when nothing changed since the last refresh.

        The slider's range grows with the run; it moves to the newest snapshot if it was on
        the newest one before (the user has not moved it back).
        """
        self._dirty = False
        history = self.run.history
        key = ((self._runs_made, self.run.resets), self.run.version)
        if key == self._last_shown or history is None:
            self._show_live_status()
            return False
        explorer = self.explorer
        following = self._last_shown is None or explorer.iteration == int(explorer.history.steps[-1])
        state = {"iteration": int(history.steps[-1])} if following else {}
        # the same run, grown: its snapshot caches stay (a reset or a new run is another run)
        grown = self._last_shown is not None and self._last_shown[0] == key[0]
        explorer.show_sweep(history, grown=grown, **state)
        self._last_shown = key
        self.refreshes += 1
        self._show_live_status()
        return True

    def _show_live_status(self) -> None:
        run = self.run
        if run.error is not None:
            self.live_status.value = (
                f"<span style='color:#b00'><b>paused: {html.escape(type(run.error).__name__)}</b>: "
                f"{html.escape(str(run.error))}</span> &nbsp; (lower the learning rate and press Play, or Reset)"
            )
            return
        state = "training" if run.running else "finished" if run.finished else "paused"
        lr = "" if run.lr is None else f" &nbsp; lr {run.lr:.3g}"
        self.live_status.value = f"<b>{state}</b> &nbsp; step {run.step_count:,}{lr}"

    def _schedule(self, delay: float | None = None) -> None:
        if not self._closed:
            self._handle = self._loop.call_later(self._interval if delay is None else delay, self._tick)

    def _tick(self) -> None:
        started = time.perf_counter()
        try:
            if self._dirty or self.run.running != self._was_running:
                self.refresh()
        except Exception as exc:  # shown, never raised into the event loop
            self.live_status.value = f"<span style='color:#b00'>refresh failed: {html.escape(str(exc))}</span>"
        finally:
            self._was_running = self.run.running
            # The next look comes one interval after this one ended: slow draws skip frames,
            # never queue them. At full speed drawing also takes at most a quarter of the
            # time: the worker needs the GIL between its compiled sub-chunks, and a kernel
            # always drawing would starve it (at a set pace it has time to spare).
            spent = time.perf_counter() - started
            full_speed = self.run.speed is None and self.run.running
            self._schedule(max(self._interval, _DRAW_SHARE_WAIT * spent) if full_speed else self._interval)

    def close(self) -> None:
        """Stop the worker thread and the refreshes, then close the widgets."""
        # getattr: ipywidgets also calls close() on a widget whose construction failed
        self._closed = True
        if getattr(self, "_handle", None) is not None:
            self._handle.cancel()
        if hasattr(self, "run"):
            self.run.close()
        for name in (
            "explorer", "play_button", "pause_button", "step_button", "reset_button", "lr_slider",
            "speed_slider", "width_control", "depth_control", "paradigm_control", "live_status",
        ):  # fmt: skip
            if hasattr(self, name):
                getattr(self, name).close()
        super().close()


def _check_speed(speed) -> float:
    if speed is None:
        return DEFAULT_SPEED
    if speed == "full":
        return math.inf
    if isinstance(speed, str):
        raise ValueError(f"speed must be a number of steps per second, 'full' or None; got {speed!r}")
    return check_float("speed", speed, positive=True)


def live(
    data: Dataset | None = None,
    width: int = 20,
    depth: int = 1,
    paradigm: str = "all",
    init="elbows",
    lr: float | None = None,
    save_every: int = 500,
    seed: int = 0,
    speed: float | str | None = None,
    panels=None,
    **explorer_options,
) -> LiveExplorer:
    """Train one network live, in a background thread, and watch the panels change: lecture mode.

    ``lf.live()`` shows the homework's width-20 network on the homework's data, paused at
    step 1; press Play. Play, Pause, Step (one save interval) and Reset drive the run; the
    learning rate (log scale) applies from the next save interval and is recorded per
    snapshot (``history.lr``); width, depth and paradigm start a new run.

    Parameters
    ----------
    data : the Dataset; default :func:`make_dataset` (the homework's).
    width, depth, paradigm, init, lr, seed : the run (see :func:`make_mlp`, :func:`train`).
    save_every : steps between snapshots (one "Step").
    speed : steps per second while playing: default :data:`DEFAULT_SPEED` (2,000, a pace a
        class can follow), a number, or ``"full"`` (as fast as the CPU allows).
    panels : which panels, as :class:`Explorer` takes them (default the homework's five).
    **explorer_options : passed to :class:`Explorer` (``mode``, ``dpi``, ``layer``, ...), and
        ``max_steps`` (default 150,000: training stops there), ``backend``,
        ``refresh_rate`` (most panel refreshes per second, default 10).

    Returns
    -------
    LiveExplorer
        ``.play()``, ``.pause()``, ``.step()``, ``.reset()``, ``.running``, ``.history``,
        ``.run`` (the :class:`LiveRun`), ``.explorer`` (the panels, ``save_figure``,
        ``animate``).
    """
    return LiveExplorer(data, width, depth, paradigm, init, lr, save_every, seed, speed, panels, **explorer_options)
