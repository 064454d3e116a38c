"""The harness's own checks must be able to fail: it has to see errors, blank canvases and unchanged pixels.

The pixel checks run without a browser. The browser test runs a notebook that goes wrong on purpose, in every way
the Explorer test looks for, and checks that each one is caught, and that the kernel is this environment's Python.
"""

import io
import re
import sys

import nbformat
import numpy as np
import pytest
from harness import (
    LOG_STATUS_ITEM,
    assert_not_blank,
    changed_fraction,
    decode_png,
    distinct_colours,
    expect,
    ink_fraction,
)
from matplotlib.figure import Figure


def _figure_png() -> bytes:
    """A small line plot drawn by plain matplotlib (Agg), as PNG bytes."""
    fig = Figure(figsize=(3, 2), dpi=100)
    fig.add_subplot().plot([0, 1, 0.5])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def test_a_drawn_figure_is_not_blank():
    image = decode_png(_figure_png())
    assert image.shape == (200, 300, 3)
    assert_not_blank(image, "an Agg figure")


@pytest.mark.parametrize("colour", [1.0, 0.0], ids=["white", "black"])
def test_a_single_colour_is_blank(colour):
    image = np.full((200, 300, 3), colour)
    assert ink_fraction(image) == 0
    assert distinct_colours(image) == 1
    with pytest.raises(AssertionError, match="looks blank"):
        assert_not_blank(image, "a flat canvas")


def test_changed_fraction():
    image = decode_png(_figure_png())
    assert changed_fraction(image, image.copy()) == 0
    moved = np.roll(image, 5, axis=1)
    assert 0 < changed_fraction(image, moved) < 0.2
    assert changed_fraction(image, image[:-1]) == 1.0


_GOES_WRONG = [
    """\
import sys

import ipywidgets as widgets

print(sys.prefix)
width = widgets.Dropdown(options=[10, 20, 40], value=10, description="width")
status = widgets.HTML("width 10")
status.add_class("lf-status")
width.observe(lambda change: setattr(status, "value", f"width {change['new']}"), names="value")
boom = widgets.IntSlider(description="boom")


def fail(change):
    raise RuntimeError("callback failed on purpose")


boom.observe(fail, names="value")
widgets.VBox([width, status, boom])""",
    'raise ValueError("raised on purpose")',
    'print("never runs")',
]


@pytest.mark.browser
@pytest.mark.timeout(120)
def test_harness_sees_what_goes_wrong(open_notebook):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in _GOES_WRONG]
    notebook = open_notebook("goes-wrong.ipynb", nb)

    # JupyterLab stops Run All at the failing cell; the harness names the cell left behind and shows the error.
    with pytest.raises(AssertionError, match=r"(?s)code cells \[2\] did not run.*ValueError: raised on purpose"):
        notebook.run_all_cells()
    outputs = notebook.panel.locator(".jp-OutputArea-output").all_inner_texts()
    assert outputs[0].strip() == sys.prefix, "the kernel is not this environment's Python"
    assert len(notebook.error_outputs()) == 1

    # A Dropdown width selector works like ToggleButtons.
    assert notebook.choose_other("width") == "20"
    expect(notebook.panel.locator(".lf-status")).to_have_text("width 20")

    # An error in a widget callback reaches the Log Console, not a cell; the harness finds it there.
    assert notebook.log_console_entries() == []
    handle = notebook.slider_handle("boom")
    handle.focus()
    notebook.page.keyboard.press("ArrowRight")
    expect(notebook.page.locator(LOG_STATUS_ITEM)).not_to_have_class(re.compile(r"\blm-mod-hidden\b"))
    assert any("RuntimeError: callback failed on purpose" in entry for entry in notebook.log_console_entries())
    with pytest.raises(AssertionError, match="callback failed on purpose"):
        notebook.assert_no_errors()
