"""The Voilà app's files: Binder installs Voilà, the README's badge opens the app, the app shows no code of its own.

The app itself runs under nbval (it is in ``notebooks/``) and in Chromium (``tests/browser/test_voila_app.py``).
"""

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "notebooks" / "app.ipynb"


def test_binder_installs_voila():
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    names = {re.split(r"[<>=!~\[ ]", line.strip())[0].lower() for line in lines if line.strip()}
    assert "voila" in names


def test_readme_badge_opens_the_app():
    readme = (ROOT / "README.md").read_text()
    badges = re.findall(r"\]\((https://mybinder\.org/v2/gh/[^)]+)\)", readme)
    voila = [url for url in badges if "urlpath=voila/render/notebooks/app.ipynb" in url]
    assert voila, f"no Binder badge opens the app under Voilà: {badges}"
    assert APP.exists()


def test_app_is_explanation_and_one_explorer():
    nb = nbformat.read(APP, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    # Voilà shows every output: no stored output, no progress bar on stderr, the Explorer the last expression.
    assert all(not c.outputs for c in code)
    assert "progress=False" in code[-1].source
    assert code[-1].source.strip().splitlines()[-1].strip() == "explorer"
    assert "%matplotlib widget" in code[0].source
    for panel in ("Prediction", "Training and test error", "Linearized features", "Singular values", "Principal"):
        assert panel in markdown, f"the app does not explain the {panel} panel"
