"""The dashboard in JupyterLab (issue 12): step buttons move the run, every panel has a title and a caption, the
layout fits a 1,000 px window without horizontal overflow, and nothing logs an error.

The composed widget, in a 1,280 px window with the file browser open, is screenshotted to
``artifacts/browser/dashboard.png`` (and in the lecture theme to ``dashboard-lecture.png``): the README's screenshots.
"""

import nbformat
import pytest
from harness import CANVAS, assert_not_blank, expect

pytestmark = [pytest.mark.browser, pytest.mark.timeout(150)]

PANEL_TITLES = (
    "Prediction f(x) and the hidden units",
    "Train and test error",
    "Linearized features",
    "Singular values",
    "Principal features",
)


def _notebook(theme: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("%matplotlib widget\nimport linfeat_widgets as lf"),
            nbformat.v4.new_code_cell(
                "data = lf.make_dataset()\n"
                "runs = lf.sweep(data, widths=(10, 40), n_steps=600, save_every=100, progress=False)\n"
                f"explorer = lf.Explorer(runs, width=40, theme={theme!r})\n"
                "explorer"
            ),
        ]
    )


def _no_horizontal_overflow(nb) -> None:
    widths = nb.page.evaluate(
        """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .linfeat-explorer, '
                + '.jp-NotebookPanel .jp-OutputArea-output, .jp-NotebookPanel .jp-WindowedPanel-outer'),
            e => [e.className, e.scrollWidth, e.clientWidth])"""
    )
    assert widths, "no explorer found"
    for name, scroll, client in widths:
        assert scroll <= client + 1, f"{name}: content {scroll} px wider than its {client} px box"


@pytest.mark.parametrize("theme", ["default", "lecture"])
def test_dashboard_in_jupyterlab(theme, open_notebook, artifacts_dir):
    nb = open_notebook(f"dashboard-{theme}.ipynb", _notebook(theme))
    nb.run_all_cells(timeout_ms=90_000)  # at 1,280 px: narrower, the toolbar hides the kernel indicator it reads
    nb.wait_for_canvases_painted()
    nb.assert_no_errors()
    nb.page.set_viewport_size({"width": 1280, "height": 1900})  # tall enough for the whole widget
    nb.page.mouse.move(0, 0)  # no toolbar shown on hover
    name = "dashboard.png" if theme == "default" else "dashboard-lecture.png"
    nb.widget_output().screenshot(path=artifacts_dir / name)  # at 1,280 px, the file browser open: the README's
    nb.page.set_viewport_size({"width": 1000, "height": 1000})
    assert nb.canvases().count() == 5
    for i, image in enumerate(nb.canvas_images()):
        assert_not_blank(image, f"canvas {i}")

    # every panel: a card with its title in the tooltip and a one-line caption under the canvas
    cards = nb.panel.locator(".linfeat-panel")
    assert cards.count() == 5
    for card, title in zip(cards.all(), PANEL_TITLES):
        caption = card.locator(".linfeat-caption")
        assert card.locator(CANVAS).count() == 1
        assert len(caption.inner_text()) > 40 and caption.get_attribute("title") == caption.inner_text()
        assert title  # drawn on the canvas; the headless tests read it from the figure
    # the groups of the control bar, labelled
    for heading in ("RUN", "STEP", "VIEW"):
        expect(nb.panel.locator(".linfeat-group").filter(has_text=heading).first).to_be_visible()
    # one depth, one paradigm: text, not disabled buttons
    assert nb.panel.locator("button.widget-toggle-button:disabled:visible").count() == 0
    expect(nb.panel.locator(".linfeat-choice-text").filter(has_text="depth").first).to_be_visible()
    _no_horizontal_overflow(nb)

    # the step buttons move the run by one saved step (the last is shown first)
    status = nb.panel.locator(".linfeat-status")
    expect(status).to_contain_text("SGD iteration 600")
    before = nb.canvas_state()
    nb.panel.locator('button[title="previous saved step"]').click()
    expect(status).to_contain_text("SGD iteration 500", timeout=30_000)
    nb.wait_for_canvas_change(before)
    readout = nb.panel.locator(".widget-slider").filter(has_text="SGD iteration").locator(".widget-readout")
    expect(readout).to_have_text("500")
    nb.panel.locator('button[title="next saved step"]').click()
    expect(status).to_contain_text("SGD iteration 600", timeout=30_000)
    expect(nb.panel.locator('button[title="next saved step"]')).to_be_disabled()

    nb.assert_no_errors()
