"""Build the homework as an Otter-Grader assignment from the solution notebook.

Usage:
    python tools/otter_assign.py master DIR   # write DIR/linearized_features.ipynb, the Otter Assign master notebook
    python tools/otter_assign.py build DIR    # the master, then `otter assign` into DIR/dist (student + autograder)

The master notebook is generated, never edited: the solution notebook (`notebooks/linearized_features.ipynb`) stays
the one source, and `tools/otter_tests.py` holds the tests. The generator reads the solution notebook's structure
(see `tools/notebooks.py`):

- each code cell tagged ``solution`` starts with ``# Exercise (<id>): ...`` comment lines; they stay, and the rest
  of the cell is wrapped in ``# BEGIN SOLUTION`` / ``# END SOLUTION`` (students get ``...`` in its place); the cell
  is tagged ``exercise`` instead;
- an exercise listed in `tools/otter_tests.QUESTIONS` becomes a question: ``# BEGIN QUESTION`` before the markdown
  cell that states ``**Exercise (<id>).**``, its tests after the solution cell (public ones run by
  ``grader.check``, hidden ones only by the autograder);
- a markdown cell tagged ``answer`` is split at ``**What to notice.**``: students keep the questions, the
  conclusions are a solution cell Otter removes.

`otter assign` then writes ``dist/student/linearized_features.ipynb`` (to hand out) and
``dist/autograder/`` (the solution notebook with its tests and ``autograder.zip``, which ``otter run`` and
Gradescope grade with).
"""

from __future__ import annotations

import argparse
import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from otter_tests import QUESTIONS, Question

from notebooks import ANSWER, CHECKED, SOLUTION, stable

NAME = "linearized_features"
EXERCISE = re.compile(r"^# Exercise \((?P<id>[\w.-]+)\)")
# Otter's own tag for a solution cell: in the student version a markdown cell carrying it is removed
OTTER_SOLUTION_TAG = "otter_assign_solution_cell"

ASSIGNMENT_CONFIG = {
    "name": NAME,
    # the student version replaces every "# BEGIN SOLUTION" block, also in exercises that are not autograded
    "strip_solutions_from_all_cells": True,
    # the tests run when `otter run` grades the solution (tests/test_otter.py), not a second time here
    "run_tests": False,
    "init_cell": True,
    "check_all_cell": False,
    # a zip of the notebook to submit; no PDF (it needs LaTeX), as the plots are read in the notebook itself
    "export_cell": {"pdf": False, "run_tests": False},
    "generate": {"pdf": False},
    # tests stored in the notebooks (public ones for grader.check) and in the autograder zip, as functions
    "tests": {"files": False, "ok_format": False},
}


def _raw(text: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_raw_cell(text)
    cell.pop("id", None)
    return cell


def _code(text: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(text)
    cell.pop("id", None)
    return cell


def _markdown(text: str, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text)
    cell.pop("id", None)
    if tags:
        cell.metadata["tags"] = tags
    return cell


def _block(kind: str, config: dict | None = None) -> nbformat.NotebookNode:
    """A raw cell ``# BEGIN <KIND>`` (with YAML config) or ``# END <KIND>``."""
    text = f"# {kind}"
    if config:
        text += "\n" + yaml.safe_dump(config, sort_keys=False).strip()
    return _raw(text)


def exercise_id(cell: nbformat.NotebookNode) -> str | None:
    """The id of an exercise's code cell (``"a1"`` from ``# Exercise (a1): ...``); None for other cells.

    Exercise cells are tagged ``solution`` in the solution notebook and ``exercise`` in the master notebook (and so
    in what Otter hands out, as in the package's own student version).
    """
    if cell.cell_type != "code" or not {"solution", "exercise"} & set(cell.metadata.get("tags", [])):
        return None
    match = EXERCISE.match(cell.source)
    if match is None:
        raise ValueError(
            f"a solution cell must start with '# Exercise (<id>): ...'; this one starts {cell.source[:60]!r}"
        )
    return match["id"]


def with_solution_markers(source: str) -> str:
    """The exercise's comment lines, then the rest of the cell between Otter's solution markers."""
    lines = source.splitlines()
    n = 0
    while n < len(lines) and lines[n].startswith("#") and not lines[n].startswith(CHECKED):
        n += 1
    header, body = lines[:n], lines[n:]
    while body and not body[-1].strip():
        body.pop()
    if not body:
        raise ValueError(f"solution cell {header[:1]} holds no code after its comment lines")
    return "\n".join([*header, "# BEGIN SOLUTION", *body, "# END SOLUTION"])


def test_cell(func, points: float, hidden: bool) -> nbformat.NotebookNode:
    """An exception-based Otter test cell: its config, then the test function's own source."""
    config = yaml.safe_dump({"hidden": hidden, "points": points}, sort_keys=False).strip()
    source = textwrap.dedent(inspect.getsource(func)).strip()
    return _code(f'""" # BEGIN TEST CONFIG\n{config}\n""" # END TEST CONFIG\n{source}')


def _prompt_index(cells: list, solution_index: int, exercise: str) -> int:
    """The markdown cell before the solution cell that states the exercise (the question's prompt)."""
    marker = f"**Exercise ({exercise}).**"
    for i in range(solution_index - 1, -1, -1):
        if cells[i].cell_type == "markdown" and marker in cells[i].source:
            return i
        if exercise_id(cells[i]) is not None:
            break
    raise ValueError(f"no markdown cell states {marker!r} before exercise {exercise}'s solution cell")


def master_notebook(solution: nbformat.NotebookNode, questions: tuple[Question, ...] = QUESTIONS):
    """The Otter Assign master notebook built from the solution notebook and the questions' tests."""
    nb = stable(solution)
    cells = [c for c in nb.cells if c.cell_type != "code" or c.source.strip()]
    by_exercise = {q.exercise: q for q in questions}
    found = [exercise_id(c) for c in cells if exercise_id(c) is not None]
    missing = sorted(set(by_exercise) - set(found))
    if missing:
        raise ValueError(f"tools/otter_tests.py grades exercises {missing}, which the solution notebook lacks: {found}")

    begin_question = {}  # index of the prompt cell -> question
    for i, cell in enumerate(cells):
        exercise = exercise_id(cell)
        if exercise in by_exercise:
            begin_question[_prompt_index(cells, i, exercise)] = by_exercise[exercise]

    out = [_raw("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(ASSIGNMENT_CONFIG, sort_keys=False).strip())]
    for i, cell in enumerate(cells):
        if i in begin_question:
            question = begin_question[i]
            out.append(_block("BEGIN QUESTION", {"name": question.name, "points": question.points}))
        exercise = exercise_id(cell)
        tags = cell.metadata.get("tags", [])
        if exercise is not None:
            cell.source = with_solution_markers(cell.source)
            cell.metadata["tags"] = [t for t in tags if t != "solution"] + ["exercise"]
            out.append(cell)
            if exercise in by_exercise:
                out.append(_block("BEGIN TESTS"))
                out += [test_cell(t.func, t.points, t.hidden) for t in by_exercise[exercise].tests]
                out.append(_block("END TESTS"))
                out.append(_block("END QUESTION"))
        elif cell.cell_type == "markdown" and "answer" in tags and ANSWER in cell.source:
            questions_text, notice = cell.source.split(ANSWER, 1)
            if questions_text.strip():
                out.append(_markdown(questions_text.rstrip(), [t for t in tags if t != "answer"]))
            out.append(_markdown(ANSWER + notice, [*tags, OTTER_SOLUTION_TAG]))
        else:
            out.append(cell)
    nb.cells = out
    return nb


def write_master(directory: Path) -> Path:
    """Write the master notebook into ``directory``; its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{NAME}.ipynb"
    nbformat.write(master_notebook(nbformat.read(SOLUTION, as_version=4)), path)
    return path


def otter_executable() -> list[str]:
    """How to run Otter's command line with this interpreter."""
    return [sys.executable, "-m", "otter"]


def autograder_zip(dist: Path) -> Path:
    """The autograder zip `otter assign` wrote into ``dist/autograder`` (its name carries a timestamp)."""
    found = sorted((dist / "autograder").glob(f"{NAME}-autograder_*.zip"))
    if not found:
        raise FileNotFoundError(f"no autograder zip in {dist / 'autograder'}: run otter assign first")
    return found[-1]


def build(directory: Path) -> Path:
    """The master notebook, then ``otter assign`` into ``directory / "dist"``; that folder."""
    master = write_master(directory)
    dist = directory / "dist"
    command = [*otter_executable(), "assign", str(master), str(dist)]
    done = subprocess.run(command, cwd=directory, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"otter assign failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return dist


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["master", "build"])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    if args.command == "master":
        print(f"wrote {write_master(args.directory)}")
    else:
        dist = build(args.directory)
        print(f"student notebook: {dist / 'student' / f'{NAME}.ipynb'}")
        print(f"autograder: {autograder_zip(dist)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
