"""The Explorer where people click it: JupyterLab in headless Chromium, driven by menu, keyboard and mouse.

One story per notebook in `notebooks_under_test.NOTEBOOKS`: run all cells, see drawn canvases, move the iteration
slider with the keyboard and see the canvas and the status readout change, switch width and see a redraw, and no
error anywhere. Screenshots of the composed widget before and after the slider move go to ``artifacts/browser/``.
"""

import pytest
from harness import CANVAS, assert_not_blank, changed_fraction, expect
from notebooks_under_test import NOTEBOOKS, THEORY_PANELS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.mark.parametrize("spec", NOTEBOOKS, ids=lambda spec: spec.id)
def test_explorer_in_jupyterlab(spec, open_notebook, artifacts_dir):
    nb = open_notebook(spec.name, spec.load())
    nb.run_all_cells(timeout_ms=spec.run_timeout_s * 1000)
    nb.wait_for_canvases_painted()
    nb.assert_no_errors()

    images = nb.canvas_images()
    for i, image in enumerate(images):
        assert_not_blank(image, f"canvas {i} after running all cells")
    explorer = nb.widget_output()
    explorer.screenshot(path=artifacts_dir / f"{spec.id}-before.png")

    # The iteration slider, moved with the keyboard, reaches the kernel: it redraws the canvas and the readout.
    status = nb.panel.locator(spec.status)
    status_before = status.inner_text()
    handle = nb.slider_handle(spec.slider)
    index_before = float(handle.get_attribute("aria-valuenow"))
    canvas_before = nb.canvas_state()
    handle.focus()
    nb.page.keyboard.press("ArrowRight")
    expect(status).not_to_have_text(status_before, timeout=30_000)
    nb.wait_for_canvas_change(canvas_before)
    assert float(handle.get_attribute("aria-valuenow")) == index_before + 1
    after = nb.canvas_images()
    changed = max(changed_fraction(a, b) for a, b in zip(images, after))
    assert changed > 0, "the slider moved but no canvas pixel changed on screen"
    for i, image in enumerate(after):
        assert_not_blank(image, f"canvas {i} after the slider move")
    explorer.screenshot(path=artifacts_dir / f"{spec.id}-after.png")

    # Another width redraws.
    canvas_before = nb.canvas_state()
    nb.choose_other(spec.width)
    nb.wait_for_canvas_change(canvas_before)
    for i, image in enumerate(nb.canvas_images()):
        assert_not_blank(image, f"canvas {i} after switching width")

    nb.assert_no_errors()


def test_theory_panels_in_jupyterlab(open_notebook, artifacts_dir):
    """All eight panels with the linearized model: the theory panels, computed in the background, are drawn.

    Their row, screenshotted in a wide window, is the README's ``docs/theory_panels.png``.
    """
    spec = THEORY_PANELS
    nb = open_notebook(spec.name, spec.load())
    nb.page.set_viewport_size({"width": 1800, "height": 1200})
    nb.run_all_cells(timeout_ms=spec.run_timeout_s * 1000)
    nb.wait_for_canvases_painted()
    status = nb.panel.locator(spec.status)
    expect(status).to_contain_text("SGD iteration 1,000")
    expect(status).not_to_contain_text("computing", timeout=60_000)  # the background computation was drawn
    nb.assert_no_errors()
    assert nb.canvases().count() == 8
    row = nb.widget_output().locator(".widget-hbox").filter(has=nb.page.locator(CANVAS)).last
    row.scroll_into_view_if_needed()
    nb.page.mouse.move(0, 0)  # no toolbar shown on hover
    for i, image in enumerate(nb.canvas_images()[-3:]):
        assert_not_blank(image, f"theory panel {i}")
    row.screenshot(path=artifacts_dir / "theory-panels.png")
