"""The package's one-way data flow: the math never loads the user interface."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

MATH = ["data", "models", "training", "linearize", "spectrum", "theory", "snapshots", "theory_cache", "ensemble"]
PACKAGE = Path(__file__).resolve().parent.parent / "linfeat_widgets"

# data -> models -> training -> linearize -> spectrum -> theory -> snapshots -> panels -> controls -> explorer
# -> homework
STAGES = {
    "_checks": 0,
    "_files": 0,
    "data": 1,
    "models": 1,
    "training": 2,
    "linearize": 3,
    "spectrum": 4,
    "theory": 4.5,  # after spectrum, which it builds on; before snapshots, which may reuse it
    "snapshots": 5,
    "theory_cache": 5,
    "ensemble": 5,  # quartiles across seeds, from each seed's SnapshotCache
    "panels": 6,
    "theory_panels": 6,
    "themes": 6,  # fonts, line widths and grid sizes the board applies
    "panel_specs": 6,
    "export": 6.5,  # composes the panels on one Agg figure; the explorer and the command line use it
    "figure_state": 6.5,  # what a figure's background shows, fingerprinted; matplotlib only
    "canvas": 7,
    "warmup": 7,  # work ahead in the event loop's idle time; the explorer plans it
    "twin": 7,  # the panels on hidden figures, drawing other states ahead for the shown hosts
    "controls": 7,
    "player": 7,
    "dashboard": 7.5,  # the Explorer's control bar and panel grid
    "explorer": 8,
    "live_explorer": 8.5,
    "homework": 9,
    "__main__": 10,  # the command line, over the public API
}
UI = {"matplotlib", "ipywidgets", "ipympl", "traitlets"}


def _imports(path: Path):
    """(package module, third-party top-level name) pairs imported anywhere in ``path``."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    inside = [], []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(parts[: len(parts) - node.level])
                target = base + (node.module.split(".") if node.module else [])
                if target:
                    inside[0].append(target[0])
                else:  # "from . import x" in the package root
                    inside[0].extend(alias.name for alias in node.names)
            elif node.module.split(".")[0] == "linfeat_widgets":
                inside[0].append(node.module.split(".")[1])
            else:
                inside[1].append(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                inside[1].append(alias.name.split(".")[0])
    return inside


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "__init__.py":
            continue
        yield path, path.relative_to(PACKAGE).parts[0].removesuffix(".py")


@pytest.mark.parametrize("path, module", list(_modules()), ids=lambda v: getattr(v, "name", v))
def test_each_module_imports_only_its_own_or_earlier_stages(path, module):
    assert module in STAGES, f"add {module} to STAGES"
    package_imports, external = _imports(path)
    for imported in package_imports:
        assert STAGES[imported] <= STAGES[module], f"{module} (stage {STAGES[module]}) imports {imported}"
    if STAGES[module] <= STAGES["snapshots"]:
        assert not UI & set(external), f"{module} is math and imports {UI & set(external)}"
    if module in ("panels", "export"):  # the command line exports without ipywidgets
        assert not {"ipywidgets", "ipympl"} & set(external)


def test_user_interface_names_load_lazily():
    import linfeat_widgets as lf

    for name, module in lf._LAZY.items():
        assert STAGES[module.lstrip(".")] >= STAGES["panels"], name
    package_imports, _ = _imports(PACKAGE / "__init__.py")
    assert all(STAGES[m] <= STAGES["snapshots"] for m in package_imports), package_imports


def test_math_leaves_matplotlib_and_ipywidgets_unloaded():
    code = (
        "import sys\n"
        "import linfeat_widgets as lf\n"
        f"from linfeat_widgets import {', '.join(MATH)}\n"
        "d = lf.make_dataset(n_samples=20)\n"
        "h = lf.train(lf.make_mlp(3, seed=0), d, n_steps=20, save_every=10)\n"
        "lf.feature_svd(h.model(20), d.X, d.X_test)\n"
        "lf.SnapshotCache(h, d, n_grid=16).features(20, 'all')\n"
        "run = lf.LiveRun(lf.make_mlp(3, seed=0), d, save_every=10)\n"
        "run.play(until=30).wait(); run.close()\n"
        "loaded = [m for m in ('matplotlib', 'ipywidgets', 'ipympl') if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"the math loaded {out.stdout.strip()}"


def test_public_names_are_exported():
    import linfeat_widgets as lf

    for name in lf.__all__:
        assert getattr(lf, name) is not None
    assert "make_mlp" in dir(lf)
    with pytest.raises(AttributeError):
        lf.no_such_name  # noqa: B018
