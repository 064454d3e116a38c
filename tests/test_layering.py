"""The package's one-way data flow: the math never loads the user interface."""

import subprocess
import sys

import pytest

MATH = ["data", "models", "training", "linearize", "spectrum", "snapshots"]


def test_math_leaves_matplotlib_and_ipywidgets_unloaded():
    code = (
        "import sys\n"
        "import linfeat_widgets as lf\n"
        f"from linfeat_widgets import {', '.join(MATH)}\n"
        "d = lf.make_dataset(n_samples=20)\n"
        "h = lf.train(lf.make_mlp(3, seed=0), d, n_steps=20, save_every=10)\n"
        "lf.feature_svd(h.model(20), d.X, d.X_test)\n"
        "lf.SnapshotCache(h, d, n_grid=16).features(20, 'all')\n"
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
