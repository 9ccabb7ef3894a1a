"""The epidemic in the loop (``context.epidemic: simulated``): fit, sweep, decomposition, cost.

1. ``fit``: per region, the epidemic fitted on 2020 and run in the loop on the observed policy
   path (rules engine, 2,000 agents): RMSE of log(1 + weekly cases per 100k per day) on the
   training weeks and on the test window (January-April 2021), against persistence (the last
   training week's cases held); the fitted values.
2. ``sweep``: ``covid_us_2020_stay_at_home_timing.yaml`` (earlier, as observed, later, never),
   with ``simulated`` and with ``observed`` context: cases and each behaviour per variant, and the
   monotonicity checks along the timing dose.
3. ``decompose``: the spring-2020 fall (2020-03-16..2020-05-31) of each behaviour, US nation,
   split into the policy's direct part and the rest (variant: every stringency indicator at 0).
4. ``cost``: a run's time with ``simulated`` against ``observed`` context, at ``--agents``.

    python benchmarks/bench_epidemic.py [fit sweep decompose cost] [--agents 1000000]
        [--parameters FILE]
"""

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

US = ROOT / "scenarios" / "covid_us_2020_epidemic.yaml"
COUNTRY = ROOT / "scenarios" / "covid_country_2020.yaml"
REGIONS = ("USA", "US_CA", "US_NY", "US_TX", "US_FL", "US_IL", "FRA", "ESP", "SWE", "ZAF", "IND")
TRAIN_END = pd.Timestamp("2020-12-31")
SPRING = (dt.date(2020, 3, 16), dt.date(2020, 5, 31))


def scenario_for(region: str, parameters=None):
    from simulator.scenario import load_scenario

    if region == "USA" or region.startswith("US_"):
        scenario = load_scenario(US)
    else:
        base = load_scenario(COUNTRY).with_engine("rules")
        scenario = base.replace(context={**dict(base.context), "epidemic": "simulated",
                                         "epidemic_fit_until": "2020-12-31"})
    changes = {"region": region}
    if parameters:
        changes["engine"] = {**dict(scenario.engine), "parameters": parameters}
    return scenario.replace(**changes)


def bench_fit(agents: int, parameters=None) -> None:
    from simulator.run import run_scenario

    rows = []
    for region in REGIONS:
        run = run_scenario(scenario_for(region, parameters).replace(population_size=agents),
                           progress=False, agent_views=False)
        table, record = run.epidemic, run.manifest["epidemic"]
        train = (table["date"] <= TRAIN_END).to_numpy()
        observed = table["observed_cases_per_100k"].to_numpy()
        error = np.log1p(table["simulated_cases_per_100k"].to_numpy()) - np.log1p(observed)
        persistence = np.log1p(observed[train][-1]) - np.log1p(observed[~train])
        rows.append({"region": region, "train_rmse_log": _rmse(error[train]),
                     "test_rmse_log": _rmse(error[~train]),
                     "test_persistence": _rmse(persistence),
                     **{k: record[k] for k in ("reproduction_number", "reporting", "season",
                                               "elasticity", "converged")}})
    frame = pd.DataFrame(rows)
    print("epidemic fitted on 2020, run in the loop on the observed policy (RMSE of "
          "log(1 + cases per 100k per day)):")
    print(frame.round(3).to_string(index=False))
    print(f"mean: train {frame['train_rmse_log'].mean():.3f}, test "
          f"{frame['test_rmse_log'].mean():.3f}, persistence on test "
          f"{frame['test_persistence'].mean():.3f}")


def bench_sweep(agents: int) -> None:
    from simulator.run import run_scenario  # noqa: F401  (imports the engines once)
    from simulator.scenario import load_scenario
    from simulator.sweep.runner import run_sweep
    from simulator.sweep.variants_file import load_variants

    variants = load_variants(ROOT / "scenarios" / "covid_us_2020_stay_at_home_timing.yaml")
    windows = (("2020-03-01", "2020-05-31"), ("2020-06-01", "2020-09-30"),
               ("2020-10-01", "2021-04-30"))
    for context in ("simulated", "observed"):
        scenario = load_scenario(US).replace(population_size=agents)
        scenario = scenario.replace(context={**dict(scenario.context), "epidemic": context})
        started = time.perf_counter()
        result = run_sweep(scenario, variants, progress=False)
        print(f"\nstay-at-home timing, context {context}: {len(result.runs)} runs in "
              f"{time.perf_counter() - started:.0f} s")
        means = result.overall[result.overall["quantity"] == "change_pct"].pivot(
            index="variant", columns="behaviour", values="mean")
        print("period mean, % change from the routine:")
        print(means.reindex([v.name for v in result.variants]).round(2).to_string())
        if result.cases is not None:
            cases = result.cases
            for first, last in windows:
                inside = cases[(cases["date"] >= first) & (cases["date"] <= last)]
                totals = inside.groupby("variant", sort=False)["mean"].sum() * 7
                print(f"cases per 100k {first}..{last}: " + ", ".join(
                    f"{k} {v:,.0f}" for k, v in totals.items()))
        checks = result.checks[result.checks["check"] == "monotonic"]
        print("monotonic along the timing dose: " + ", ".join(
            f"{r.behaviour} {'yes' if r.passed else 'NO'} ({r.means})"
            for r in checks.itertuples() if r.quantity == "value"))


def bench_decompose(agents: int, parameters=None) -> None:
    from simulator.epidemic.decomposition import decompose
    from simulator.sweep.transforms import Scale
    from simulator.sweep.variants import Variant

    scenario = scenario_for("USA", parameters).replace(population_size=agents)
    table = decompose(scenario, Variant("no containment policy", (Scale(0.0),)), SPRING)
    print(f"\nUS nation, {SPRING[0]}..{SPRING[1]}, factual against every stringency indicator "
          f"at 0 ({'fitted parameters' if parameters else 'priors'}); % change from the "
          "routine, uncalibrated:")
    print(table.round(3).to_string(index=False))


def bench_cost(agents: int) -> None:
    from simulator.run import run_scenario
    from simulator.scenario import load_scenario

    for context in ("observed", "simulated", "observed", "simulated"):
        scenario = load_scenario(US).replace(population_size=agents)
        scenario = scenario.replace(context={**dict(scenario.context), "epidemic": context})
        started = time.perf_counter()
        run = run_scenario(scenario, progress=False, agent_views=False)
        print(f"{agents:,} agents, context {context}: {time.perf_counter() - started:.1f} s "
              f"(build {run.manifest['build_s']:.1f} s, ticks {run.manifest['steps_s']:.1f} s)")


def _rmse(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(values) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", default=["fit", "sweep", "decompose", "cost"])
    parser.add_argument("--agents", type=int, default=1_000_000, help="agents of the cost runs")
    parser.add_argument("--parameters", help="a fitted parameter file (rules) for fit and "
                        "decompose")
    args = parser.parse_args()
    if "fit" in args.parts:
        bench_fit(2_000, args.parameters)
    if "sweep" in args.parts:
        bench_sweep(10_000)
    if "decompose" in args.parts:
        bench_decompose(10_000)
        if args.parameters:
            bench_decompose(10_000, args.parameters)
    if "cost" in args.parts:
        bench_cost(args.agents)


if __name__ == "__main__":
    main()
