"""Snapshots of one training run: parameters, train and test error, in step order."""

from __future__ import annotations

import ast
import copy
import itertools
import os
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._checks import memory_limit
from .._files import write_atomically
from ..models import MAX_DEPTH, mlp_from_sizes, mlp_sizes
from .linearized import LinearizedMLP

__all__ = ["History"]

_FORMAT_NAME = "linfeat_widgets.History"
_FORMAT_VERSION = 1
_FORMAT = f"{_FORMAT_NAME}/{_FORMAT_VERSION}"

# every array History.save writes, with the kinds of dtype each may have
_ARRAYS = {
    "format": "U",
    "sizes": "iu",
    "steps": "iu",
    "params": "f",
    "train_error": "f",
    "test_error": "f",
    "initial_params": "f",
    "config_keys": "U",
    "config_values": "U",
}


@dataclass(frozen=True)
class _Layout:
    """Where each parameter tensor lives in a flat parameter vector."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, model: nn.Module) -> _Layout:
        named = list(model.named_parameters())
        return cls(tuple(n for n, _ in named), tuple(tuple(p.shape) for _, p in named))

    @property
    def sizes(self) -> list[int]:
        return [int(np.prod(s, dtype=np.int64)) for s in self.shapes]

    @property
    def n_params(self) -> int:
        return sum(self.sizes)

    def split(self, flat: np.ndarray) -> list[np.ndarray]:
        """Flat vector (d,) -> list of arrays shaped like the parameters."""
        out, start = [], 0
        for size, shape in zip(self.sizes, self.shapes):
            out.append(flat[start : start + size].reshape(shape))
            start += size
        return out


def flatten_parameters(model: nn.Module) -> np.ndarray:
    """All parameters of ``model`` as one numpy vector (d,), in ``named_parameters`` order."""
    with torch.no_grad():
        return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).cpu().numpy()


def _check_step(step: object) -> int:
    """``step`` as an int; booleans, floats and strings are refused rather than coerced."""
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise ValueError(f"step must be an integer (a saved step, or 0 for the initialization); got {step!r}")
    return int(step)


class History(Mapping):
    """Snapshots of a training run, in step order.

    It reads like the homework's ``history`` dict: ``history.keys()`` are the saved steps,
    ``history[step]["state"]`` is a state dict, ``history[step]["train_error"]`` and
    ``history[step]["test_error"]`` are floats, so the homework's own cells keep working.
    Each snapshot holds only a parameter vector, not a copy of a module.

    Step 0, the initialization, can be read too (``history[0]``, ``0 in history``,
    :meth:`model`, :meth:`state`, :meth:`params_at`), but it is not a saved snapshot: it
    is not among ``history.keys()``, ``len(history)`` or :attr:`steps`, and its errors
    were never measured, so ``history[0]["train_error"]`` and
    ``history[0]["test_error"]`` are ``None``. Steps are integers; ``True`` and ``1.0``
    are refused.

    Attributes
    ----------
    steps : int64 (S,) the saved steps; step s holds the parameters after s updates.
    train_error : float64 (S,) the minibatch MSE of that step, computed before its update
        (the homework's "train error"); for ``"ridge"``, the MSE on the whole training set.
    test_error : float64 (S,) the MSE on the noiseless test set at the snapshot.
    params : (S, d) the parameters of every snapshot, flattened in
        ``model.named_parameters()`` order, in the dtype of training.
    initial_params : (d,) the parameters before training (step 0).
    names, shapes : name and shape of each parameter tensor.
    config : dict of the run's settings (paradigm, lr, seed, backend, dtype, ...).
    lr : float64 (S,) the learning rate of the chunk ending at each snapshot, for runs whose
        rate changed along the way (a live run); ``None`` when it is ``config["lr"]`` throughout.
    """

    def __init__(
        self,
        template: nn.Module,
        steps: np.ndarray,
        params: np.ndarray,
        train_error: np.ndarray,
        test_error: np.ndarray,
        initial_params: np.ndarray,
        config: dict[str, Any],
        lr: np.ndarray | None = None,
    ):
        self._template = copy.deepcopy(template).cpu()
        self._layout = _Layout.of(self._template)
        self.steps = np.asarray(steps, dtype=np.int64)
        self.params = np.asarray(params)
        self.train_error = np.asarray(train_error, dtype=np.float64)
        self.test_error = np.asarray(test_error, dtype=np.float64)
        self.initial_params = np.asarray(initial_params)
        self.config = dict(config)
        for array in (self.steps, self.params, self.train_error, self.test_error, self.initial_params):
            array.setflags(write=False)
        n = len(self.steps)
        if self.params.shape != (n, self._layout.n_params) or len(self.train_error) != n or len(self.test_error) != n:
            raise ValueError("History arrays disagree in length")
        self._position = {int(s): i for i, s in enumerate(self.steps)}
        self.lr = None if lr is None else np.array(lr, dtype=np.float64)
        if self.lr is not None:
            if self.lr.shape != (n,) or not np.all(np.isfinite(self.lr)) or np.any(self.lr <= 0):
                raise ValueError(f"lr must hold one positive finite learning rate per snapshot ({n}); got {lr!r}")
            self.lr.setflags(write=False)

    # --- the homework's dict interface -------------------------------------------------
    def __getitem__(self, step: int) -> dict[str, Any]:
        """``{"state", "train_error", "test_error"}`` of a saved step; at step 0 the errors are ``None``."""
        if _check_step(step) == 0:
            return {"state": self.state(0), "train_error": None, "test_error": None}
        i = self.index(step)
        return {
            "state": self.state(step),
            "train_error": float(self.train_error[i]),
            "test_error": float(self.test_error[i]),
        }

    def __iter__(self) -> Iterator[int]:
        return (int(s) for s in self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __contains__(self, step: object) -> bool:
        """True for a saved step and for 0 (the initialization), which ``history[step]`` reads."""
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
            return False
        return int(step) == 0 or int(step) in self._position

    def __repr__(self) -> str:
        c = self.config
        return (
            f"History(paradigm={c.get('paradigm')!r}, snapshots={len(self)}, "
            f"last_step={int(self.steps[-1])}, final_test_error={self.test_error[-1]:.4g}, "
            f"backend={c.get('backend')!r}, dtype={c.get('dtype')!r})"
        )

    # --- snapshots ----------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names in ``named_parameters`` order, e.g. ``("0.weight", "0.bias", ...)``."""
        return self._layout.names

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        """Shape of each parameter tensor."""
        return self._layout.shapes

    @property
    def nbytes(self) -> int:
        """Bytes held by the snapshot arrays (parameters and errors)."""
        arrays = (self.steps, self.params, self.train_error, self.test_error, self.initial_params)
        return int(sum(a.nbytes for a in arrays))

    def index(self, step: int) -> int:
        """Position of ``step`` in :attr:`steps`; raises ``ValueError`` for an unsaved step.

        Step 0 (the initialization) has no position: it is not a saved snapshot.
        """
        step = _check_step(step)
        if step in self._position:
            return self._position[step]
        steps = [str(int(s)) for s in self.steps]
        shown = ", ".join(steps) if len(steps) <= 5 else ", ".join([*steps[:3], "...", steps[-1]])
        hint = (
            "step 0, the initialization, is not a snapshot: read it with history[0], model(0) or params_at(0)"
            if step == 0
            else "step 0 is the initialization"
        )
        raise ValueError(f"step {step} was not saved; saved steps are {shown} ({len(self)} snapshots); {hint}")

    def params_at(self, step: int) -> np.ndarray:
        """Flat parameter vector (d,) at ``step``; step 0 is the initialization."""
        if _check_step(step) == 0:
            return self.initial_params
        return self.params[self.index(step)]

    def state(self, step: int) -> OrderedDict[str, torch.Tensor]:
        """State dict at ``step`` (step 0: initialization), tensors on the CPU."""
        arrays = self._layout.split(self.params_at(step))
        return OrderedDict((n, torch.from_numpy(a.copy())) for n, a in zip(self.names, arrays))

    def model(self, step: int) -> nn.Module:
        """A fresh module holding the parameters of ``step`` (step 0: initialization).

        Each call returns a new module, so drawing or evaluating a snapshot never changes
        another one.
        """
        model = copy.deepcopy(self._template)
        with torch.no_grad():
            for p, value in zip(model.parameters(), self._layout.split(self.params_at(step))):
                p.copy_(torch.tensor(value))
        return model

    # --- saving -------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Save to a ``.npz`` file; the previous file at ``path`` survives any failure.

        The file is written beside ``path`` under a temporary name and moved into place
        only once complete. A file replaced keeps its permission bits; a new file gets
        the usual ``0o666`` less the process's umask. Works for this package's ReLU MLPs
        (see :func:`mlp_sizes`) and their linearized runs (``train(..., linearized=True)``).
        """
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"path must end in '.npz'; got {str(path)!r}")
        # the arrays other processes get too; a linearized run is its network's sizes plus config["linearized"]
        run = self.to_arrays()
        config, lr = run.pop("config"), run.pop("lr")
        arrays = {
            "format": np.array(_FORMAT),
            **run,
            "config_keys": np.array(list(config), dtype=str),
            "config_values": np.array([repr(v) for v in config.values()], dtype=str),
        }
        if lr is not None:
            arrays["lr"] = lr
        path.parent.mkdir(parents=True, exist_ok=True)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)

        return write_atomically(path, write)

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        """Read a History written by :meth:`save`.

        The file is checked before anything is built from it: format and version, the
        arrays present with their dtypes and shapes, finite parameters and errors, steps
        strictly increasing, parameter counts agreeing with the layer sizes, and config
        values that parse as Python literals. A file that fails any check raises a
        ``ValueError`` naming the file and what is wrong (a missing file raises
        ``FileNotFoundError``). Nothing larger than the file itself is allocated.
        """
        path = Path(path)
        arrays = _read_npz(path)
        fields = _check_arrays(path, arrays)
        template = mlp_from_sizes(fields["sizes"]).to(
            torch.float64 if arrays["params"].dtype == np.float64 else torch.float32
        )
        if fields["config"].get("linearized") is True:
            template = _linearized_template(template, arrays["initial_params"])
        return cls(
            template,
            arrays["steps"],
            arrays["params"],
            arrays["train_error"],
            arrays["test_error"],
            arrays["initial_params"],
            fields["config"],
            lr=arrays.get("lr"),
        )

    # --- a compact form for other processes ---------------------------------------------
    def to_arrays(self) -> dict[str, Any]:
        """The run as plain arrays and literals, to send to or from another process.

        Holds ``sizes`` (the MLP's layer sizes, int64 (L+1,)), ``steps`` (S,), ``params``
        (S, d), ``train_error`` and ``test_error`` (S,), ``initial_params`` (d,) and
        ``config`` (a dict of literals): no module is pickled. :meth:`from_arrays` rebuilds
        an equal History. Works for this package's ReLU MLPs (see :func:`mlp_sizes`) and
        their linearized runs (``config["linearized"]``).
        """
        linearized = isinstance(self._template, LinearizedMLP)
        sizes = mlp_sizes(self._template.network() if linearized else self._template)
        if sizes is None:
            raise ValueError(
                "History.save and to_arrays support the package's ReLU MLPs (make_mlp); this is another module"
            )
        return {
            "sizes": np.array(sizes, dtype=np.int64),
            "steps": self.steps,
            "params": self.params,
            "train_error": self.train_error,
            "test_error": self.test_error,
            "initial_params": self.initial_params,
            "config": dict(self.config),
            "lr": self.lr,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Any]) -> History:
        """The History that :meth:`to_arrays` described, bit for bit."""
        missing = {"sizes", "steps", "params", "train_error", "test_error", "initial_params", "config"} - set(arrays)
        if missing:
            raise ValueError(f"arrays must hold the keys of History.to_arrays(); missing {sorted(missing)}")
        params = np.asarray(arrays["params"])
        if params.dtype not in (np.float32, np.float64):
            raise ValueError(f"arrays['params'] must be float32 or float64; got {params.dtype}")
        # building the template must not draw from torch's global generator: the caller's
        # random stream stays where it was
        with torch.random.fork_rng(devices=[]):
            template = mlp_from_sizes(tuple(int(s) for s in arrays["sizes"]))
        template = template.to(torch.float64 if params.dtype == np.float64 else torch.float32)
        if arrays["config"].get("linearized") is True:
            template = _linearized_template(template, np.array(arrays["initial_params"]))  # a writable copy
        return cls(
            template,
            arrays["steps"],
            params,
            arrays["train_error"],
            arrays["test_error"],
            arrays["initial_params"],
            dict(arrays["config"]),
            lr=arrays.get("lr"),
        )


def _invalid(path: Path, what: str) -> ValueError:
    return ValueError(f"{str(path)!r} is not a valid History file: {what}")


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive, each header checked against the file before reading.

    Raises ``ValueError`` for anything that is not a readable archive of plain arrays,
    and for an array whose header claims more data than its entry holds (so a small
    file cannot make us allocate gigabytes).
    """
    if path.is_dir():
        raise IsADirectoryError(f"History.load needs an .npz file; {str(path)!r} is a directory")
    with open(path, "rb"):  # FileNotFoundError and PermissionError as they are
        pass
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    raise _invalid(path, f"entry {info.filename!r} is not a numpy array")
                name = info.filename[: -len(".npy")]
                if info.file_size > memory_limit():
                    raise _invalid(path, f"entry {name!r} claims {info.file_size} bytes, more than memory allows")
                with archive.open(info) as handle:
                    version = np.lib.format.read_magic(handle)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
                    if dtype.hasobject:
                        raise _invalid(path, f"array {name!r} holds Python objects (pickled data is never loaded)")
                    needed = int(np.prod(shape, dtype=object)) * dtype.itemsize
                    if needed > info.file_size - handle.tell():
                        raise _invalid(
                            path, f"array {name!r} claims shape {shape} ({needed} bytes) but its entry is smaller"
                        )
                    handle.seek(0)
                    arrays[name] = np.lib.format.read_array(handle, allow_pickle=False)
    except ValueError as exc:
        if str(exc).startswith(repr(str(path))):
            raise
        raise _invalid(path, f"it is not a readable .npz archive ({exc})") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise _invalid(path, f"it is not a readable .npz archive ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise _invalid(path, f"it could not be read as an .npz archive ({type(exc).__name__}: {exc})") from None
    return arrays


def _check_arrays(path: Path, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Check what History.save writes; return the layer sizes and the config."""
    if "format" not in arrays:
        raise _invalid(path, f"it has no 'format' entry; it is not a History file written by History.save ({_FORMAT})")
    fmt = arrays["format"]
    found = str(fmt[()]) if fmt.dtype.kind == "U" and fmt.shape == () else repr(fmt)
    name, _, version = found.partition("/")
    if name != _FORMAT_NAME:
        raise _invalid(path, f"its format is {found!r}; it is not a History file written by History.save ({_FORMAT})")
    if version != str(_FORMAT_VERSION):
        raise _invalid(
            path,
            f"it is in format version {version!r}; this version of linfeat_widgets reads version {_FORMAT_VERSION}",
        )
    missing = [key for key in _ARRAYS if key not in arrays]
    if missing:
        raise _invalid(path, f"it lacks the arrays {', '.join(repr(m) for m in missing)}")
    for key, kinds in _ARRAYS.items():
        if arrays[key].dtype.kind not in kinds:
            raise _invalid(path, f"array {key!r} has dtype {arrays[key].dtype}")
    for key in ("sizes", "steps", "train_error", "test_error", "initial_params", "config_keys", "config_values"):
        if arrays[key].ndim != 1:
            raise _invalid(path, f"array {key!r} must be one-dimensional; it has shape {arrays[key].shape}")

    sizes = tuple(int(s) for s in arrays["sizes"])
    if len(sizes) < 3 or len(sizes) > MAX_DEPTH + 2 or sizes[0] != 1 or sizes[-1] != 1 or min(sizes) < 1:
        shown = sizes if len(sizes) <= 8 else f"{sizes[:4]}... ({len(sizes)} entries)"
        raise _invalid(
            path, f"sizes {shown} are not the layer sizes (1, h1, ..., hk, 1) of an MLP with 1 to {MAX_DEPTH} layers"
        )
    # Python ints: no overflow however large the sizes claim to be
    d = sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(sizes))

    steps, params = arrays["steps"], arrays["params"]
    n = len(steps)
    if n == 0:
        raise _invalid(path, "it holds no snapshots")
    if params.ndim != 2 or params.shape[0] != n:
        raise _invalid(path, f"params has shape {params.shape}; expected ({n}, d): one row per step")
    if params.shape[1] != d or arrays["initial_params"].shape != (d,):
        raise _invalid(
            path,
            f"sizes {sizes if len(sizes) <= 8 else '(...)'} ask for {d} parameters per snapshot, but params holds "
            f"{params.shape[1]} and initial_params {arrays['initial_params'].shape[0]}",
        )
    if arrays["initial_params"].dtype != params.dtype or params.dtype not in (np.float32, np.float64):
        raise _invalid(
            path,
            f"params ({params.dtype}) and initial_params ({arrays['initial_params'].dtype}) "
            "must both be float32 or both float64",
        )
    for key in ("train_error", "test_error"):
        if arrays[key].shape != (n,):
            raise _invalid(path, f"{key} has shape {arrays[key].shape}; expected ({n},), one per step")
    for key in ("params", "initial_params", "train_error", "test_error"):
        bad = int(np.count_nonzero(~np.isfinite(arrays[key])))
        if bad:
            raise _invalid(path, f"{key} has {bad} NaN or infinite entries")
    if int(steps.max()) > np.iinfo(np.int64).max:
        raise _invalid(path, f"steps must fit in int64; the largest is {int(steps.max())}")
    steps = steps.astype(np.int64)
    arrays["steps"] = steps
    if steps[0] < 1 or np.any(np.diff(steps) <= 0):
        raise _invalid(path, f"steps must be positive and strictly increasing; they are {_preview(steps)}")

    if "lr" in arrays:  # optional: one learning rate per snapshot (a live run's)
        lr = arrays["lr"]
        if lr.dtype.kind != "f" or lr.shape != (n,):
            raise _invalid(path, f"lr has dtype {lr.dtype} and shape {lr.shape}; expected float ({n},), one per step")
        if not np.all(np.isfinite(lr) & (lr > 0)):
            raise _invalid(path, "lr must hold finite positive learning rates")

    keys, values = arrays["config_keys"], arrays["config_values"]
    if len(keys) != len(values):
        raise _invalid(path, f"config has {len(keys)} keys but {len(values)} values")
    if len(set(keys.tolist())) != len(keys):
        raise _invalid(path, "config has repeated keys")
    config = {}
    for key, text in zip(keys.tolist(), values.tolist()):
        try:
            config[key] = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
            raise _invalid(path, f"config value of {key!r} ({text[:60]!r}) is not a Python literal ({exc})") from None
    return {"sizes": sizes, "config": config}


def _preview(steps: np.ndarray) -> str:
    shown = [str(int(s)) for s in steps[:8]]
    return ", ".join(shown) + (", ..." if len(steps) > 8 else "")


def _linearized_template(network: nn.Module, initial_params: np.ndarray) -> LinearizedMLP:
    """The linearized model around ``network`` set to ``initial_params`` (theta_0)."""
    with torch.no_grad():
        for p, value in zip(network.parameters(), _Layout.of(network).split(np.asarray(initial_params))):
            p.copy_(torch.as_tensor(value))
    return LinearizedMLP(network)
