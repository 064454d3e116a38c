"""The homework as an Otter-Grader assignment: the master notebook builds, and the autograder grades what it should.

One ``otter assign`` for the module, then three ``otter run`` (no Docker): the solution gets full marks, the
unmodified student notebook gets zero without crashing, and a solution with one wrong answer (the SVD of the first
layer's features instead of the whole feature matrix) loses exactly that question's points.

Each submission graded here keeps the notebook's set-up cells and, for each autograded exercise, its answer cell and
its check cell: the autograder reads only the exercises' functions, and executing the whole notebook three times (it
trains for about a minute on two cores) would repeat what nbval does once. The master notebook and the student
notebook are checked in full: every exercise and every answer cell of the solution notebook.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

pytest.importorskip("otter", reason="otter-grader is not installed (pip install -e '.[test]')")

import otter_assign  # noqa: E402
from otter_tests import QUESTIONS  # noqa: E402

from notebooks import SOLUTION  # noqa: E402

TOTAL = sum(q.points for q in QUESTIONS)

WRONG_B1 = """# Exercise (b1), answered with the wrong layer's features
def svd_features(model, X_fit, X_eval):
    F = lf.linearize(model, X_fit).columns("0.weight")
    _, s, Vt = np.linalg.svd(F, full_matrices=False)
    r = int(np.sum(s > s[0] * max(F.shape) * np.finfo(float).eps))
    V = Vt[:r].T
    return s[:r], V, lf.linearize(model, X_eval).columns("0.weight") @ V
"""


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """``otter assign`` run once on the generated master notebook."""
    return otter_assign.build(tmp_path_factory.mktemp("otter"))


def _graded_cells_only(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The set-up cells (through the one importing the package), then each graded exercise and its check cell."""
    setup = next(
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "import linfeat_widgets as lf" in c.source
    )
    keep = list(nb.cells[: setup + 1])
    for q in QUESTIONS:
        i = next(i for i, c in enumerate(nb.cells) if c.source.startswith(f"# Exercise ({q.exercise})"))
        check = next(c for c in nb.cells[i:] if f'grader.check("{q.name}")' in c.source)
        keep += [nb.cells[i], check]
    nb.cells = keep
    return nb


def _grade(dist: Path, nb: nbformat.NotebookNode, tmp_path: Path) -> dict[str, float]:
    """``otter run`` on ``nb``; the score of each question, by name."""
    submission = tmp_path / f"{otter_assign.NAME}.ipynb"
    nbformat.write(nb, submission)
    out = tmp_path / "results"
    out.mkdir()
    command = [*otter_assign.otter_executable(), "run", "-a", str(otter_assign.autograder_zip(dist))]
    command += ["-o", str(out), str(submission)]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"otter run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    results = json.loads((out / "results.json").read_text())
    return {t["name"]: t.get("score") for t in results["tests"] if "max_score" in t}


def test_master_notebook_marks_every_exercise():
    solution = nbformat.read(SOLUTION, as_version=4)
    master = otter_assign.master_notebook(solution)
    assert master.cells[0].cell_type == "raw" and master.cells[0].source.startswith("# ASSIGNMENT CONFIG")
    exercises = [c for c in master.cells if otter_assign.exercise_id(c)]
    assert len(exercises) == sum(1 for c in solution.cells if "solution" in c.metadata.get("tags", []))
    for cell in exercises:
        assert "# BEGIN SOLUTION" in cell.source and cell.source.rstrip().endswith("# END SOLUTION")
        assert "exercise" in cell.metadata.tags and "solution" not in cell.metadata.tags
    begins = [c.source.splitlines()[1] for c in master.cells if c.source.startswith("# BEGIN QUESTION")]
    assert begins == [f"name: {q.name}" for q in QUESTIONS]
    n_answers = sum(1 for c in solution.cells if "answer" in c.metadata.get("tags", []))
    conclusions = [c for c in master.cells if otter_assign.OTTER_SOLUTION_TAG in c.metadata.get("tags", [])]
    assert len(conclusions) == n_answers and all(c.source.startswith("**What to notice.**") for c in conclusions)


def test_a_missing_exercise_is_refused():
    solution = nbformat.read(SOLUTION, as_version=4)
    renamed = [
        otter_assign.Question(exercise="z9", name="z9_nowhere", tests=QUESTIONS[0].tests),
    ]
    with pytest.raises(ValueError, match=r"grades exercises \['z9'\]"):
        otter_assign.master_notebook(solution, tuple(renamed))


@pytest.mark.slow
def test_assign_builds_student_notebook_and_autograder(dist):
    student = nbformat.read(dist / "student" / f"{otter_assign.NAME}.ipynb", as_version=4)
    text = "\n".join(c.source for c in student.cells)
    assert "BEGIN SOLUTION" not in text
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)
    solution = nbformat.read(SOLUTION, as_version=4)
    for cell in solution.cells:
        if "answer" in cell.metadata.get("tags", []):
            questions, notice = cell.source.split("**What to notice.**", 1)
            assert questions.strip() in text and notice.strip()[:200] not in text
    # the solutions are gone, the exercises' text and the public checks are there
    assert "vmap(" not in text and "Vt[:r].T" not in text
    for q in QUESTIONS:
        assert f'grader.check("{q.name}")' in text
        assert f"# Exercise ({q.exercise}):" in text
    hidden = json.dumps(student.metadata["otter"]["tests"])
    assert "test_feature_matrix_values" not in hidden, "hidden tests must stay out of the student notebook"
    assert otter_assign.autograder_zip(dist).exists()


@pytest.mark.slow
def test_public_checks_in_the_student_notebook(dist):
    """``grader.check`` in the handed-out notebook: fails before the exercise is done, passes after."""
    from nbclient import NotebookClient

    student = nbformat.read(dist / "student" / f"{otter_assign.NAME}.ipynb", as_version=4)
    solution = nbformat.read(dist / "autograder" / f"{otter_assign.NAME}.ipynb", as_version=4)
    name = QUESTIONS[0].name
    setup = next(i for i, c in enumerate(student.cells) if "import linfeat_widgets as lf" in c.source)
    stub = next(c for c in student.cells if c.source.startswith(f"# Exercise ({QUESTIONS[0].exercise})"))
    answer = next(c for c in solution.cells if c.source.startswith(f"# Exercise ({QUESTIONS[0].exercise})"))
    check = next(c for c in student.cells if f'grader.check("{name}")' in c.source)
    nb = nbformat.v4.new_notebook(metadata=student.metadata)
    nb.cells = [*student.cells[: setup + 1], stub, check, answer, copy.deepcopy(check)]
    # the kernel starts where the student notebook lies: grader.check reads the tests from it
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(dist / "student")}}
    ).execute()

    def text(cell):
        return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs)

    assert "Test case failed" in text(nb.cells[-3]) and "define feature_matrix" in text(nb.cells[-3])
    assert "All test cases passed" in text(nb.cells[-1])


@pytest.mark.slow
def test_solution_gets_full_marks(dist, tmp_path):
    nb = nbformat.read(dist / "autograder" / f"{otter_assign.NAME}.ipynb", as_version=4)
    scores = _grade(dist, _graded_cells_only(nb), tmp_path)
    assert scores == {q.name: q.points for q in QUESTIONS}


@pytest.mark.slow
def test_unmodified_student_notebook_gets_zero(dist, tmp_path):
    nb = nbformat.read(dist / "student" / f"{otter_assign.NAME}.ipynb", as_version=4)
    scores = _grade(dist, _graded_cells_only(nb), tmp_path)
    assert scores == {q.name: 0 for q in QUESTIONS}


@pytest.mark.slow
def test_one_wrong_answer_loses_that_question(dist, tmp_path):
    nb = nbformat.read(dist / "autograder" / f"{otter_assign.NAME}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.source.startswith("# Exercise (b1)"))
    # the features of the wrong layer: the SVD of the first layer's weight features alone
    cell.source = WRONG_B1
    scores = _grade(dist, _graded_cells_only(nb), tmp_path)
    assert scores == {q.name: (0 if q.exercise == "b1" else q.points) for q in QUESTIONS}
    assert sum(scores.values()) == TOTAL - QUESTIONS[1].points
