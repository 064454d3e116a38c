"""examples/homework_figures.py runs and explains what its figures show."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_homework_figures_runs_and_explains_the_ground_truth(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "homework_figures.py"), "--steps", "300", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "predictions.png").stat().st_size > 10_000
    assert (tmp_path / "features.png").stat().st_size > 10_000
    assert "The ground truth is 0 at x = 0 and x = 1" in result.stdout
    for width in (10, 20, 40):
        assert f"width {width}: final test MSE" in result.stdout
