"""The notebooks the browser tests open, and what each one exposes to them.

Each entry names the controls the story operates: the SelectionSlider described "SGD iteration", the width
selector described "width", and the status readout whose text must change when the slider moves.
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


def from_repository(path: str) -> Callable[[], nbformat.NotebookNode]:
    """A loader for a notebook kept in this repository, e.g. ``"notebooks/explorer.ipynb"``."""
    return lambda: nbformat.read(ROOT / path, as_version=4)


def solution_up_to_its_first_explorer() -> nbformat.NotebookNode:
    """The solution notebook from its first cell to its first Explorer (part 2, the three paradigms, full scale).

    Later parts add more Explorers, whose controls would share the labels the story looks for.
    """
    nb = nbformat.read(ROOT / "notebooks" / "linearized_features.ipynb", as_version=4)
    first = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and "lf.Explorer(" in cell.source)
    nb.cells = nb.cells[: first + 1]
    return nb


def theory_panels() -> nbformat.NotebookNode:
    """A small sweep with its linearized models, in an Explorer showing all eight panels (the README's screenshot)."""
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("%matplotlib widget\nimport linfeat_widgets as lf"),
            nbformat.v4.new_code_cell(
                "data = lf.make_dataset()\n"
                "runs = lf.sweep(data, widths=(10, 40), n_steps=3000, save_every=100, linearized=True,\n"
                "                progress=False)\n"
                'explorer = lf.Explorer(runs, panels="all", width=40, iteration=1000)\n'
                "explorer"
            ),
        ]
    )


EXPLORER = NotebookUnderTest(
    id="explorer", load=from_repository("notebooks/explorer.ipynb"), status=".linfeat-status", run_timeout_s=90.0
)
SOLUTION = NotebookUnderTest(
    id="solution-explorer", load=solution_up_to_its_first_explorer, status=".linfeat-status", run_timeout_s=90.0
)

THEORY_PANELS = NotebookUnderTest(id="theory-panels", load=theory_panels, status=".linfeat-status", run_timeout_s=90.0)

NOTEBOOKS = [EXPLORER, SOLUTION, THEORY_PANELS]
