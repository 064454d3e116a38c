"""A play button for a slider: an ``ipywidgets.Play`` that steps through its options, and a speed.

:class:`PlayControl` animates any selection slider (the Explorer's "SGD iteration"
slider) without the keyboard: Play, Pause and Stop, a repeat switch, and a speed control in
frames per second. The Play widget's value is the slider's ``index``, kept in step both
ways in the kernel, and its range follows the slider's options when they change (another
run, a growing live run).
"""

from __future__ import annotations

import ipywidgets as widgets

from ._checks import check_float

__all__ = ["PlayControl"]

#: The speeds offered, frames (saved steps) per second.
SPEED_RANGE = (1.0, 30.0)


class PlayControl(widgets.HBox):
    """Play through the options of ``slider``: a Play button and a frames-per-second control.

    Parameters
    ----------
    slider : a selection slider (e.g. :class:`~linfeat_widgets.controls.IterationSlider`);
        its ``index`` is what the Play widget advances.
    fps : frames (saved steps) per second, in [1, 30]; default 5, a pace a class can follow.

    Attributes
    ----------
    play : the :class:`ipywidgets.Play`; its ``value`` is the slider's ``index``.
    speed : an :class:`ipywidgets.IntSlider` of frames per second; it sets ``play.interval``.
    slider : the slider driven.
    """

    def __init__(self, slider: widgets.SelectionSlider, fps: float = 5):
        fps = check_float("fps", fps, minimum=SPEED_RANGE[0])
        if fps > SPEED_RANGE[1]:
            raise ValueError(f"fps must be between {SPEED_RANGE[0]:g} and {SPEED_RANGE[1]:g}; got {fps!r}")
        if not isinstance(slider, widgets.SelectionSlider):
            raise ValueError(f"slider must be an ipywidgets.SelectionSlider; got {type(slider).__name__}")
        self.slider = slider
        self.play = widgets.Play(
            value=slider.index or 0,
            min=0,
            max=max(0, len(slider.options) - 1),
            step=1,
            interval=round(1000 / fps),
            show_repeat=True,
            description="play",
            tooltip="play through the saved steps",
        )
        self.speed = widgets.IntSlider(
            value=round(fps),
            min=int(SPEED_RANGE[0]),
            max=int(SPEED_RANGE[1]),
            description="frames/s",
            continuous_update=False,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="220px"),
        )
        self._syncing = False
        self._observing = True
        self.play.observe(self._on_play, "value")
        slider.observe(self._on_slider, "index")
        slider.observe(self._on_options, "options")
        self.speed.observe(self._on_speed, "value")
        super().__init__([self.play, self.speed], layout=widgets.Layout(align_items="center"))
        self.add_class("linfeat-player")

    @property
    def fps(self) -> int:
        """Frames per second."""
        return int(self.speed.value)

    def _on_play(self, change) -> None:
        if not self._syncing and change["new"] != self.slider.index and change["new"] < len(self.slider.options):
            self.slider.index = change["new"]

    def _on_slider(self, change) -> None:
        # the range first: Play clamps its value to [min, max]
        self._syncing = True
        try:
            self.play.max = max(0, len(self.slider.options) - 1)
            if change["new"] is not None:
                self.play.value = change["new"]
        finally:
            self._syncing = False

    def _on_options(self, change) -> None:
        self.play.max = max(0, len(self.slider.options) - 1)

    def _on_speed(self, change) -> None:
        self.play.interval = round(1000 / max(1, change["new"]))

    def close(self) -> None:
        """Close the Play button, the speed control and this box (the slider is left open)."""
        # close() runs again from __del__, and on a control whose construction failed
        if getattr(self, "_observing", False):
            self._observing = False
            self.slider.unobserve(self._on_slider, "index")
            self.slider.unobserve(self._on_options, "options")
        for part in ("play", "speed"):
            if hasattr(self, part):
                getattr(self, part).close()
        super().close()
