"""The parameters a fit estimates: names, priors, bounds and the coordinates the optimiser moves.

Every value the ``rules`` mechanism declares is a parameter: each behaviour's baseline and each
policy, context and trait weight its ``rules`` block lists (a weight the block leaves out stays
0: the fit keeps the mechanism's structure), the engine's ``fatigue_weeks`` and
``vaccine_protection``, and the dynamics' ``habit``, ``peer_weight`` and ``heterogeneity`` (the
per-tick ``noise`` has mean zero and no effect on the population's means, so the data say
nothing of it). The scenario's values are the priors, with a prior standard deviation per kind
in the coordinate the optimiser moves (:data:`KINDS`): logit for baselines, log for the fatigue
scale, as given for the rest. The scales were set before any fit, from the size of the priors
themselves (a weight of 1 is a large logit shift; a habit of 0.4 +- 0.2 spans inertia from
little to much).

Partial pooling by region (``regions``): each region also gets its own ``compliance_scale`` (the
``rules`` engine's scale of every policy term, :mod:`simulator.cognition.rules`), named
``regions.<code>.engine.compliance_scale``, with a prior centred on the pooled value 1 and sd
0.5 in log (a region's response to the same rules between 0.6 and 1.6 times the pool's within one
sd). The prior is the penalty toward the pool: a region with few weeks, or weeks that say little,
stays near 1 and borrows the pooled mechanism; one whose data say more moves further.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from calibration.mean_field import Mechanism
from simulator.cognition.rules import RuleWeights


@dataclass(frozen=True)
class Kind:
    """How one kind of parameter is moved: coordinate, prior sd there, bounds in its units."""

    transform: str
    prior_sd: float
    lower: float
    upper: float


KINDS = {
    "baseline": Kind("logit", 1.0, 0.01, 0.99),
    "weight": Kind("identity", 1.0, -8.0, 8.0),
    "fatigue_weeks": Kind("log", 1.0, 2.0, 2000.0),
    "vaccine_protection": Kind("identity", 0.3, 0.0, 1.0),
    "habit": Kind("identity", 0.2, 0.0, 0.85),
    "peer_weight": Kind("identity", 0.2, 0.0, 0.9),
    "heterogeneity": Kind("identity", 0.5, 0.0, 3.0),
    "compliance_scale": Kind("log", 0.5, 0.1, 10.0),
}
REGIONAL = "regions.{code}.engine.compliance_scale"
"""The name of a region's own parameter under partial pooling."""
GLOBALS = (("engine.fatigue_weeks", "fatigue_weeks"),
           ("engine.vaccine_protection", "vaccine_protection"),
           ("dynamics.habit", "habit"), ("dynamics.peer_weight", "peer_weight"),
           ("dynamics.heterogeneity", "heterogeneity"))


def _forward(kind: Kind, value: np.ndarray) -> np.ndarray:
    if kind.transform == "logit":
        return np.log(value / (1.0 - value))
    if kind.transform == "log":
        return np.log(value)
    return value


def _back(kind: Kind, free: np.ndarray) -> np.ndarray:
    if kind.transform == "logit":
        return 1.0 / (1.0 + np.exp(-free))
    if kind.transform == "log":
        return np.exp(free)
    return free


class ParameterSpace:
    """The parameters of a scenario's mechanism, and the map between them and a flat vector.

    Args:
        prior: the scenario's mechanism (:meth:`Mechanism.of`).
        behaviours: the behaviours' names, in the scenario's order.
        regions: with partial pooling, the regions' codes (each gets its own
            ``compliance_scale``); empty: pooled parameters only.
    """

    def __init__(self, prior: Mechanism, behaviours: tuple[str, ...],
                 regions: tuple[str, ...] = ()) -> None:
        self.prior_mechanism = prior
        self.behaviours = behaviours
        w = prior.weights
        names, kinds, values, self._slots = [], [], [], []
        for b, behaviour in enumerate(behaviours):
            names.append(f"behaviours.{behaviour}.baseline")
            kinds.append("baseline")
            values.append(1.0 / (1.0 + np.exp(-w.baseline_logit[b])))
            self._slots.append(("baseline_logit", None, b))
        for block, labels, table in (("policy", w.policy_names, w.policy),
                                     ("context", w.context_names, w.context),
                                     ("traits", w.trait_names, w.traits)):
            for k, label in enumerate(labels):
                for b, behaviour in enumerate(behaviours):
                    if table[k, b] != 0.0:
                        names.append(f"behaviours.{behaviour}.{block}.{label}")
                        kinds.append("weight")
                        values.append(table[k, b])
                        self._slots.append((block, k, b))
        for name, kind in GLOBALS:
            names.append(name)
            kinds.append(kind)
            values.append(getattr(prior, kind))
            self._slots.append((kind, None, None))
        self.regions = tuple(regions)
        for r, code in enumerate(self.regions):
            names.append(REGIONAL.format(code=code))
            kinds.append("compliance_scale")
            values.append(prior.compliance_scale)
            self._slots.append(("region", r, None))
        self.names = tuple(names)
        self.kinds = tuple(KINDS[k] for k in kinds)
        self.prior = np.array(values, dtype=float)
        self.prior_free = self.to_free(self.prior)
        self.prior_sd = np.array([k.prior_sd for k in self.kinds])

    def __len__(self) -> int:
        return len(self.names)

    def to_free(self, values: np.ndarray) -> np.ndarray:
        """The optimiser's coordinates of parameter values."""
        return np.array([_forward(k, v) for k, v in zip(self.kinds, values, strict=True)])

    def from_free(self, free: np.ndarray) -> np.ndarray:
        """Parameter values of the optimiser's coordinates."""
        return np.array([_back(k, u) for k, u in zip(self.kinds, free, strict=True)])

    def bounds(self) -> list[tuple[float, float]]:
        """Bounds in the optimiser's coordinates (for L-BFGS-B)."""
        found = []
        for kind in self.kinds:
            low, high = (_forward(kind, np.array(x)) for x in (kind.lower, kind.upper))
            found.append((float(low), float(high)))
        return found

    def mechanism(self, values: np.ndarray) -> Mechanism:
        """The mechanism with these parameter values."""
        w = self.prior_mechanism.weights
        tables = {"baseline_logit": w.baseline_logit.copy(), "policy": w.policy.copy(),
                  "context": w.context.copy(), "traits": w.traits.copy()}
        globals_ = {}
        for (block, k, b), value in zip(self._slots, values, strict=True):
            if block == "region":
                continue
            if block == "baseline_logit":
                tables[block][b] = np.log(value / (1.0 - value))
            elif block in ("policy", "context", "traits"):
                tables[block][k, b] = value
            else:
                globals_[block] = float(value)
        weights = RuleWeights(tables["baseline_logit"], w.policy_names, tables["policy"],
                              w.context_names, tables["context"], w.trait_names,
                              tables["traits"])
        return replace(self.prior_mechanism, weights=weights, **globals_)

    def mechanisms(self, values: np.ndarray) -> Mechanism | list[Mechanism]:
        """The mechanism with these values; with partial pooling, each region's."""
        pooled = self.mechanism(values)
        if not self.regions:
            return pooled
        own = values[len(values) - len(self.regions):]
        return [replace(pooled, compliance_scale=float(scale)) for scale in own]
