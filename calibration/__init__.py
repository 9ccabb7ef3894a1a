"""socialtwin's calibration layer: the calibrator, baselines and the evaluation protocols.

Observed data (loaders, weekly tables, regions) live in the data layer, :mod:`simulator.sources`.
The public names are imported on first use, so that a light module of the layer (its protocols'
settings, :mod:`calibration.protocol`) can be read without loading the numerical libraries.
"""

from __future__ import annotations

import importlib

_PUBLIC = {
    "BehaviourCalibrator": "calibration.calibrator",
    "Evaluation": "calibration.evaluate",
    "evaluate": "calibration.evaluate",
    "EventEvaluation": "calibration.event_protocol",
    "evaluate_events": "calibration.event_protocol",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'calibration' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)
