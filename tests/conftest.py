import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import linfeat_widgets as lf


@pytest.fixture
def agg_backend():
    """pyplot's backend set to Agg for the test, the previous one restored after it."""
    import matplotlib

    previous = matplotlib.get_backend()
    matplotlib.use("Agg")
    yield
    matplotlib.use(previous)


@pytest.fixture(scope="session")
def data():
    """The homework's dataset (read-only arrays, safe to share)."""
    return lf.make_dataset()


def pytest_collection_modifyitems(items):
    """Browser tests last: Playwright's sync API marks an asyncio loop as running in the main thread until the
    session ends, and tests that start their own event loop (``asyncio.run``) must not meet it."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)  # stable: order kept otherwise
