"""Work ahead in the kernel's idle time: a plan of small steps, run between the user's interactions.

A :class:`Warmer` runs a *plan* (a generator whose every ``next()`` does one small piece
of work: one snapshot's spectrum, one figure drawn ahead) on an asyncio event loop, a
few milliseconds at a time, only once the user has left the controls alone for ``idle``
seconds. Any interaction calls :meth:`Warmer.restart`: the running plan is dropped and a
new one, made for the new state, starts after the next quiet spell. Work already done is
cached by whoever did it, so a new plan skips it quickly.

Nothing runs in another thread: the plan's steps run in the event loop, between the
kernel's messages, so no lock guards the caches and matplotlib is only ever called from
the kernel's own thread. A step blocks the kernel for its duration (the longest, drawing
one figure ahead, takes some tens of milliseconds).

This module imports neither matplotlib nor ipywidgets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from ._checks import check_float

__all__ = ["Warmer"]


class Warmer:
    """Run ``plan()``'s steps in an event loop's idle time, from scratch after every :meth:`restart`.

    Parameters
    ----------
    loop : the asyncio event loop to run in (a Jupyter kernel's), or None: then nothing
        runs by itself and :meth:`run` does the whole plan at once.
    plan : ``plan() -> iterator``; each ``next()`` does one step of work.
    idle : seconds without a :meth:`restart` before the plan (re)starts.
    budget : seconds of steps per turn of the event loop; a turn runs at least one step.

    Attributes
    ----------
    done : the last plan ran to its end.
    steps : how many steps ran, in all.
    error : the exception a step raised (the plan then stops until the next restart), or None.
    """

    def __init__(self, loop, plan: Callable[[], Iterator], *, idle: float = 0.3, budget: float = 0.015):
        if not callable(plan):
            raise ValueError(f"plan must be a callable returning an iterator; got {plan!r}")
        self.loop = loop
        self._plan = plan
        self.idle = check_float("idle", idle, minimum=0.0)
        self.budget = check_float("budget", budget, minimum=0.0)
        self.done = False
        self.steps = 0
        self.error: BaseException | None = None
        self._tasks: Iterator | None = None
        self._handle = None

    def __repr__(self) -> str:
        state = "done" if self.done else ("waiting" if self._handle is not None else "stopped")
        return f"Warmer({state}, steps={self.steps})"

    def restart(self, delay: float | None = None) -> None:
        """Drop the running plan; start a new one after ``delay`` (default ``idle``) quiet seconds."""
        self.stop()
        self.done = False
        if self.loop is not None and not self.loop.is_closed():
            self._handle = self.loop.call_later(self.idle if delay is None else delay, self._turn)

    def stop(self) -> None:
        """Stop: nothing more runs until the next :meth:`restart` or :meth:`run`."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._tasks = None

    def run(self) -> None:
        """Run a whole new plan now, to its end (in a script, a test, or to warm everything before a lecture)."""
        self.stop()
        for _ in self._plan():
            self.steps += 1
        self.done = True

    def _turn(self) -> None:
        self._handle = None
        if self._tasks is None:
            self._tasks = self._plan()
        deadline = time.perf_counter() + self.budget
        try:
            while True:
                next(self._tasks)
                self.steps += 1
                if time.perf_counter() >= deadline:
                    break
        except StopIteration:
            self._tasks = None
            self.done = True
            return
        except Exception as exc:  # work ahead must never break the kernel: kept for inspection
            self._tasks = None
            self.error = exc
            return
        # give the event loop a turn (messages waiting are handled first), then go on
        self._handle = self.loop.call_later(0.001, self._turn)
