"""The explorer's controls, each an ipywidgets widget usable on its own.

- :class:`IterationSlider`: a ``SelectionSlider`` over a History's saved steps
  ("SGD iteration").
- :class:`LayerSelector`: whose linearized features to show, a parameter name
  (``"0.weight"``, ``"0.bias"``, ``"2.weight"``, ...) or ``"all"``.
- :class:`WidthSelector`, :class:`DepthSelector`, :class:`ParadigmSelector`,
  :class:`SeedSelector`: which training run of a sweep.

Their state is the ipywidgets traits: observe ``index`` (or ``value``). Replacing the
choices with ``set_choices`` keeps the selection where it can (the nearest step for the
slider) and announces the result with one final ``value`` change; an owner that must not
react to the intermediate ones (the explorer) sets its own guard around the call.
"""

from __future__ import annotations

from collections.abc import Iterable

import ipywidgets as widgets
import numpy as np

__all__ = [
    "DepthSelector",
    "IterationSlider",
    "LayerSelector",
    "ParadigmSelector",
    "SeedSelector",
    "StepButtons",
    "WidthSelector",
    "format_step",
]


def format_step(step) -> str:
    """A step as the slider's readout and the status line both show it: ``1500`` -> ``"1,500"``."""
    return f"{int(step):,}"


def _as_steps(steps) -> tuple[int, ...]:
    try:
        values = [int(s) for s in np.asarray(steps).reshape(-1)]
    except (TypeError, ValueError):
        raise ValueError(f"steps must be a sequence of saved steps (integers); got {steps!r}") from None
    if not values:
        raise ValueError("steps must hold at least one saved step")
    if values != sorted(set(values)):
        raise ValueError("steps must be increasing and distinct, as History.steps is")
    return tuple(values)


class IterationSlider(widgets.SelectionSlider):
    """Scrub through the saved steps of a training run ("SGD iteration").

    Parameters
    ----------
    steps : the saved steps, e.g. ``history.steps`` (S,), increasing.
    value : the step selected first; defaults to the last one.
    **kwargs : passed to :class:`ipywidgets.SelectionSlider` (``description`` defaults to
        ``"SGD iteration"``).

    Observe ``index`` or ``value`` (the step, an int) to react to a move.
    """

    def __init__(self, steps, value: int | None = None, **kwargs):
        steps = _as_steps(steps)
        kwargs.setdefault("description", "SGD iteration")
        kwargs.setdefault("continuous_update", True)
        kwargs.setdefault("style", {"description_width": "initial"})
        kwargs.setdefault("layout", widgets.Layout(width="min(100%, 560px)"))
        value = steps[-1] if value is None else self._check(value, steps)
        # the readout shows an option's label: formatted as the status line formats steps
        super().__init__(options=[(format_step(s), s) for s in steps], value=value, **kwargs)

    @staticmethod
    def _check(value, steps: tuple[int, ...]) -> int:
        if isinstance(value, (int, np.integer)) and int(value) in steps:
            return int(value)
        raise ValueError(f"value must be one of the saved steps {steps[0]}, ..., {steps[-1]}; got {value!r}")

    @property
    def steps(self) -> tuple[int, ...]:
        """The saved steps offered."""
        return tuple(self._options_values)

    def nearest(self, step: int, steps: Iterable[int] | None = None) -> int:
        """The step of ``steps`` (default: those offered) closest to ``step``; the earlier one on a tie."""
        offered = np.asarray(self.steps if steps is None else tuple(steps))
        return int(offered[np.argmin(np.abs(offered - int(step)))])

    def set_choices(self, steps, value: int | None = None) -> None:
        """Offer ``steps`` instead, selecting ``value`` or else the step nearest the current one."""
        steps = _as_steps(steps)
        value = self.nearest(self.value, steps) if value is None else self._check(value, steps)
        if steps != self.steps:
            self.options = [(format_step(s), s) for s in steps]
        self.value = value


class _Choice(widgets.ToggleButtons):
    """Toggle buttons over a few values; disabled when there is only one."""

    _name = "value"
    _tooltip = ""

    def __init__(self, values, value=None, **kwargs):
        values = self._as_values(values)
        kwargs.setdefault("description", self._name)
        kwargs.setdefault("tooltip", self._tooltip)
        kwargs.setdefault("style", {"button_width": "auto", "description_width": "initial"})
        # a gap after each control: side by side in a row, a one-option (disabled) control
        # must not read as its label running into the next one's ("depthparadigm")
        kwargs.setdefault("layout", widgets.Layout(margin="2px 24px 2px 0", width="auto"))
        value = values[0] if value is None else self._check(value, values)
        super().__init__(options=[(str(v), v) for v in values], value=value, **kwargs)
        self.disabled = len(values) == 1

    @classmethod
    def _as_values(cls, values) -> tuple:
        if isinstance(values, (str, int)) or not hasattr(values, "__iter__"):
            values = (values,)
        values = tuple(dict.fromkeys(values))
        if not values:
            raise ValueError(f"{cls._name}s must hold at least one value")
        return values

    @classmethod
    def _check(cls, value, values: tuple):
        if value not in values:
            raise ValueError(f"{cls._name} must be one of {values}; got {value!r}")
        return value

    @property
    def choices(self) -> tuple:
        """The values offered."""
        return tuple(self._options_values)

    def set_choices(self, values, value=None) -> None:
        """Offer ``values`` instead, keeping the current value if offered (else ``value`` or the first)."""
        values = self._as_values(values)
        if value is None:
            value = self.value if self.value in values else values[0]
        value = self._check(value, values)
        if values != self.choices:
            self.options = [(str(v), v) for v in values]
        self.value = value
        self.disabled = len(values) == 1


class WidthSelector(_Choice):
    """Choose the width (hidden units per layer) among a sweep's ``widths``."""

    _name = "width"
    _tooltip = "hidden units per layer"


class DepthSelector(_Choice):
    """Choose the depth (number of hidden layers) among a sweep's ``depths``."""

    _name = "depth"
    _tooltip = "number of hidden layers"


class ParadigmSelector(_Choice):
    """Choose the training paradigm (``"all"``, ``"output"``, ``"ridge"``) among a sweep's ``paradigms``."""

    _name = "paradigm"
    _tooltip = "which parameters SGD trains: all layers, the output layer, or the ridge solve"


class SeedSelector(_Choice):
    """Choose the seed (initial network and minibatch stream) among a sweep's ``seeds``."""

    _name = "seed"


class LayerSelector(widgets.Dropdown):
    """Choose whose linearized features to show: a parameter name or ``"all"``.

    Parameters
    ----------
    keys : the choices, e.g. ``SnapshotCache.keys``: ``("0.weight", "0.bias", ..., "all")``.
    value : the key selected first; defaults to the first.
    """

    def __init__(self, keys, value: str | None = None, **kwargs):
        keys = self._as_keys(keys)
        kwargs.setdefault("description", "features of")
        kwargs.setdefault("style", {"description_width": "initial"})
        kwargs.setdefault("layout", widgets.Layout(width="220px"))
        value = keys[0] if value is None else self._check(value, keys)
        super().__init__(options=keys, value=value, **kwargs)

    @staticmethod
    def _as_keys(keys) -> tuple[str, ...]:
        keys = (keys,) if isinstance(keys, str) else tuple(keys)
        if not keys or not all(isinstance(k, str) for k in keys):
            raise ValueError(f"keys must be a non-empty sequence of parameter names or 'all'; got {keys!r}")
        return keys

    @staticmethod
    def _check(value, keys: tuple[str, ...]) -> str:
        if value not in keys:
            accepted = ", ".join(repr(k) for k in keys)
            raise ValueError(f"layer must be one of {accepted}; got {value!r}")
        return value

    @property
    def choices(self) -> tuple[str, ...]:
        """The keys offered."""
        return tuple(self._options_values)

    def set_choices(self, keys, value: str | None = None) -> None:
        """Offer ``keys`` instead, keeping the current key if offered (else ``value`` or the first)."""
        keys = self._as_keys(keys)
        if value is None:
            value = self.value if self.value in keys else keys[0]
        value = self._check(value, keys)
        if keys != self.choices:
            self.options = keys
        self.value = value


class StepButtons(widgets.HBox):
    """Buttons that move an :class:`IterationSlider` to the previous or the next saved step.

    In Notebook 7 an ipywidgets slider ignores the arrow keys; these buttons step the run
    one saved step at a time, stopping at the first and the last.

    Parameters
    ----------
    slider : the :class:`IterationSlider` moved.

    Attributes
    ----------
    previous, next : the two :class:`ipywidgets.Button` (disabled at the ends).
    """

    def __init__(self, slider: IterationSlider):
        if not isinstance(slider, IterationSlider):
            raise ValueError(f"slider must be an IterationSlider; got {type(slider).__name__}")
        self.slider = slider
        size = widgets.Layout(width="34px", padding="0")
        self.previous = widgets.Button(description="◀", tooltip="previous saved step", layout=size)
        self.next = widgets.Button(description="▶", tooltip="next saved step", layout=size)
        self.previous.on_click(lambda _: self.step(-1))
        self.next.on_click(lambda _: self.step(+1))
        slider.observe(self._enable, ["index", "options"])
        super().__init__([self.previous, self.next], layout=widgets.Layout(width="auto", align_items="center"))
        self._enable()

    def step(self, by: int) -> None:
        """Move the slider ``by`` saved steps, clamped to the first and the last."""
        last = len(self.slider.options) - 1
        index = 0 if self.slider.index is None else self.slider.index
        self.slider.index = int(min(max(index + int(by), 0), last))

    def _enable(self, change=None) -> None:
        index, last = self.slider.index, len(self.slider.options) - 1
        self.previous.disabled = index is None or index <= 0
        self.next.disabled = index is None or index >= last
