import pandas as pd
import pytest

from simulator.behaviours import Behaviour
from simulator.sweep.checks import (
    MIN_TOLERANCE,
    bounded,
    calibrated_range,
    check_sweep,
    dose_series,
)
from simulator.sweep.transforms import Scale, Shift
from simulator.sweep.variants import Variant, VariantSet

FALLS = Behaviour(name="outings", question="Do you go out?", expected_response=-1)
RISES = Behaviour(name="home", question="Do you stay home?", expected_response=1)
NEUTRAL = Behaviour(name="reading", question="Do you read?", expected_response=0)


def doses(*values):
    variants = [Variant(f"d{v:g}", (Scale(v),), dose=v) for v in values]
    return VariantSet.of(variants, baseline="d1")


def means(curves, seeds=(1, 2, 3), noise=0.0):
    """Period means: curves maps behaviour -> {variant: mean}; seeds add +-noise."""
    rows = []
    for behaviour, curve in curves.items():
        for variant, mean in curve.items():
            for k, seed in enumerate(seeds):
                rows.append({"variant": variant, "seed": seed, "behaviour": behaviour,
                             "quantity": "value", "mean": mean + noise * (k - 1)})
    return pd.DataFrame(rows)


def results(values):
    return pd.DataFrame({"behaviour": ["outings"] * len(values) + ["home"] * len(values),
                         "value": list(values) * 2})


def test_monotonic_responses_pass_and_wrong_direction_fails():
    variants = doses(0, 0.5, 1, 1.5)
    curves = {"outings": {"d0": 0.6, "d0.5": 0.5, "d1": 0.4, "d1.5": 0.38},
              "home": {"d0": 0.3, "d0.5": 0.35, "d1": 0.33, "d1.5": 0.5}}
    table = check_sweep(means(curves), results([0.2, 0.8]), None, variants,
                        [FALLS, RISES, NEUTRAL])
    monotonic = table[table["check"] == "monotonic"].set_index("behaviour")
    assert set(monotonic.index) == {"outings", "home"}, "no check without an expected response"
    assert monotonic.loc["outings", "passed"]
    assert monotonic.loc["outings", "spearman"] == pytest.approx(-1.0)
    assert monotonic.loc["outings", "doses"] == "0, 0.5, 1, 1.5"
    home = monotonic.loc["home"]
    assert not home["passed"] and home["worst_step"] == pytest.approx(0.02)
    assert home["detail"] == "falls by 0.02 from dose 0.5 to 1"


def test_steps_within_seed_noise_or_the_floor_pass():
    variants = doses(0, 1, 2)
    flat = {"outings": {"d0": 0.5, "d1": 0.5 + MIN_TOLERANCE["value"] / 2, "d2": 0.4}}
    table = check_sweep(means(flat), results([0.5]), None, variants, [FALLS])
    assert table.loc[table["check"] == "monotonic", "passed"].all()
    rows = []
    for seed, step in ((1, 0.05), (2, -0.03), (3, 0.01)):
        rows += [{"variant": "d0", "seed": seed, "behaviour": "outings", "quantity": "value",
                  "mean": 0.5}, {"variant": "d1", "seed": seed, "behaviour": "outings",
                                 "quantity": "value", "mean": 0.5 + step},
                 {"variant": "d2", "seed": seed, "behaviour": "outings", "quantity": "value",
                  "mean": 0.3}]
    noisy = check_sweep(pd.DataFrame(rows), results([0.5]), None, variants, [FALLS])
    row = noisy[noisy["check"] == "monotonic"].iloc[0]
    assert row["passed"] and row["tolerance"] > 0.01, "a rise inside the seed noise passes"


def test_grid_series_split_by_the_other_axes_and_doseless_variants_are_left_out():
    grid = [Variant(f"t={t:g},s={s:g}", (Shift(t), Scale(s)), dose=s, axes={"t": t, "s": s})
            for t in (0, 2) for s in (0.5, 1.0)]
    variants = VariantSet.of([*grid, Variant("other", (Scale(0.1),))], baseline="t=0,s=1",
                             axes=("t", "s"), dose_axis="s")
    series = dose_series(variants)
    assert series == {"t=0": {"t=0,s=0.5": 0.5, "t=0,s=1": 1.0},
                      "t=2": {"t=2,s=0.5": 0.5, "t=2,s=1": 1.0}}


def test_bounds_of_values_and_calibrated_metrics():
    rows = bounded(results([0.0, 1.0, 1.2]), None, [FALLS])
    assert [r["passed"] for r in rows] == [False]
    assert rows[0]["detail"] == "[0, 1]; observed 0 to 1.2"
    low, high = calibrated_range("parks")
    assert low == -100 and high == pytest.approx(1.5 * 476.0)
    assert calibrated_range("residential") == (-100, 100)
    calibrated = pd.DataFrame({"metric": ["workplaces", "workplaces", "parks"],
                               "calibrated": [-20.0, -101.0, 300.0]})
    rows = bounded(results([0.5]), calibrated, [FALLS])
    assert {r["behaviour"]: r["passed"] for r in rows if r["quantity"] == "calibrated"} == \
        {"workplaces": False, "parks": True}
