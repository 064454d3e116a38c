"""linfeat_widgets: see what a small ReLU network learns through its local linearization.

The math (``data``, ``models``, ``training``, ``linearize``, ``spectrum``, ``theory``, ``snapshots``,
``theory_cache``) imports neither matplotlib nor ipywidgets, so it runs in scripts and on
servers without a display. The user-interface names (``panels``, ``theory_panels``,
``panel_specs``, ``canvas``, ``controls``, ``explorer``, ``homework``) are loaded on first use.
"""

from __future__ import annotations

from .data import Dataset, make_dataset
from .ensemble import EnsembleCache
from .linearize import Features, gradient_norms, linearize, predict
from .models import make_mlp
from .snapshots import LayerFeatures, Snapshot, SnapshotCache
from .spectrum import Spectrum, feature_svd, ntk
from .theory import Movement, Projections, kernel_movement, residual_projections, spectrum_history
from .theory_cache import TheoryCache
from .training import Band, Config, History, LiveRun, Sweep, TrainingDiverged, sweep, train, train_seeds

__version__ = "0.1.0"

# name -> module that defines it, imported only when the name is first used
_LAZY: dict[str, str] = {
    "ErrorPanel": ".panels",
    "FeaturePanel": ".panels",
    "PredictionPanel": ".panels",
    "PrincipalFeaturePanel": ".panels",
    "SpectrumPanel": ".panels",
    "PANELS": ".panel_specs",
    "PanelBoard": ".panel_specs",
    "PanelContext": ".panel_specs",
    "PanelSpec": ".panel_specs",
    "PanelView": ".panel_specs",
    "GridLayout": ".themes",
    "LAYOUTS": ".themes",
    "THEMES": ".themes",
    "Theme": ".themes",
    "StepButtons": ".controls",
    "MovementPanel": ".theory_panels",
    "ResidualPanel": ".theory_panels",
    "SpectrumHistoryPanel": ".theory_panels",
    "FigureHost": ".canvas",
    "DepthSelector": ".controls",
    "IterationSlider": ".controls",
    "LayerSelector": ".controls",
    "ParadigmSelector": ".controls",
    "SeedSelector": ".controls",
    "WidthSelector": ".controls",
    "PlayControl": ".player",
    "Explorer": ".explorer",
    "LiveExplorer": ".live_explorer",
    "live": ".live_explorer",
    "explore": ".explorer",
    "make_history_interactive": ".homework",
}

__all__ = [
    "Band",
    "Config",
    "Dataset",
    "EnsembleCache",
    "Features",
    "History",
    "LayerFeatures",
    "LiveRun",
    "Movement",
    "Projections",
    "Snapshot",
    "SnapshotCache",
    "Spectrum",
    "Sweep",
    "TheoryCache",
    "TrainingDiverged",
    "feature_svd",
    "gradient_norms",
    "kernel_movement",
    "linearize",
    "make_dataset",
    "make_mlp",
    "ntk",
    "predict",
    "residual_projections",
    "spectrum_history",
    "sweep",
    "train",
    "train_seeds",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
