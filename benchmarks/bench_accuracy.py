"""Accuracy of the calibrated twin under the evaluation protocol, per engine, against baselines.

Protocol (calibration/evaluate.py): weekly; calibrate on 2020-03-01..2020-12-31, test on
2021-01-01..2021-04-28; RMSE in percentage points per Google mobility category, pooled over
regions, macro-averaged; baselines trained on the same rows. Prints one table per engine and the
improvement over gradient boosting (the published reference: a calibrated twin 20.7% better
than gradient boosting, arXiv 2601.06111).

The `rules` engine runs the full protocol (the nation and the 51 states). The `local` engine
costs a forward pass per persona, behaviour and distinct weekly situation, and situations
differ by region, so on a 2-core CPU it runs the regions given by --local-regions (default: the
nation). A litellm model is evaluated when --litellm MODEL is given (it needs the provider's key
in the environment and costs money).

    python benchmarks/bench_accuracy.py [--agents 2000] [--local-regions nation]
                                        [--litellm openai/gpt-4o-mini --litellm-regions nation]
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import pandas as pd  # noqa: E402

from calibration.evaluate import evaluate  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def report(engine: str, regions: str, agents: int, cache: str | None) -> dict:
    scenario = load_scenario(ROOT / "scenarios" / "covid_us_2020.yaml").with_engine(engine)
    started = time.perf_counter()
    evaluation = evaluate(scenario, regions=regions, agents=agents, cache_path=cache)
    elapsed = time.perf_counter() - started
    summary = evaluation.to_json()
    table = evaluation.table.copy()
    table.columns = [c.replace("_and_", "&").replace("_", " ") for c in table.columns]
    print(f"\n=== engine {engine}: {summary['regions']} region(s) ({regions}), {agents} agents "
          f"each, {elapsed:.0f} s ===")
    print("Test RMSE (percentage points), lower is better:")
    print(table.round(2).to_string())
    print(f"twin settings (blocked CV in the training window): {summary['twin']}")
    print(f"improvement of the twin over gbm: {summary['improvement_vs_gbm_pct']:+.1f}%, over "
          f"gbm_all_context: {summary['improvement_vs_gbm_all_context_pct']:+.1f}%, over "
          f"persistence: {summary['improvement_vs_persistence_pct']:+.1f}%")
    intervals = summary["intervals"]
    print(f"{intervals['nominal']:.0%} bands of the calibrated twin: half-width " + ", ".join(
        f"{m} {v:.2f}" for m, v in intervals["half_width"].items()) + "; test-week coverage "
        + ", ".join(f"{m} {v:.3f}" for m, v in intervals["coverage"].items() if v is not None))
    for note in summary["notes"]:
        print(f"note: {note}")
    winners = table.idxmin()
    print("best method per category: " + ", ".join(f"{c}: {m}" for c, m in winners.items()))
    simulation = summary["simulation"]
    print(f"simulation: {simulation['llm_calls']} LLM calls, {simulation['cache_hits']} cache "
          f"hits, {simulation['failed_answers']} failed answers, "
          f"{simulation['llm_calls_per_agent_tick']:.2e} calls per agent-tick")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--rules-regions", default="all")
    parser.add_argument("--local-regions", default="nation",
                        help="regions for the local engine ('' to skip it)")
    parser.add_argument("--litellm", help="a litellm model, e.g. openai/gpt-4o-mini")
    parser.add_argument("--litellm-regions", default="nation")
    parser.add_argument("--cache", help="response cache (default: the per-user cache)")
    parser.add_argument("--json", help="also write the summaries to this JSON file")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    results = {"rules": report("rules", args.rules_regions, args.agents, args.cache)}
    if args.local_regions:
        results["local"] = report("local", args.local_regions, args.agents, args.cache)
        if args.rules_regions != args.local_regions:
            results["rules_on_local_regions"] = report("rules", args.local_regions, args.agents,
                                                       args.cache)
    if args.litellm:
        results[args.litellm] = report(f"litellm:{args.litellm}", args.litellm_regions,
                                       args.agents, args.cache)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
