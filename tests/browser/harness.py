"""Drive a notebook in JupyterLab through headless Chromium, the way a person would.

Three parts, each usable alone:

- `LabServer`: a JupyterLab server on 127.0.0.1 (free port, no token) whose Jupyter, IPython and matplotlib
  directories all live in one throwaway folder, so nothing configured on the machine leaks in.
- `LabNotebook`: one notebook open in a browser tab: run all cells from the Run menu, find widgets by their
  description, press keys on them, read canvases, collect every error the page shows.
- Pixel helpers: decode a PNG screenshot to a `(h, w, 3)` array and measure ink and change.

Playwright is imported only inside the functions that need it, so collecting the tests works without it
(the fixtures then skip, or fail in CI).
"""

from __future__ import annotations

import copy
import http.cookiejar
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import numpy as np

if TYPE_CHECKING:
    import nbformat
    from playwright.sync_api import Locator, Page

CHROMIUM = "/usr/bin/chromium"
# --disable-background-networking and friends: on a closed network Chromium's own background connections are
# refused and can stall start-up; the page only ever talks to 127.0.0.1.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# JupyterLab user settings for the throwaway server: no news prompt covering the page, every cell attached to the
# DOM (the default "contentVisibility"/"full" windowing can leave off-screen cells unrendered), no autosave.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}

# What JupyterLab 4 renders, as CSS selectors (checked against JupyterLab 4.6, ipywidgets 8.1, ipympl 0.10).
NOTEBOOK_PANEL = ".jp-NotebookPanel"
KERNEL_INDICATOR = ".jp-Notebook-ExecutionIndicator"  # data-status="idle" | "busy" | ...
KERNEL_STATUS = '.jp-StatusBar-TextItem[title^="Change kernel for"]'  # "No Kernel | Initializing", ...
KERNEL_READY = re.compile(r"^(?!No Kernel).+ \| Idle$")
CODE_PROMPT = ".jp-CodeCell .jp-InputArea-prompt"  # "[ ]:", "[*]:", "[3]:"
# Tracebacks, warnings and anything else on stderr all render with this mime type.
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
WIDGET_OUTPUT = ".jp-OutputArea-output:has(.jupyter-widgets)"
CANVAS = ".jupyter-matplotlib-canvas-div"  # holds ipympl's image canvas and its rubber-band canvas
# Errors raised in widget callbacks do not reach a cell: JupyterLab logs them to the Log Console, whose status-bar
# item is hidden (lm-mod-hidden) while the log is empty.
LOG_STATUS_ITEM = ".jp-LogConsoleStatusItem"
LOG_ENTRY = ".jp-LogConsolePanel .jp-OutputArea-child"

_EXECUTED = re.compile(r"^\[\d+\]:$")


def expect(target):
    """Playwright's `expect` (assertions that wait), imported on first use."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def chromium_executable() -> str | None:
    """Debian's Chromium, or a `chromium` on PATH; None when there is none."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


# --------------------------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """A JupyterLab server on 127.0.0.1 whose every directory is inside `workdir`.

    Started from this interpreter (`sys.executable -m jupyter lab`), so the default ``python3`` kernel is this
    environment's Python. `stop` shuts the server down with SIGTERM to its process group (it then shuts its kernels
    down), escalates to SIGKILL, and kills any kernel that outlived it.

    Parameters
    ----------
    workdir
        An empty folder; the notebook directory is ``workdir / "notebooks"``.
    """

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.root = self.workdir / "notebooks"
        self.runtime_dir = self.workdir / "runtime"
        self.log_path = self.workdir / "server.log"
        self.url = ""
        self._proc: subprocess.Popen | None = None
        self._cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self._cookies))

    def _env(self) -> dict[str, str]:
        # Drop the caller's Jupyter search paths and matplotlib backend; point every per-user directory here.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_", "MPLBACKEND"))}
        dirs = {
            "JUPYTER_CONFIG_DIR": "config",
            "JUPYTER_DATA_DIR": "data",
            "JUPYTER_RUNTIME_DIR": "runtime",
            "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
            "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
            "IPYTHONDIR": "ipython",
            "MPLCONFIGDIR": "matplotlib",
        }
        for name, sub in dirs.items():
            env[name] = str(self.workdir / sub)
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        return env

    def _write_settings(self) -> None:
        for plugin, values in LAB_SETTINGS.items():
            path = self.workdir / "lab-settings" / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))

    def _command(self, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            f"--ServerApp.root_dir={self.root}",
            # A safety net should teardown never run (pytest killed): orphaned kernels are culled and the server
            # then stops by itself.
            "--MappingKernelManager.cull_idle_timeout=600",
            "--MappingKernelManager.cull_interval=60",
            "--ServerApp.shutdown_no_activity_timeout=900",
        ]

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until ``/api/status`` answers; retry on another port if one is taken."""
        self.root.mkdir(parents=True, exist_ok=True)
        env = self._env()
        self._write_settings()
        for _attempt in range(3):
            port = _free_port()
            with open(self.log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    self._command(port),
                    cwd=self.root,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, so teardown can signal all of it
                )
            self.url = f"http://127.0.0.1:{port}"
            if self._wait_until_up(timeout):
                return
            if "is not available" not in self.log_tail():
                break
        self.stop()
        raise RuntimeError(f"JupyterLab did not start within {timeout:.0f} s; its log ends:\n{self.log_tail()}")

    def _wait_until_up(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                self.api("GET", "/api/status", timeout=2)
                return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        return False

    def api(self, method: str, path: str, timeout: float = 10) -> object:
        """Call the server's REST API; the decoded JSON answer (None when empty).

        Without a token the server still checks XSRF on anything but GET: the ``_xsrf`` cookie that a page load
        sets must come back as the ``X-XSRFToken`` header, as JupyterLab's own requests do.
        """
        headers = {}
        if method != "GET":
            if not any(c.name == "_xsrf" for c in self._cookies):
                self._opener.open(self.url + "/lab", timeout=timeout).close()
            headers["X-XSRFToken"] = next(c.value for c in self._cookies if c.name == "_xsrf")
        request = urllib.request.Request(self.url + path, method=method, headers=headers)
        with self._opener.open(request, timeout=timeout) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        """Shut down every session's kernel (between tests, to keep the machine free)."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def log_tail(self, n_lines: int = 40) -> str:
        """The last lines of the server's log."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n_lines:])

    def stop(self) -> None:
        """Stop the server and everything it started; safe to call twice and after a failed start."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        # Kernels run in sessions of their own; any still alive is found by its connection file, which lies in
        # this server's runtime directory.
        for pid in _pids_whose_command_mentions(str(self.runtime_dir)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _pids_whose_command_mentions(text: str) -> list[int]:
    pids = []
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in entry.read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                pids.append(int(entry.parent.name))
        except OSError:
            continue
    return pids


# --------------------------------------------------------------------------------------------------------------
# Notebooks
# --------------------------------------------------------------------------------------------------------------


def prepare_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of `nb` ready for a fresh run: no outputs or execution counts, no empty code cells, python3 kernel.

    Without saved outputs, every prompt starts as ``[ ]:`` and every widget on the page was drawn by this run.
    """
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or c.source.strip()]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata.pop("widgets", None)
    return nb


class LabNotebook:
    """One notebook open in a JupyterLab tab.

    Parameters
    ----------
    page
        A Playwright page; its console errors and uncaught exceptions are recorded from here on.
    base_url
        The server, ``http://127.0.0.1:<port>``.
    name
        The notebook's path inside the server's notebook directory.
    """

    def __init__(self, page: Page, base_url: str, name: str):
        self.page = page
        self.base_url = base_url
        self.name = name
        self.console_errors: list[str] = []
        page.on("pageerror", lambda exc: self.console_errors.append(f"uncaught: {exc}"))
        page.on("console", self._on_console)

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    @property
    def panel(self) -> Locator:
        """The notebook panel (``?reset`` in `open` makes it the only one)."""
        return self.page.locator(NOTEBOOK_PANEL)

    def open(self, timeout_ms: float = 60_000) -> None:
        """Load ``/lab/tree/<name>`` with a fresh workspace and wait until its kernel has started and is idle.

        The toolbar's execution indicator says "idle" before any kernel exists (and Run All then opens a "Select
        Kernel" dialog), so readiness is read from the status bar's kernel item: "Python 3 (ipykernel) | Idle".
        """
        self.page.goto(f"{self.base_url}/lab/tree/{quote(self.name)}?reset", timeout=timeout_ms)
        expect(self.page.locator(KERNEL_STATUS)).to_have_text(KERNEL_READY, timeout=timeout_ms)
        self.panel.locator(f'{KERNEL_INDICATOR}[data-status="idle"]').wait_for(timeout=timeout_ms)

    def prompts(self) -> list[str]:
        """Every code cell's input prompt, e.g. ``["[1]:", "[*]:", "[ ]:"]``."""
        return [text.strip() for text in self.panel.locator(CODE_PROMPT).all_inner_texts()]

    def run_all_cells(self, timeout_ms: float = 60_000) -> None:
        """Run > Run All Cells, then wait until no cell is queued or running and the kernel is idle.

        Raises AssertionError naming the cells that did not run (JupyterLab stops at the first error).
        """
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        self.page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
        # All cells turn "[*]:" at once when queued; then they finish one by one. An error leaves later ones "[ ]:".
        self.page.wait_for_function(
            """([prompt, indicator]) => {
                const texts = Array.from(document.querySelectorAll(prompt), e => e.textContent.trim());
                const started = texts.some(t => t !== "[ ]:");
                const idle = document.querySelector(indicator)?.dataset.status === "idle";
                return started && idle && !texts.includes("[*]:");
            }""",
            arg=[f"{NOTEBOOK_PANEL} {CODE_PROMPT}", f"{NOTEBOOK_PANEL} {KERNEL_INDICATOR}"],
            timeout=timeout_ms,
            polling=100,
        )
        prompts = self.prompts()
        not_run = [i for i, p in enumerate(prompts) if not _EXECUTED.match(p)]
        assert not not_run, f"code cells {not_run} did not run: {prompts}\n{self.describe_errors()}"

    # ---- errors ------------------------------------------------------------------------------------------------

    def error_outputs(self) -> list[str]:
        """Text of every traceback, warning or other stderr output in the notebook's cells."""
        return self.panel.locator(STDERR_OUTPUT).all_inner_texts()

    def log_console_entries(self) -> list[str]:
        """Text of the Log Console's entries (errors raised in widget callbacks land there), opening it if needed."""
        item = self.page.locator(LOG_STATUS_ITEM)
        if item.count() == 0 or "lm-mod-hidden" in (item.get_attribute("class") or ""):
            return []
        item.click()
        entries = self.page.locator(LOG_ENTRY)
        entries.first.wait_for()
        return entries.all_inner_texts()

    def describe_errors(self) -> str:
        """Every error the page shows, as one report (empty when there is none)."""
        parts = []
        for title, texts in [
            ("error output in a cell", self.error_outputs()),
            ("Log Console entry", self.log_console_entries()),
            ("browser console error", self.console_errors),
        ]:
            parts += [f"--- {title}:\n{text.strip()}" for text in texts]
        return "\n".join(parts)

    def assert_no_errors(self) -> None:
        """No error output in any cell, nothing in the Log Console, no error in the browser console."""
        report = self.describe_errors()
        assert not report, f"{self.name} shows errors:\n{report}"

    # ---- widgets -----------------------------------------------------------------------------------------------

    def widget_output(self) -> Locator:
        """The first cell output holding an ipympl canvas and a slider: the composed widget, for screenshots.

        Plain figures (also ipympl canvases) in earlier cells are passed over.
        """
        outputs = self.panel.locator(WIDGET_OUTPUT).filter(has=self.page.locator(CANVAS))
        return outputs.filter(has=self.page.locator(".widget-slider")).first

    def slider_handle(self, description: str) -> Locator:
        """The keyboard-focusable handle (``role="slider"``) of the slider labelled `description`."""
        slider = self.panel.locator(".widget-slider").filter(
            has=self.page.locator(f'label.widget-label:text-is("{description}")')
        )
        return slider.locator('.noUi-handle[role="slider"]')

    def choose_other(self, description: str) -> str:
        """Pick another option in the ToggleButtons or Dropdown labelled `description`; the option's label."""
        label = self.page.locator(f'label.widget-label:text-is("{description}")')
        buttons = self.panel.locator(".widget-toggle-buttons").filter(has=label)
        if buttons.count():
            other = buttons.locator("button.widget-toggle-button:not(.mod-active)").first
            text = other.inner_text().strip()
            other.click()
            return text
        select = self.panel.locator(".widget-dropdown").filter(has=label).locator("select")
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("s => s.options[s.selectedIndex].text")
        text = next(o for o in options if o != current)
        select.select_option(label=text)
        return text

    # ---- canvases ----------------------------------------------------------------------------------------------

    def canvases(self) -> Locator:
        """Every ipympl canvas in the notebook."""
        return self.panel.locator(CANVAS)

    def wait_for_canvases_painted(self, timeout_ms: float = 30_000) -> None:
        """Wait until at least one canvas exists and every canvas holds an image (some non-transparent pixel)."""
        self.canvases().first.wait_for(timeout=timeout_ms)
        self.page.wait_for_function(
            """selector => Array.from(document.querySelectorAll(selector)).every(div => {
                const c = div.querySelector("canvas");
                // a canvas that has not been sized yet is not painted (getImageData would throw, ending the wait)
                if (!c || c.width === 0 || c.height === 0) return false;
                const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
                return false;
            })""",
            arg=f"{NOTEBOOK_PANEL} {CANVAS}",
            timeout=timeout_ms,
            polling=100,
        )

    def canvas_state(self) -> list[str]:
        """What every canvas holds now, as data URLs; compare two to see whether anything was redrawn."""
        return self.canvases().evaluate_all(
            "divs => divs.map(d => Array.from(d.querySelectorAll('canvas'), c => c.toDataURL()).join('|'))"
        )

    def wait_for_canvas_change(self, before: list[str], timeout_ms: float = 30_000) -> None:
        """Wait until some canvas differs from `before` (a `canvas_state`)."""
        self.page.wait_for_function(
            """([selector, before]) => {
                const now = Array.from(document.querySelectorAll(selector),
                    d => Array.from(d.querySelectorAll("canvas"), c => c.toDataURL()).join("|"));
                return now.length !== before.length || now.some((s, i) => s !== before[i]);
            }""",
            arg=[f"{NOTEBOOK_PANEL} {CANVAS}", before],
            timeout=timeout_ms,
            polling=100,
        )

    def canvas_images(self) -> list[np.ndarray]:
        """Screenshots of every canvas as shown on screen, each `(h, w, 3)` in [0, 1]."""
        return [decode_png(c.screenshot()) for c in self.canvases().all()]


# --------------------------------------------------------------------------------------------------------------
# Pixels
# --------------------------------------------------------------------------------------------------------------


def decode_png(data: bytes) -> np.ndarray:
    """A PNG as an `(h, w, 3)` float array in [0, 1] (alpha dropped)."""
    import matplotlib.image

    image = matplotlib.image.imread(io.BytesIO(data), format="png")
    return np.asarray(image[..., :3], dtype=np.float64)


def ink_fraction(image: np.ndarray, tol: float = 0.1) -> float:
    """Fraction of pixels that differ from the most common colour (the background) by more than `tol`."""
    flat = image.reshape(-1, image.shape[-1])
    colours, counts = np.unique(np.round(flat, 2), axis=0, return_counts=True)
    background = colours[np.argmax(counts)]
    return float(np.mean(np.abs(flat - background).max(axis=1) > tol))


def distinct_colours(image: np.ndarray) -> int:
    """How many different colours `image` holds (after rounding to 8 bits)."""
    flat = np.round(image.reshape(-1, image.shape[-1]) * 255).astype(np.uint8)
    return len(np.unique(flat, axis=0))


def changed_fraction(before: np.ndarray, after: np.ndarray, tol: float = 0.1) -> float:
    """Fraction of pixels that changed by more than `tol` in some channel (1.0 when the sizes differ)."""
    if before.shape != after.shape:
        return 1.0
    return float(np.mean(np.abs(after - before).max(axis=-1) > tol))


def assert_not_blank(image: np.ndarray, what: str, min_ink: float = 0.005, min_colours: int = 8) -> None:
    """A drawn figure: some ink on the background and more than a handful of colours (antialiased lines, text)."""
    ink, colours = ink_fraction(image), distinct_colours(image)
    assert ink >= min_ink and colours >= min_colours, (
        f"{what} looks blank: {ink:.2%} of pixels differ from the background, {colours} distinct colours"
    )
