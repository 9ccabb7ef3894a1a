"""Scale of the twin: agent-ticks per second, build time and peak memory for the rules engine.

Each population size runs in a fresh process, so that its peak RSS and its build time are its
own (population, network, cells, the reference population, and the compiled kernels loaded
from numba's cache, which a small warm-up run fills first). Per size: model construction time,
step throughput over the whole covid_us_2020 period (60 weekly ticks, the data collector
included), the whole run's time and the peak resident set size; then a comparison with the
stored figures of the previous release (``benchmarks/performance_baseline.json``).

Goals on a 2-core machine: at 1M agents at least 5M agent-ticks/s, peak RSS at most 1.5 GB and a
build of at most 8 s; at 10M agents the 60 ticks, build included, in at most 4 minutes and 14 GB.

    python benchmarks/bench_scale.py [--sizes 100000,1000000] [--ten-million] [--ticks 60] [--json]
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = Path(__file__).resolve().parent / "performance_baseline.json"
RATIOS = (("agent_ticks_per_s", "agent-ticks/s"), ("build_s", "build"),
          ("peak_rss_gb", "peak RSS"))


def measure(size: int, ticks: int) -> dict:
    from simulator.model import TwinModel
    from simulator.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "covid_us_2020.yaml")
    scenario = scenario.with_engine("rules").replace(population_size=size)
    started = time.perf_counter()
    model = TwinModel(scenario)
    built = time.perf_counter()
    steps = min(ticks, len(model.timeline))
    for _ in range(steps):
        model.step()
    finished = time.perf_counter()
    return {
        "agents": size,
        "ticks": steps,
        "build_s": built - started,
        "steps_s": finished - built,
        "run_s": finished - started,
        "agent_ticks_per_s": size * steps / (finished - built),
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "cells": len(model.cells),
        "mean_degree": float(model.network.degree.mean()),
    }


def compare(result: dict, baseline: dict) -> dict:
    """Ratios of this run's figures to the baseline's for the same size (empty if none).

    ``baseline_ticks`` says over how many ticks the baseline's throughput was measured.
    """
    stored = next((b for b in baseline["sizes"] if b["agents"] == result["agents"]), None)
    if stored is None:
        return {}
    return {**{key: result[key] / stored[key] for key, _ in RATIOS},
            "baseline_ticks": stored["ticks"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--ten-million", action="store_true", help="also run 10M agents")
    parser.add_argument("--ticks", type=int, default=60)
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per size (with the ratios to the baseline)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.ticks)))
        return
    sizes = [int(s) for s in args.sizes.split(",")] + ([10_000_000] if args.ten_million else [])
    baseline = json.loads(BASELINE.read_text())
    # numba compiles the kernels once per install into its cache; do it before timing a size.
    subprocess.run([sys.executable, __file__, "--one", "1000", "--ticks", "1"],
                   capture_output=True, check=True)
    if not args.json:
        print(f"{'agents':>10} {'ticks':>6} {'build s':>8} {'steps s':>8} {'run s':>7} "
              f"{'agent-ticks/s':>14} {'peak RSS GB':>12} {'cells':>10} {'degree':>7}")
    for size in sizes:
        done = subprocess.run([sys.executable, __file__, "--one", str(size), "--ticks",
                               str(args.ticks)], capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        ratios = compare(r, baseline)
        if args.json:
            print(json.dumps({**r, "vs_baseline": ratios}))
            continue
        print(f"{r['agents']:>10,} {r['ticks']:>6} {r['build_s']:>8.1f} {r['steps_s']:>8.1f} "
              f"{r['run_s']:>7.1f} {r['agent_ticks_per_s']:>14,.0f} {r['peak_rss_gb']:>12.2f} "
              f"{r['cells']:>10} {r['mean_degree']:>7.1f}")
        if ratios:
            print(f"{'':>10} vs {baseline['release']} ({ratios['baseline_ticks']} ticks): "
                  + ", ".join(f"{label} x{ratios[key]:.2f}" for key, label in RATIOS))
        else:
            print(f"{'':>10} vs {baseline['release']}: no figures for this size")


if __name__ == "__main__":
    main()
