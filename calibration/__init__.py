"""socialtwin's calibration layer: the calibrator, baselines and the evaluation protocol.

Observed data (loaders, weekly tables, regions) live in the data layer, :mod:`simulator.sources`.
"""

from calibration.calibrator import BehaviourCalibrator
from calibration.evaluate import Evaluation, evaluate

__all__ = ["BehaviourCalibrator", "Evaluation", "evaluate"]
