"""The command line, run as a user runs it: ``python -m linfeat_widgets`` in a subprocess."""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from linfeat_widgets.__main__ import main, parser

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--n-samples", "20", "--n-steps", "60", "--save-every", "20", "--dpi", "20", "--quiet"]


def main_in_process(*args):
    return main([str(a) for a in args])


def run(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "linfeat_widgets", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.slow
def test_figures_writes_one_per_run_and_step(tmp_path):
    out = tmp_path / "figs"
    result = run("figures", "--out", out, "--widths", 3, "--depths", 1, 2, "--steps", "first", 40, "last", *SMALL)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    expected = sorted(f"w3_d{d}_all_step{s}.png" for d in (1, 2) for s in (1, 40, 60))
    assert names == expected
    first, last = (np.asarray(Image.open(out / f"w3_d2_all_step{s}.png")) for s in (1, 60))
    assert first.shape == last.shape and not np.array_equal(first, last)


def test_figures_formats_panels_and_paradigms(tmp_path, capsys):
    result = main_in_process(
        "figures", "--out", tmp_path, "--widths", 3, "--paradigms", "all", "ridge", "--steps", "last",
        "--panels", "prediction", "spectrum", "--format", "svg", "--target", "sin(20x)", *SMALL,
    )  # fmt: skip
    assert result == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["w3_d1_all_step60.svg", "w3_d1_ridge_step1.svg"]
    assert "singular value" in (tmp_path / names[0]).read_text()


@pytest.mark.slow
def test_animate_writes_a_gif_with_a_frame_per_drawn_step(tmp_path):
    out = tmp_path / "run.gif"
    result = run("animate", "--out", out, "--width", 4, "--fps", 4, "--every", 2, *SMALL)
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        assert image.n_frames == 3  # steps 1, 40, and the last (60) always
        assert image.info["duration"] == 250


@pytest.mark.slow
def test_the_command_line_loads_no_ipywidgets(tmp_path):
    code = (
        "import sys\n"
        "from linfeat_widgets.__main__ import main\n"
        f"main(['figures', '--out', {str(tmp_path)!r}, '--widths', '3', '--steps', 'last', *{SMALL!r}])\n"
        "print(sorted(m for m in ('ipywidgets', 'ipympl', 'traitlets') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def _options(p: argparse.ArgumentParser):
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _options(sub)
        elif action.option_strings:
            yield p.prog, action


def test_help_documents_every_option(capsys):
    for prog, action in _options(parser()):
        assert action.help and action.help != argparse.SUPPRESS, (prog, action.option_strings)
    for command in ("figures", "animate"):
        with pytest.raises(SystemExit) as exit:
            main([command, "--help"])
        assert exit.value.code == 0
        shown = capsys.readouterr().out
        for prog, action in _options(parser()):
            if prog.endswith(command):
                assert action.option_strings[-1] in shown


@pytest.mark.slow
def test_help_and_a_bad_option_as_a_user_runs_them(tmp_path):
    shown = run("--help")
    assert shown.returncode == 0 and "figures" in shown.stdout and "animate" in shown.stdout
    bad = run("figures", "--out", "d", "--bogus", cwd=tmp_path)
    assert bad.returncode == 2 and "--bogus" in bad.stderr.splitlines()[-1]
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "args, option",
    [
        (["figures", "--out", "d", "--bogus"], "--bogus"),
        (["figures"], "--out"),
        (["figures", "--out", "d", "--widths", "0"], "--widths"),
        (["figures", "--out", "d", "--widths", "ten"], "--widths"),
        (["figures", "--out", "d", "--paradigms", "sgd"], "--paradigms"),
        (["figures", "--out", "d", "--steps", "7", "--n-steps", "100", "--save-every", "10"], "--steps"),
        (["figures", "--out", "d", "--format", "gif"], "--format"),
        (["figures", "--out", "d", "--panels", "pictures"], "--panels"),
        (["figures", "--out", "d", "--panels", "all", "errors"], "--panels"),
        (["figures", "--out", "d", "--layer", "4.weight"], "--layer"),
        (["figures", "--out", "d", "--lr", "-1"], "--lr"),
        (["figures", "--out", "d", "--sigma", "nan"], "--sigma"),
        (["figures", "--out", "d", "--seed", "-3"], "--seed"),
        (["figures", "--out", "d", "--init", "gaussian"], "--init"),
        (["figures", "--out", "d", "--theme", "projector"], "--theme"),
        (["animate", "--out", "run.avi"], "--out"),
        (["animate", "--out", "run.gif", "--fps", "0"], "--fps"),
        (["animate", "--out", "run.gif", "--fps", "500"], "--fps"),
        (["animate", "--out", "run.gif", "--every", "-1"], "--every"),
        (["animate", "--out", "run.gif", "--target", "cos"], "--target"),
        (["lecture"], "lecture"),
    ],
)
def test_bad_options_exit_2_naming_them(tmp_path, monkeypatch, capsys, args, option):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit:
        main(args)
    assert exit.value.code == 2
    assert option in capsys.readouterr().err.splitlines()[-1]
    assert not list(tmp_path.iterdir())  # nothing trained, nothing written


def test_figures_in_the_lecture_theme(tmp_path):
    args = ("figures", "--widths", 3, "--steps", "last", "--panels", "prediction", *SMALL)
    assert main_in_process(*args, "--out", tmp_path / "default") == 0
    assert main_in_process(*args, "--out", tmp_path / "lecture", "--theme", "lecture") == 0
    default, lecture = (np.asarray(Image.open(tmp_path / d / "w3_d1_all_step60.png")) for d in ("default", "lecture"))
    assert default.shape == lecture.shape and not np.array_equal(default, lecture)
