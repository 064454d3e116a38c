"""Live training: one run trained in a background thread, snapshot by snapshot, paused at will.

A :class:`LiveRun` trains one model in chunks of ``save_every`` steps and appends a
snapshot after each chunk, exactly where :func:`train` would keep one (step 1, then every
``save_every``). Inside a chunk it advances in short sub-chunks, so a pause takes effect
within a few milliseconds, and it can hold a pace (``speed``, steps per second) a class
can follow. The minibatch stream is drawn from one generator across all chunks
(:func:`~.minibatches.minibatch_indices` does not depend on how the stream is cut), so
with an unchanged learning rate the parameters after step S equal those of
``train(..., n_steps=S, save_every=save_every)`` bit for bit, however often the run was
paused and resumed.

No ipywidgets here: :mod:`linfeat_widgets.live_explorer` is the widget that drives it.
"""

from __future__ import annotations

import copy
import threading
import time
import weakref
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_float, check_int
from ..data import Dataset
from ..models import mlp_sizes
from . import fast_backend
from .history import History, flatten_parameters
from .minibatches import minibatch_indices
from .plan import Plan, TrainingDiverged
from .torch_backend import solve_ridge
from .trainer import _check_output, choose_backend, make_plan

__all__ = ["LiveRun"]

# A sub-chunk aims at this much compute, so a pause is seen within about this long
# (well inside the 200 ms promised), while each compiled call still runs long enough that
# the GIL taken between calls costs little when the kernel is busy drawing.
_SLICE_SECONDS = 0.04
# At a set speed, sub-chunks are at most this long in time, so the pace looks smooth.
_PACE_SECONDS = 0.05


class _FastStepper:
    """The fast backend's kernels driven a few steps at a time, its state kept between calls."""

    def __init__(self, model: nn.Module, plan: Plan):
        self.forward, self.sgd, self.mse = fast_backend.kernels()
        self.plan = plan
        self.dtype = plan.numpy_dtype
        self.sizes = mlp_sizes(model)
        data = plan.data
        self.X = np.ascontiguousarray(data.X, dtype=self.dtype)
        self.y = np.ascontiguousarray(data.y, dtype=self.dtype)
        self.X_test = np.ascontiguousarray(data.X_test, dtype=self.dtype)
        self.y_test = np.ascontiguousarray(data.y_test, dtype=self.dtype)
        self.load(flatten_parameters(model))

    def load(self, theta: np.ndarray) -> None:
        """Set the parameters (d,); the transposed weights and the frozen features follow."""
        full = fast_backend._Net(self.sizes, theta, self.dtype)
        self.full = full
        self.z = np.zeros(full.max_width, dtype=self.dtype)
        if self.plan.paradigm == "output":
            # as in train_fast: the hidden layers are frozen, so train the head on fixed features
            acts = full.acts(len(self.X))
            self.forward(*full.args, self.X, acts, self.z)
            self.inputs = np.ascontiguousarray(acts[-2, :, : self.sizes[-2]])
            self.head = int(full.w_off[-1])
            self.net = fast_backend._Net((self.sizes[-2], 1), full.theta[self.head :], self.dtype)
        else:
            self.inputs, self.head, self.net = self.X, 0, full
        batch = self.plan.batch_size
        self.acts = self.net.acts(batch)
        self.xb = np.zeros((batch, int(self.net.sizes[0])), dtype=self.dtype)
        self.g = np.zeros((batch, self.net.max_width), dtype=self.dtype)
        self.g_prev = np.zeros_like(self.g)
        self.grad = np.zeros_like(self.net.theta)
        self.test_acts = full.acts(len(self.X_test))

    def advance(self, batches: np.ndarray, lr: float) -> tuple[int, float]:
        """Run one SGD step per row of ``batches`` (k, batch): (index of a non-finite loss or -1, a loss)."""
        losses = np.empty(len(batches))  # float64, as train_fast's: the loss is summed in float64
        net = self.net
        bad = self.sgd(
            *net.args, self.inputs, self.y, batches, self.dtype.type(lr), losses, self.acts, self.xb, self.g,
            self.g_prev, self.grad,
        )  # fmt: skip
        if self.head:
            self.full.theta[self.head :] = net.theta
            self.full.wt[self.head :] = net.wt
        return int(bad), float(losses[bad] if bad >= 0 else losses[-1])

    def params(self) -> np.ndarray:
        return self.full.theta.copy()

    def test_error(self) -> float:
        return float(self.mse(*self.full.args, self.X_test, self.y_test, self.test_acts, self.z))


class _TorchStepper:
    """The reference loop (``torch.optim.SGD`` on the module), a few steps at a time."""

    def __init__(self, model: nn.Module, plan: Plan):
        self.plan, self.model = plan, model
        data = plan.data

        def tensor(a):
            return torch.tensor(a, dtype=plan.torch_dtype, device=plan.device)

        self.X, self.y = tensor(data.X), tensor(data.y)[:, None]
        self.X_test, self.y_test = tensor(data.X_test), tensor(data.y_test)[:, None]
        # as train_torch: the reported and checked losses are summed in float64
        self.y64, self.y_test64 = self.y.double(), self.y_test.double()
        trainable = plan.trainable_parameters(model)
        for p in model.parameters():
            p.requires_grad_(False)
        for p in trainable:
            p.requires_grad_(True)
        self.optimizer = torch.optim.SGD(trainable, lr=plan.lr)

    def load(self, theta: np.ndarray) -> None:
        with torch.no_grad():
            start = 0
            for p in self.model.parameters():
                p.copy_(torch.as_tensor(theta[start : start + p.numel()]).reshape(p.shape))
                start += p.numel()

    def advance(self, batches: np.ndarray, lr: float) -> tuple[int, float]:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        rows_all = torch.as_tensor(batches, device=self.plan.device)
        losses = torch.empty(len(batches), dtype=torch.float64, device=self.plan.device)
        for i in range(len(batches)):
            rows = rows_all[i]
            out = self.model(self.X[rows])
            loss = F.mse_loss(out, self.y[rows])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            losses[i] = F.mse_loss(out.detach().double(), self.y64[rows])
        finite = torch.isfinite(losses)
        if not bool(finite.all()):
            first = int(torch.nonzero(~finite)[0, 0])
            return first, float(losses[first])
        return -1, float(losses[-1])

    def params(self) -> np.ndarray:
        return flatten_parameters(self.model)

    def test_error(self) -> float:
        with torch.no_grad():
            return float(F.mse_loss(self.model(self.X_test).double(), self.y_test64))


@dataclass
class _Snapshots:
    """What has been trained: one row per snapshot, appended by the worker only."""

    steps: list
    params: list
    train_error: list
    test_error: list
    lr: list


class _Worker:
    """The thread, its state and the training; :class:`LiveRun` is its public face.

    Kept apart from LiveRun so the thread holds no reference to the LiveRun: when the
    user drops the LiveRun (or the interpreter exits), a finalizer closes the worker.
    """

    def __init__(self, template, plan, backend, max_steps, speed):
        self.template, self.plan, self.backend = template, plan, backend
        self.max_steps, self.speed = max_steps, speed
        self.lr = plan.lr
        self.cond = threading.Condition()
        self.playing = False  # asked to train
        self.busy = False  # the worker is inside a sub-chunk (or about to be)
        self.closed = False
        self.until: int | None = None
        self.unpaced = False
        self.epoch = 0  # moves with every play() and speed change: the pace starts over
        self.error: BaseException | None = None
        self.version = 0
        self.resets = 0
        self.listeners: list = []
        self._history: tuple[int, History] | None = None
        self._reset_state()
        self.thread = threading.Thread(target=self._loop, name="linfeat-live", daemon=True)
        self.thread.start()

    # --- state, touched only while the worker is idle or by the worker itself -------------
    def _reset_state(self) -> None:
        work = copy.deepcopy(self.template).to(self.plan.device)
        self.initial = flatten_parameters(work)
        self.snaps = _Snapshots([], [], [], [], [])
        self.done = 0
        self.rng = np.random.default_rng(self.plan.seed)
        self.chunk_lr: float | None = None  # the lr of the chunk under way
        self.checkpoint = (0, self.rng.bit_generator.state)
        self.sec_per_step = 1e-4
        if self.backend == "closed form":
            _, params, train_error, test_error = solve_ridge(work, self.plan)
            self.snaps = _Snapshots([1], [params[0]], [float(train_error[0])], [float(test_error[0])], [])
            self.done = 1
            self.stepper = None
        else:
            self.stepper = (_FastStepper if self.backend == "fast" else _TorchStepper)(work, self.plan)

    def next_snapshot(self) -> int:
        """The step of the next snapshot: 1 first, then the next multiple of ``save_every``."""
        if self.done == 0:
            return 1
        every = self.plan.save_every
        return (self.done // every + 1) * every

    def finished(self) -> bool:
        return self.stepper is None or (self.max_steps is not None and self.done >= self.max_steps)

    def _slice(self, stop: int) -> int:
        """Steps in the next sub-chunk: short enough to pause quickly and to keep the pace."""
        k = max(1, int(_SLICE_SECONDS / max(self.sec_per_step, 1e-9)))
        if self.speed is not None and not self.unpaced:
            k = min(k, max(1, int(self.speed * _PACE_SECONDS)))
        return min(k, stop - self.done)

    def _advance(self) -> None:
        """One sub-chunk, and the snapshot when it completes a chunk (or reaches ``max_steps``)."""
        boundary = self.next_snapshot()
        stop = boundary
        if self.max_steps is not None:
            stop = min(stop, self.max_steps)
        if self.until is not None:
            stop = min(stop, self.until)
        if self.chunk_lr is None:
            self.chunk_lr = self.lr  # a new lr applies from the next chunk on
        k = self._slice(stop)
        batches = minibatch_indices(self.rng, self.plan.n_samples, self.plan.batch_size, k)
        start = time.perf_counter()
        bad, loss = self.stepper.advance(batches, self.chunk_lr)
        elapsed = time.perf_counter() - start
        if bad >= 0:
            raise TrainingDiverged(self.done + bad + 1, loss, self.chunk_lr)
        self.sec_per_step = 0.7 * self.sec_per_step + 0.3 * elapsed / k
        self.done += k
        # train(n_steps=S) keeps a snapshot at every boundary and at its last step: so does
        # max_steps; `until` inside a chunk keeps none, so a later snapshot still matches
        if self.done != boundary and self.done != self.max_steps:
            return
        test = self.stepper.test_error()
        if not np.isfinite(test):
            raise TrainingDiverged(self.done, test, self.chunk_lr, what="test error")
        params = self.stepper.params()
        with self.cond:
            self.snaps.steps.append(self.done)
            self.snaps.params.append(params)
            self.snaps.train_error.append(loss)
            self.snaps.test_error.append(test)
            self.snaps.lr.append(self.chunk_lr)
            self.version += 1
            self.checkpoint = (self.done, self.rng.bit_generator.state)
            self.chunk_lr = None
        self._notify()

    def _notify(self, quiet: bool = False) -> None:
        for listener in list(self.listeners):
            try:
                listener()
            except Exception:
                if not quiet:  # an error while reporting an error: the first one is what counts
                    raise

    def _rollback(self) -> None:
        """Back to the last snapshot (parameters and minibatch stream), so training can go on."""
        step, state = self.checkpoint
        self.done = step
        self.rng.bit_generator.state = state
        self.chunk_lr = None
        self.stepper.load(self.snaps.params[-1] if self.snaps.params else self.initial)

    # --- the thread ------------------------------------------------------------------------
    def _loop(self) -> None:
        paced: tuple[int, float, int] = (-1, 0.0, 0)  # (epoch, time, step) the pace counts from
        while True:
            with self.cond:
                while not self.playing and not self.closed:
                    # each time round: play() may have set busy and a pause() unset playing since
                    self.busy = False
                    self.cond.notify_all()
                    self.cond.wait()
                    if self.closed:
                        self.busy = False
                        self.cond.notify_all()
                        return
                if self.finished() or (self.until is not None and self.done >= self.until):
                    self.playing = False
                    continue
                self.busy = True
                if paced[0] != self.epoch:
                    paced = (self.epoch, time.perf_counter(), self.done)
            try:
                self._advance()
            except BaseException as exc:  # any failure pauses the run and is shown, never lost
                with self.cond:
                    self.error = exc
                    self.playing = False
                    self._rollback()
                    self.version += 1
                self._notify(quiet=True)
                continue
            if self.speed is not None and not self.unpaced:
                # hold the pace: sleep until the time the steps done so far should have taken
                _, t0, d0 = paced
                due = t0 + (self.done - d0) / self.speed - time.perf_counter()
                if due < -_PACE_SECONDS:  # fell behind (a slow draw, a busy CPU): do not race to catch up
                    paced = (self.epoch, time.perf_counter(), self.done)
                elif due > 0:
                    with self.cond:
                        if self.playing and not self.closed:
                            self.cond.wait(due)

    # --- requests from other threads -------------------------------------------------------
    def play(self, until: int | None, unpaced: bool) -> None:
        with self.cond:
            if self.closed:
                raise RuntimeError("this LiveRun is closed")
            self.until, self.unpaced = until, unpaced
            self.error = None
            self.epoch += 1
            self.playing = True
            self.busy = True  # so a pause() right after play() waits for the worker
            self.cond.notify_all()

    def pause(self) -> None:
        with self.cond:
            self.playing = False
            self.cond.notify_all()
            if threading.current_thread() is self.thread:
                return  # asked by a listener: the worker stops after this sub-chunk
            while self.busy and self.thread.is_alive():
                self.cond.wait(0.1)

    def wait(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.cond:
            while self.busy and self.thread.is_alive():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self.cond.wait(left if left is not None else 0.1)
        return True

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.playing = False
            self.cond.notify_all()
        if self.thread is not threading.current_thread():
            self.thread.join(timeout=5)

    def history(self) -> History | None:
        with self.cond:
            if self._history is not None and self._history[0] == self.version:
                return self._history[1]
            n = len(self.snaps.steps)
            if n == 0:
                return None
            config = dict(self.plan.config(self.backend))
            ridge = self.backend == "closed form"
            config.update(n_steps=int(self.snaps.steps[-1]), live=True)
            if not ridge:
                config["lr"] = float(self.snaps.lr[-1])
            history = History(
                self.template,
                np.array(self.snaps.steps, dtype=np.int64),
                np.stack(self.snaps.params),
                np.array(self.snaps.train_error),
                np.array(self.snaps.test_error),
                self.initial,
                config,
                lr=None if ridge else np.array(self.snaps.lr, dtype=np.float64),
            )
            self._history = (self.version, history)
            return history


class LiveRun:
    """One model trained in a background thread, a snapshot appended every ``save_every`` steps.

    Parameters
    ----------
    model : the network, e.g. from :func:`make_mlp`; never modified (training runs on a copy).
    data : a :class:`Dataset` from :func:`make_dataset`.
    paradigm : ``"all"``, ``"output"`` or ``"ridge"`` (solved at once: one snapshot, nothing
        to play).
    save_every : steps per chunk; a snapshot is kept at step 1 and after every chunk, as
        :func:`train` keeps them.
    lr : the learning rate (default the homework's for the paradigm); change it any time
        with :attr:`lr`, it applies from the next chunk.
    seed : seed of the minibatch stream, as in :func:`train`.
    backend : ``"auto"``, ``"fast"`` or ``"torch"``, as in :func:`train`.
    max_steps : training stops by itself at this step (``None``: never).
    speed : steps per second to hold while playing (``None``: as fast as the CPU allows).
    dtype, batch_size : as in :func:`train`.

    Attributes
    ----------
    running : whether the worker is training now.
    history : a History of every snapshot so far (``None`` before the first).
    step_count : steps trained so far (may be inside a chunk while paused).
    error : the exception that stopped the worker last, or ``None``.

    Examples
    --------
    >>> run = LiveRun(make_mlp(20), make_dataset(), save_every=500)
    >>> run.play(until=5000); run.wait()            # doctest: +SKIP
    >>> run.history.steps                            # doctest: +SKIP
    array([   1,  500, 1000, ..., 5000])
    """

    def __init__(
        self,
        model: nn.Module,
        data: Dataset,
        paradigm: str = "all",
        *,
        save_every: int = 500,
        lr: float | None = None,
        seed: int | None = 0,
        backend: str = "auto",
        max_steps: int | None = None,
        speed: float | None = None,
        dtype: str = "float32",
        batch_size: int | None = None,
    ):
        plan = make_plan(model, data, paradigm, 1, save_every, lr, seed, "cpu", dtype, batch_size)
        if max_steps is not None:
            max_steps = check_int("max_steps", max_steps, 1)
        template = copy.deepcopy(model).cpu().to(plan.torch_dtype)
        _check_output(template, plan)
        used = choose_backend(backend, model, plan)
        self._worker = _Worker(template, plan, used, max_steps, _check_speed(speed))
        self._finalizer = weakref.finalize(self, self._worker.close)

    # --- playing ---------------------------------------------------------------------------
    def play(self, until: int | None = None) -> LiveRun:
        """Start (or resume) training in the background and return at once.

        ``until``: stop by itself after this step (kept as a snapshot only where
        :func:`train` would keep one). Clears :attr:`error`.
        """
        if until is not None:
            until = check_int("until", until, 1)
        self._worker.play(until, unpaced=False)
        return self

    start = play

    def pause(self) -> LiveRun:
        """Stop training; returns once the worker has stopped (within one short sub-chunk)."""
        self._worker.pause()
        return self

    def step(self) -> LiveRun:
        """Train up to the next snapshot (one save interval) at full speed, and return then.

        Raises the worker's error if training failed on the way (the run is then paused at
        its last snapshot, as after any error).
        """
        self.pause()
        if self._worker.finished():
            return self
        self._worker.play(self._worker.next_snapshot(), unpaced=True)
        self._worker.wait(None)
        if self._worker.error is not None:
            raise self._worker.error
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker stops (``until`` reached, an error, a pause); False on timeout."""
        return self._worker.wait(timeout)

    def reset(self) -> LiveRun:
        """Pause and start over from the initial parameters and the seed; the lr stays as set."""
        self.pause()
        worker = self._worker
        with worker.cond:
            worker.error = None
            worker._reset_state()
            worker.version += 1
            worker.resets += 1
        worker._notify()
        return self

    def close(self) -> None:
        """Stop the worker thread for good (also done when the LiveRun is garbage collected)."""
        self._finalizer()

    # --- state -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether training is under way now."""
        w = self._worker
        return w.playing and not w.closed

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._worker.closed

    @property
    def finished(self) -> bool:
        """Whether there is nothing left to train (``max_steps`` reached, or ridge)."""
        return self._worker.finished()

    @property
    def history(self) -> History | None:
        """The snapshots so far as a :class:`History` (``lr`` (S,) records each chunk's rate)."""
        return self._worker.history()

    @property
    def step_count(self) -> int:
        """Steps trained so far."""
        return self._worker.done

    @property
    def error(self) -> BaseException | None:
        """The exception that paused the worker last (cleared by play, step, reset)."""
        return self._worker.error

    @property
    def resets(self) -> int:
        """How many times :meth:`reset` started the run over."""
        return self._worker.resets

    @property
    def version(self) -> int:
        """A counter that moves with every new snapshot, reset or error (cheap to poll)."""
        return self._worker.version

    @property
    def data(self) -> Dataset:
        """The training data."""
        return self._worker.plan.data

    @property
    def paradigm(self) -> str:
        """The training paradigm."""
        return self._worker.plan.paradigm

    @property
    def save_every(self) -> int:
        """Steps per chunk."""
        return self._worker.plan.save_every

    @property
    def backend(self) -> str:
        """The backend training: ``"fast"``, ``"torch"`` or ``"closed form"``."""
        return self._worker.backend

    @property
    def lr(self) -> float | None:
        """The learning rate of the next chunk (``None`` for ridge)."""
        return self._worker.lr

    @lr.setter
    def lr(self, value: float) -> None:
        if self._worker.backend == "closed form":
            raise ValueError("lr cannot be set for paradigm 'ridge': it is solved in closed form")
        self._worker.lr = check_float("lr", value, positive=True)

    @property
    def speed(self) -> float | None:
        """Steps per second held while playing (``None``: full speed)."""
        return self._worker.speed

    @speed.setter
    def speed(self, value: float | None) -> None:
        speed = _check_speed(value)
        with self._worker.cond:
            self._worker.speed = speed
            self._worker.epoch += 1

    @property
    def max_steps(self) -> int | None:
        """The step where training stops by itself (``None``: never)."""
        return self._worker.max_steps

    @max_steps.setter
    def max_steps(self, value: int | None) -> None:
        self._worker.max_steps = None if value is None else check_int("max_steps", value, 1)

    def add_listener(self, callback) -> None:
        """Call ``callback()`` (from the worker thread) after each snapshot, reset or error.

        Keep it short: set a flag, wake a timer; never draw from it.
        """
        self._worker.listeners.append(callback)

    def remove_listener(self, callback) -> None:
        """Stop calling ``callback``."""
        if callback in self._worker.listeners:
            self._worker.listeners.remove(callback)

    def __repr__(self) -> str:
        state = "running" if self.running else "closed" if self.closed else "paused"
        return (
            f"LiveRun(paradigm={self.paradigm!r}, step={self.step_count}, snapshots="
            f"{len(self._worker.snaps.steps)}, lr={self.lr}, {state})"
        )


def _check_speed(speed) -> float | None:
    if speed is None:
        return None
    return check_float("speed", speed, positive=True)
