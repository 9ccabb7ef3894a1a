"""Scale of the vectorised step: agent-ticks per second and peak memory for the rules engine.

Each population size runs in a fresh process so that its peak RSS is its own. Prints, per size:
model construction time (population, network, archetypes, Mesa agent views), step throughput
over the whole covid_us_2020 period (60 weekly ticks) and the peak resident set size.
Targets on a 2-core machine: >= 1M agent-ticks/s at 1M agents, peak RSS < 4 GB, construction
< 30 s.

    python benchmarks/bench_scale.py [--sizes 10000,100000,1000000] [--ticks 60]
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
        "agent_ticks_per_s": size * steps / (finished - built),
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "archetypes": len(model.archetypes),
        "mean_degree": float(model.network.degree.mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--ticks", type=int, default=60)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.ticks)))
        return
    print(f"{'agents':>10} {'ticks':>6} {'build s':>8} {'steps s':>8} "
          f"{'agent-ticks/s':>14} {'peak RSS GB':>12} {'archetypes':>10} {'degree':>7}")
    for size in (int(s) for s in args.sizes.split(",")):
        done = subprocess.run([sys.executable, __file__, "--one", str(size), "--ticks",
                               str(args.ticks)], capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{r['agents']:>10,} {r['ticks']:>6} {r['build_s']:>8.1f} {r['steps_s']:>8.1f} "
              f"{r['agent_ticks_per_s']:>14,.0f} {r['peak_rss_gb']:>12.2f} "
              f"{r['archetypes']:>10} {r['mean_degree']:>7.1f}")


if __name__ == "__main__":
    main()
