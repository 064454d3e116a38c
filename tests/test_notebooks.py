"""The notebooks beside the tests: the student version, the Colab/Binder set-up cell, Binder's files.

The solution notebook itself runs under nbval (``notebooks/`` is in pytest's testpaths with ``--nbval-lax``).
"""

import ast
import json
import re
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
EXERCISE = re.compile(r"# Exercise (\(\w+\)):")


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
        assert EXERCISE.match(stub.source), "an exercise starts with '# Exercise (id):'"
        assert notebooks.STUB in stub.source
        assert "lf." not in stub.source.split("# YOUR CODE HERE")[1]
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)


def test_stored_notebooks_hold_only_checked_outputs():
    for path in (notebooks.SOLUTION, notebooks.STUDENT, ROOT / "notebooks" / "explorer.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert "widgets" not in nb.metadata
        for cell in nb.cells:
            if cell.cell_type == "code":
                if notebooks.CHECKED not in cell.source or path == notebooks.STUDENT:
                    assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: unchecked output stored"
                else:
                    assert cell.outputs and cell.execution_count, f"{path.name}: a checked cell has no stored output"


def test_student_version_gives_no_answers_away():
    solution = nbformat.read(notebooks.SOLUTION, as_version=4)
    student = nbformat.read(notebooks.STUDENT, as_version=4)
    answers = [c for c in solution.cells if "answer" in c.metadata.get("tags", [])]
    assert len(answers) >= 4
    for cell in answers:
        assert cell.source.startswith("**Questions.**") and notebooks.ANSWER in cell.source
    text = "\n".join(c.source for c in student.cells)
    for cell in answers:
        assert cell.source.split(notebooks.ANSWER)[1].strip()[:200] not in text
    assert text.count("**Questions.**") == len(answers)
    # every "What to notice" that follows an exercise is an answer cell, cut in the student version
    exercise_seen = False
    for cell in solution.cells:
        exercise_seen |= "solution" in cell.metadata.get("tags", [])
        if cell.cell_type == "markdown" and notebooks.ANSWER in cell.source and exercise_seen:
            assert "answer" in cell.metadata.get("tags", []), cell.source[:80]
            exercise_seen = False


def _parse(source: str) -> ast.Module:
    """A cell's code, each IPython magic line read as ``pass``."""
    lines = source.splitlines()
    return ast.parse("\n".join(re.sub(r"^(\s*)[%!].*", r"\1pass", line) for line in lines))


def _defined(source: str) -> set[str]:
    """Top-level names a cell's code binds."""
    tree = _parse(source)
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            for target in filter(None, targets):
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _used(source: str) -> set[str]:
    tree = _parse(source)
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def test_names_later_cells_use_are_named_in_the_exercise():
    """A name an exercise defines and a later given cell uses must be one the exercise text asks for."""
    solution = nbformat.read(notebooks.SOLUTION, as_version=4)
    cells = solution.cells
    for i, cell in enumerate(cells):
        if "solution" not in cell.metadata.get("tags", []):
            continue
        # the exercise text: the markdown cells just above it and the cell's own comment lines
        text = notebooks._stub(cell.source)
        j = i - 1
        while j >= 0 and cells[j].cell_type == "markdown":
            text += cells[j].source
            j -= 1
        defined_before = set().union(*(_defined(c.source) for c in cells[:i] if c.cell_type == "code"))
        later = [c for c in cells[i + 1 :] if c.cell_type == "code" and "solution" not in c.metadata.get("tags", [])]
        needed = (_defined(cell.source) - defined_before) & set().union(*(_used(c.source) for c in later))
        for name in needed:
            assert f"`{name}" in text, f"{EXERCISE.match(cell.source)[1]}: later cells use {name!r}, not named"


@pytest.mark.slow
def test_student_version_runs_up_to_its_first_exercise():
    """Everything before the first exercise runs (the paradigms at full scale, about half a minute)."""
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


# Each exercise solved again, written differently from the solution (other names inside, other methods): the
# student notebook has to run to the end with any correct answer that uses the names the exercises ask for.
OTHER_SOLUTIONS = {
    "(a1)": """
def feature_matrix(net, points):
    net64 = copy.deepcopy(net).double()
    rows = []
    for value in np.asarray(points, dtype=np.float64).ravel():
        out = net64(torch.tensor([[value]], dtype=torch.float64))[0, 0]
        grads = torch.autograd.grad(out, list(net64.parameters()))
        rows.append(torch.cat([g.reshape(-1) for g in grads]).numpy())
    return np.array(rows)
""",
    "(a2)": """
for wid in paradigms.widths:
    run = paradigms.history(width=wid, paradigm="all")
    _, panels = plt.subplots(1, 2, figsize=(8, 2.5), layout="constrained")
    for when, panel in zip((0, run.steps[-1]), panels):
        feats = feature_matrix(run.model(when), grid)
        panel.plot(grid, feats[:, :wid])
        panel.plot(grid, feats[:, wid : 2 * wid], ls="--")
""",
    "(b1)": """
def svd_features(net, fit_points, eval_points):
    A = feature_matrix(net, fit_points)
    _, sv, vt = np.linalg.svd(A)
    keep = np.linalg.matrix_rank(A)
    basis = vt[:keep].T
    return sv[:keep], basis, feature_matrix(net, eval_points) @ basis
""",
    "(b2)": """
for wid in paradigms.widths:
    run = paradigms.history(width=wid, paradigm="all")
    _, (left, right) = plt.subplots(1, 2, figsize=(8, 2.5), layout="constrained")
    for when in (0, run.steps[-1]):
        values, _, feats = svd_features(run.model(when), data.X, grid)
        left.semilogy(values, ".")
        right.plot(grid, feats[:, :5])
""",
    "(c1)": """
for wid in (10, 40):
    run = deep2.history(width=wid)
    _, panels = plt.subplots(1, 4, figsize=(12, 2.5), layout="constrained")
    for panel, name in zip(panels, ("0.weight", "0.bias", "2.weight", "2.bias")):
        panel.plot(grid, lf.linearize(run.model(run.steps[-1]), grid).columns(name)[:, :20])
""",
    "(c2)": """
_, panels = plt.subplots(1, 3, figsize=(12, 2.5), layout="constrained")
for panel, wid in zip(panels, deep2.widths):
    run = deep2.history(width=wid)
    values = np.linalg.svd(lf.linearize(run.model(run.steps[-1]), data.X).matrix, compute_uv=False)
    panel.semilogy(values[values > values[0] * 1e-12], ".")
""",
    "(d1)": """
def layer_gradient_norms(net, inputs, targets):
    # the closed form of the MSE's gradient, (2 / n) J^T (y(X) - y), from the student's own feature matrix
    J = feature_matrix(net, inputs)
    residual = lf.predict(net, inputs) - np.asarray(targets, dtype=np.float64).ravel()
    gradient = 2.0 / len(residual) * J.T @ residual
    totals, start = {}, 0
    for name, p in net.named_parameters():
        key = name.split(".")[0]
        totals[key] = totals.get(key, 0.0) + float(np.sum(gradient[start : start + p.numel()] ** 2))
        start += p.numel()
    return {key: total**0.5 for key, total in totals.items()}
""",
    "(d2)": """
for label, outcome in by_init.items():
    run = outcome.history()
    marks = run.steps[::25]
    per_layer = [layer_gradient_norms(run.model(m), data.X, data.y) for m in marks]
    _, (left, right) = plt.subplots(1, 2, figsize=(8, 2.5), layout="constrained")
    for name in per_layer[0]:
        left.semilogy(marks, [g[name] for g in per_layer])
    right.semilogy(lf.feature_svd(run.model(run.steps[-1]), data.X).singular_values, ".")
""",
    "(e1)": """
for wid in lazy.widths:
    pair = [lazy.history(width=wid, linearized=flag) for flag in (False, True)]
    _, (left, right) = plt.subplots(1, 2, figsize=(8, 2.5), layout="constrained")
    for run in pair:
        left.semilogy(run.steps, run.test_error)
    moves = lf.kernel_movement(pair[0], data)
    right.loglog(moves.steps[1:], moves.kernel_distance[1:])
""",
    "(e2)": """
for (wid, flag), proj in decay.items():
    _, panel = plt.subplots(figsize=(4, 2.5), layout="constrained")
    panel.semilogy(proj.steps, np.abs(proj.coefficients[:, :6]), ls="--" if flag else "-")
""",
}


def test_every_exercise_has_another_solution_for_the_run_test():
    student = nbformat.read(notebooks.STUDENT, as_version=4)
    ids = [EXERCISE.match(c.source)[1] for c in student.cells if "exercise" in c.metadata.get("tags", [])]
    assert sorted(ids) == sorted(OTHER_SOLUTIONS)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_student_version_runs_to_the_end_with_other_solutions():
    """The student notebook at full scale, every stub filled with a solution written differently (about a minute)."""
    student = nbformat.read(notebooks.STUDENT, as_version=4)
    for cell in student.cells:
        if "exercise" in cell.metadata.get("tags", []):
            cell.source = cell.source.replace(notebooks.STUB, OTHER_SOLUTIONS[EXERCISE.match(cell.source)[1]].strip())
    NotebookClient(student, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    checked = [c for c in student.cells if c.cell_type == "code" and notebooks.CHECKED in c.source]
    printed = "".join(o.get("text", "") for c in checked for o in c.outputs)
    # the checks of the student's own functions hold for these answers too
    assert "equals lf.linearize(...).matrix: True" in printed
    assert "same singular values and principal features: True" in printed
    assert printed.count("equals lf.gradient_norms: True") == 2
    assert ": False" not in printed.replace("lr 0.02 is above it: False", "").replace("3,000 steps: False", "")
