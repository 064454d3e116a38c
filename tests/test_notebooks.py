"""The notebooks beside the tests: the student version, the Colab/Binder set-up cell, Binder's files.

The solution notebook itself runs under nbval (``notebooks/`` is in pytest's testpaths with ``--nbval-lax``).
"""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import notebooks  # noqa: E402  (tools/notebooks.py)

pytestmark = pytest.mark.timeout(300)


def run(nb, cells):
    """Execute ``cells`` of ``nb`` in a fresh kernel, in order; the executed copies' outputs are in ``nb``."""
    trimmed = nbformat.v4.new_notebook(metadata=nb.metadata)
    trimmed.cells = cells
    NotebookClient(trimmed, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    return trimmed


def test_student_version_is_current():
    assert notebooks.STUDENT.read_text(encoding="utf-8") == notebooks.expected_student(), (
        "run: python tools/notebooks.py student"
    )


def test_every_solution_cell_becomes_an_exercise_stub():
    solution = nbformat.read(notebooks.SOLUTION, as_version=4)
    student = nbformat.read(notebooks.STUDENT, as_version=4)
    tagged = [c for c in solution.cells if "solution" in c.metadata.get("tags", [])]
    stubs = [c for c in student.cells if "exercise" in c.metadata.get("tags", [])]
    assert len(tagged) >= 5 and len(stubs) == len(tagged)
    for stub in stubs:
        assert notebooks.STUB in stub.source
        assert "lf." not in stub.source.split("# YOUR CODE HERE")[1]
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)


def test_stored_notebooks_hold_only_checked_outputs():
    for path in (notebooks.SOLUTION, notebooks.STUDENT, ROOT / "notebooks" / "explorer.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert "widgets" not in nb.metadata
        for cell in nb.cells:
            if cell.cell_type == "code":
                if notebooks.CHECKED not in cell.source:
                    assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: unchecked output stored"
                else:
                    assert cell.outputs and cell.execution_count, f"{path.name}: a checked cell has no stored output"


def test_student_version_runs_up_to_its_first_exercise():
    student = nbformat.read(notebooks.STUDENT, as_version=4)
    code = [c for c in student.cells if c.cell_type == "code"]
    first = next(i for i, c in enumerate(code) if "exercise" in c.metadata.get("tags", []))
    # everything before the first exercise runs cleanly ...
    run(student, code[:first])
    # ... and the exercise itself stops with the stub's message
    with pytest.raises(CellExecutionError) as failure:
        run(student, code[: first + 1])
    assert failure.value.ename == "NotImplementedError"
    assert failure.value.evalue == "TODO: your code here"


def setup_cell():
    solution = nbformat.read(notebooks.SOLUTION, as_version=4)
    return next(c for c in solution.cells if c.cell_type == "code")


def test_setup_cell_does_nothing_outside_colab():
    executed = run(nbformat.read(notebooks.SOLUTION, as_version=4), [setup_cell()])
    assert executed.cells[0].outputs == []


def test_setup_cell_enables_colabs_widget_manager():
    """Colab is not here, so a stand-in ``google.colab`` module records the call the cell makes."""
    fake_colab = nbformat.v4.new_code_cell(
        "import sys, types\n"
        "calls = []\n"
        "colab = types.ModuleType('google.colab')\n"
        "colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append('enabled'))\n"
        "sys.modules['google'] = types.ModuleType('google')\n"
        "sys.modules['google.colab'] = colab"
    )
    report = nbformat.v4.new_code_cell("print(calls)")
    executed = run(nbformat.read(notebooks.SOLUTION, as_version=4), [fake_colab, setup_cell(), report])
    assert executed.cells[2].outputs[0]["text"].strip() == "['enabled']"
    assert executed.cells[1].outputs == []  # the package is installed: no pip


def test_binder_files():
    requirements = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    lines = [line.strip() for line in requirements if line.strip() and not line.startswith("#")]
    assert "." in lines, "Binder must install this repository"
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines, "Binder must take CPU-only torch"
    assert (ROOT / "binder" / "runtime.txt").read_text().strip().startswith("python-3.")
    readme = (ROOT / "README.md").read_text()
    assert "mybinder.org/v2/gh/" in readme and "urlpath=lab/tree/notebooks/linearized_features.ipynb" in readme


@pytest.mark.slow
def test_binder_requirements_resolve(tmp_path):
    """Pip resolves Binder's requirements, from PyPI alone.

    PyTorch's CPU index is out of reach from this machine (only package registries are), and pip would wait on it
    for every package, so its line is dropped here; PyPI proves the rest resolves and that a torch >= 2.2 exists.
    """
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    pypi_only = tmp_path / "requirements.txt"
    pypi_only.write_text("\n".join(line for line in lines if not line.startswith("--extra-index-url")))
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
    command += ["--report", str(report), "-r", str(pypi_only)]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert out.returncode == 0, out.stderr[-2000:]
    names = {item["metadata"]["name"].lower().replace("_", "-") for item in json.loads(report.read_text())["install"]}
    assert {"linfeat-widgets", "torch", "numba", "ipympl", "jupyterlab"} <= names
