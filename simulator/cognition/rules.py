"""The ``rules`` engine: a transparent parametric behaviour model, the baseline the LLM must beat.

For cell ``a``, behaviour ``b`` and the tick's signals, the behaviour probability is

    logit p = logit(baseline_b)
              + compliance_a * sum_k policy_bk * level_k / max_level_k
              + sum_c context_bc * feature_c
              + sum_t traits_bt * (trait_at - 0.5)

with the per-behaviour weights of the scenario (``behaviours[*].rules``) and

    compliance_a = S * clip(1 + 0.8 (trust_government - .5) + 0.5 (conformity - .5)
                            - 0.5 (risk_tolerance - .5) - 0.3 (republican - democrat), 0.3, 1.7)
                   / (1 + weeks_under_restrictions / F)

(the partisan term follows the gap in distancing between Republican- and Democrat-leaning
counties documented by Allcott et al., J. Public Econ. 2020), where F (``fatigue_weeks``,
default 52) makes adherence wane under long restrictions, and S (``compliance_scale``, default 1)
is the population's response to rules relative to the mechanism's (a fit with partial pooling
gives each region its own). Context
features: ``threat`` = min(log1p(new cases per 100k) / log1p(50), 1.5) x (1 + 0.5 growth)
x (0.5 + perceived_vulnerability) x (1.5 - risk_tolerance) x (1 - V vaccinated share) with V
(``vaccine_protection``) = 0.6; ``temperature`` = (temperature_f - 55) / 25; ``vaccinated`` = the
vaccinated share; any other context value is used as given. Traits are the cell's means in
[0, 1] (scores or shares), centred on 0.5. The scenario's values are priors; ``socialtwin fit``
estimates them on observed data (:mod:`calibration.mechanism_fit`) and a scenario takes the
estimates with ``engine.parameters``. :func:`rule_logits` is the one formula, for one tick
(:meth:`RulesEngine.decide_traits`) or many (the fit's fast evaluation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulator.behaviours import Behaviour
from simulator.cognition.engine import DecisionRequest, Decisions, Engine
from simulator.cognition.options import RulesOptions
from simulator.policy import Signals
from simulator.sources.indicators import Indicator

if TYPE_CHECKING:
    from simulator.cognition.cells import Cells
    from simulator.cognition.prompts import PromptBuilder


DERIVED_CONTEXT = ("weeks_under_restrictions", "threat", "temperature", "vaccinated")
"""Context features the model reads besides the context values: the weeks under restrictions
the timeline counts, and the features :meth:`RulesEngine.features` derives."""


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


@dataclass(frozen=True)
class RuleWeights:
    """The ``rules`` blocks of a scenario's behaviours as arrays: one column per behaviour.

    A name a behaviour does not list weighs 0 for it. Policy weights of indicators the
    catalogue does not have are left out (as the engine ignores them).

    Attributes:
        baseline_logit: logit of each behaviour's baseline, shape (B,).
        policy_names, policy: indicator names and their weights, shape (K, B).
        context_names, context: context feature names and their weights, shape (F, B).
        trait_names, traits: trait names and their weights, shape (R, B).
    """

    baseline_logit: np.ndarray
    policy_names: tuple[str, ...]
    policy: np.ndarray
    context_names: tuple[str, ...]
    context: np.ndarray
    trait_names: tuple[str, ...]
    traits: np.ndarray

    @classmethod
    def of(cls, behaviours: Sequence[Behaviour], indicators: Mapping[str, Indicator]
           ) -> RuleWeights:
        """The weights the behaviours' ``rules`` blocks declare."""
        def table(block: str, keep=lambda name: True) -> tuple[tuple[str, ...], np.ndarray]:
            names = tuple(sorted({name for b in behaviours for name in getattr(b.rules, block)
                                  if keep(name)}))
            values = np.array([[getattr(b.rules, block).get(name, 0.0) for b in behaviours]
                               for name in names], dtype=float).reshape(len(names),
                                                                        len(behaviours))
            return names, values

        policy_names, policy = table("policy", lambda name: name in indicators)
        context_names, context = table("context")
        trait_names, traits = table("traits")
        baseline = np.array([_logit(b.rules.baseline) for b in behaviours], dtype=float)
        return cls(baseline, policy_names, policy, context_names, context, trait_names, traits)


def rule_logits(weights: RuleWeights, traits: Mapping[str, np.ndarray], count: int,
                policy: Mapping[str, np.ndarray], context: Mapping[str, np.ndarray],
                fatigue_weeks: float, vaccine_protection: float, compliance_scale: float = 1.0
                ) -> np.ndarray:
    """The model's logits for many cells over many ticks: the one formula of the engine.

    Args:
        weights: the behaviours' rules as arrays.
        traits: trait name -> array of shape (count,) (a trait left out takes its neutral
            value).
        count: number of cells C.
        policy: indicator name -> level as a share of its maximum, shape (T,) (an indicator
            left out is at 0).
        context: context value name -> shape (T,) (``weeks_under_restrictions`` and the
            observed values the derived features read).
        fatigue_weeks: weeks under restrictions after which compliance has halved.
        vaccine_protection: share of the threat removed per unit vaccinated share.
        compliance_scale: the population's response to rules relative to the mechanism's.

    Returns:
        float array of shape (T, C, B).
    """
    ticks = len(next(iter(context.values()))) if context else \
        len(next(iter(policy.values()))) if policy else 1
    behaviours = len(weights.baseline_logit)
    # What varies by cell only, and by tick only, is summed before the (T, C, B) array is made.
    by_cell = np.broadcast_to(weights.baseline_logit, (count, behaviours)).copy()
    for name, row in zip(weights.trait_names, weights.traits, strict=True):
        if name in traits:  # a trait left out is at its neutral value 0.5: no shift
            by_cell += (np.asarray(traits[name], dtype=float) - 0.5)[:, None] * row
    by_tick = np.zeros((ticks, behaviours))
    features = _features(traits, context, ticks, vaccine_protection)
    per_cell = []
    for name, row in zip(weights.context_names, weights.context, strict=True):
        if name in features:
            if features[name].shape[1] == 1:
                by_tick += features[name] * row
            else:
                per_cell.append((features[name], row))
    z = by_cell[None, :, :] + by_tick[:, None, :]
    if weights.policy_names:
        levels = np.stack([np.asarray(policy.get(name, np.zeros(ticks)), dtype=float)
                           for name in weights.policy_names], axis=1)
        weeks = np.asarray(context.get("weeks_under_restrictions", np.zeros(ticks)), dtype=float)
        compliance = compliance_scale * _compliance_base(traits, count)[None, :] / (
            1.0 + weeks / fatigue_weeks)[:, None]
        z += compliance[:, :, None] * (levels @ weights.policy)[:, None, :]
    for feature, row in per_cell:
        z += feature[:, :, None] * row
    return z


def _compliance_base(traits: Mapping[str, np.ndarray], count: int) -> np.ndarray:
    """How strongly cells follow the rules when fresh (1 = average), shape (count,)."""
    get = lambda name, neutral: np.asarray(traits.get(name, neutral), dtype=float)  # noqa: E731
    base = (1.0 + 0.8 * (get("trust_government", 0.5) - 0.5)
            + 0.5 * (get("conformity", 0.5) - 0.5)
            - 0.5 * (get("risk_tolerance", 0.5) - 0.5)
            - 0.3 * (get("republican", 0.0) - get("democrat", 0.0)))
    return np.broadcast_to(np.clip(base, 0.3, 1.7), (count,))


def _features(traits: Mapping[str, np.ndarray], context: Mapping[str, np.ndarray], ticks: int,
              vaccine_protection: float) -> dict[str, np.ndarray]:
    """Context features of the model, each of shape (T, 1) or (T, C) (module docstring)."""
    column = lambda values: np.asarray(values, dtype=float).reshape(ticks, 1)  # noqa: E731
    trait = lambda name: np.asarray(traits.get(name, 0.5), dtype=float)  # noqa: E731
    features = {name: column(values) for name, values in context.items()}
    vaccinated = column(context.get("vaccinated_pct", np.zeros(ticks))) / 100.0
    if "new_cases_per_100k" in context:
        cases = np.minimum(np.log1p(np.maximum(features["new_cases_per_100k"], 0.0))
                           / np.log1p(50.0), 1.5)
        growth = np.clip(column(context.get("case_growth", np.zeros(ticks))), -0.5, 0.5)
        features["threat"] = (cases * (1.0 + 0.5 * growth)
                              * ((0.5 + trait("perceived_vulnerability"))
                                 * (1.5 - trait("risk_tolerance")))[None, ...]
                              * (1.0 - vaccine_protection * vaccinated))
    if "temperature_f" in context:
        features["temperature"] = (features["temperature_f"] - 55.0) / 25.0
    features["vaccinated"] = vaccinated
    return features


def _trait_columns(traits: Sequence[Mapping[str, float]]) -> dict[str, np.ndarray]:
    """Traits of several respondents as one array per trait (traits all of them have)."""
    names = set(traits[0]).intersection(*traits[1:]) if traits else set()
    return {name: np.array([t[name] for t in traits], dtype=float) for name in sorted(names)}


class RulesEngine(Engine):
    """Parametric behaviour model behind the engine interface (no language model).

    Args:
        indicators: the scenario's indicator catalogue (for the maximum level of each).
        options: the engine's global parameters (fatigue and vaccine protection; see
            :class:`~simulator.cognition.options.RulesOptions`).
    """

    name = "rules"

    def __init__(self, indicators: Mapping[str, Indicator],
                 options: RulesOptions | None = None) -> None:
        super().__init__()
        options = options or RulesOptions()
        self.indicators = indicators
        self.fatigue_weeks = float(options.fatigue_weeks)
        self.vaccine_protection = float(options.vaccine_protection)
        self.compliance_scale = float(options.compliance_scale)

    def describe(self) -> dict:
        """Engine name and its global parameters."""
        return {"engine": self.name, "model": "parametric", "elicitation": None,
                "fatigue_weeks": self.fatigue_weeks,
                "vaccine_protection": self.vaccine_protection,
                "compliance_scale": self.compliance_scale}

    def decide(self, requests: Sequence[DecisionRequest]) -> Decisions:
        """Evaluate the parametric model for every request and behaviour (vectorised)."""
        behaviours = requests[0].behaviours if requests else ()
        out = np.empty((len(requests), len(behaviours)))
        groups: dict[int, list[int]] = {}
        for i, request in enumerate(requests):
            groups.setdefault(id(request.signals), []).append(i)
        for rows in groups.values():
            traits = _trait_columns([requests[i].respondent.traits for i in rows])
            out[rows] = self.decide_traits(traits, len(rows), requests[rows[0]].signals,
                                           behaviours).probabilities
        return Decisions(out)

    def decide_cells(self, cells: Cells, signals: Signals, behaviours: Sequence[Behaviour],
                     prompts: PromptBuilder | None = None) -> Decisions:
        """Every cell in one pass over the cells' trait arrays (no request object per cell)."""
        return self.decide_traits(cells.traits, len(cells), signals, behaviours)

    def decide_traits(self, traits: Mapping[str, np.ndarray], count: int, signals: Signals,
                      behaviours: Sequence[Behaviour]) -> Decisions:
        """The model for many cells in one situation, given as trait columns.

        What :meth:`decide` computes, without a request object per cell: a population of
        millions of agents has hundreds of thousands of cells, answered every tick.

        Args:
            traits: trait name -> array of shape (count,) (a trait left out takes its neutral
                value).
            count: number of cells.
            signals: the situation.
            behaviours: what is asked.

        Returns:
            Decisions with probabilities of shape (count, n_behaviours).
        """
        weights = RuleWeights.of(behaviours, self.indicators)
        z = rule_logits(weights, traits, count,
                        {name: np.array([signals.policy.get(name, 0.0)
                                         / self.indicators[name].max_level])
                         for name in weights.policy_names},
                        {name: np.array([value]) for name, value in signals.context.items()},
                        self.fatigue_weeks, self.vaccine_protection, self.compliance_scale)[0]
        out = 1.0 / (1.0 + np.exp(-z))
        self.stats.questions += out.size
        return Decisions(out)

    def compliance(self, traits: Mapping[str, np.ndarray | float],
                   context: Mapping[str, float]) -> np.ndarray:
        """How strongly cells follow the rules this tick (1 = average, fresh)."""
        count = len(np.atleast_1d(next(iter(traits.values())))) if traits else 1
        fatigue = 1.0 + context.get("weeks_under_restrictions", 0.0) / self.fatigue_weeks
        return self.compliance_scale * _compliance_base(traits, count) / fatigue
