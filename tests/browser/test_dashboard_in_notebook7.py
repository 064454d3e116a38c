"""The dashboard in Jupyter Notebook 7 (issue 12): canvases drawn, every panel card captioned, the ▶ step button moves
the run (Notebook 7's slider ignores the arrow keys, so the buttons are the keyboard-free way there), no horizontal
overflow at 1,000 px, and no error anywhere.

Notebook 7 is a JupyterLab application with one document per page: the same notebook panel and cells, but its own
URL (``/notebooks/<name>``), no status bar and no Log Console. The server is `LabServer` started as
``jupyter notebook``; kernel readiness is read from the server's sessions API rather than from Lab's status bar.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import time
from urllib.parse import quote

import nbformat
import pytest
from harness import (
    CANVAS,
    CODE_PROMPT,
    NOTEBOOK_PANEL,
    LabNotebook,
    LabServer,
    assert_not_blank,
    expect,
    prepare_notebook,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

# Notebook 7.6's own keyboard-shortcuts plugin throws this on opening any notebook, with every third-party extension
# disabled too (its settings registry's `pluginChanged` handler reads `plugins[id].schema` of a plugin not loaded).
# Only this message, thrown from Notebook 7's core bundle, is let through; any other error fails the test.
NOTEBOOK7_OWN_ERROR = "Cannot read properties of undefined (reading 'schema')"
NOTEBOOK7_CORE = re.compile(r"^\S*: .*\n\s+at \S*/static/notebook/notebook_core\.[0-9a-f]+\.js")


class NotebookServer(LabServer):
    """Jupyter Notebook 7 on 127.0.0.1, every directory in `workdir`, as `LabServer` starts JupyterLab."""

    def _command(self, port: int) -> list[str]:
        command = super()._command(port)
        return [*command[:3], "notebook", *command[4:]]  # "-m jupyter lab ..." -> "-m jupyter notebook ..."

    def kernel_states(self) -> list[str]:
        """The execution state of every session's kernel ("starting", "busy", "idle", ...)."""
        return [s["kernel"].get("execution_state", "") for s in self.api("GET", "/api/sessions")]


class Notebook7Page(LabNotebook):
    """One notebook open in a Notebook 7 tab; readiness comes from the server, which knows the kernel's state."""

    def __init__(self, page, server: NotebookServer, name: str):
        super().__init__(page, server.url, name)
        self.server = server
        self.core_errors = 0
        page.on("pageerror", self._on_page_error)

    def _on_page_error(self, exc) -> None:
        if exc.message == NOTEBOOK7_OWN_ERROR and NOTEBOOK7_CORE.match(exc.stack or ""):
            self.core_errors += 1

    def describe_errors(self) -> str:
        """As in JupyterLab, less Notebook 7's own error on opening a notebook (`NOTEBOOK7_OWN_ERROR`)."""
        known = f"uncaught: {NOTEBOOK7_OWN_ERROR}"
        n_known = sum(e == known for e in self.console_errors)
        assert n_known <= self.core_errors, "the known error came from elsewhere than Notebook 7's core"
        self.console_errors = [e for e in self.console_errors if e != known]
        return super().describe_errors()

    def _wait_for_idle_kernel(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            states = self.server.kernel_states()
            if states and all(s == "idle" for s in states):
                return
            time.sleep(0.2)
        raise AssertionError(f"the kernel is not idle after {timeout_s:.0f} s: {self.server.kernel_states()}")

    def open(self, timeout_ms: float = 60_000) -> None:
        """Load ``/notebooks/<name>`` and wait until the panel is shown and its kernel is idle."""
        self.page.goto(f"{self.base_url}/notebooks/{quote(self.name)}", timeout=timeout_ms)
        self.panel.wait_for(timeout=timeout_ms)
        self._wait_for_idle_kernel(timeout_ms / 1000)

    def run_all_cells(self, timeout_ms: float = 60_000) -> None:
        """Run > Run All Cells (the same menu command as in JupyterLab), then wait until every cell has run."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        self.page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
        self.page.wait_for_function(
            """prompt => {
                const texts = Array.from(document.querySelectorAll(prompt), e => e.textContent.trim());
                return texts.length > 0 && texts.every(t => /^\\[\\d+\\]:$/.test(t));
            }""",
            arg=f"{NOTEBOOK_PANEL} {CODE_PROMPT}",
            timeout=timeout_ms,
            polling=100,
        )
        self._wait_for_idle_kernel(timeout_ms / 1000)


@pytest.fixture(scope="module")
def notebook_server(tmp_path_factory):
    """A Notebook 7 server with throwaway directories; stopped, with its kernels, at the module's end."""
    if importlib.util.find_spec("notebook") is None:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail("notebook is not installed; CI=true, so the browser tests must run", pytrace=False)
        pytest.skip("notebook (Notebook 7) is not installed (pip install -e '.[test]')")
    server = NotebookServer(tmp_path_factory.mktemp("notebook7"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _explorer_notebook() -> nbformat.NotebookNode:
    return prepare_notebook(
        nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_code_cell("%matplotlib widget\nimport linfeat_widgets as lf"),
                nbformat.v4.new_code_cell(
                    "data = lf.make_dataset()\n"
                    "runs = lf.sweep(data, widths=(10, 40), n_steps=600, save_every=100, progress=False)\n"
                    "explorer = lf.Explorer(runs, width=40, iteration=300)\n"
                    "explorer"
                ),
            ]
        )
    )


def test_dashboard_in_notebook7(notebook_server, chromium, artifacts_dir):
    context = chromium.new_context(viewport={"width": 1000, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    name = "dashboard-notebook7.ipynb"
    nbformat.write(_explorer_notebook(), notebook_server.root / name)
    nb = Notebook7Page(page, notebook_server, name)
    try:
        nb.open()
        nb.run_all_cells(timeout_ms=120_000)
        nb.wait_for_canvases_painted()
        nb.assert_no_errors()
        assert nb.canvases().count() == 5
        for i, image in enumerate(nb.canvas_images()):
            assert_not_blank(image, f"canvas {i}")

        cards = nb.panel.locator(".linfeat-panel")
        assert cards.count() == 5
        for card in cards.all():
            assert card.locator(CANVAS).count() == 1
            caption = card.locator(".linfeat-caption")
            assert len(caption.inner_text()) > 40 and caption.get_attribute("title") == caption.inner_text()

        # no horizontal overflow in a 1,000 px window
        widths = page.evaluate(
            """() => Array.from(document.querySelectorAll(
                    '.jp-NotebookPanel .linfeat-explorer, .jp-NotebookPanel .jp-OutputArea-output'),
                e => [e.className, e.scrollWidth, e.clientWidth])"""
        )
        assert widths, "no explorer found"
        for cls, scroll, client in widths:
            assert scroll <= client + 1, f"{cls}: content {scroll} px wider than its {client} px box"

        # ▶ moves the run one saved step: the status line, the slider's readout and the canvases follow
        status = nb.panel.locator(".linfeat-status")
        expect(status).to_contain_text("SGD iteration 300")
        before = nb.canvas_state()
        images = nb.canvas_images()
        nb.panel.locator('button[title="next saved step"]').click()
        expect(status).to_contain_text("SGD iteration 400", timeout=30_000)
        nb.wait_for_canvas_change(before)
        readout = nb.panel.locator(".widget-slider").filter(has_text="SGD iteration").locator(".widget-readout")
        expect(readout).to_have_text("400")
        after = nb.canvas_images()
        assert any(a.shape != b.shape or abs(a - b).max() > 0.1 for a, b in zip(images, after)), "no canvas changed"
        nb.panel.locator('button[title="previous saved step"]').click()
        expect(status).to_contain_text("SGD iteration 300", timeout=30_000)

        page.mouse.move(0, 0)
        nb.widget_output().screenshot(path=artifacts_dir / "dashboard-notebook7.png")
        nb.assert_no_errors()
        for stale in ("dashboard-notebook7-failure.png", "dashboard-notebook7-server.log"):
            (artifacts_dir / stale).unlink(missing_ok=True)  # passed: no evidence of an earlier failure left
    except BaseException:
        page.screenshot(path=artifacts_dir / "dashboard-notebook7-failure.png", full_page=True, timeout=10_000)
        (artifacts_dir / "dashboard-notebook7-server.log").write_text(notebook_server.log_tail(400))
        print(f"screenshot in {artifacts_dir}; the server's log ends:\n{notebook_server.log_tail()}", file=sys.stderr)
        raise
    finally:
        context.close()
        notebook_server.shut_down_kernels()
