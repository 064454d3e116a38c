"""Latency in the real browser (issue 12): from a key press or click to the canvases' pixels changing.

JupyterLab on 127.0.0.1 (the browser tests' `LabServer`) and Debian's headless Chromium (``--no-sandbox``) through
Playwright. The page itself times each interaction: a capturing listener takes ``performance.now()`` at the
keydown, pointerdown or change event, and a ``requestAnimationFrame`` loop compares each watched canvas's
``getImageData`` with its pixels before the event, noting the frame at which each first differs (so times are
rounded up to the next frame, about 16 ms at 60 Hz). Between repetitions it waits until no canvas has changed for
0.4 s and the kernel is idle.

The Explorer: ``lf.Explorer(runs, width=40)`` on a sweep of widths 10 and 40, depth 2, 3,000 steps saved every 100
(31 snapshots), layout "wide". Interactions, ~20 repetitions each:
- slider step: ArrowLeft (10 times, first visits of a snapshot) then ArrowRight (10 times, revisits) on the
  focused "SGD iteration" handle; timed on the prediction canvas and on all five canvases (the last to change);
- width switch: a click on the other width's button, all five canvases;
- layer switch: another entry of the "features of" dropdown, the features canvas.

The homework's approach, in the same browser, in a second notebook under ``%matplotlib inline``:
``ipywidgets.interact`` over (width, step), each move opening a new 10 x 7 figure with ``tests/homework.py``'s
``homework_redraw`` (the homework's ``plot_update``), and an ``interact`` over the layer drawing that layer's
features computed the homework's way (``per_point_jacobian``, one backward pass per training point) in a new
figure. Its output is an ``<img>``, not a canvas: the time is from the event to the new image decoded and shown.

The floor, in a third notebook: one ipympl canvas of the prediction panel's size whose one line a slider moves
and blits, nothing computed. Its slider step is the least any ipympl panel can take on this machine and browser: the
widget message to the kernel, the frame back through the server, the browser loading and decoding it.

Run: python benchmarks/bench_browser_latency.py [--reps 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from harness import (  # noqa: E402
    CANVAS,
    CHROMIUM_ARGS,
    NOTEBOOK_PANEL,
    LabNotebook,
    LabServer,
    chromium_executable,
    prepare_notebook,
)

SWEEP = "runs = lf.sweep(data, widths=(10, 40), depths=(2,), n_steps=3000, save_every=100, progress=False)\n"

EXPLORER = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell("%matplotlib widget\nimport linfeat_widgets as lf"),
        nbformat.v4.new_code_cell(
            "data = lf.make_dataset()\n" + SWEEP + "explorer = lf.Explorer(runs, width=40)\nexplorer"
        ),
    ]
)

HOMEWORK = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell(
            "%matplotlib inline\n"
            "import sys\n"
            f"sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
            "import ipywidgets as w\n"
            "import matplotlib.pyplot as plt\n"
            "import linfeat_widgets as lf\n"
            "from homework import homework_redraw, per_point_jacobian\n"
            "data = lf.make_dataset()\n" + SWEEP + "steps = [int(s) for s in runs.history(width=40).steps]"
        ),
        nbformat.v4.new_code_cell(
            "def plot_update(width, step):\n"
            "    history = runs.history(width=width)\n"
            "    fig = homework_redraw(data.X, data.y, data.X_test, data.y_test, history.model(0),\n"
            "                          history.state(step))\n"
            "    plt.show()\n"
            "\n"
            "w.interact(plot_update, width=w.ToggleButtons(options=[10, 40], value=40, description='width'),\n"
            "           step=w.SelectionSlider(options=steps, value=steps[-1], description='SGD iteration'));"
        ),
        nbformat.v4.new_code_cell(
            "def plot_features(layer):\n"
            "    history = runs.history(width=40)\n"
            "    net = history.model(steps[-1])\n"
            "    J = per_point_jacobian(net, data.X)  # (n, d), one backward pass per point\n"
            "    sizes = {name: p.numel() for name, p in net.named_parameters()}\n"
            "    start = sum(list(sizes.values())[: list(sizes).index(layer)])\n"
            "    fig = plt.figure(figsize=(10, 7))\n"
            "    plt.plot(data.X[:, 0], J[:, start : start + sizes[layer]])\n"
            "    plt.title(f'features of {layer}')\n"
            "    plt.show()\n"
            "\n"
            "w.interact(plot_features, layer=w.Dropdown(options=['0.weight', '0.bias', '2.weight'],\n"
            "                                            description='features of'));"
        ),
    ]
)

# The least any ipympl panel can take here: one canvas of the prediction panel's size, one line moved by a slider and
# blitted (restore the background, draw the line, send the frame). Nothing is computed: what it measures is the way
# from a key press to a canvas' new pixels (the widget message, the kernel, the server, the frame's decoding).
FLOOR = nbformat.v4.new_notebook(
    cells=[
        nbformat.v4.new_code_cell(
            "%matplotlib widget\n"
            "import ipywidgets as w\n"
            "import numpy as np\n"
            "from matplotlib.figure import Figure\n"
            "from linfeat_widgets.canvas import FigureHost, new_figure\n"
            "fig = new_figure((5.0, 3.2), 80, 'ipympl')\n"
            "ax = fig.add_subplot()\n"
            "x = np.linspace(0, 1, 256)\n"
            "(line,) = ax.plot(x, x, animated=True)\n"
            "ax.set_ylim(-1.5, 1.5)\n"
            "host = FigureHost(fig, [line])\n"
            "slider = w.IntSlider(value=30, min=0, max=60, description='SGD iteration')\n"
            "def move(change):\n"
            "    line.set_ydata(np.sin(20 * x + change['new'] / 5))\n"
            "    host.refresh()\n"
            "slider.observe(move, 'value')\n"
            "w.VBox([slider, host.widget])"
        ),
    ]
)

# Installed once per page: `arm(kind, indices)` remembers the watched elements' pixels and starts the frame loop;
# `result()` is null until every watched element changed (or 10 s passed), then {t0, times}: ms from the event.
TIMER_JS = """
() => {
  const fingerprint = el => {
    if (el.tagName === "IMG") return (el.complete && el.naturalWidth > 0) ? el.src : null;
    if (!el.width || !el.height) return null;
    const d = new Uint32Array(el.getContext("2d").getImageData(0, 0, el.width, el.height).data.buffer);
    let h = 2166136261 >>> 0;
    for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i], 16777619) >>> 0;
    return h + ":" + el.width + "x" + el.height;
  };
  const targets = (kind, indices) => {
    const panel = document.querySelector(arguments_selector.panel);
    if (kind === "canvas") {
      const all = Array.from(panel.querySelectorAll(arguments_selector.canvas), d => d.querySelector("canvas"));
      return indices.map(i => () => all[i]);
    }
    // the homework's outputs: the i-th interact's image, looked up afresh (each move replaces the <img>)
    return indices.map(i => () => panel.querySelectorAll(".jp-OutputArea-output .widget-output")[i]
                                      ?.querySelector("img"));
  };
  window.__lfTimer = {
    arm(kind, indices) {
      const getters = targets(kind, indices);
      const before = getters.map(g => { const el = g(); return el ? fingerprint(el) : null; });
      const state = {t0: null, times: getters.map(() => null), done: false, cost: 0, frames: 0};
      const start = () => { if (state.t0 === null) state.t0 = performance.now(); };
      for (const type of ["keydown", "pointerdown", "change"]) window.addEventListener(type, start, true);
      const tick = now => {
        const began = performance.now();
        if (state.t0 !== null) {
          getters.forEach((g, k) => {
            if (state.times[k] !== null) return;
            const el = g();
            const fp = el ? fingerprint(el) : null;
            if (fp !== null && fp !== before[k]) state.times[k] = performance.now() - state.t0;
          });
          if (state.times.every(t => t !== null) || performance.now() - state.t0 > 10000) state.done = true;
        }
        state.cost += performance.now() - began;
        state.frames += 1;
        if (!state.done) requestAnimationFrame(tick);
        else for (const type of ["keydown", "pointerdown", "change"])
          window.removeEventListener(type, start, true);
      };
      requestAnimationFrame(tick);
      this.state = state;
    },
    result() {
      const s = this.state;
      return s.done ? {t0: s.t0, times: s.times, frameCostMs: s.frames ? s.cost / s.frames : 0} : null;
    },
  };
}
"""


# the timer's own work per animation frame (reading and hashing the watched pixels), in ms
FRAME_COSTS: list[float] = []


def install_timer(nb: LabNotebook) -> None:
    js = TIMER_JS.replace("arguments_selector.panel", repr(NOTEBOOK_PANEL)).replace(
        "arguments_selector.canvas", repr(CANVAS)
    )
    nb.page.evaluate(js)


def settle(nb: LabNotebook, quiet_ms: int = 400) -> None:
    """Wait until the kernel is idle and no canvas or image has changed for `quiet_ms`."""
    nb.page.locator(f'{NOTEBOOK_PANEL} .jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for()
    nb.page.evaluate(
        """([selector, quiet]) => new Promise(resolve => {
            const snap = () => Array.from(document.querySelectorAll(selector), c =>
                c.tagName === "IMG" ? c.src : c.toDataURL()).join("|");
            let last = snap(), since = performance.now();
            const t0 = performance.now();
            const id = setInterval(() => {
                const now = snap();
                if (now !== last) { last = now; since = performance.now(); }
                if (performance.now() - since > quiet || performance.now() - t0 > 10000) {
                    clearInterval(id); resolve();
                }
            }, 50);
        })""",
        [f"{NOTEBOOK_PANEL} {CANVAS} canvas, {NOTEBOOK_PANEL} .widget-output img", quiet_ms],
    )


def timed(nb: LabNotebook, kind: str, indices: list[int], act) -> list[float | None]:
    """Arm the page's timer on the watched elements, `act()`, and return ms from the event to each one's change."""
    settle(nb)
    nb.page.evaluate("([kind, indices]) => window.__lfTimer.arm(kind, indices)", [kind, indices])
    act()
    nb.page.wait_for_function("() => window.__lfTimer.result() !== null", timeout=15_000, polling=20)
    result = nb.page.evaluate("() => window.__lfTimer.result()")
    FRAME_COSTS.append(result["frameCostMs"])
    return result["times"]


def slider_handle(nb: LabNotebook, nth: int = 0):
    return nb.panel.locator(".widget-slider").filter(has_text="SGD iteration").nth(nth).locator(".noUi-handle")


def width_button(nb: LabNotebook, nth: int = 0):
    return (
        nb.panel.locator(".widget-toggle-buttons")
        .filter(has_text="width")
        .nth(nth)
        .locator("button.widget-toggle-button:not(.mod-active)")
    )


def layer_select(nb: LabNotebook, nth: int = 0):
    return nb.panel.locator(".widget-dropdown").filter(has_text="features of").nth(nth).locator("select")


def other_layer(select, layers=("0.weight", "0.bias", "2.weight")) -> str:
    current = select.evaluate("s => s.value")
    return layers[(layers.index(current) + 1) % len(layers)] if current in layers else layers[0]


def measure(nb: LabNotebook, kind: str, reps: int) -> dict[str, list[float | None]]:
    """Slider steps, width switches and layer switches: each one's latencies (ms) for the watched elements."""
    out: dict[str, list] = {"slider": [], "width": [], "layer": []}
    canvases = [0, 1, 2, 3, 4] if kind == "canvas" else [0]
    if kind == "floor":
        kind, canvases = "canvas", [0]
    handle = slider_handle(nb)
    for i in range(reps):
        key = "ArrowLeft" if i < reps // 2 else "ArrowRight"
        handle.focus()
        out["slider"].append(timed(nb, kind, canvases, lambda k=key: nb.page.keyboard.press(k)))
    if len(canvases) == 1 and kind == "canvas":
        return out  # the floor: a slider only
    for _ in range(reps):
        out["width"].append(timed(nb, kind, canvases, lambda: width_button(nb).first.click()))
    features = [2] if kind == "canvas" else [1]
    select = layer_select(nb)
    for _ in range(reps):
        out["layer"].append(timed(nb, kind, features, lambda: select.select_option(other_layer(select))))
    return out


def percentiles(times: list[float | None]) -> tuple[float, float, int]:
    """p50, p90 over the repetitions that changed, and how many did not change within 10 s."""
    done = [t for t in times if t is not None]
    missing = len(times) - len(done)
    if not done:
        return float("nan"), float("nan"), missing
    return float(np.percentile(done, 50)), float(np.percentile(done, 90)), missing


def run_notebook(server: LabServer, browser, name: str, nb_source, kind: str, reps: int):
    nbformat.write(prepare_notebook(nb_source), server.root / name)
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        nb = LabNotebook(page, server.url, name)
        nb.open(timeout_ms=120_000)
        nb.run_all_cells(timeout_ms=240_000)
        if kind in ("canvas", "floor"):
            nb.wait_for_canvases_painted(timeout_ms=60_000)
        else:
            nb.panel.locator(".widget-output img").nth(1).wait_for(timeout=120_000)
        install_timer(nb)
        results = measure(nb, kind, reps)
        errors = nb.describe_errors()
        if errors:
            print(f"{name} showed errors:\n{errors}")
        return results
    finally:
        context.close()
        server.shut_down_kernels()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=20, help="repetitions per interaction (default 20)")
    args = parser.parse_args()
    executable = chromium_executable()
    if executable is None:
        sys.exit("no Chromium at /usr/bin/chromium or on PATH")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-browser-") as workdir:
        server = LabServer(Path(workdir))
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
                )
                try:
                    start = time.perf_counter()
                    ours = run_notebook(server, browser, "explorer.ipynb", EXPLORER, "canvas", args.reps)
                    theirs = run_notebook(server, browser, "homework.ipynb", HOMEWORK, "img", args.reps)
                    floor = run_notebook(server, browser, "floor.ipynb", FLOOR, "floor", args.reps)
                    print(f"measured in {time.perf_counter() - start:.0f} s, {args.reps} repetitions each")
                finally:
                    browser.close()
        finally:
            server.stop()

    # the homework's figure has one panel: its time stands for every row of the same interaction
    rows = [
        ("slider step, prediction canvas", [t[0] for t in ours["slider"]], theirs["slider"], (40, 60)),
        ("slider step, all five canvases", [_last(t) for t in ours["slider"]], theirs["slider"], (50, 80)),
        ("width switch, all five canvases", [_last(t) for t in ours["width"]], theirs["width"], (80, 120)),
        ("layer switch, features canvas", [t[0] for t in ours["layer"]], theirs["layer"], (60, 100)),
    ]
    print(f"{'interaction':<32} {'explorer p50/p90':>18} {'homework p50/p90':>18} {'p50 ratio':>10}  goal p50/p90")
    for label, mine, base, (g50, g90) in rows:
        m50, m90, m_missing = percentiles(mine)
        b50, b90, b_missing = percentiles([t[0] for t in base])
        verdict = "met" if m50 <= g50 and m90 <= g90 else "NOT met"
        note = f" ({m_missing} never changed)" if m_missing else ""
        note += f" (homework: {b_missing} never changed)" if b_missing else ""
        print(
            f"{label:<32} {m50:8.0f} / {m90:5.0f} ms {b50:8.0f} / {b90:5.0f} ms {b50 / m50:9.1f}x"
            f"  <= {g50}/{g90} ms: {verdict}{note}"
        )
    half = len(ours["slider"]) // 2
    for label, part in (("first visits", ours["slider"][:half]), ("revisits", ours["slider"][half:])):
        p50, p90, _ = percentiles([t[0] for t in part])
        a50, a90, _ = percentiles([_last(t) for t in part])
        print(f"  slider step, {label}: prediction {p50:.0f} / {p90:.0f} ms, all five {a50:.0f} / {a90:.0f} ms")
    f50, f90, _ = percentiles([t[0] for t in floor["slider"]])
    print(f"  the floor, one line blitted on one ipympl canvas per slider step: {f50:.0f} / {f90:.0f} ms")
    print(f"the timer's own work per frame (reading the watched pixels): {np.median(FRAME_COSTS):.1f} ms median")


def _last(times: list[float | None]) -> float | None:
    """When the last of the watched canvases changed; None if one never did."""
    return None if any(t is None for t in times) else max(times)


if __name__ == "__main__":
    main()
