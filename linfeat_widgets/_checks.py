"""Argument checks shared by every public function.

Each check raises ``ValueError`` naming the argument, the value received and what is
accepted, so that a typo in a notebook cell points straight at its cause.
"""

from __future__ import annotations

import math
import os
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


def _show_int(value: int) -> str:
    """``value`` as written by a person: ``2**32 - 1`` rather than ``4294967295``."""
    if value > 2**16 and (value + 1) & value == 0:
        return f"2**{(value + 1).bit_length() - 1} - 1"
    return str(value)


def check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum`` (and <= ``maximum`` if given)."""
    accepted = (
        f"an integer >= {minimum}"
        if maximum is None
        else f"an integer with {minimum} <= {name} <= {_show_int(maximum)}"
    )
    if isinstance(value, (bool, np.timedelta64)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be {accepted}; got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {accepted}; got {value}")
    return int(value)


def check_float(name: str, value: Any, *, minimum: float | None = None, positive: bool = False) -> float:
    """Return ``value`` as a finite float, optionally ``>= minimum`` or ``> 0``."""
    if isinstance(value, (bool, np.timedelta64)) or not isinstance(value, (int, float, np.integer, np.floating)):
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
        if not isinstance(value, (tuple, list, np.ndarray)):  # a set has no order; bytes unpack to ints
            raise TypeError
        low, high = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) with low < high; got {value!r}") from None
    low = check_float(f"{name}[0]", low)
    high = check_float(f"{name}[1]", high)
    if not low < high:
        raise ValueError(f"{name} must be a non-empty interval (low, high) with low < high; got {value!r}")
    return low, high


def as_real_array(name: str, value: Any, verb: str = "be an array of") -> np.ndarray:
    """Return ``value`` as a private float64 numpy array, refusing what is not real numbers.

    Accepts numpy arrays, nested lists and torch tensors of integers or floats. Strings,
    booleans, complex numbers and Python objects are refused: converting them would
    silently change their meaning (``"1"`` -> 1.0, ``True`` -> 1.0, ``1+2j`` -> 1.0).
    """
    if hasattr(value, "detach") and hasattr(value, "dtype"):  # a torch tensor
        if value.dtype.is_complex or str(value.dtype) == "torch.bool":
            raise ValueError(f"{name} must {verb} real numbers; got a tensor of {value.dtype}")
        if value.device.type == "meta":
            raise ValueError(f"{name} must {verb} real numbers; got a tensor on the meta device (it has no values)")
        value = value.detach().cpu()
        value = value.double() if value.is_floating_point() else value
        value = value.numpy()
    if np.ma.isMaskedArray(value) and np.ma.is_masked(value):
        raise ValueError(f"{name} must {verb} real numbers; got a masked array with masked entries")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must {verb} real numbers; got {type(value).__name__}") from None
    if arr.dtype.kind not in "iuf":
        kinds = {"b": "booleans", "c": "complex numbers", "U": "strings", "S": "bytes", "O": "Python objects"}
        got = kinds.get(arr.dtype.kind, f"dtype {arr.dtype}")
        raise ValueError(f"{name} must {verb} real numbers (integers or floats); got {got}")
    return np.array(arr, dtype=np.float64)  # a private, writable copy


def as_inputs(name: str, x: Any) -> np.ndarray:
    """Return scalar inputs ``x`` as a float64 column of shape ``(n, 1)``.

    Accepts shape ``(n,)`` or ``(n, 1)`` (numpy arrays, lists or CPU torch tensors) with
    ``n >= 1`` and every entry finite.
    """
    arr = as_real_array(name, x)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != 1 or arr.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n,) or (n, 1) with n >= 1; got shape {tuple(np.shape(x))}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise ValueError(f"{name} must be finite; it has {bad} NaN or infinite entries")
    return arr


#: Allocations above this many bytes are refused whatever the machine (a safety net
#: against a typo such as ``n_samples=10**10``).
MAX_BYTES = 2**36


def memory_limit() -> int:
    """Bytes a single array may take: half the physical memory, at most :data:`MAX_BYTES`."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX: rely on the fixed cap
        return MAX_BYTES
    return int(min(MAX_BYTES, physical // 2))


def format_bytes(n_bytes: float) -> str:
    """``n_bytes`` in the largest binary unit that keeps it >= 1, e.g. ``"3.0 GiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n_bytes < 1024 or unit == "PiB":
            return f"{n_bytes:.1f} {unit}" if unit != "B" else f"{int(n_bytes)} B"
        n_bytes /= 1024
    raise AssertionError("unreachable")


def check_memory(what: str, n_bytes: float, limit: int | None = None) -> None:
    """Refuse, before allocating, ``what`` needing an estimated ``n_bytes``.

    ``what`` names the arguments responsible, e.g. ``"n_samples=10**10 and n_grid=1000"``.
    """
    limit = memory_limit() if limit is None else limit
    if n_bytes > limit:
        raise ValueError(
            f"{what} would need about {format_bytes(n_bytes)} of memory, more than the "
            f"{format_bytes(limit)} allowed here (half the physical memory, at most {format_bytes(MAX_BYTES)})"
        )
