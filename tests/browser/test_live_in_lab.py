"""Lecture mode where people click it: Play on a live explorer changes the step and the canvases; Pause stops them."""

import time

import nbformat
import pytest
from harness import assert_not_blank, expect

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

LIVE = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell("%matplotlib widget\nimport linfeat_widgets as lf"),
        nbformat.v4.new_code_cell(
            "lecture = lf.live(lf.make_dataset(n_samples=60), width=10, save_every=200, speed=1000)\nlecture"
        ),
    ]
)


def test_play_and_pause_in_jupyterlab(open_notebook, artifacts_dir):
    nb = open_notebook("live.ipynb", LIVE)
    nb.run_all_cells(timeout_ms=90_000)
    nb.wait_for_canvases_painted()
    nb.assert_no_errors()
    status = nb.panel.locator(".linfeat-live-status")
    expect(status).to_contain_text("paused")
    expect(status).to_contain_text("step 1")
    canvas_before = nb.canvas_state()

    nb.panel.get_by_role("button", name="Play").click()
    expect(status).to_contain_text("training", timeout=30_000)
    expect(status).not_to_contain_text("step 1 ", timeout=30_000)
    nb.wait_for_canvas_change(canvas_before)  # the panels follow the run
    nb.widget_output().screenshot(path=artifacts_dir / "live-playing.png")

    nb.panel.get_by_role("button", name="Pause").click()
    expect(status).to_contain_text("paused", timeout=30_000)
    time.sleep(1.0)  # the last refresh after the pause lands
    text, canvas = status.inner_text(), nb.canvas_state()
    time.sleep(2.0)
    assert status.inner_text() == text, "the step moved on after Pause"
    assert nb.canvas_state() == canvas, "the canvases changed after Pause"
    for i, image in enumerate(nb.canvas_images()):
        assert_not_blank(image, f"canvas {i} after Pause")
    nb.assert_no_errors()
