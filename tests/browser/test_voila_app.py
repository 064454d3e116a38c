"""The Explorer as a Voilà app: ``notebooks/app.ipynb`` served by ``voila`` and opened in headless Chromium.

The story a student on Binder sees: the page renders the explanation and the Explorer with no code, every canvas is
drawn, the SGD iteration slider moved with the keyboard redraws the panels, another width redraws them, and no error
or traceback appears anywhere.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from harness import CANVAS, STDERR_OUTPUT, LabServer, assert_not_blank, changed_fraction, decode_png, expect

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

APP = Path(__file__).resolve().parents[2] / "notebooks" / "app.ipynb"
# The JupyterLab extensions the app needs (Voilà's own widget manager, ipywidgets', ipympl's): what Binder's
# requirements install. Others in a developer's environment (jupytext, notebook 7, ipylab) are built against a newer
# JupyterLab than Voilà's page and fail to load there, which is not the app's error.
APP_EXTENSIONS = ("@voila-dashboards/widgets-manager8", "@jupyter-widgets/jupyterlab-manager", "jupyter-matplotlib")
# Network errors for resources from the internet (fonts, MathJax): the test machine is offline, Binder is not.
_OFFLINE_NOISE = re.compile(r"Failed to load resource: net::ERR_(NAME_NOT_RESOLVED|INTERNET_DISCONNECTED)")


class VoilaServer(LabServer):
    """``voila`` serving one folder on 127.0.0.1 (tree mode, as Binder's ``voila/render/...`` URL expects).

    Everything per-user lives in `workdir` as for `LabServer`, and Voilà's kernel connection files go to its runtime
    folder, so `stop` finds any kernel left behind.
    """

    def _command(self, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "voila",
            str(self.root),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--show_tracebacks=True",  # an error would otherwise be a generic sentence the test might miss
            f"--Voila.connection_dir_root={self.runtime_dir}",
        ] + [f"--VoilaConfiguration.extension_allowlist={name}" for name in APP_EXTENSIONS]

    def _wait_until_up(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                # the tree page lists the folder without starting a kernel
                self._opener.open(self.url + "/", timeout=2).close()
                return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        return False

    def shut_down_kernels(self) -> None:
        """Nothing to do: Voilà shuts a page's kernel down itself, and `stop` kills any left."""


@pytest.fixture
def voila_server(tmp_path):
    """Voilà serving a folder that holds a copy of the app notebook; stopped with its kernels afterwards."""
    if importlib.util.find_spec("voila") is None:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail("voila is not installed; CI=true, so the browser tests must run", pytrace=False)
        pytest.skip("voila is not installed (pip install -e '.[test]')")
    server = VoilaServer(tmp_path)
    server.root.mkdir(parents=True)
    shutil.copy(APP, server.root / APP.name)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _canvas_state(page) -> list[str]:
    return page.locator(CANVAS).evaluate_all(
        "divs => divs.map(d => Array.from(d.querySelectorAll('canvas'), c => c.toDataURL()).join('|'))"
    )


def _wait_for_canvas_change(page, before: list[str], timeout_ms: float = 30_000) -> None:
    page.wait_for_function(
        """([selector, before]) => {
            const now = Array.from(document.querySelectorAll(selector),
                d => Array.from(d.querySelectorAll("canvas"), c => c.toDataURL()).join("|"));
            return now.length !== before.length || now.some((s, i) => s !== before[i]);
        }""",
        arg=[CANVAS, before],
        timeout=timeout_ms,
        polling=100,
    )


def _canvas_images(page) -> list:
    return [decode_png(c.screenshot()) for c in page.locator(CANVAS).all()]


def _errors_shown(page, console_errors: list[str]) -> str:
    parts = [f"--- error output:\n{t}" for t in page.locator(STDERR_OUTPUT).all_inner_texts()]
    body = page.locator("body").inner_text()
    for phrase in ("Traceback", "There was an error when executing cell", "Error:"):
        if phrase in body:
            parts.append(f"--- page text contains {phrase!r}")
    parts += [f"--- browser console: {e}" for e in console_errors if not _OFFLINE_NOISE.search(e)]
    return "\n".join(parts)


def test_explorer_as_a_voila_app(voila_server, chromium, artifacts_dir):
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("pageerror", lambda exc: console_errors.append(f"uncaught: {exc}"))
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    try:
        # Voilà runs the whole notebook (training the sweep) before the page is complete.
        page.goto(f"{voila_server.url}/voila/render/{APP.name}", timeout=180_000)
        page.locator(CANVAS).first.wait_for(timeout=180_000)
        page.wait_for_function(
            """selector => {
                const divs = Array.from(document.querySelectorAll(selector));
                return divs.length > 0 && divs.every(div => {
                    const c = div.querySelector("canvas");
                    if (!c || c.width === 0 || c.height === 0) return false;
                    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
                    return false;
                });
            }""",
            arg=CANVAS,
            timeout=60_000,
            polling=100,
        )
        assert page.locator(CANVAS).count() == 5, "the Explorer has five panels"

        # An app: the explanation is there, the code is not.
        body = page.locator("body").inner_text()
        assert "The panels" in body and "Principal features" in body
        assert page.locator(".jp-InputArea-editor, .cm-editor, .CodeMirror").count() == 0, "a code editor is shown"
        assert "lf.explore(" not in body and "import linfeat_widgets" not in body, "code is shown"
        report = _errors_shown(page, console_errors)
        assert not report, f"the app shows errors:\n{report}"

        images = _canvas_images(page)
        for i, image in enumerate(images):
            assert_not_blank(image, f"canvas {i} after loading")
        page.screenshot(path=artifacts_dir / "voila-app-before.png")

        # The slider starts at the last saved step: one step back with the keyboard redraws panels and readout.
        slider = page.locator(".widget-slider").filter(has=page.locator('label.widget-label:text-is("SGD iteration")'))
        handle = slider.locator('.noUi-handle[role="slider"]')
        status = page.locator(".linfeat-status")
        status_before = status.inner_text()
        index_before = float(handle.get_attribute("aria-valuenow"))
        canvas_before = _canvas_state(page)
        handle.focus()
        page.keyboard.press("ArrowLeft")
        expect(status).not_to_have_text(status_before, timeout=30_000)
        _wait_for_canvas_change(page, canvas_before)
        assert float(handle.get_attribute("aria-valuenow")) == index_before - 1
        after = _canvas_images(page)
        assert max(changed_fraction(a, b) for a, b in zip(images, after)) > 0, "no canvas pixel changed"
        for i, image in enumerate(after):
            assert_not_blank(image, f"canvas {i} after the slider move")

        # Another width redraws.
        width = page.locator(".widget-toggle-buttons").filter(has=page.locator('label.widget-label:text-is("width")'))
        canvas_before = _canvas_state(page)
        width.locator("button.widget-toggle-button:not(.mod-active)").first.click()
        _wait_for_canvas_change(page, canvas_before)
        for i, image in enumerate(_canvas_images(page)):
            assert_not_blank(image, f"canvas {i} after switching width")
        page.screenshot(path=artifacts_dir / "voila-app-after.png")

        report = _errors_shown(page, console_errors)
        assert not report, f"the app shows errors:\n{report}"
    except BaseException:
        page.screenshot(path=artifacts_dir / "voila-app-failure.png", full_page=True, timeout=10_000)
        print(f"screenshot in {artifacts_dir}; Voilà's log ends:\n{voila_server.log_tail()}")
        raise
    finally:
        context.close()
