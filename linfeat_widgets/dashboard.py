"""The Explorer's widget layout: one control bar of labelled groups, and the panels in a grid with captions.

Layout code lives here rather than in the Explorer: :func:`control_group` frames a few
controls under a heading; :class:`ChoiceView` shows a choice with one option as text
(``width 10``) instead of a disabled button; :func:`panel_card` puts a panel's canvas over
its one-line caption, with the caption as the tooltip too; :func:`panel_grid` arranges the
cards in the board's rows.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from .controls import DepthSelector, ParadigmSelector, SeedSelector, WidthSelector

_CHOICES = (WidthSelector, DepthSelector, ParadigmSelector, SeedSelector)

__all__ = ["ChoiceView", "close_tree", "control_group", "panel_card", "panel_grid"]

# the labels are the widgets' own descriptions; CSS only spaces the groups apart
_GROUP_LAYOUT = dict(
    border="1px solid #d0d0d0",
    padding="2px 10px 4px 10px",
    margin="0 10px 6px 0",
    width="auto",
    align_items="flex-start",
)


class ChoiceView(widgets.HBox):
    """A width, depth, paradigm or seed selector, shown as text when it has one option.

    A sweep of one width has nothing to choose: a disabled button reads as broken, so the
    view hides the buttons and shows ``width 10`` instead. It follows the selector's
    options, so a new sweep with more widths brings the buttons back.

    Attributes
    ----------
    selector : the choice; text : the HTML shown instead when there is one option.
    """

    def __init__(self, selector):
        if not isinstance(selector, _CHOICES):
            raise ValueError(f"selector must be a width, depth, paradigm or seed selector; got {selector!r}")
        self.selector = selector
        self.text = widgets.HTML(layout=widgets.Layout(margin="0 24px 0 0"))
        self.text.add_class("linfeat-choice-text")
        selector.observe(self._follow, ["options", "value"])
        super().__init__([selector, self.text], layout=widgets.Layout(width="auto", align_items="center"))
        self._follow()

    @property
    def single(self) -> bool:
        """True when the selector offers one option (shown as text)."""
        return len(self.selector.options) == 1

    def _follow(self, change=None) -> None:
        single = self.single
        self.text.value = (
            f"<span title='{html.escape(self.selector.tooltip or '')}'><b>{html.escape(self.selector.description)}"
            f"</b>&nbsp;{html.escape(str(self.selector.value))}</span>"
            if single
            else ""
        )
        self.text.layout.display = None if single else "none"
        self.selector.layout.display = "none" if single else None


def control_group(title: str, children, tooltip: str = "") -> widgets.VBox:
    """A framed group of controls under a small bold heading ``title``, laid out in a wrapping row."""
    heading = widgets.HTML(f"<b style='font-size:11px;color:#555'>{html.escape(title.upper())}</b>")
    row = widgets.HBox(list(children), layout=widgets.Layout(flex_flow="row wrap", align_items="center"))
    group = widgets.VBox([heading, row], layout=widgets.Layout(**_GROUP_LAYOUT))
    group.add_class("linfeat-group")
    if tooltip:
        heading.tooltip = tooltip
    return group


def panel_card(canvas: widgets.Widget, title: str, caption: str, width_px: float) -> widgets.VBox:
    """A panel's ``canvas`` over its one-line ``caption`` (also its tooltip), ``width_px`` wide."""
    text = widgets.HTML(
        f"<div class='linfeat-caption' style='font-size:12px;line-height:1.3;color:#444;padding:0 14px 0 4px' "
        f"title='{html.escape(caption)}'>{html.escape(caption)}</div>",
        layout=widgets.Layout(width=f"{round(width_px)}px", margin="0 0 4px 0"),
    )
    card = widgets.VBox([canvas, text], layout=widgets.Layout(width=f"{round(width_px)}px", overflow="hidden"))
    card.add_class("linfeat-panel")
    # the tooltip is the caption's title attribute: a Box given a tooltip fails to render in JupyterLab
    return card


def panel_grid(rows, cards) -> widgets.VBox:
    """The ``cards`` (name -> widget) in ``rows`` of names: a row of cards per row, aligned at the top."""
    row_layout = widgets.Layout(flex_flow="row wrap", align_items="flex-start")
    grid = widgets.VBox([widgets.HBox([cards[name] for name in names], layout=row_layout) for names in rows])
    grid.add_class("linfeat-grid")
    return grid


def close_tree(widget: widgets.Widget) -> None:
    """Close ``widget`` and every widget nested in it (``children``), deepest first."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widget.close()
