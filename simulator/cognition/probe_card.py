"""The engine report card: a probe battery put to an engine, against no-information baselines.

Every probe arm is asked through each panel persona, with the same prompts, elicitation and
cache a run uses. A probe's *effect* is the panel mean of ``answer(a) - answer(b)`` for its
behaviour; it is *correct* when its sign is the expected one (an effect of exactly 0 is not).
A probe whose answers failed (the engine counts them) has no effect (``None``, ``answered``
false) and is not correct: it is named in ``unanswered``, never read as an effect of 0; a
shuffled arm that draws a failed answer is not correct either.
The card reports the share correct of the policy and context probes and of the persona probes,
and the same shares for three baselines that carry no information about the contrasts:

- ``uniform``: every answer is the uniform distribution, so every effect is 0 (both shares 0);
- ``shuffled_situations`` (policy and context probes): the situations of all their arms are
  randomly permuted, and each arm reads the engine's real answers for the situation it drew;
- ``shuffled_personas`` (persona probes): the persona changes of all their arms are randomly
  permuted the same way.

Shuffling personas leaves a situation contrast intact, and shuffling situations leaves a persona
contrast intact, so those two cells are not baselines and are reported as ``None``. Shuffled
baselines are means over :data:`PERMUTATIONS` draws of a seeded generator: an engine beats them
only if its answers follow the arms' content, not merely its answer levels.

With ``keying`` (``socialtwin probe`` and a run's card ask for it), the policy and context
probes are also asked through each behaviour's reverse-keyed question ("Will you stay away from
...?", its answers on the same probability scale:
:meth:`~simulator.behaviours.Behaviour.reverse_keyed`). An engine that answers the behaviour
moves both keyings the same way; one that only says "no" more often when the situation sounds
alarming (acquiescence moving with the situation, not the behaviour) moves them in opposite
directions, and can still get most forward probes right, since most of them expect less going
out. The card reports the share of probes whose reverse-keyed effect has the
expected sign and the share whose two keyings agree in sign (``keying_agreement``). Engines
whose answers cannot depend on the keying (``rules``, balanced elicitation) are not asked: the
figures would agree by construction and say nothing. Both figures are taken over the probes
answered both ways; a probe whose reverse-keyed answers failed is named in
``reverse_unanswered``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from simulator.behaviours import Behaviour
from simulator.cognition.cells import cell_traits
from simulator.cognition.engine import DecisionRequest, Engine, Respondent
from simulator.cognition.personas import persona_bins
from simulator.cognition.probe_battery import Probe, ProbeBattery
from simulator.cognition.prompts import PromptBuilder
from simulator.population import Population

PERMUTATIONS = 2000
BASELINES = ("uniform", "shuffled_situations", "shuffled_personas")


@dataclass(frozen=True)
class ProbeResult:
    """One probe's outcome (see the module docstring)."""

    name: str
    kind: str
    behaviour: str
    a: str
    b: str
    situation: str | None
    expected_sign: int
    effect: float | None
    correct: bool
    source: str
    effect_reverse_keyed: float | None = None
    keyings_agree: bool | None = None
    answered: bool = True
    reverse_keyed_answered: bool | None = None


@dataclass
class ProbeCard:
    """An engine's report card.

    Attributes:
        engine: what the engine says of itself (name, model, elicitation).
        probes: the probes asked.
        skipped: probes not asked, with why (an attribute the region does not record).
        share_correct: share of policy and context probes with the expected sign.
        persona_share_correct: the same for persona probes (``None`` if none was asked).
        baselines: baseline -> ``{share_correct, persona_share_correct}``.
        llm_calls, cache_hits: what putting the card cost.
        reverse_keyed_share_correct: share of the policy and context probes answered both ways
            whose reverse-keyed effect has the expected sign (``None``: not asked, the engine's
            answers cannot depend on the keying, or no probe was answered both ways).
        keying_agreement: share of them whose two keyings' effects agree in sign.
        unanswered: probes with a failed answer (no effect; counted as not correct).
        reverse_unanswered: probes with a failed reverse-keyed answer (left out of the two
            keying figures).
        last_error: why the latest failed answer failed (``None`` when none failed).
    """

    engine: dict
    probes: list[ProbeResult]
    skipped: list[str]
    share_correct: float
    persona_share_correct: float | None
    baselines: dict[str, dict[str, float | None]]
    llm_calls: int = 0
    cache_hits: int = 0
    reverse_keyed_share_correct: float | None = None
    keying_agreement: float | None = None
    unanswered: list[str] = field(default_factory=list)
    reverse_unanswered: list[str] = field(default_factory=list)
    last_error: str | None = None

    def to_json(self) -> dict:
        """The card as one JSON-ready object (a share that is not a number is ``None``)."""
        return _json_ready(asdict(self))

    def table(self) -> pd.DataFrame:
        """Shares correct of the engine and its baselines, one row per probe kind."""
        rows = [{"probes": "policy and context", "engine": self.share_correct},
                {"probes": "persona", "engine": self.persona_share_correct}]
        for row, key in zip(rows, ("share_correct", "persona_share_correct"), strict=True):
            for name in BASELINES:
                row[name] = self.baselines[name][key]
        return pd.DataFrame(rows)


def card_summary(card: ProbeCard) -> dict:
    """The short form of a card (a run's manifest): shares, baselines and the wrong signs."""
    return {"share_correct": card.share_correct,
            "persona_share_correct": card.persona_share_correct,
            "baselines": card.baselines,
            "wrong_sign": [p.name for p in card.probes if not p.correct],
            "reverse_keyed_share_correct": card.reverse_keyed_share_correct,
            "keying_agreement": card.keying_agreement,
            "unanswered": card.unanswered,
            "reverse_unanswered": card.reverse_unanswered,
            "last_error": card.last_error,
            "skipped": card.skipped, "llm_calls": card.llm_calls,
            "cache_hits": card.cache_hits}


def run_probe_card(engine: Engine, battery: ProbeBattery, behaviours: Sequence[Behaviour],
                   prompts: PromptBuilder, population: Population,
                   permutations: int = PERMUTATIONS, seed: int = 0,
                   keying: bool = False) -> ProbeCard:
    """Put a battery to an engine and grade it.

    Args:
        engine: any engine.
        battery: the probes (checked against ``behaviours`` by the caller).
        behaviours: the scenario's behaviours (every request asks all of them).
        prompts: the scenario's prompt builder; its ``reference`` should be the battery's routine.
        population: the region's reference population: which persona attributes it records, and
            the traits of each persona (the mean over its matching agents, for ``rules``).
        permutations: draws of each shuffled baseline.
        seed: seed of the draws.
        keying: also ask the policy and context probes through the reverse-keyed questions
            (of the behaviours that declare one), where the engine's answers can depend on the
            keying (:attr:`Engine.keying_matters`; otherwise the keying figures are ``None``).
    """
    bins = persona_bins(population)
    panel = _Panel(engine, battery, prompts, population, bins,
                   [{k: v for k, v in p.items() if k in bins} for p in battery.panel])
    asked, skipped = _askable(battery, bins)
    column = {b.name: j for j, b in enumerate(behaviours)}
    plain = [p for p in asked if p.kind != "persona"]
    persona = [p for p in asked if p.kind == "persona"]
    before = engine.stats.llm_calls, engine.stats.cache_hits
    pool = panel.answers(behaviours, _answer_keys(plain, persona, len(panel.personas)))

    rng = np.random.default_rng(seed)
    real = _effects(plain, persona, pool, column, len(panel.personas))
    results = [ProbeResult(p.name, p.kind, p.behaviour, p.a, p.b, p.situation, p.expected_sign,
                           _number(e), bool(np.sign(e) == p.expected_sign), p.source,
                           answered=bool(np.isfinite(e)))
               for p, e in zip(plain + persona, real, strict=True)]
    baselines = _baselines(plain, persona, pool, column, len(panel.personas), rng, permutations)
    share, persona_share = _shares(real, plain, persona)
    reverse_share = agreement = None
    if keying:
        results, reverse_share, agreement = _reverse_keyed_check(panel, behaviours, column,
                                                                 plain, results)
    unanswered = [r.name for r in results if not r.answered]
    reverse_unanswered = [r.name for r in results if r.reverse_keyed_answered is False]
    failed = bool(unanswered or reverse_unanswered)
    return ProbeCard(engine.describe(), results, skipped, share, persona_share, baselines,
                     engine.stats.llm_calls - before[0], engine.stats.cache_hits - before[1],
                     reverse_share, agreement, unanswered, reverse_unanswered,
                     engine.stats.last_error if failed else None)


@dataclass(frozen=True)
class _Panel:
    """The battery's panel personas, with the attributes the region records, put to an engine."""

    engine: Engine
    battery: ProbeBattery
    prompts: PromptBuilder
    population: Population
    bins: Mapping
    personas: list[dict[str, str]]

    def answers(self, behaviours: Sequence[Behaviour], keys: Sequence[tuple]) -> dict:
        """The engine's answers, (n_b,) each, keyed by (situation, panel index, persona change)."""
        traits = cell_traits(self.population)
        requests = []
        for index, (situation, k, change) in enumerate(keys):
            attributes = {**self.personas[k], **(self.battery.personas[change] if change else {})}
            requests.append(DecisionRequest(
                Respondent(index, attributes, persona_traits(attributes, self.bins, traits), 1),
                self.battery.signals(situation), tuple(behaviours), self.prompts))
        return dict(zip(keys, self.engine.decide(requests).probabilities, strict=True))


def _askable(battery: ProbeBattery, bins: Mapping) -> tuple[list[Probe], list[str]]:
    """The probes the region can ask, and why the others are skipped (attributes it lacks)."""
    asked, skipped = [], []
    for probe in battery.probes:
        changed = set(battery.personas[probe.a]) | set(battery.personas[probe.b]) \
            if probe.kind == "persona" else set()
        missing = sorted(changed - set(bins))
        if missing:
            skipped.append(f"{probe.name}: {', '.join(missing)} not recorded for the region")
        else:
            asked.append(probe)
    return asked, skipped


def _answer_keys(plain: Sequence[Probe], persona: Sequence[Probe], panel: int) -> list[tuple]:
    """The (situation, panel index, persona change) keys whose answers the probes read."""
    situations = sorted({s for p in plain for s in (p.a, p.b)})
    persona_situations = sorted({p.situation for p in persona})
    changes = sorted({c for p in persona for c in (p.a, p.b)})
    keys = [(s, k, None) for s in situations for k in range(panel)]
    # Every persona change in every persona situation: the shuffles draw from all of them.
    keys += [(s, k, c) for s in persona_situations for c in changes for k in range(panel)]
    return keys


def _shares(effects: np.ndarray, plain: Sequence[Probe], persona: Sequence[Probe]
            ) -> tuple[float, float | None]:
    """Shares correct of the policy and context probes and of the persona probes.

    ``effects`` end in one effect per probe, plain then persona (leading axes are draws); the
    persona share is ``None`` when no persona probe was asked.
    """
    signs = np.array([p.expected_sign for p in [*plain, *persona]])
    correct = np.sign(effects) == signs
    return (float(correct[..., :len(plain)].mean()) if plain else float("nan"),
            float(correct[..., len(plain):].mean()) if persona else None)


def _baselines(plain: Sequence[Probe], persona: Sequence[Probe], pool: Mapping,
               column: Mapping, panel: int, rng: np.random.Generator,
               permutations: int) -> dict[str, dict[str, float | None]]:
    """Shares correct of the no-information baselines (see the module docstring).

    Each shuffled baseline shuffles one kind of probe and is scored on that kind alone; the
    situations are drawn first, then the personas, ``permutations`` draws of ``rng`` each.
    """
    situations_drawn = np.array([_effects(_shuffle_arms(plain, rng), [], pool, column, panel)
                                 for _ in range(permutations)])
    personas_drawn = np.array([_effects([], _shuffle_arms(persona, rng), pool, column, panel)
                               for _ in range(permutations)])
    uniform = _shares(np.zeros(len(plain) + len(persona)), plain, persona)
    return {
        "uniform": {"share_correct": uniform[0], "persona_share_correct": uniform[1]},
        "shuffled_situations": {"share_correct": _shares(situations_drawn, plain, [])[0],
                                "persona_share_correct": None},
        "shuffled_personas": {"share_correct": None,
                              "persona_share_correct": _shares(personas_drawn, [], persona)[1]},
    }


def _reverse_keyed_check(panel: _Panel, behaviours: Sequence[Behaviour], column: Mapping,
                         plain: Sequence[Probe], results: list[ProbeResult]
                         ) -> tuple[list[ProbeResult], float | None, float | None]:
    """The policy and context probes asked again through the reverse-keyed questions.

    Returns:
        The results with the reverse-keyed effects; the share of the probes answered both ways
        whose reverse-keyed effect has the expected sign, and the share whose two keyings agree
        in sign (both ``None`` when not asked: no asked probe's behaviour declares a reverse-keyed
        question, or the engine's answers cannot depend on the keying; or when no probe was
        answered both ways).
    """
    reversed_behaviours = [b.reverse_keyed() for b in behaviours]
    keyed = [p for p in plain if reversed_behaviours[column[p.behaviour]] is not None]
    if not keyed or not panel.engine.keying_matters:
        return results, None, None
    asked_behaviours = [r if r is not None else b
                        for r, b in zip(reversed_behaviours, behaviours, strict=True)]
    pool = panel.answers(asked_behaviours, _answer_keys(keyed, [], len(panel.personas)))
    effects = dict(zip([p.name for p in keyed],
                       _effects(keyed, [], pool, column, len(panel.personas)), strict=True))
    results = [_keyed(r, effects[r.name]) if r.name in effects else r for r in results]
    graded = [r for r in results if r.keyings_agree is not None]
    if not graded:
        return results, None, None
    return (results,
            float(np.mean([np.sign(r.effect_reverse_keyed) == r.expected_sign for r in graded])),
            float(np.mean([r.keyings_agree for r in graded])))


def _keyed(result: ProbeResult, effect: float) -> ProbeResult:
    """A probe's result with its reverse-keyed effect; keyings agree only if both were answered."""
    answered = bool(np.isfinite(effect))
    agree = (bool(np.sign(effect) == np.sign(result.effect) != 0)
             if answered and result.answered else None)
    return replace(result, effect_reverse_keyed=_number(effect), keyings_agree=agree,
                   reverse_keyed_answered=answered)


def failures(card: ProbeCard) -> list[str]:
    """What failed in putting the card, one sentence each (empty when every answer came)."""
    found = []
    if card.unanswered:
        found.append("Unanswered (an answer failed; counted as not correct): "
                     f"{', '.join(card.unanswered)}.")
    if card.reverse_unanswered:
        found.append("Reverse-keyed answers failed (left out of the keying figures): "
                     f"{', '.join(card.reverse_unanswered)}.")
    if card.last_error:
        found.append(f"Last error: {card.last_error}.")
    return found


def keying_finding(card: ProbeCard) -> str | None:
    """The reverse-keyed check in one paragraph (``None`` when it was not asked)."""
    if card.keying_agreement is None:
        return None
    graded = sum(p.keyings_agree is not None for p in card.probes)
    return (f"Asked the other way round (\"Will you stay away from ...?\"), "
            f"{card.reverse_keyed_share_correct:.2f} of the {graded} policy and context probes "
            "answered both ways have the expected sign, and the two keyings agree in sign on "
            f"{card.keying_agreement:.2f} of them. An engine that answers the behaviour agrees "
            "on all; one that only says \"no\" more often when the situation sounds alarming "
            "agrees on none, and its forward share is not evidence that it reads the policy.")


def _json_ready(value):
    """``value`` with every float that is not a number (NaN, inf) replaced by ``None``."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return _number(value) if isinstance(value, float) else value


def _number(value: float) -> float | None:
    """A JSON-ready number; ``None`` for NaN (an effect whose answers failed) or infinity."""
    return float(value) if np.isfinite(value) else None


def persona_traits(attributes: Mapping[str, str], bins: Mapping,
                   traits: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Mean traits of the agents who have a persona's attributes.

    If no agent has all of them, attributes are dropped from the last (the least important in
    the persona order) until some agents match.
    """
    names = [n for n in bins if n in attributes]
    while True:
        members = np.ones(len(next(iter(traits.values()))), dtype=bool)
        for name in names:
            codes, labels = bins[name]
            label = attributes[name]
            members &= codes == (labels.index(label) if label in labels else -1)
        if members.any() or not names:
            break
        names.pop()
    return {name: float(values[members].mean()) for name, values in traits.items()}


def _effects(plain: Sequence[Probe], persona: Sequence[Probe], pool: Mapping, column: Mapping,
             panel: int) -> np.ndarray:
    """Effects of the probes (panel means of ``a - b``), in order: plain then persona.

    NaN where an answer behind the effect failed (not a number to read as 0).
    """
    effects = []
    for probe in plain:
        j = column[probe.behaviour]
        effects.append(np.mean([pool[(probe.a, k, None)][j] - pool[(probe.b, k, None)][j]
                                for k in range(panel)]))
    for probe in persona:
        j = column[probe.behaviour]
        effects.append(np.mean([pool[(probe.situation, k, probe.a)][j]
                                - pool[(probe.situation, k, probe.b)][j] for k in range(panel)]))
    return np.array(effects, dtype=float)


def _shuffle_arms(probes: Sequence[Probe], rng: np.random.Generator) -> list[Probe]:
    """The probes with their arms (``a`` and ``b`` of all of them) randomly permuted."""
    arms = [arm for p in probes for arm in (p.a, p.b)]
    order = rng.permutation(len(arms))
    return [replace(p, a=arms[order[2 * i]], b=arms[order[2 * i + 1]])
            for i, p in enumerate(probes)]
