"""A slider move of the Explorer, all five panels redrawn, against the homework's one-panel redraw.

Width 40, depth 2 (d = 1,761 parameters), 151 snapshots (as many as the homework's
150,000 steps saved every 1,000; here 3,000 steps saved every 20, to train quickly).

The explorer runs in its image mode under Agg: each move updates the five panels, renders
them with Agg (a blit of the changed artists over the background saved at the last full
``canvas.draw()``, or a full ``canvas.draw()`` when an axis changed) and encodes the five
PNGs its widgets show. The first pass visits every snapshot for the first time (features,
SVD and predictions computed then); the second jumps back and forth among visited ones.

Measured in the same run, for comparison:
- the homework's ``plot_update`` for one panel (new figure, ReLUs, prediction, data,
  legend, Agg draw): the baseline of the ratios;
- the same moves followed by a full ``canvas.draw()`` of all five figures, i.e. what a
  redraw without blitting costs;
- the explorer under ipympl's backend (kernel side only: the blit and ipympl's own diff
  PNG; a full draw is done when the front end would ask for it).

Then the same with all eight panels (``panels="all"``: the five plus movement, residual
and spectrum history) on a sweep that also trained the linearized model
(``linearized=True``: the prediction and error panels overlay it): the per-run theory
arrays are computed once, on the first draw (timed separately); a slider move then only
moves the markers of the three theory panels and the linearized prediction.

Target: median slider move <= 50 ms, with five panels and with eight.

Run: python benchmarks/bench_explorer.py
"""

from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from _timing import report
from homework import homework_redraw

import linfeat_widgets as lf


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def homework_baseline(history, data, repeats: int = 12) -> float:
    net = history.model(0)
    steps = history.steps[:: max(1, len(history) // repeats)][:repeats]
    homework_redraw(data.X, data.y, data.X_test, data.y_test, net, history.state(int(steps[0])))  # warm-up
    plt.close("all")
    times = []
    for step in steps:
        state = history.state(int(step))
        times.append(timed(lambda s=state: homework_redraw(data.X, data.y, data.X_test, data.y_test, net, s)))
        plt.close("all")  # the homework leaks its figures; closing keeps this run's memory flat
    return float(np.median(times))


def slider_moves(explorer, order, after=lambda: None) -> list[float]:
    slider = explorer.iteration_slider

    def move(step):
        slider.value = int(step)
        after()

    return [timed(lambda s=step: move(s)) for step in order]


def full_draws(explorer) -> int:
    return sum(host.full_draws for host in explorer.hosts.values())


def main() -> None:
    data = lf.make_dataset()
    start = time.perf_counter()
    trained = lf.sweep(data, widths=(40,), depths=(2,), n_steps=3000, save_every=20, progress=False)
    history = trained.history()
    print(
        f"width 40, depth 2: d = {history.params.shape[1]} parameters, {len(history)} snapshots "
        f"(trained in {time.perf_counter() - start:.1f} s)"
    )
    steps = history.steps
    revisits = np.random.default_rng(0).choice(steps, size=150)
    baseline = homework_baseline(history, data)

    explorer = lf.Explorer(trained, mode="image", iteration=int(steps[0]))
    built = full_draws(explorer)
    first = slider_moves(explorer, steps[1:])  # every snapshot's first visit
    again = slider_moves(explorer, revisits)
    redrawn = full_draws(explorer) - built
    explorer.close()

    plain = lf.Explorer(trained, mode="image", iteration=int(steps[0]))
    full = slider_moves(plain, steps[1:60], after=lambda: [figure.canvas.draw() for figure in plain.figures])
    plain.close()

    matplotlib.use("module://ipympl.backend_nbagg")
    live = lf.Explorer(trained, iteration=int(steps[0]))
    canvases = [host for host in live.hosts.values()]
    for host in canvases:
        host.widget.syncing_data_url = False  # as once a front end has connected

    def front_end():  # ipympl draws when the front end answers a draw_idle
        for host in canvases:
            if host.awaiting_draw:
                host.figure.canvas.draw()

    front_end()
    ipympl_moves = slider_moves(live, list(steps[1:]) + list(revisits), after=front_end)
    live.close()

    matplotlib.use("Agg")
    start = time.perf_counter()
    lin = lf.sweep(data, widths=(40,), depths=(2,), n_steps=3000, save_every=20, progress=False, linearized=True)
    print(f"the same run with its linearized model trained in {time.perf_counter() - start:.1f} s")
    # the theory arrays of the run, as the first draw of the theory panels computes them (theory.py then caches
    # them per run, so the Explorer below finds them ready)
    theory = lf.TheoryCache(lin.history(), data)
    start = time.perf_counter()
    _ = theory.movement, theory.projections, theory.spectrum
    theory_time = time.perf_counter() - start
    start = time.perf_counter()
    eight = lf.Explorer(lin, mode="image", iteration=int(steps[0]), panels="all")
    opened = time.perf_counter() - start
    print(f"the run's theory arrays: {theory_time:.2f} s; then eight panels opened in {opened:.2f} s")
    eight_first = slider_moves(eight, steps[1:])
    eight_again = slider_moves(eight, revisits)
    eight_full = full_draws(eight)
    eight.close()

    moves = first + again
    rows = [
        ("homework plot_update, 1 panel", baseline),
        ("explorer move, 5 panels (all moves)", float(np.median(moves))),
        ("  first visits of a snapshot", float(np.median(first))),
        ("  revisits", float(np.median(again))),
        ("move + canvas.draw() of all 5 figures", float(np.median(full))),
        ("ipympl canvases, kernel side", float(np.median(ipympl_moves))),
        ("explorer move, 8 panels + linearized (all)", float(np.median(eight_first + eight_again))),
        ("  first visits of a snapshot", float(np.median(eight_first))),
        ("  revisits", float(np.median(eight_again))),
    ]
    print(f"{len(moves)} moves in image mode; full figure draws among them: {redrawn}, the rest blits")
    report(rows, baseline="homework plot_update, 1 panel")
    print(f"eight panels: {len(eight_first) + len(eight_again)} moves, full figure draws in all: {eight_full}")
    for label, times in (("5 panels", moves), ("8 panels", eight_first + eight_again)):
        ours = float(np.median(times))
        verdict = "met" if ours <= 0.050 else "NOT met"
        print(f"target <= 50 ms, {label}: {verdict} ({ours * 1e3:.1f} ms median slider move)")


if __name__ == "__main__":
    main()
