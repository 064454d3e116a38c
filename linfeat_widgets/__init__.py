"""linfeat_widgets: see what a small ReLU network learns through its local linearization.

The math (``data``, ``models``, ``training``, ``linearize``, ``spectrum``, ``theory``, ``snapshots``)
imports neither matplotlib nor ipywidgets, so it runs in scripts and on servers without a
display. The user-interface names (``panels``, ``canvas``, ``controls``, ``explorer``,
``homework``) are loaded on first use.
"""

from __future__ import annotations

from .data import Dataset, make_dataset
from .linearize import Features, gradient_norms, linearize, predict
from .models import make_mlp
from .snapshots import LayerFeatures, Snapshot, SnapshotCache
from .spectrum import Spectrum, feature_svd, ntk
from .theory import Movement, Projections, kernel_movement, residual_projections, spectrum_history
from .training import Config, History, Sweep, TrainingDiverged, sweep, train

__version__ = "0.1.0"

# name -> module that defines it, imported only when the name is first used
_LAZY: dict[str, str] = {
    "ErrorPanel": ".panels",
    "FeaturePanel": ".panels",
    "PredictionPanel": ".panels",
    "PrincipalFeaturePanel": ".panels",
    "SpectrumPanel": ".panels",
    "FigureHost": ".canvas",
    "DepthSelector": ".controls",
    "IterationSlider": ".controls",
    "LayerSelector": ".controls",
    "ParadigmSelector": ".controls",
    "WidthSelector": ".controls",
    "Explorer": ".explorer",
    "explore": ".explorer",
    "make_history_interactive": ".homework",
}

__all__ = [
    "Config",
    "Dataset",
    "Features",
    "History",
    "LayerFeatures",
    "Movement",
    "Projections",
    "Snapshot",
    "SnapshotCache",
    "Spectrum",
    "Sweep",
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
