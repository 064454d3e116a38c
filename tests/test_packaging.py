"""The distributions carry the license, and the sdist carries what its tests read."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_license_file_is_mit_and_shipped():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 linfeat_widgets developers" in text
    project = _project()
    assert project["project"]["license"] == "MIT"
    assert project["project"]["license-files"] == ["LICENSE"]  # wheel: dist-info/licenses/LICENSE
    assert "LICENSE" in project["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]


def test_sdist_includes_every_top_level_folder_the_tests_read():
    include = set(_project()["tool"]["hatch"]["build"]["targets"]["sdist"]["include"])
    read = set()
    for path in (ROOT / "tests").rglob("*.py"):
        text = path.read_text()
        read.update(re.findall(r'ROOT\s*/\s*"([^"/]+)"', text))
        read.update(re.findall(r'"(notebooks|binder|tools|examples|benchmarks|docs)/', text))
    assert read, "the pattern should find the folders the tests read"
    assert read - {"README.md", "pyproject.toml"} <= include, f"sdist misses {sorted(read - include)}"


def test_sdist_includes_every_tracked_top_level_folder_but_ci():
    try:
        tracked = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout (e.g. an unpacked sdist)")
    if not tracked:
        pytest.skip("not a git checkout (e.g. an unpacked sdist)")
    folders = {line.split("/")[0] for line in tracked if "/" in line} - {".ci"}
    include = set(_project()["tool"]["hatch"]["build"]["targets"]["sdist"]["include"])
    assert folders <= include, f"sdist misses {sorted(folders - include)}"
