"""Training: the three paradigms, the minibatch stream, and the snapshot :class:`History`.

Modules, in the order they build on each other: ``minibatches`` (index stream, snapshot
schedule), ``history`` (snapshots), ``plan`` (checked settings), ``torch_backend`` (the
reference loop and the ridge solve), ``linearized`` (the linearized model and its trainer),
``progress`` (progress bars), ``trainer`` (:func:`train`), ``batched`` (several seeds in one
batched loop), ``sweep`` (one training per width, depth, paradigm and seed, in threads or on
an Executor), ``live`` (one run trained in a background thread, paused at will).
"""

from .batched import train_seeds
from .history import History
from .live import LiveRun
from .minibatches import minibatch_indices, snapshot_steps
from .plan import DEFAULT_LR, PARADIGMS, TrainingDiverged
from .sweep import Band, Config, Sweep, sweep
from .trainer import BACKENDS, DTYPES, BackendFallbackWarning, choose_backend, train

__all__ = [
    "BACKENDS",
    "DEFAULT_LR",
    "DTYPES",
    "PARADIGMS",
    "BackendFallbackWarning",
    "Band",
    "Config",
    "History",
    "LiveRun",
    "Sweep",
    "TrainingDiverged",
    "choose_backend",
    "minibatch_indices",
    "snapshot_steps",
    "sweep",
    "train",
    "train_seeds",
]
