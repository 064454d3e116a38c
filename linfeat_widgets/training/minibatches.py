"""The minibatch index stream and the snapshot schedule, shared by every backend.

Both backends draw their minibatches here, so for a given seed they see exactly the same
points at every step and their trajectories can be compared snapshot by snapshot.
"""

from __future__ import annotations

import numpy as np

__all__ = ["minibatch_indices", "snapshot_steps"]


def snapshot_steps(n_steps: int, save_every: int) -> np.ndarray:
    """The steps after which a snapshot is kept: 1, every ``save_every``, and always the last.

    Steps are counted from 1 (a snapshot at step s holds the parameters after s updates).

    Returns
    -------
    int64 array of shape (S,), strictly increasing, ending with ``n_steps``.
    """
    steps = np.arange(save_every, n_steps + 1, save_every, dtype=np.int64)
    return np.unique(np.concatenate([[1], steps, [n_steps]]).astype(np.int64))


def _partial_shuffle_numpy(u: np.ndarray, n: int) -> np.ndarray:
    k, batch = u.shape
    perm = np.tile(np.arange(n, dtype=np.int64), k)
    base = np.arange(k, dtype=np.int64) * n
    for j in range(batch):
        here = base + j
        there = here + (u[:, j] * (n - j)).astype(np.int64)
        swap = perm[here]
        perm[here] = perm[there]
        perm[there] = swap
    return perm.reshape(k, n)[:, :batch].copy()


def _numba_partial_shuffle():
    """The same partial shuffle compiled by numba (about 10x faster), or None without numba."""
    try:
        from ._numba_kernels import partial_shuffle
    except ImportError:  # the numpy version gives identical indices
        return None
    return partial_shuffle


_shuffle_compiled = None
_shuffle_loaded = False


def minibatch_indices(rng: np.random.Generator, n: int, batch_size: int, k: int) -> np.ndarray:
    """Draw the next ``k`` minibatches, each ``batch_size`` of ``range(n)`` without replacement.

    Each row is the start of a fresh uniformly random permutation of ``range(n)`` (a
    partial Fisher-Yates shuffle driven by ``rng.random((k, batch_size))``), the same
    sampling as the homework's ``torch.randperm(n)[:n // 5]``. Uniforms are drawn row by
    row, so the stream does not depend on how it is cut into calls: drawing 1 and then
    999 rows gives the same rows as drawing 1000.

    Returns
    -------
    int64 array of shape (k, batch_size)
    """
    global _shuffle_compiled, _shuffle_loaded
    u = rng.random((k, batch_size))
    if not _shuffle_loaded:
        _shuffle_compiled = _numba_partial_shuffle()
        _shuffle_loaded = True
    if _shuffle_compiled is not None:
        return _shuffle_compiled(u, n)
    return _partial_shuffle_numpy(u, n)
