"""Fixtures for the browser tests: one JupyterLab server and one headless Chromium per session, a fresh tab per test.

Without Chromium or Playwright the browser tests skip locally and fail in CI (``CI=true``): there a missing browser
is a broken set-up, never a reason to pass. The server and the browser are shut down in fixture teardown, which
pytest runs also when a test fails or times out. A failing test leaves a full-page screenshot and the server's log
under ``artifacts/browser/``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness import CHROMIUM, CHROMIUM_ARGS, LabNotebook, LabServer, chromium_executable, prepare_notebook

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason}; CI=true, so the browser tests must run", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell in teardown whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``artifacts/browser/`` (git-ignored): screenshots the tests leave behind."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 with throwaway directories; stopped, with its kernels, at session end."""
    if importlib.util.find_spec("jupyterlab") is None:
        _unavailable("jupyterlab is not installed (pip install -e '.[test]')")
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser); closed at session end."""
    executable = chromium_executable()
    if executable is None:
        _unavailable(f"no Chromium at {CHROMIUM} or on PATH (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=list(CHROMIUM_ARGS), timeout=60_000
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def lab_page(request, chromium, lab_server, artifacts_dir):
    """A tab in a fresh browser context; on failure a screenshot, and always its kernels shut down afterwards."""
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    context.set_default_navigation_timeout(60_000)
    page = context.new_page()
    try:
        yield page
    finally:
        try:
            stem = re.sub(r"[^\w.-]+", "_", request.node.name)
            screenshot, log = artifacts_dir / f"{stem}-failure.png", artifacts_dir / f"{stem}-server.log"
            if getattr(request.node, "report_call", None) is None or request.node.report_call.failed:
                log.write_text(lab_server.log_tail(400))
                print(f"screenshot and server log in {artifacts_dir}; the server's log ends:\n{lab_server.log_tail()}")
                page.screenshot(path=screenshot, full_page=True, timeout=10_000)
            else:  # passed: leave no stale evidence of an earlier failure
                screenshot.unlink(missing_ok=True)
                log.unlink(missing_ok=True)
        finally:
            context.close()
            lab_server.shut_down_kernels()


@pytest.fixture
def open_notebook(lab_page, lab_server):
    """``open_notebook(name, nb)``: write `nb`, outputs stripped, to the server and open it; a `LabNotebook`."""

    def open_(name: str, nb: nbformat.NotebookNode) -> LabNotebook:
        nbformat.write(prepare_notebook(nb), lab_server.root / name)
        notebook = LabNotebook(lab_page, lab_server.url, name)
        notebook.open()
        return notebook

    return open_
