"""Figures, time and peak memory of ``socialtwin evaluate --protocol events``.

The command runs in a child process (as a user runs it), so the peak resident set size is its
own: event detection, observed effects and placebo, one factual run per region and one branch
per event, and the five folds of every method. Prints the wall time and peak RSS, the events per
indicator and direction, the placebo noise, and each method's sign agreement, Pearson,
Spearman, mean absolute error and band coverage, pooled and (for the twin) per category.

    python benchmarks/bench_events.py [--regions world] [--engine rules] [--agents 2000]
        [--scenario scenarios/covid_country_2020.yaml] [--out DIR] [--fit [--trials N]
        [--objective weeks+events|weeks] [--pooling none|regions]]

With ``--fit`` the mechanism is fitted once per fold on the other folds' regions, and the spread
of every parameter over the folds is printed.
"""

import argparse
from pathlib import Path

from child_command import run_json

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("sign_agreement", "pearson", "spearman", "mae", "coverage")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", default="world")
    parser.add_argument("--engine", default="rules")
    parser.add_argument("--agents", type=int, default=2000, help="agents per region")
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "covid_country_2020.yaml"))
    parser.add_argument("--cache", help="response cache file (language-model engines)")
    parser.add_argument("--out", help="also write the protocol's files there")
    parser.add_argument("--fit", action="store_true",
                        help="fit the mechanism per fold first (evaluate --fit)")
    parser.add_argument("--trials", type=int, help="with --fit: the fits' most iterations")
    parser.add_argument("--objective", help="with --fit: what the fits match")
    parser.add_argument("--pooling", help="with --fit: none or regions")
    args = parser.parse_args()
    command = ["evaluate", "--protocol", "events", "--engine", args.engine, "--regions",
               args.regions, "--agents", str(args.agents), "--scenario", args.scenario, "--json"]
    for flag in ("cache", "out", "trials", "objective", "pooling"):
        if getattr(args, flag):
            command += [f"--{flag}", str(getattr(args, flag))]
    if args.fit:
        command.append("--fit")
    result, wall, peak_gb = run_json(command)
    simulation = result["simulation"]
    print(f"evaluate --protocol events --engine {args.engine} --regions {args.regions} "
          f"({args.agents} agents per region): {result['regions']} regions, "
          f"{result['n_events']} events scored; wall {wall:.1f} s (simulation "
          f"{simulation['wall_s']:.1f} s, {simulation['branches']} branches, LLM calls "
          f"{simulation['llm_calls']}), peak RSS {peak_gb:.2f} GB")
    print(f"events found and set aside: {result['counts']}")
    print("events per indicator and direction: " + ", ".join(
        f"{k} {v}" for k, v in result["events_per_indicator"].items()))
    print("placebo noise (sd / signal threshold, pp): " + ", ".join(
        f"{c} {v['sd']:.2f}/{v['threshold']:.2f}" for c, v in result["placebo_noise"].items()))
    print(f"{'method':<18}" + "".join(f"{f:>16}" for f in FIGURES) + f"{'macro pearson':>16}")
    for method, figures in result["methods"].items():
        cells = "".join(f"{_cell(figures[f]):>16}" for f in FIGURES)
        print(f"{method:<18}{cells}{_cell(figures['macro']['pearson']):>16}")
    print("twin per category:")
    for category, figures in result["methods"]["twin"]["per_category"].items():
        print(f"  {category:<22}" + "".join(f"{_cell(figures[f]):>16}" for f in FIGURES))
    if result.get("parameters"):
        _fold_spread(result["parameters"])


def _fold_spread(parameters: dict) -> None:
    """Each fold's fit, and every parameter's mean and spread over the folds."""
    import numpy as np

    for fold, fitted in parameters.items():
        rmse = fitted["train_macro_rmse"]
        events = fitted.get("events_mae") or {}
        print(f"fold {fold}: fitted on {fitted['regions']} regions in {fitted['wall_s']} s, "
              f"training macro RMSE (held out by block) {rmse['prior']} -> {rmse['fitted']}; "
              f"training events MAE {events.get('prior')} -> {events.get('fitted')}")
    # the pooled values (a region's own, with partial pooling, exists in the folds that saw it)
    names = [n for n in next(iter(parameters.values()))["values"] if not n.startswith("regions.")]
    print(f"{'parameter (over the folds)':<60}{'mean':>10}{'sd':>10}{'min':>10}{'max':>10}")
    for name in names:
        values = np.array([fitted["values"][name] for fitted in parameters.values()])
        print(f"{name:<60}{values.mean():>10.3f}{values.std(ddof=1):>10.3f}"
              f"{values.min():>10.3f}{values.max():>10.3f}")


def _cell(value) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
