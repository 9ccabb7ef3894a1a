"""The ``rules`` engine: a transparent parametric behaviour model, the baseline the LLM must beat.

For cell ``a``, behaviour ``b`` and the tick's signals, the behaviour probability is

    logit p = logit(baseline_b)
              + compliance_a * sum_k policy_bk * level_k / max_level_k
              + sum_c context_bc * feature_c
              + sum_t traits_bt * (trait_at - 0.5)

with the per-behaviour weights of the scenario (``behaviours[*].rules``) and

    compliance_a = clip(1 + 0.8 (trust_government - .5) + 0.5 (conformity - .5)
                        - 0.5 (risk_tolerance - .5) - 0.3 (republican - democrat), 0.3, 1.7)
                   / (1 + weeks_under_restrictions / F)

(the partisan term follows the gap in distancing between Republican- and Democrat-leaning
counties documented by Allcott et al., J. Public Econ. 2020), where F (``fatigue_weeks``,
default 52) makes adherence wane under long restrictions. Context
features: ``threat`` = min(log1p(new cases per 100k) / log1p(50), 1.5) x (1 + 0.5 growth)
x (0.5 + perceived_vulnerability) x (1.5 - risk_tolerance) x (1 - V vaccinated share) with V
(``vaccine_protection``) = 0.6; ``temperature`` = (temperature_f - 55) / 25; ``vaccinated`` = the
vaccinated share; any other context value is used as given. Traits are the cell's means in
[0, 1] (scores or shares), centred on 0.5. The parameters are priors, not fits: fitting is the
calibration layer's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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

    def describe(self) -> dict:
        """Engine name and its global parameters."""
        return {"engine": self.name, "model": "parametric", "elicitation": None,
                "fatigue_weeks": self.fatigue_weeks,
                "vaccine_protection": self.vaccine_protection}

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
        out = np.empty((count, len(behaviours)))
        compliance = self.compliance(traits, signals.context)
        features = self.features(traits, signals.context)
        for j, behaviour in enumerate(behaviours):
            rules = behaviour.rules
            z = _logit(rules.baseline) + compliance * sum(
                weight * signals.policy.get(name, 0.0) / self.indicators[name].max_level
                for name, weight in rules.policy.items() if name in self.indicators
            )
            z = z + sum(w * features.get(name, 0.0) for name, w in rules.context.items())
            z = z + sum(w * (traits.get(name, 0.5) - 0.5) for name, w in rules.traits.items())
            out[:, j] = 1.0 / (1.0 + np.exp(-z))
        self.stats.questions += out.size
        return Decisions(out)

    def compliance(self, traits: Mapping[str, np.ndarray | float],
                   context: Mapping[str, float]) -> np.ndarray:
        """How strongly cells follow the rules this tick (1 = average, fresh)."""
        base = (1.0 + 0.8 * (traits.get("trust_government", 0.5) - 0.5)
                + 0.5 * (traits.get("conformity", 0.5) - 0.5)
                - 0.5 * (traits.get("risk_tolerance", 0.5) - 0.5)
                - 0.3 * (traits.get("republican", 0.0) - traits.get("democrat", 0.0)))
        fatigue = 1.0 + context.get("weeks_under_restrictions", 0.0) / self.fatigue_weeks
        return np.clip(base, 0.3, 1.7) / fatigue

    def features(self, traits: Mapping[str, np.ndarray | float],
                 context: Mapping[str, float]) -> dict:
        """Context features of the model for cells (see the module docstring)."""
        features = dict(context)
        vaccinated = context.get("vaccinated_pct", 0.0) / 100.0
        if "new_cases_per_100k" in context:
            cases = min(np.log1p(max(context["new_cases_per_100k"], 0.0)) / np.log1p(50.0), 1.5)
            growth = float(np.clip(context.get("case_growth", 0.0), -0.5, 0.5))
            features["threat"] = (
                cases * (1.0 + 0.5 * growth)
                * (0.5 + traits.get("perceived_vulnerability", 0.5))
                * (1.5 - traits.get("risk_tolerance", 0.5))
                * (1.0 - self.vaccine_protection * vaccinated)
            )
        if "temperature_f" in context:
            features["temperature"] = (context["temperature_f"] - 55.0) / 25.0
        features["vaccinated"] = vaccinated
        return features
