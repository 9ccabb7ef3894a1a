"""Synthetic populations: targets per place, fitting, income, households and psychographics.

``Population`` (:mod:`simulator.population.synthesis`) is the public face; the other modules are
the steps of a synthesis.
"""

from simulator.population.synthesis import Population
from simulator.population.targets import PopulationError

__all__ = ["Population", "PopulationError"]
