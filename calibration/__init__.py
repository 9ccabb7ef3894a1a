"""socialtwin's calibration layer: observed data, the calibrator, baselines and evaluation."""

from calibration.calibrator import BehaviourCalibrator
from calibration.datasets import (
    DatasetError,
    load_cases,
    load_mobility,
    load_oxcgrt,
    load_oxcgrt_indices,
    load_vaccinations,
    to_weekly,
)
from calibration.evaluate import Evaluation, evaluate
from calibration.observed import ObservedData, load_observed, regions_of

__all__ = [
    "BehaviourCalibrator", "DatasetError", "Evaluation", "ObservedData", "evaluate",
    "load_cases", "load_mobility", "load_observed", "load_oxcgrt", "load_oxcgrt_indices",
    "load_vaccinations", "regions_of", "to_weekly",
]
