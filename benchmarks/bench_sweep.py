"""Sweep throughput on each executor with 1 and 2 workers, and the identical-results check.

A fixed rules-engine sweep (the COVID-19 scenario, 10,000 agents, 60 weekly ticks, stringency
scaled by 0, 0.5, 1 and 1.5, four seeds: 16 runs) runs twice on every executor: the first pass
is cold (workers start, import socialtwin, build their engine), the second warm (the figures
that matter for long sweeps). Calibration is left out: it runs once in the driver, not on the
executor. ``overlap`` is the summed wall time of the runs over the sweep's: how many runs were
in progress at once on average (above 1 only when workers get CPUs of their own). Every pass
must give results identical to the in-process reference.

    .venv/bin/python benchmarks/bench_sweep.py [--agents N] [--seeds N]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import pandas as pd  # noqa: E402

from simulator.scenario import load_scenario  # noqa: E402
from simulator.sweep.executors import make_executor  # noqa: E402
from simulator.sweep.runner import run_sweep  # noqa: E402
from simulator.sweep.variants_file import load_variants  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    scenario = load_scenario(ROOT / "scenarios" / "covid_us_2020.yaml").with_engine(
        "rules").replace(population_size=args.agents)
    variants = load_variants(ROOT / "scenarios" / "covid_us_2020_variants.yaml")
    runs = len(variants) * args.seeds
    print(f"sweep: {len(variants)} variants x {args.seeds} seeds = {runs} runs of "
          f"{args.agents:,} agents, rules engine; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} before the start")
    reference = None
    rows = []
    for name in ("local", "dask", "ray"):
        for workers in (1, 2):
            started = time.perf_counter()
            with make_executor(name, workers) as executor:
                start_s = time.perf_counter() - started
                passes = []
                for label in ("cold", "warm"):
                    began = time.perf_counter()
                    result = run_sweep(scenario, variants, seeds=args.seeds, executor=executor,
                                       progress=False)
                    passes.append((label, time.perf_counter() - began, result))
            for label, wall, result in passes:
                if reference is None:
                    reference = result.results
                identical = result.results.equals(reference)
                agent_ticks = result.manifest["agent_ticks"]
                rows.append({"executor": name, "workers": workers, "pass": label,
                             "start_s": round(start_s, 1), "sweep_s": round(wall, 2),
                             "runs_per_s": round(runs / wall, 2),
                             "agent_ticks_per_s": round(agent_ticks / wall),
                             "overlap": round(result.manifest["run_s_total"] / wall, 2),
                             "identical": identical})
            print(f"{name} x {workers}: done", flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print("all results identical to the in-process reference:", bool(table["identical"].all()))


if __name__ == "__main__":
    main()
