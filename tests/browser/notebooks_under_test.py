"""The notebooks the browser tests open, and what each one exposes to them.

Until ``notebooks/explorer.ipynb`` exists, the tests drive a stand-in that has the same kinds of controls: a
SelectionSlider described "SGD iteration", a width selector described "width", a status readout and an ipympl
figure redrawn in place. The stand-in is written into the server's temporary notebook directory by the test and
never ships. To test the real Explorer, add ``EXPLORER`` to ``NOTEBOOKS`` (see the note below it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class NotebookUnderTest:
    """A notebook to run in JupyterLab and the controls the tests operate in it.

    Attributes
    ----------
    id
        Names the test case and its screenshots.
    load
        Returns the notebook; outputs are stripped before it is written to the server's notebook directory.
    slider
        Description of the SelectionSlider over SGD iterations (moved with the keyboard).
    width
        Description of the width selector (ToggleButtons or Dropdown).
    status
        CSS selector of the status readout, whose text must change when the slider moves.
    run_timeout_s
        How long running all cells may take.
    """

    id: str
    load: Callable[[], nbformat.NotebookNode]
    slider: str = "SGD iteration"
    width: str = "width"
    status: str = ".lf-status"
    run_timeout_s: float = 60.0

    @property
    def name(self) -> str:
        """The file name inside the server's notebook directory."""
        return f"{self.id}.ipynb"


_STANDIN_CELLS = [
    ("markdown", "# Stand-in Explorer\nA line redrawn in place by an iteration slider and a width selector."),
    (
        "code",
        """\
%matplotlib widget
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np""",
    ),
    (
        "code",
        """\
x = np.linspace(0, 1, 200)
iterations = [0, 1_000, 2_000, 3_000, 4_000]
with plt.ioff():
    fig, ax = plt.subplots(figsize=(5, 3))
fig.canvas.header_visible = False
ax.set_ylim(-1.5, 1.5)
(line,) = ax.plot(x, np.zeros_like(x))

slider = widgets.SelectionSlider(options=iterations, value=0, description="SGD iteration")
width = widgets.ToggleButtons(options=[10, 20, 40], value=10, description="width")
status = widgets.HTML()
status.add_class("lf-status")


def redraw(change=None):
    line.set_ydata(np.sin(np.pi * width.value * x / 10 + slider.index))
    status.value = f"iteration {slider.value:,}, width {width.value}"
    fig.canvas.draw_idle()


slider.observe(redraw, names="index")
width.observe(redraw, names="value")
redraw()
widgets.VBox([slider, width, status, fig.canvas])""",
    ),
]


def standin() -> nbformat.NotebookNode:
    """The stand-in Explorer notebook."""
    nb = nbformat.v4.new_notebook()
    make = {"markdown": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    nb.cells = [make[kind](source) for kind, source in _STANDIN_CELLS]
    return nb


def from_repository(path: str) -> Callable[[], nbformat.NotebookNode]:
    """A loader for a notebook kept in this repository, e.g. ``"notebooks/explorer.ipynb"``."""
    return lambda: nbformat.read(ROOT / path, as_version=4)


STANDIN = NotebookUnderTest(id="standin-explorer", load=standin)
EXPLORER = NotebookUnderTest(id="explorer", load=from_repository("notebooks/explorer.ipynb"), run_timeout_s=90.0)

# When notebooks/explorer.ipynb lands, make this [EXPLORER] (or [STANDIN, EXPLORER]) and set EXPLORER.status to
# the Explorer's status readout selector.
NOTEBOOKS = [STANDIN]
