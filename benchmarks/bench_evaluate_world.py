"""Time and peak memory of ``socialtwin evaluate --engine rules --regions world``.

The command runs in a child process (as a user runs it), so the peak resident set size measured
is its own: loading the shipped tables, synthesising one population per country, the rules
twin over 60 weekly ticks per country, cross-validation of the calibrator and every baseline.
Prints the wall time, the peak RSS, the number of countries and the pooled macro RMSE of each
method, with the twin's improvement over gradient boosting and persistence.

    python benchmarks/bench_evaluate_world.py [--agents 2000] [--data-dir DIR]
"""

import argparse

from child_command import run_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000, help="agents per country")
    parser.add_argument("--data-dir", help="raw upstream files instead of the shipped tables")
    args = parser.parse_args()
    command = ["evaluate", "--engine", "rules", "--regions", "world", "--agents",
               str(args.agents), "--json"]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    result, wall, peak_gb = run_json(command)
    print(f"evaluate --engine rules --regions world ({args.agents} agents per country): "
          f"{result['regions']} countries, wall {wall:.1f} s, peak RSS {peak_gb:.2f} GB")
    print(f"left out: {result['excluded']}")
    for method, macro in result["macro_rmse"].items():
        print(f"  {method:<18} pooled test macro RMSE {macro:6.2f}")
    print(f"twin vs gbm: {result['improvement_vs_gbm_pct']:+.1f}%; vs persistence: "
          f"{result['improvement_vs_persistence_pct']:+.1f}%")
    intervals = result["intervals"]
    print(f"{intervals['nominal']:.0%} bands of the calibrated twin, test-week coverage: "
          + ", ".join(f"{m} {v:.3f}" for m, v in intervals["coverage"].items()
                      if v is not None))
    for note in result["notes"]:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
