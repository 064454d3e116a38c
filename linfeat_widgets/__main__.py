"""The command line: the homework's figures and a run's animation, without Jupyter.

``python -m linfeat_widgets figures --out DIR`` trains the homework's sweep and writes
one composed figure of the panels per run and chosen step; ``python -m linfeat_widgets
animate --out FILE`` trains one run and writes its animation (GIF or MP4). Both draw with
the Explorer's panels through :mod:`linfeat_widgets.export`, and load no ipywidgets.
``--help`` on each command lists every option; a bad option exits with status 2 and a
message naming it.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from . import export
from .data import make_dataset
from .models import INITS
from .panel_specs import DEFAULT_PANELS, PANELS, PanelView
from .themes import THEMES
from .training import BACKENDS, PARADIGMS, snapshot_steps, sweep

__all__ = ["main", "parser"]

_TARGETS = ("piecewise_linear", "sin(20x)")


# --- argument types: each refusal names what is accepted; argparse adds the option's name ---
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text!r}")
    return value


def _step(text: str) -> int | str:
    if text in ("first", "last"):
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a saved step (an integer), 'first' or 'last'; got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a saved step (1 or more); got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0; got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number; got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number >= 0; got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0; got {text!r}")
    return value


def _fps(text: str) -> float:
    value = _positive_float(text)
    if value > export._MAX_FPS:
        raise argparse.ArgumentTypeError(f"must be at most {export._MAX_FPS:g} frames per second; got {text!r}")
    return value


def _init(text: str) -> str | float:
    if text in INITS:
        return text
    try:
        return _positive_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be one of {', '.join(INITS)} or a positive scale s (uniform in [-s, s]); got {text!r}"
        ) from None


def _panel(text: str) -> str:
    if text != "all" and text not in PANELS:
        raise argparse.ArgumentTypeError(f"must be 'all' or one of {', '.join(PANELS)}; got {text!r}")
    return text


# --- the parser ----------------------------------------------------------------------------
def _add_data_options(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("data")
    group.add_argument("--target", choices=_TARGETS, default="piecewise_linear", help="the function to learn")
    group.add_argument("--n-samples", type=_positive_int, default=200, help="training points (default 200)")
    group.add_argument("--sigma", type=_non_negative_float, default=0.1, help="noise on the targets (default 0.1)")
    group.add_argument("--data-seed", type=_seed, default=1, help="seed of the data (default 1, the homework's)")


def _add_training_options(p: argparse.ArgumentParser, n_steps: int, save_every: int) -> None:
    group = p.add_argument_group("training")
    group.add_argument("--init", type=_init, default="elbows", help=f"initialization: {', '.join(INITS)} or a scale s")
    group.add_argument(
        "--n-steps", type=_positive_int, default=n_steps, help=f"SGD steps per run (default {n_steps:,})"
    )
    group.add_argument(
        "--save-every", type=_positive_int, default=save_every, help=f"steps between snapshots (default {save_every:,})"
    )
    group.add_argument("--lr", type=_positive_float, default=None, help="learning rate (default per paradigm)")
    group.add_argument("--seed", type=_seed, default=0, help="seed of the networks and minibatches (default 0)")
    group.add_argument("--backend", choices=BACKENDS, default="auto", help="training backend (default auto)")


def _add_drawing_options(p: argparse.ArgumentParser, dpi: float) -> None:
    group = p.add_argument_group("drawing")
    group.add_argument(
        "--panels",
        nargs="+",
        type=_panel,
        default=list(DEFAULT_PANELS),
        metavar="PANEL",
        help=f"panels to draw, or 'all' (default: {' '.join(DEFAULT_PANELS)}; any of {', '.join(PANELS)})",
    )
    group.add_argument("--layer", default="0.weight", help="whose features to draw: e.g. 0.weight, 2.weight or all")
    group.add_argument("--dpi", type=_positive_float, default=dpi, help=f"resolution (default {dpi:g})")
    group.add_argument(
        "--theme", choices=tuple(THEMES), default="default", help="fonts and lines: default, or lecture for slides"
    )
    group.add_argument("--quiet", action="store_true", help="no progress bars")


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m linfeat_widgets`` (commands ``figures`` and ``animate``)."""
    top = argparse.ArgumentParser(
        prog="python -m linfeat_widgets",
        description="Train the homework's networks and draw what they learn through their local linearization.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    figures = commands.add_parser(
        "figures",
        help="the homework's figures: one composed figure per run and step",
        description="Train a sweep of widths, depths and paradigms and save one figure of the panels per run and "
        "step, named w{width}_d{depth}_{paradigm}_step{step}.{format}.",
    )
    figures.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write the figures to")
    figures.add_argument(
        "--widths", type=_positive_int, nargs="+", default=[10, 20, 40], help="hidden widths (default 10 20 40)"
    )
    figures.add_argument("--depths", type=_positive_int, nargs="+", default=[1], help="hidden layers (default 1)")
    figures.add_argument(
        "--paradigms", choices=PARADIGMS, nargs="+", default=["all"], help="training paradigms (default all)"
    )
    figures.add_argument(
        "--steps",
        type=_step,
        nargs="+",
        default=["first", "last"],
        metavar="STEP",
        help="saved steps to draw: integers, 'first', 'last' (default first last)",
    )
    figures.add_argument("--format", choices=("png", "svg", "pdf"), default="png", help="file format (default png)")
    _add_data_options(figures)
    _add_training_options(figures, 150_000, 1000)
    _add_drawing_options(figures, 150)
    figures.set_defaults(run=_figures, command_parser=figures)

    animate = commands.add_parser(
        "animate",
        help="one run's training as an animation (GIF or MP4)",
        description="Train one run and write an animation of the panels over its saved steps.",
    )
    animate.add_argument("--out", type=Path, required=True, metavar="FILE", help="the .gif or .mp4 to write")
    animate.add_argument("--width", type=_positive_int, default=20, help="hidden width (default 20)")
    animate.add_argument("--depth", type=_positive_int, default=1, help="hidden layers (default 1)")
    animate.add_argument("--paradigm", choices=PARADIGMS, default="all", help="training paradigm (default all)")
    animate.add_argument("--fps", type=_fps, default=10, help="frames per second (default 10)")
    animate.add_argument(
        "--every", type=_positive_int, default=1, help="draw every k-th saved step (default 1: all of them)"
    )
    _add_data_options(animate)
    _add_training_options(animate, 150_000, 1000)
    _add_drawing_options(animate, 80)
    animate.set_defaults(run=_animate, command_parser=animate)
    return top


# --- the commands --------------------------------------------------------------------------
def _panels(p: argparse.ArgumentParser, names: list[str]):
    if "all" in names:
        if len(names) > 1:
            p.error("argument --panels: 'all' stands alone")
        return "all"
    if len(set(names)) < len(names):
        p.error(f"argument --panels: name each panel once; got {' '.join(names)}")
    return tuple(names)


def _check_layer(p: argparse.ArgumentParser, layer: str, depths: Sequence[int]) -> None:
    accepted = {"all"} | {f"{2 * i}.{kind}" for i in range(max(depths) + 1) for kind in ("weight", "bias")}
    if layer not in accepted:
        p.error(f"argument --layer: must be 'all' or a parameter name such as 0.weight or 0.bias; got {layer!r}")
    index = int(layer.split(".")[0]) if layer != "all" else 0
    if index > 2 * min(depths):
        p.error(f"argument --layer: {layer} is not a parameter of a depth-{min(depths)} network")


def _resolve_steps(p: argparse.ArgumentParser, requested, n_steps: int, save_every: int) -> list:
    saved = snapshot_steps(n_steps, save_every).tolist()
    steps = []
    for step in requested:
        value = saved[0] if step == "first" else saved[-1] if step == "last" else step
        if value not in saved:
            p.error(
                f"argument --steps: {step} is not a saved step; with --n-steps {n_steps} and --save-every "
                f"{save_every} they are 1, {saved[1] if len(saved) > 1 else 1}, ..., {saved[-1]}"
            )
        if value not in steps:
            steps.append(value)
    return steps


def _data(args):
    return make_dataset(target=args.target, n_samples=args.n_samples, sigma=args.sigma, seed=args.data_seed)


def _figures(p: argparse.ArgumentParser, args) -> int:
    panels = _panels(p, args.panels)
    _check_layer(p, args.layer, args.depths)
    steps = _resolve_steps(p, args.steps, args.n_steps, args.save_every)
    if args.out.exists() and not args.out.is_dir():
        p.error(f"argument --out: {str(args.out)!r} is a file; give a folder")
    data = _data(args)
    runs = sweep(
        data,
        widths=tuple(args.widths),
        depths=tuple(args.depths),
        paradigms=tuple(args.paradigms),
        init=args.init,
        n_steps=args.n_steps,
        save_every=args.save_every,
        seed=args.seed,
        backend=args.backend,
        lr=args.lr,
        progress=not args.quiet,
    )
    written = 0
    for config in runs:
        history = runs[config]
        view = PanelView.of(history, data, layer=args.layer)
        for step in steps if config.paradigm != "ridge" else [int(history.steps[-1])]:
            name = f"w{config.width}_d{config.depth}_{config.paradigm}_step{step}.{args.format}"
            path = export.save_figure(
                args.out / name, dataclasses.replace(view, step=step), panels=panels, dpi=args.dpi, theme=args.theme
            )
            written += 1
            if not args.quiet:
                print(path)
    if not args.quiet:
        print(f"{written} figures in {args.out}")
    return 0


def _animate(p: argparse.ArgumentParser, args) -> int:
    panels = _panels(p, args.panels)
    _check_layer(p, args.layer, [args.depth])
    if args.out.suffix.lower() not in export.ANIMATION_FORMATS:
        p.error(f"argument --out: must end in one of {', '.join(export.ANIMATION_FORMATS)}; got {str(args.out)!r}")
    if args.out.is_dir():
        p.error(f"argument --out: {str(args.out)!r} is a folder; give a file name")
    data = _data(args)
    runs = sweep(
        data,
        widths=(args.width,),
        depths=(args.depth,),
        paradigms=(args.paradigm,),
        init=args.init,
        n_steps=args.n_steps,
        save_every=args.save_every,
        seed=args.seed,
        backend=args.backend,
        lr=args.lr,
        progress=not args.quiet,
    )
    history = runs.history(args.width, args.depth, args.paradigm)
    steps = [int(s) for s in history.steps[:: args.every]]
    if steps[-1] != int(history.steps[-1]):
        steps.append(int(history.steps[-1]))  # always end on the trained network
    view = PanelView.of(history, data, layer=args.layer)
    path = export.animate(
        args.out, view, steps, args.fps, panels=panels, dpi=args.dpi, progress=not args.quiet, theme=args.theme
    )
    if not args.quiet:
        print(f"{path}: {len(steps)} frames at {args.fps:g} frames per second")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = parser().parse_args(argv)
    command = args.command_parser
    try:
        return args.run(command, args)
    except ValueError as exc:  # a refusal from the library: it names the argument
        command.error(str(exc))
    return 2  # pragma: no cover - error() exits


if __name__ == "__main__":
    sys.exit(main())
