"""Lecture mode: training throughput while the live panels refresh, and a 151-frame GIF.

1. A LiveExplorer trains at full speed for some seconds inside an asyncio event loop (as in
   a Jupyter kernel) while its five panels refresh (at most 10 times per second, at most a
   quarter of the time); its steps per second are compared with ``train`` alone over as
   many steps of the same run (goal: at least 70%).
2. ``animate`` writes a GIF of all 151 snapshots of a 150,000-step run with the five
   panels (goal: at most 15 s); the per-frame cost is compared with drawing every frame in
   full (no blitting), on a sample of frames.

Run: ``PYTHONPATH=. python benchmarks/bench_live.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import linfeat_widgets as lf
from linfeat_widgets import export
from linfeat_widgets.panel_specs import PanelView


def throughput(data, seconds: float, width: int, depth: int) -> None:
    model = lf.make_mlp(width, depth, seed=0)
    lf.train(model, data, n_steps=1000, save_every=500, progress=False)  # compile / load the kernels

    async def session():
        e = lf.live(data, width=width, depth=depth, save_every=500, speed="full", max_steps=None, mode="image")
        try:
            await asyncio.sleep(0.3)  # the explorer's first refresh
            first, began = e.run.step_count, time.perf_counter()
            e.play()
            await asyncio.sleep(seconds)
            e.run.pause()
            elapsed = time.perf_counter() - began
            return elapsed, e.refreshes, e.run.step_count - first
        finally:
            e.close()

    elapsed, refreshes, steps = asyncio.run(session())
    start = time.perf_counter()
    lf.train(model, data, n_steps=steps, save_every=500, progress=False)
    offline = time.perf_counter() - start
    rate_off, rate_live = steps / offline, steps / elapsed
    print(f"training at full speed for {seconds:g} s: width {width}, depth {depth}, save_every 500")
    print(f"  live, panels refreshing:   {elapsed:7.2f} s  {rate_live:12,.0f} steps/s  ({refreshes} refreshes)")
    print(f"  offline train(), as many:  {offline:7.2f} s  {rate_off:12,.0f} steps/s")
    print(f"  ratio live / offline:      {rate_live / rate_off:7.1%}   (goal >= 70%)")


def gif(data, n_steps: int, width: int, sample: int) -> None:
    history = lf.train(lf.make_mlp(width, seed=0), data, n_steps=n_steps, save_every=1000, progress=False)
    view = PanelView.of(history, data)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        export.animate(Path(folder) / "run.gif", view, progress=False)
        total = time.perf_counter() - start
        start = time.perf_counter()
        path = export.animate(Path(folder) / "run.gif", view, progress=False)  # caches now warm
        warm = time.perf_counter() - start
        frames = export_frames(path)
    # the same frames drawn in full each time (no blitting), on a sample
    composed = export.PanelFigure(context=export.context_of(view))
    steps = [int(s) for s in history.steps[:: max(1, len(history) // sample)]][:sample]
    start = time.perf_counter()
    for step in steps:
        composed.draw(dataclasses.replace(view, step=step))
        composed.title.set_animated(False)
        composed.figure.canvas.draw()
        for panel in composed.board.panels.values():
            for artist in panel.animated:
                composed.figure.draw_artist(artist)
    full_per_frame = (time.perf_counter() - start) / len(steps)
    print(f"GIF of {frames} frames, five panels, width {width}, {n_steps:,} steps")
    print(f"  first animate (caches filled on the way): {total:7.2f} s   (goal <= 15 s)")
    print(f"  second animate (caches warm):             {warm:7.2f} s   {warm / frames * 1e3:7.1f} ms/frame")
    print(f"  full redraw per frame (no blitting):      {full_per_frame * 1e3:7.1f} ms/frame")
    print(f"  blitting speed-up per frame:              {full_per_frame / (warm / frames):7.1f}x")


def export_frames(path) -> int:
    from PIL import Image

    with Image.open(path) as image:
        return image.n_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run (CI smoke test)")
    args = parser.parse_args()
    data = lf.make_dataset()
    if args.quick:
        throughput(data, 2.0, 20, 1)
        gif(data, 20_000, 20, 5)
    else:
        throughput(data, 10.0, 20, 1)
        throughput(data, 10.0, 40, 2)
        gif(data, 150_000, 20, 15)


if __name__ == "__main__":
    main()
