"""Progress reporting for long trainings: a tqdm bar, nothing, or a caller's callback."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

__all__ = ["progress_bar"]


@contextlib.contextmanager
def progress_bar(
    total: int, progress: bool | Callable[[int], object], desc: str, unit: str = "step"
) -> Iterator[Callable[[int], object]]:
    """Yield ``update(k)``, to be called with the number of ``unit`` (steps, trainings) just done.

    ``progress`` is ``True`` (a tqdm bar, in the terminal or as a notebook widget, shown
    only once the work has taken more than a second), ``False`` (nothing), or a callable
    that receives each ``k`` itself (so a sweep can drive one bar for many trainings).
    """
    if callable(progress):
        yield progress
        return
    if not progress:
        yield lambda k: None
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, unit=unit, delay=1.0, leave=False) as bar:
        yield bar.update
