"""The seeds of one configuration, for the panels: quartile bands across seeds, computed once.

An :class:`EnsembleCache` reads every seed's run of one (width, depth, paradigm) of a
:class:`~linfeat_widgets.training.Sweep`: the quartiles of the train and test error
(:meth:`Sweep.band <linfeat_widgets.training.Sweep.band>`) and, per saved step, the
quartiles of the feature matrix's singular values across seeds. Each step's band is
computed on first request from each seed's
:class:`~linfeat_widgets.snapshots.SnapshotCache` and then only indexed. This module is
part of the math: it imports neither matplotlib nor ipywidgets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from .snapshots import SnapshotCache
from .training import Band, Config, Sweep

__all__ = ["EnsembleCache"]


class EnsembleCache:
    """Quartiles across the seeds of one configuration.

    Parameters
    ----------
    sweep : a :class:`Sweep` holding several seeds.
    config : the configuration (its seed, if any, is ignored: every seed is read).
    snapshots : ``snapshots(config) -> SnapshotCache`` for one seed's Config; default a
        fresh cache per seed (the Explorer passes its own, so each seed is computed once).

    Attributes
    ----------
    configs : the K Configs, one per seed, in the order of ``sweep.seeds``.
    errors : :class:`Band` of the train and test error, (3, S) each.
    """

    def __init__(self, sweep: Sweep, config: Config, snapshots: Callable[[Config], SnapshotCache] | None = None):
        if not isinstance(sweep, Sweep):
            raise ValueError(f"sweep must be a Sweep from lf.sweep(); got {type(sweep).__name__}")
        self.configs = tuple(dataclasses.replace(config, seed=s) for s in sweep.seeds)
        self.errors: Band = sweep.band(config.width, config.depth, config.paradigm)
        if snapshots is None:
            caches: dict[Config, SnapshotCache] = {}

            def snapshots(c: Config) -> SnapshotCache:
                if c not in caches:
                    caches[c] = SnapshotCache(sweep[c], sweep.data)
                return caches[c]

        self._snapshots = snapshots
        self._spectra: dict[int, np.ndarray] = {}

    @property
    def seeds(self) -> tuple[int, ...]:
        """The seeds the quartiles are taken over."""
        return self.errors.seeds

    def spectrum_band(self, step: int) -> np.ndarray:
        """Quartiles across seeds of the singular values at ``step`` (0: the initialization).

        Returns
        -------
        float64 (3, k), read-only: the 25th, 50th and 75th percentile of the j-th
        largest singular value, for the k values every seed has (the shortest spectrum).
        """
        step = int(step)
        if step not in self._spectra:
            spectra = [np.asarray(self._snapshots(c).snapshot(step).singular_values) for c in self.configs]
            k = min(len(s) for s in spectra)
            band = np.percentile(np.stack([s[:k] for s in spectra]), Band.QUANTILES, axis=0)
            band.setflags(write=False)
            self._spectra[step] = band
        return self._spectra[step]
