"""Benchmark of the local engine: throughput against raw llama-cpp-python, prefix reuse, LLM calls.

Prints three figures (no asserts):

1. Questions per second of the ``local`` engine on a realistic batch (one tick of the COVID
   scenario, K archetypes x 6 behaviours, cold response cache) next to raw llama-cpp-python on
   the same prompts in the same run: ``Llama.eval`` of the token ids from the longest prefix
   already evaluated, in the same order, and reading the option logits — no prompt rendering,
   tokenising, cache or engine code. The engine's overhead is the extra time in %.
2. The speed-up from prefix reuse: the same batch with ``reuse_prefix`` off.
3. LLM calls per agent-tick of ``scenarios/covid_us_2020.yaml`` run with the local engine at each
   ``--agents`` size, each with a cold cache: the calls are bounded by archetypes x behaviours x
   ticks whatever the number of agents.

How parts 1 and 2 are timed. llama.cpp's threads wait for each other by spinning, so another busy
process slows them down a lot and unevenly, and a second llama context would spin against the
first. Both contestants therefore run on the engine's own model and context, in pairs, archetype
by archetype (one request = its 6 questions), alternating which goes first; before each turn the
context is rewound to the prefix every prompt of the tick shares (preamble and situation), so
both start from the same state. The totals and the median ratio of the pairs are printed with
the load average, so that a busy machine shows.

Run: ``python benchmarks/bench_llm.py`` (on 2 idle CPU cores about 5 minutes for parts 1-2 and
20 minutes per run of part 3; ``--agents`` with no sizes skips part 3, ``--weeks`` shortens it).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import llama_cpp

from simulator import apply_overrides, load_scenario, run_scenario
from simulator.cognition import ResponseCache
from simulator.cognition.engine import DecisionRequest
from simulator.cognition.local import LocalEngine
from simulator.model import TwinModel

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "covid_us_2020.yaml"
TICK = 5
"""Tick of the batch: the week of 6 April 2020, under the first lockdowns."""

Contestant = Callable[[list[DecisionRequest]], object]


class RawLlama:
    """Plain llama-cpp-python on a loaded model: evaluate token ids, read the option logits.

    Args:
        llm: the model and context to use.
        engine: renders the prompts (ahead of any timing).
        requests: the requests whose prompts are tokenised ahead of timing.
    """

    def __init__(self, llm: llama_cpp.Llama, engine: LocalEngine,
                 requests: list[DecisionRequest]) -> None:
        self.llm = llm
        self.option_ids = [llm.tokenize(str(i).encode(), add_bos=False)[0] for i in range(1, 10)]
        self.prompts = {
            id(r): sorted(llm.tokenize(engine.question(r, b).prompt.encode(), add_bos=True)
                          for b in r.behaviours)
            for r in requests
        }
        self.scores: list[list[float]] = []
        self.evaluated = 0

    def decide(self, requests: list[DecisionRequest]) -> None:
        """Evaluate each prompt of the requests from the longest prefix already evaluated."""
        llm = self.llm
        for request in requests:
            n_options = len(request.behaviours[0].options)
            for tokens in self.prompts[id(request)]:
                shared = llama_cpp.Llama.longest_token_prefix(llm.input_ids[:llm.n_tokens],
                                                              tokens)
                llm.n_tokens = min(shared, len(tokens) - 1)
                self.evaluated += len(tokens) - llm.n_tokens
                llm.eval(tokens[llm.n_tokens:])
                logits = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
                self.scores.append([logits[t] for t in self.option_ids[:n_options]])

    def tick_prefix(self) -> int:
        """Tokens that every prepared prompt shares."""
        ordered = sorted(tokens for prompts in self.prompts.values() for tokens in prompts)
        return llama_cpp.Llama.longest_token_prefix(ordered[0], ordered[-1])


def tick_batch(archetypes: int) -> tuple[TwinModel, list[DecisionRequest], list[DecisionRequest]]:
    """The scenario's twin with ``archetypes`` archetypes, one tick's requests, and one request of
    another tick (to load a model with before timing)."""
    scenario = load_scenario(SCENARIO).with_engine("rules")
    scenario = scenario.replace(engine=dataclasses.replace(scenario.engine, archetypes=archetypes))
    model = TwinModel(scenario, agent_views=False)
    requests = model.archetypes.requests(model.timeline.at(TICK), scenario.behaviours)
    warm_up = model.archetypes.requests(model.timeline.at(TICK + 20), scenario.behaviours)[:1]
    return model, requests, warm_up


def loaded_engine(model: TwinModel, requests: list[DecisionRequest],
                  warm_up: list[DecisionRequest], cache: ResponseCache | None,
                  n_threads: int | None) -> tuple[LocalEngine, RawLlama, Callable[[], None]]:
    """A local engine with its model loaded, raw access to that model, and a function that
    rewinds the model's context to the prefix all prompts of the tick share."""
    engine = LocalEngine(model.prompts, cache=cache, n_threads=n_threads)
    engine.decide(warm_up)
    llm = engine._llm  # the benchmark shares the engine's context; see the module docstring
    raw = RawLlama(llm, engine, requests)
    raw.decide(requests[:1])
    prefix = raw.tick_prefix()
    raw.evaluated = 0

    def rewind() -> None:
        llm.n_tokens = prefix

    return engine, raw, rewind


def paired(requests: list[DecisionRequest], first: Contestant, second: Contestant,
           rewind: Callable[[], None]) -> tuple[list[float], list[float]]:
    """Time two contestants request by request, alternating which goes first.

    ``rewind`` runs (untimed) before every turn, so both contestants start from the same state.
    """
    times: dict[int, list[float]] = {0: [], 1: []}
    for k, request in enumerate(requests):
        for side in ((1, 0) if k % 2 else (0, 1)):
            rewind()
            started = time.perf_counter()
            (first, second)[side]([request])
            times[side].append(time.perf_counter() - started)
    return times[0], times[1]


def median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Median of the pairwise ratios."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def line(label: str, seconds: float, questions: int, tokens: int) -> str:
    """One contestant's figures."""
    return (f"    {label}: {seconds:7.2f} s  {questions / seconds:6.2f} questions/s  "
            f"{tokens:6d} tokens evaluated  {tokens / seconds:5.0f} tokens/s")


def throughput(model: TwinModel, requests: list[DecisionRequest],
               warm_up: list[DecisionRequest], repeats: int, folder: Path,
               n_threads: int | None) -> None:
    """Part 1: engine vs raw llama-cpp-python, paired request by request, ``repeats`` times."""
    n_questions = len(requests) * len(requests[0].behaviours)
    engine_runs, raw_runs, ratios = [], [], []
    for repeat in range(repeats):
        cache = ResponseCache(folder / f"throughput-{repeat}.sqlite")
        engine, raw, rewind = loaded_engine(model, requests, warm_up, cache, n_threads)
        before = engine.stats.tokens_in
        engine_times, raw_times = paired(requests, engine.decide, raw.decide, rewind)
        engine_runs.append((sum(engine_times), engine.stats.tokens_in - before))
        raw_runs.append((sum(raw_times), raw.evaluated))
        ratios += [e / r for e, r in zip(engine_times, raw_times, strict=True)]
        engine.close()
    (engine_s, engine_tokens), (raw_s, raw_tokens) = min(engine_runs), min(raw_runs)
    print(f"[1] one tick of {SCENARIO.name} ({requests[0].signals.date}): {len(requests)} "
          f"archetypes x {len(requests[0].behaviours)} behaviours = {n_questions} questions, "
          f"cold cache, {engine.n_threads} threads; fastest of {repeats} runs each")
    print(line("local engine ", engine_s, n_questions, engine_tokens))
    print(line("raw llama-cpp", raw_s, n_questions, raw_tokens))
    print(f"    engine overhead (target <= 15%): {100 * (engine_s / raw_s - 1):+.1f}% between the "
          f"fastest runs; {100 * (statistics.median(ratios) - 1):+.1f}% median of the "
          f"{len(ratios)} paired requests (quartiles "
          f"{', '.join(f'{100 * (q - 1):+.1f}%' for q in statistics.quantiles(ratios, n=4)[::2])})")


def prefix_reuse(model: TwinModel, requests: list[DecisionRequest],
                 warm_up: list[DecisionRequest], n_threads: int | None) -> None:
    """Part 2: the same batch with prefix reuse on and off (no cache), paired request by request."""
    engine, _, rewind = loaded_engine(model, requests, warm_up, None, n_threads)
    tokens = {True: 0, False: 0}

    def decide(reuse: bool) -> Contestant:
        def contestant(batch: list[DecisionRequest]) -> None:
            engine.reuse_prefix = reuse
            before = engine.stats.tokens_in
            engine.decide(batch)
            tokens[reuse] += engine.stats.tokens_in - before
        return contestant

    on_times, off_times = paired(requests, decide(True), decide(False), rewind)
    engine.close()
    n_questions = len(requests) * len(requests[0].behaviours)
    print("[2] the same batch, no cache")
    print(line("prefix reuse on ", sum(on_times), n_questions, tokens[True]))
    print(line("prefix reuse off", sum(off_times), n_questions, tokens[False]))
    print(f"    speed-up from prefix reuse: {sum(off_times) / sum(on_times):.2f}x in total, "
          f"{median_ratio(off_times, on_times):.2f}x median of paired requests; "
          f"{tokens[False] / tokens[True]:.2f}x fewer tokens")


def calls_per_agent_tick(sizes: list[int], weeks: int | None, folder: Path) -> None:
    """Part 3: whole runs of the COVID scenario with the local engine at each population size."""
    for agents in sizes:
        scenario = apply_overrides(load_scenario(SCENARIO), engine="local", agents=agents)
        if weeks is not None:
            scenario = scenario.replace(end=scenario.start + dt.timedelta(weeks=weeks))
        result = run_scenario(scenario, cache_path=folder / f"run-{agents}.sqlite",
                              progress=False, agent_views=False)
        m = result.manifest
        bound = m["archetypes"] * len(scenario.behaviours) * (m["ticks"] + 1)
        print(f"[3] {SCENARIO.name} ({scenario.start}..{scenario.end}), local engine, cold cache, "
              f"{agents:,} agents: {m['llm_calls']} LLM calls / {m['agent_ticks']:,} agent-ticks "
              f"= {m['llm_calls_per_agent_tick']:.2e} LLM calls per agent-tick "
              f"({m['archetypes']} archetypes; bound archetypes x behaviours x (ticks + routine) "
              f"= {bound}; {m['failed_answers']} failed; wall {m['wall_s']:.0f} s)")


def main() -> None:
    """Run the three parts and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archetypes", type=int, default=24, help="archetypes in the batch")
    parser.add_argument("--repeats", type=int, default=3, help="runs of part 1")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads")
    parser.add_argument("--agents", type=int, nargs="*", default=[10_000, 1_000_000],
                        help="population sizes of part 3 (none: skip it)")
    parser.add_argument("--weeks", type=int, default=None,
                        help="run part 3 over the first WEEKS weeks only")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # show each figure as soon as it is measured
    print(f"llama-cpp-python {llama_cpp.__version__}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model, requests, warm_up = tick_batch(args.archetypes)
        throughput(model, requests, warm_up, args.repeats, folder, args.threads)
        prefix_reuse(model, requests, warm_up, args.threads)
        print(f"    load average {os.getloadavg()[0]:.1f}")
        calls_per_agent_tick(args.agents, args.weeks, folder)


if __name__ == "__main__":
    main()
