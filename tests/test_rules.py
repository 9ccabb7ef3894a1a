import numpy as np
import pytest

from helpers import LOCKDOWN, MOBILITY, request, respondent
from simulator.cognition.rules import RulesEngine
from simulator.sources.indicators import OXCGRT_INDICATORS

NAMES = [b.name for b in MOBILITY]


def decide(*requests):
    return RulesEngine(OXCGRT_INDICATORS).decide(list(requests)).probabilities


def test_no_policy_no_threat_gives_the_baseline_for_a_middle_cell():
    neutral = respondent(employed=0.5, essential_worker=0.5, urban=0.5, age_65_plus=0.5)
    p = decide(request(arche=neutral, temperature_f=55.0))
    for j, behaviour in enumerate(MOBILITY):
        assert p[0, j] == pytest.approx(behaviour.rules.baseline)


def test_lockdown_moves_each_behaviour_in_its_declared_direction():
    calm, strict = decide(request(), request(LOCKDOWN))
    for j, behaviour in enumerate(MOBILITY):
        assert np.sign(strict[j] - calm[j]) == behaviour.expected_response, NAMES[j]


def test_threat_and_vaccination():
    quiet, outbreak, vaccinated = decide(
        request(new_cases_per_100k=0.0),
        request(new_cases_per_100k=60.0),
        request(new_cases_per_100k=60.0, vaccinated_pct=60.0),
    )
    retail = NAMES.index("retail_and_recreation")
    assert outbreak[retail] < vaccinated[retail] and outbreak[retail] < quiet[retail]


def test_fatigue_weakens_compliance():
    fresh, tired = decide(request(LOCKDOWN), request(LOCKDOWN, weeks_under_restrictions=52.0))
    workplaces = NAMES.index("workplaces")
    assert fresh[workplaces] < tired[workplaces]


def test_parks_follow_the_season():
    winter, summer = decide(request(temperature_f=30.0), request(temperature_f=80.0))
    assert summer[NAMES.index("parks")] > winter[NAMES.index("parks")] + 0.2


def test_trusting_cells_comply_more():
    engine = RulesEngine(OXCGRT_INDICATORS)
    low = engine.compliance({"trust_government": 0.1, "conformity": 0.2}, {})
    high = engine.compliance({"trust_government": 0.9, "conformity": 0.8}, {})
    assert high > low


def test_probabilities_and_stats():
    engine = RulesEngine(OXCGRT_INDICATORS)
    decisions = engine.decide([request(LOCKDOWN, new_cases_per_100k=30.0)] * 3)
    assert decisions.probabilities.shape == (3, 6)
    assert not decisions.failed.any()
    assert ((decisions.probabilities > 0) & (decisions.probabilities < 1)).all()
    assert engine.stats.questions == 18 and engine.stats.llm_calls == 0


def test_the_compliance_scale_multiplies_the_policy_terms_only():
    from simulator.cognition.options import RulesOptions

    def logits(scale, *requests):
        engine = RulesEngine(OXCGRT_INDICATORS, RulesOptions(compliance_scale=scale))
        p = engine.decide(list(requests)).probabilities
        return np.log(p / (1 - p))

    calm = request(new_cases_per_100k=30.0)
    strict = request(LOCKDOWN, new_cases_per_100k=30.0)
    ones, doubled = logits(1.0, calm, strict), logits(2.0, calm, strict)
    np.testing.assert_allclose(doubled[0], ones[0])  # no policy: nothing to scale
    np.testing.assert_allclose(doubled[1] - doubled[0], 2 * (ones[1] - ones[0]), rtol=1e-6)
