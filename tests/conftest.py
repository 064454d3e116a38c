import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import linfeat_widgets as lf


@pytest.fixture(scope="session")
def data():
    """The homework's dataset (read-only arrays, safe to share)."""
    return lf.make_dataset()
