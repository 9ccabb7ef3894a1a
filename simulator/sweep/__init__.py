"""Counterfactual sweeps: variants of the policy timeline, run under common seeds on an executor.

``variants`` and ``transforms`` say what a "what if" is, ``variants_file`` reads them from YAML,
``runner`` runs every variant under every seed, ``checks`` tests the responses for plausibility,
``executors`` decide where runs happen, ``outputs`` and ``plots`` write the sweep folder and
``commands`` adds ``socialtwin sweep`` and ``socialtwin plot`` to the command line.
"""

from simulator.sweep.executors import make_executor
from simulator.sweep.outputs import write_sweep
from simulator.sweep.runner import SweepResult, run_sweep
from simulator.sweep.variants import Variant, VariantSet
from simulator.sweep.variants_file import load_variants

__all__ = ["SweepResult", "Variant", "VariantSet", "load_variants", "make_executor",
           "run_sweep", "write_sweep"]
