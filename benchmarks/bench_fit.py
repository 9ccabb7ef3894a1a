"""Time, memory and figures of ``socialtwin fit``, and how the fast evaluation agrees with the twin.

1. ``socialtwin fit`` runs in a child process (as a user runs it): wall time and peak RSS, the
   training error at the priors and fitted, how many parameters the data pin down.
2. The time split (train 2020, test January-April 2021) of the full simulation, at the
   protocol's 2,000 agents per region, with the priors and with the fitted parameters: the
   twin against every baseline (the fit saw only training weeks).
3. The fast evaluation's agreement: the same protocol on the mean field's aggregates, with the
   priors and fitted; the difference in the twin's calibrated error from the full simulation's.

    python benchmarks/bench_fit.py [--regions all] [--scenario scenarios/covid_us_2020.yaml]
        [--trials 60] [--objective weeks+events|weeks] [--pooling none|regions] [--out DIR]
        [--parameters FILE]

``--parameters FILE`` skips step 1: the time split of a parameter file fitted before.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from child_command import run_json

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", default="all")
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "covid_us_2020.yaml"))
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--restarts", type=int, default=0)
    parser.add_argument("--objective", default="weeks+events")
    parser.add_argument("--pooling", default="none")
    parser.add_argument("--parameters", help="a parameter file fitted before (no fit is run)")
    parser.add_argument("--out", help="folder for the parameter file and the tables")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="bench_fit_"))
    out.mkdir(parents=True, exist_ok=True)
    parameters = out / "parameters.json"
    if args.parameters:
        parameters.write_text(Path(args.parameters).read_text())
        fitted = json.loads(parameters.read_text())
    else:
        fitted = _fit(args, parameters)
    _compare(args, fitted, out)


def _fit(args, parameters: Path) -> dict:
    result, wall, peak_gb = run_json(
        ["fit", args.scenario, "--regions", args.regions, "--trials", str(args.trials),
         "--restarts", str(args.restarts), "--objective", args.objective, "--pooling",
         args.pooling, "--out", str(parameters), "--overwrite", "--json"])
    fit = result["fit"]
    pinned = sum(1 for p in result["parameters"] if p["identified"])
    print(f"fit --regions {args.regions} ({len(fit['regions'])} regions, "
          f"{fit['training_rows']} training region-weeks): wall {wall:.1f} s (build "
          f"{fit['build_s']} s), peak RSS {peak_gb:.2f} GB; {fit['optimiser']['iterations']} "
          f"iterations, {fit['optimiser']['evaluations']} evaluations, converged "
          f"{fit['optimiser']['converged']} ({fit['optimiser']['message']})")
    print(f"training macro RMSE of the fast evaluation: prior {fit['train_macro_rmse']['prior']}"
          f" -> fitted {fit['train_macro_rmse']['fitted']}; {pinned} of "
          f"{len(result['parameters'])} parameters pinned down (contraction >= "
          f"{fit['identified_from_contraction']}); objective {fit['objective']['parts']}, "
          f"pooling {fit['pooling']}")
    if fit.get("training_events"):
        events = fit["training_events"]
        print(f"training events: {events['scored']} events, {events['event_categories']} "
              f"event-categories; MAE prior {fit['events_mae']['prior']} -> fitted "
              f"{fit['events_mae']['fitted']} pp; Pearson prior {fit['events_pearson']['prior']}"
              f" -> fitted {fit['events_pearson']['fitted']}")
    return result


def _compare(args, fitted: dict, out: Path) -> None:
    from calibration.evaluate import assemble, compare, protocol_regions, simulate_regions
    from calibration.mean_field import MeanFieldTwin, Mechanism
    from calibration.mechanism_fit import FIT_AGENTS
    from calibration.protocol import AGENTS, SEED
    from calibration.regional_parameters import regional_scenario
    from simulator.fitted_parameters import FittedParameters
    from simulator.scenario import load_scenario
    from simulator.sources import load_observed

    priors = load_scenario(args.scenario).with_engine("rules")
    observed = load_observed(None, regions=args.regions)
    codes, _ = protocol_regions(observed, args.regions, priors.marginals is not None)
    parameters = FittedParameters.load(out / "parameters.json")
    twin_rows = {}
    for label, scenario in (("priors", priors), ("fitted", parameters.applied_to(priors))):
        started = time.perf_counter()
        own = parameters if label == "fitted" else None
        simulated, _ = simulate_regions(scenario, codes, AGENTS, SEED, progress=False,
                                        parameters=own)
        full_s = time.perf_counter() - started
        full = compare(*assemble(observed, simulated), "rules")
        mean_field = MeanFieldTwin.build(scenario, codes, FIT_AGENTS, SEED, progress=False)
        each = [Mechanism.of(regional_scenario(scenario, code, own)) for code in codes]
        fast = compare(*assemble(observed, mean_field.simulate(each)), "rules")
        name = full.twin.name
        twin_rows[label] = (full, fast)
        print(f"\n{label}: time split, full simulation ({AGENTS} agents per region, "
              f"{full_s:.0f} s), test RMSE pooled over regions")
        print(full.table.round(2).to_string())
        print(f"twin vs gbm {full.improvement_pct('gbm'):+.1f}%, vs gbm_regions "
              f"{full.improvement_pct('gbm_regions'):+.1f}%")
        print(f"agreement ({label}): twin macro RMSE, test / train: full "
              f"{full.table.loc[name, 'macro']:.2f} / {full.train_table.loc[name, 'macro']:.2f};"
              f" fast ({FIT_AGENTS} agents, mean field) {fast.table.loc[name, 'macro']:.2f} / "
              f"{fast.train_table.loc[name, 'macro']:.2f}; difference "
              f"{fast.table.loc[name, 'macro'] - full.table.loc[name, 'macro']:+.2f} / "
              f"{fast.train_table.loc[name, 'macro'] - full.train_table.loc[name, 'macro']:+.2f}")
        full.table.to_csv(out / f"time_split_{label}.csv")
    print("\nfitted parameters (prior -> fitted, posterior sd, contraction):")
    for p in fitted["parameters"]:
        print(f"  {p['name']:<58} {p['prior']:>8.3f} -> {p['value']:>8.3f}  sd "
              f"{p['sd']:.3f}  contraction {p['contraction']:.2f}"
              + (f"  restarts {p['restarts']}" if p["restarts"] else ""))


if __name__ == "__main__":
    main()
