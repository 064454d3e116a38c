"""The homework's own helper, ``make_history_interactive``, on top of the Explorer.

The homework's notebook trains with its own loop and keeps a dict ``{step: {"state",
"train_error", "test_error"}}``; its cells call ``make_history_interactive(history, X, y,
X_test, y_test, net)``. This module turns those objects into a :class:`History` and a
:class:`Dataset` and returns an :class:`~linfeat_widgets.explorer.Explorer`, so the
homework's cells keep working unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from ._checks import as_inputs, as_real_array
from .data import Dataset
from .explorer import Explorer
from .training import History

__all__ = ["make_history_interactive"]


def _dataset_from_arrays(X, y, X_test, y_test) -> Dataset:
    """A Dataset holding the homework's arrays as they are (its ground truth interpolates y_test)."""
    X, X_test = as_inputs("X", X), as_inputs("X_test", X_test)
    y = as_real_array("y", y).reshape(-1)
    y_test = as_real_array("y_test", y_test).reshape(-1)
    if len(y) != len(X) or len(y_test) != len(X_test):
        raise ValueError(
            f"y must have one target per input: X has {len(X)} points and y {len(y)}; "
            f"X_test has {len(X_test)} and y_test {len(y_test)}"
        )
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(y_test))):
        raise ValueError("y and y_test must be finite")
    order = np.argsort(X_test[:, 0], kind="stable")
    grid, truth = X_test[order, 0], y_test[order]

    def ground_truth(x):
        return np.interp(x, grid, truth)

    for array in (X, y, X_test, y_test):
        array.setflags(write=False)
    return Dataset(
        X=X,
        y=y,
        X_test=X_test,
        y_test=y_test,
        target="homework arrays",
        f=ground_truth,
        sigma=float("nan"),
        seed=-1,
        x_range=(float(X.min()), float(X.max())),
        test_range=(float(grid[0]), float(grid[-1])),
    )


def _history_from_dict(history: Mapping, net: nn.Module, paradigm: str) -> History:
    """A History from the homework's ``{step: {"state", "train_error", "test_error"}}`` dict.

    The dict keeps no initialization, so its first snapshot stands in for step 0.
    """
    if not isinstance(net, nn.Module):
        raise ValueError(f"net must be the homework's torch.nn.Module; got {type(net).__name__}")
    if not history:
        raise ValueError("history is empty: it must hold at least one snapshot")
    template = copy.deepcopy(net).cpu()
    names = [name for name, _ in template.named_parameters()]
    steps = sorted(int(s) for s in history)
    rows, train_error, test_error = [], [], []
    for step in steps:
        entry = history[step]
        try:
            state = entry["state"]
            rows.append(np.concatenate([_numpy(state[name]).reshape(-1) for name in names]))
            train_error.append(float(entry["train_error"]))
            test_error.append(float(entry["test_error"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"history[{step}] must be a dict with 'state' (a state dict of net), 'train_error' and "
                f"'test_error', as the homework's train_network returns; {type(exc).__name__}: {exc}"
            ) from None
    params = np.stack(rows)
    config = {"paradigm": paradigm, "source": "the homework's history dict"}
    return History(template, np.array(steps), params, np.array(train_error), np.array(test_error), params[0], config)


def _numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def make_history_interactive(history, X, y, X_test, y_test, net, *, paradigm: str = "all", **explorer_options):
    """The homework's ``make_history_interactive``, on top of this package: returns an :class:`Explorer`.

    The homework's cells keep working::

        make_history_interactive(history_all, X, y, X_test, y_test, net)

    Parameters
    ----------
    history : the homework's dict ``{step: {"state": state_dict, "train_error": float,
        "test_error": float}}`` (its first snapshot stands in for the initialization), or
        a :class:`History`.
    X, y, X_test, y_test : the homework's arrays, (n, 1), (n,), (m, 1), (m,).
    net : the homework's network; only its architecture is used, it is never modified.
    paradigm : the label of the run ("all", "output" or "ridge").
    **explorer_options : passed to :class:`Explorer`; ``iteration`` defaults to the first
        saved step, as the homework's slider starts.
    """
    data = _dataset_from_arrays(X, y, X_test, y_test)
    if not isinstance(history, History):
        if not isinstance(history, Mapping):
            raise ValueError(
                f"history must be a History or the homework's dict {{step: snapshot}}; got {type(history).__name__}"
            )
        history = _history_from_dict(history, net, paradigm)
    explorer_options.setdefault("iteration", int(history.steps[0]))
    return Explorer(history, data=data, **explorer_options)
