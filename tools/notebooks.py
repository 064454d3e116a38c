"""Keep the notebooks in their stored form, and the student version in step with the solution.

Usage:
    python tools/notebooks.py student   # write notebooks/student/ from the solution notebook
    python tools/notebooks.py check     # exit 1 if the student version is out of date
    python tools/notebooks.py refresh   # execute the solution, keep only checked outputs, store

Solution cells carry the cell tag ``solution`` and start with ``# Exercise (id): ...``. In the
student version each one keeps its leading comment lines (the exercise) and the rest becomes a
``NotImplementedError`` stub, nbgrader-style. Markdown cells tagged ``answer`` start with the
questions and go on with ``**What to notice.**``: the student version keeps only the questions.
The student version stores no outputs at all, so no checked result gives an answer away.
Stored notebooks keep outputs only in cells marked ``# NBVAL_CHECK_OUTPUT``
(nbval compares those); everything else (widget views, PNGs, timings) is stripped, and
execution counts and volatile metadata are dropped, so the files change only when their
content does.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "notebooks" / "linearized_features.ipynb"
STUDENT = ROOT / "notebooks" / "student" / "linearized_features.ipynb"
CHECKED = "# NBVAL_CHECK_OUTPUT"
STUB = 'raise NotImplementedError("TODO: your code here")'
ANSWER = "**What to notice.**"


def _stub(source: str) -> str:
    """The exercise comment lines at the top of a solution cell, then the stub."""
    lines = source.splitlines()
    header = []
    for line in lines:
        if line.startswith("#") and not line.startswith(CHECKED):
            header.append(line)
        else:
            break
    return "\n".join([*header, "# YOUR CODE HERE", STUB])


def stable(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy with outputs kept only where nbval checks them, and no volatile metadata."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    code_cells = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.pop("id", None)
        if cell.cell_type != "code":
            continue
        code_cells += 1
        if CHECKED in cell.source:
            # nbval compares only cells that were run: keep a count, the cell's place in a top-to-bottom run
            cell.execution_count = code_cells
            cell.outputs = [_strip_output(o) for o in cell.outputs if o.output_type in ("stream", "execute_result")]
        else:
            cell.execution_count = None
            cell.outputs = []
    nb.nbformat, nb.nbformat_minor = 4, 4
    return nb


def _strip_output(output):
    output = copy.deepcopy(output)
    output.pop("execution_count", None)
    if output.output_type == "execute_result":
        output.execution_count = None
        output.data = {k: v for k, v in output.data.items() if k == "text/plain"}
        output.metadata = {}
    return output


def _questions(source: str) -> str:
    """An ``answer`` cell's text up to its ``**What to notice.**`` paragraph."""
    return source.split(ANSWER)[0].rstrip()


def student_version(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student notebook: exercises as stubs, answers cut to their questions, no outputs."""
    nb = stable(solution)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            if "solution" in tags:
                cell.source = _stub(cell.source)
                cell.metadata["tags"] = [t for t in tags if t != "solution"] + ["exercise"]
        elif "answer" in tags:
            cell.source = _questions(cell.source)
            cell.metadata["tags"] = [t for t in tags if t != "answer"] + ["questions"]
    nb.cells = [cell for cell in nb.cells if cell.source.strip()]
    header = nbformat.v4.new_markdown_cell(
        "*Student version, generated from the solution notebook by `tools/notebooks.py`; do not edit by hand.* "
        "Fill in each cell that starts with `# Exercise` (it stops with `NotImplementedError` until you do), "
        "using the names the exercise asks for: later cells use them."
    )
    header.pop("id", None)  # nbformat 4.4 cells carry no id (it would be random, too)
    nb.cells.insert(0, header)
    return nb


def _dumps(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a failure leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def expected_student() -> str:
    """The student notebook's text as it should be stored."""
    return _dumps(student_version(nbformat.read(SOLUTION, as_version=4)))


def refresh(timeout: int = 600) -> None:
    """Execute the solution notebook in a fresh kernel and store it in stable form."""
    from nbclient import NotebookClient

    nb = nbformat.read(SOLUTION, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    write_atomically(SOLUTION, _dumps(stable(nb)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["student", "check", "refresh"])
    args = parser.parse_args(argv)
    if args.command == "refresh":
        refresh()
        args.command = "student"
    if args.command == "student":
        write_atomically(STUDENT, expected_student())
        print(f"wrote {STUDENT.relative_to(ROOT)}")
        return 0
    current = STUDENT.read_text(encoding="utf-8") if STUDENT.exists() else ""
    if current != expected_student():
        print(f"{STUDENT.relative_to(ROOT)} is out of date: run python tools/notebooks.py student")
        return 1
    print("student notebook is current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
