"""Benchmark of the local engine: throughput against raw llama-cpp-python, prefix reuse, LLM calls.

Prints three figures (no asserts):

1. Questions per second of the ``local`` engine on a realistic batch (one tick of the COVID
   scenario: the design's personas x 6 behaviours x the items of the default elicitation, cold
   response cache) next to raw llama-cpp-python on the same prompts in the same run:
   ``Llama.eval`` of the token ids from the longest prefix already evaluated, in the same order,
   and reading the option logits — no prompt rendering, tokenising, cache, combination or engine
   code. The engine's overhead is the extra time in %.
2. The speed-up from prefix reuse: the same batch with ``reuse_prefix`` off.
3. LLM calls per agent-tick of ``scenarios/covid_us_2020.yaml`` run with the local engine at each
   ``--agents`` size, each with a cold cache: the calls are bounded by personas x questions x
   distinct situations, whatever the number of agents.

How parts 1 and 2 are timed. llama.cpp's threads wait for each other by spinning, so another busy
process slows them down a lot and unevenly, and a second llama context would spin against the
first. Both contestants therefore run on one loaded model and context, in pairs, persona by
persona (one request = its questions), alternating which goes first; before each turn the
context is rewound to the prefix every prompt of the tick shares (preamble and situation), so
both start from the same state. The totals and the median ratio of the pairs are printed with
the load average, so that a busy machine shows.

Run: ``python benchmarks/bench_llm.py`` (``--agents`` with no sizes skips part 3, ``--weeks``
shortens it).
"""

from __future__ import annotations

import argparse
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
from simulator.cognition import make_engine
from simulator.cognition.engine import DecisionRequest
from simulator.cognition.language_model import Question
from simulator.model import TwinModel

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "covid_us_2020.yaml"
TICK = 5
"""Tick of the batch: the week of 6 April 2020, under the first lockdowns."""

Contestant = Callable[[list[Question]], None]


class RawLlama:
    """Plain llama-cpp-python on a loaded model: evaluate token ids, read the option logits."""

    def __init__(self, llm: llama_cpp.Llama, digits: list[int]) -> None:
        self.llm = llm
        self.digits = digits  # the option numbers' token ids, as the local engine found them
        self.evaluated = 0

    def tokens(self, question: Question) -> tuple[list[int], list[int]]:
        """Prompt token ids and the first token of each option (untimed preparation)."""
        prompt = self.llm.tokenize(question.prompt.encode(), add_bos=True)
        if question.method == "option_tokens":  # the options' numbers, read after "Answer: "
            options = self.digits[:len(question.options)]
        else:  # cloze: the first token of each option's text
            options = [self.llm.tokenize((question.prompt + o).encode(), add_bos=True)[len(prompt)]
                       for o in question.options]
        return prompt, options

    def answer(self, prepared: list[tuple[list[int], list[int]]]) -> None:
        """Evaluate each prompt from the longest prefix already evaluated; read its options."""
        llm = self.llm
        for tokens, options in sorted(prepared):
            shared = llama_cpp.Llama.longest_token_prefix(llm.input_ids[:llm.n_tokens], tokens)
            llm.n_tokens = min(shared, len(tokens) - 1)
            self.evaluated += len(tokens) - llm.n_tokens
            llm.eval(tokens[llm.n_tokens:])
            logits = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
            [logits[t] for t in options]


def tick_questions(engine) -> tuple[list[list[Question]], list[Question]]:
    """One tick's questions grouped by persona, and one question of another tick (warm-up)."""
    scenario = load_scenario(SCENARIO).with_engine("rules")
    model = TwinModel(scenario, agent_views=False)

    def rendered(tick: int) -> list[list[Question]]:
        signals = model.timeline.at(tick)
        return [[q for b in scenario.behaviours
                 for q in engine._plan(DecisionRequest(p, signals, scenario.behaviours,
                                                       model.prompts), b)[0]]
                for p in model.cells.personas]

    return rendered(TICK), rendered(TICK + 20)[0][:1]


def paired(groups: list[list[Question]], first: Contestant, second: Contestant,
           rewind: Callable[[], None]) -> tuple[list[float], list[float]]:
    """Time two contestants group by group, alternating which goes first."""
    times: dict[int, list[float]] = {0: [], 1: []}
    for k, group in enumerate(groups):
        for side in ((1, 0) if k % 2 else (0, 1)):
            rewind()
            started = time.perf_counter()
            (first, second)[side](group)
            times[side].append(time.perf_counter() - started)
    return times[0], times[1]


def line(label: str, seconds: float, questions: int, tokens: int) -> str:
    """One contestant's figures."""
    return (f"    {label}: {seconds:7.2f} s  {questions / seconds:6.2f} questions/s  "
            f"{tokens:6d} tokens evaluated  {tokens / seconds:5.0f} tokens/s")


def setup(folder: Path, threads: int | None):
    """A loaded local engine (no cache), the tick's questions, raw access and a rewind."""
    options = {"n_threads": threads} if threads else {}
    engine = make_engine("local", options, load_scenario(SCENARIO).policy.indicators,
                         folder / "unused.sqlite")
    engine.model.cache = None
    groups, warm_up = tick_questions(engine)
    model = engine.language_model
    list(model.answer(warm_up))
    raw = RawLlama(model._load(), model._digits)
    prepared = {id(q): raw.tokens(q) for g in groups for q in g}
    everything = sorted(t for t, _ in prepared.values())
    prefix = llama_cpp.Llama.longest_token_prefix(everything[0], everything[-1])
    raw.answer([prepared[id(groups[0][0])]])
    raw.evaluated = 0

    def rewind() -> None:
        model._llm.n_tokens = prefix

    return engine, groups, raw, prepared, rewind


def throughput(folder: Path, threads: int | None) -> None:
    """Parts 1 and 2: engine vs raw llama-cpp-python; prefix reuse on vs off."""
    engine, groups, raw, prepared, rewind = setup(folder, threads)
    model = engine.language_model
    n_questions = sum(len(g) for g in groups)
    tokens = {"engine": 0, "off": 0}

    def local(group: list[Question]) -> None:
        tokens["engine"] += sum(a.tokens_in for _, a in model.answer(group))

    def raw_answer(group: list[Question]) -> None:
        raw.answer([prepared[id(q)] for q in group])

    engine_times, raw_times = paired(groups, local, raw_answer, rewind)
    ratios = [e / r for e, r in zip(engine_times, raw_times, strict=True)]
    print(f"[1] one tick of {SCENARIO.name} (week {TICK}): {len(groups)} personas, "
          f"{n_questions} questions ({engine.elicitation.label}), no cache, "
          f"{model.n_threads} threads")
    print(line("local engine ", sum(engine_times), n_questions, tokens["engine"]))
    print(line("raw llama-cpp", sum(raw_times), n_questions, raw.evaluated))
    overhead = 100 * (sum(engine_times) / sum(raw_times) - 1)
    print(f"    engine overhead (target <= 15%): {overhead:+.1f}% in total; "
          f"{100 * (statistics.median(ratios) - 1):+.1f}% median of the "
          f"{len(ratios)} paired personas")

    def without_reuse(group: list[Question]) -> None:
        model.reuse_prefix = False
        tokens["off"] += sum(a.tokens_in for _, a in model.answer(group))
        model.reuse_prefix = True

    on_times, off_times = paired(groups, local, without_reuse, rewind)
    print("[2] the same batch")
    print(line("prefix reuse on ", sum(on_times), n_questions, tokens["engine"] // 2))
    print(line("prefix reuse off", sum(off_times), n_questions, tokens["off"]))
    print(f"    speed-up from prefix reuse: {sum(off_times) / sum(on_times):.2f}x; "
          f"{2 * tokens['off'] / tokens['engine']:.2f}x fewer tokens evaluated")
    engine.close()


def calls_per_agent_tick(sizes: list[int], weeks: int | None, folder: Path) -> None:
    """Part 3: whole runs of the COVID scenario with the local engine at each population size."""
    for agents in sizes:
        scenario = apply_overrides(load_scenario(SCENARIO), engine="local", agents=agents)
        if weeks is not None:
            scenario = scenario.replace(end=scenario.start + dt.timedelta(weeks=weeks))
        result = run_scenario(scenario, cache_path=folder / f"run-{agents}.sqlite",
                              progress=False, agent_views=False)
        m = result.manifest
        per_tick = m["questions"] // (m["ticks"] + 1)
        print(f"[3] {SCENARIO.name} ({scenario.start}..{scenario.end}), local engine, cold "
              f"cache, {agents:,} agents: {m['llm_calls']} LLM calls / {m['agent_ticks']:,} "
              f"agent-ticks = {m['llm_calls_per_agent_tick']:.2e} per agent-tick; "
              f"{per_tick} questions a tick ({m['personas_asked']} personas), "
              f"{m['cache_hits']} served by the cache; {m['failed_answers']} failed; "
              f"wall {m['wall_s']:.0f} s")


def main() -> None:
    """Run the three parts and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
        throughput(folder, args.threads)
        print(f"    load average {os.getloadavg()[0]:.1f}")
        calls_per_agent_tick(args.agents, args.weeks, folder)


if __name__ == "__main__":
    main()
