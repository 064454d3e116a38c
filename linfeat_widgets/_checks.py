"""Argument checks shared by every public function.

Each check raises ``ValueError`` naming the argument, the value received and what is
accepted, so that a typo in a notebook cell points straight at its cause.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming them all."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        accepted = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {accepted}; got {value!r}")
    return value


def check_int(name: str, value: Any, minimum: int) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return int(value)


def check_float(name: str, value: Any, *, minimum: float | None = None, positive: bool = False) -> float:
    """Return ``value`` as a finite float, optionally ``>= minimum`` or ``> 0``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0; got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return value


def check_range(name: str, value: Any) -> tuple[float, float]:
    """Return ``value`` as a non-empty finite interval ``(low, high)`` with low < high."""
    try:
        low, high = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) with low < high; got {value!r}") from None
    low = check_float(f"{name}[0]", low)
    high = check_float(f"{name}[1]", high)
    if not low < high:
        raise ValueError(f"{name} must be a non-empty interval (low, high) with low < high; got {value!r}")
    return low, high


def as_inputs(name: str, x: Any) -> np.ndarray:
    """Return scalar inputs ``x`` as a float64 column of shape ``(n, 1)``.

    Accepts shape ``(n,)`` or ``(n, 1)`` (numpy arrays, lists or CPU torch tensors) with
    ``n >= 1`` and every entry finite.
    """
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        arr = np.array(x, dtype=np.float64)  # a private, writable copy
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be an array of numbers of shape (n,) or (n, 1); got {type(x).__name__}"
        ) from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != 1 or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n,) or (n, 1) with n >= 1; got shape {np.shape(x)}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise ValueError(f"{name} must be finite; it has {bad} NaN or infinite entries")
    return arr
