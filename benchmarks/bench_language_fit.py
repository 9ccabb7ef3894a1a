"""Fitting the ``local`` engine's combination: the time split with the default and the fitted one.

1. The personas asked once over the training weeks (2020) of the regions, as a run asks them:
   wall time, LLM calls and cache hits.
2. Two fits on those answers (``calibration/language_fit.py``, as ``socialtwin fit --engine
   local`` makes them): the combination and the dynamics (what the command fits), and the
   combination alone (the dynamics at the scenario's values); wall time, every fitted value
   beside its prior with its posterior sd and contraction.
3. The time split (train 2020, test January-April 2021) of the full simulation at the protocol's
   2,000 agents per region, as ``socialtwin evaluate --engine local --regions ...`` runs it,
   with the default combination and with each fit's values (the fits saw only training
   weeks): the twin against every baseline, pooled and per region.

    python benchmarks/bench_language_fit.py [--regions USA,US_CA,US_NY,US_TX,US_FL,US_IL]
        [--scenario scenarios/covid_us_2020.yaml] [--trials 60] [--out DIR]
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGIONS = "USA,US_CA,US_NY,US_TX,US_FL,US_IL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", default=REGIONS)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "covid_us_2020.yaml"))
    parser.add_argument("--engine", default="local")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--out", help="folder for the parameter file and the evaluations")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="bench_language_fit_"))
    out.mkdir(parents=True, exist_ok=True)

    from simulator.run import apply_overrides
    from simulator.scenario import load_scenario

    scenario = apply_overrides(load_scenario(args.scenario), engine=args.engine)
    fits = _fits(scenario, args, out)
    evaluations = {"default": _evaluate(scenario, args.regions, "default combination")}
    for label, fitted in fits.items():
        evaluations[label] = _evaluate(fitted.applied_to(scenario), args.regions, label)
    (out / "evaluations.json").write_text(json.dumps(evaluations, indent=1))
    _side_by_side(evaluations)
    print(f"\nwrote {out}")


def _fits(scenario, args, out: Path) -> dict:
    from calibration.evaluate import protocol_regions
    from calibration.language_fit import fit_language, gather_answers
    from calibration.mechanism_fit import FIT_AGENTS
    from calibration.protocol import SEED
    from simulator.sources import load_observed

    observed = load_observed(None, regions=args.regions)
    codes, _ = protocol_regions(observed, args.regions, scenario.marginals is not None)
    answers, asked = gather_answers(scenario, codes, FIT_AGENTS, SEED, progress=False)
    print(f"asking the personas of {len(codes)} regions over the training weeks: "
          f"{asked['wall_s']} s, {asked['persona_answers']:,} persona answers, "
          f"{asked['llm_calls']:,} LLM calls, {asked['cache_hits']:,} cache hits, "
          f"{asked['failed_answers']} failed")
    fits = {}
    for label, dynamics in (("fitted combination and dynamics", None),
                            ("fitted combination alone", ())):
        started = time.perf_counter()
        fitted = fit_language(scenario, observed, codes, iterations=args.trials,
                              answers=answers, **({} if dynamics is None else
                                                  {"dynamics": dynamics}))
        _show(label, fitted, time.perf_counter() - started)
        fitted.save(out / f"{label.replace(' ', '_')}.json")
        fits[label] = fitted
    return fits


def _show(label: str, fitted, wall: float) -> None:
    from simulator.fitted_parameters import parameters_table

    fit = fitted.fit
    optimiser = fit["optimiser"]
    print(f"\n{label}: fit on {len(fit['regions'])} regions ({fit['training_rows']} training "
          f"region-weeks), wall {wall:.1f} s after the asking; {optimiser['iterations']} "
          f"iterations, {optimiser['evaluations']} evaluations, converged "
          f"{optimiser['converged']} ({optimiser['message']})")
    print(f"training macro RMSE (held out by block, fast evaluation): prior "
          f"{fit['train_macro_rmse']['prior']} -> fitted {fit['train_macro_rmse']['fitted']}; "
          f"objective {fit['objective']['prior']} -> {fit['objective']['fitted']}; calibrator "
          f"{fit['calibrator']}")
    print("\n".join(parameters_table(fitted)))


def _evaluate(scenario, regions: str, label: str) -> dict:
    from calibration.evaluate import evaluate

    started = time.perf_counter()
    evaluation = evaluate(scenario, regions, progress=False)
    wall = time.perf_counter() - started
    figures = evaluation.to_json()
    simulation = figures["simulation"]
    print(f"\n{label}: time split, full simulation ({simulation['agents_per_region']} agents "
          f"per region, {wall:.0f} s, {simulation['llm_calls']:,} LLM calls, "
          f"{simulation['cache_hits']:,} cache hits), test RMSE pooled over the regions")
    print(evaluation.table.round(2).to_string())
    print(f"twin vs gbm {figures['improvement_vs_gbm_pct']:+.1f}%, vs persistence "
          f"{figures['improvement_vs_persistence_pct']:+.1f}%; calibrator {figures['twin']}; "
          f"train macro RMSE of the twin "
          f"{evaluation.train_table.loc[evaluation.twin.name, 'macro']:.2f}")
    return {**figures, "wall_s": round(wall, 1)}


def _side_by_side(evaluations: dict) -> None:
    labels = list(evaluations)
    default = evaluations["default"]
    twin = next(m for m in default["macro_rmse"] if m.startswith("twin"))
    print(f"\ntest macro RMSE of the twin per region: {' | '.join(labels)} (persistence, gbm)")
    for region, methods in default["per_region"].items():
        row = " | ".join(f"{evaluations[k]['per_region'][region][twin]:6.2f}" for k in labels)
        print(f"  {region:<6} {row}   ({methods['persistence']:.2f}, {methods['gbm']:.2f})")
    row = " | ".join(f"{evaluations[k]['macro_rmse'][twin]:6.2f}" for k in labels)
    print(f"  pooled {row}   ({default['macro_rmse']['persistence']:.2f}, "
          f"{default['macro_rmse']['gbm']:.2f})")


if __name__ == "__main__":
    main()
