"""The twin: a Mesa model of thin agent views over numpy columns, stepped in one vectorised pass."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable

import mesa
import numpy as np
import pandas as pd
from mesa.agent import AgentSet

from simulator.cognition import Engine, PromptBuilder, make_engine
from simulator.cognition.cells import PopulationCells
from simulator.cognition.personas import KEY_ATTRIBUTES
from simulator.dynamics import Dynamics, cell_logits
from simulator.epidemic.contacts import ContactShares
from simulator.epidemic.loop import EpidemicLoop
from simulator.epidemic.seir import EpidemicParameters
from simulator.network import SocialNetwork
from simulator.parallel import alongside
from simulator.policy import PolicyTimeline, Signals
from simulator.population import Population
from simulator.population.marginals_file import read_marginals
from simulator.random_streams import random_stream
from simulator.scenario import Scenario
from simulator.sources.regions import get_region, resolve_region
from simulator.subgroups import CellSubgroups, SubgroupMeans


class AgentView(mesa.Agent):
    """One agent: a thin view (an index) into the model's columns.

    Attribute reads such as ``agent.age`` or ``agent.party`` come from the population columns
    (categories decoded to labels); ``agent.behaviour`` gives the current probabilities.
    """

    def __init__(self, model: TwinModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    def __getattr__(self, name: str):
        population = self.__dict__.get("model").__dict__.get("population")
        if population is None or name not in population.columns:
            raise AttributeError(name)
        value = population[name][self.index]
        if name in Population.CATEGORIES:
            return Population.CATEGORIES[name][int(value)]
        return value.item()

    @property
    def cell(self) -> int:
        """Index of the agent's cell."""
        return int(self.model.cells.assignment[self.index])

    @property
    def behaviour(self) -> dict[str, float]:
        """Current probability of each behaviour."""
        return dict(zip(self.model.behaviour_names,
                        self.model.state[self.index].astype(float).tolist(), strict=True))


REFERENCE_AGENTS = 20_000
"""Size of the reference population whose most common levels make a region's base persona."""


def reference_population(region: str, marginals=None) -> Population:
    """The population that fixes a region's base persona: fixed size, fixed seed.

    Personas describe the structure of a place, not a random draw: taking the base persona from
    a population that does not depend on the run's seed or size gives every seed, every
    population size and every variant of a sweep the same persona prompts, so they share the
    response cache and the number of LLM calls does not depend on the number of agents. Being
    the same for every run, it is synthesised once per process (its columns are read-only).
    """
    text = None if marginals is None else read_marginals(marginals)[1]
    return _reference_population(resolve_region(region),
                                 None if marginals is None else str(marginals), text)


@functools.lru_cache(maxsize=8)
def _reference_population(code: str, marginals: str | None, text: str | None) -> Population:
    """The reference population of a region, cached per process.

    ``text``, the marginals file's, is part of the key, so that a file edited between two runs
    is read anew.
    """
    return Population.synthesize(code, REFERENCE_AGENTS, random_stream(0, "archetypes"),
                                 marginals)


class TwinModel(mesa.Model):
    """A synthetic population answering policy signals tick by tick.

    A Mesa model whose step is vectorised over numpy columns (see :meth:`step`). Mesa's
    ``steps`` counts the ticks run (:attr:`tick`). Mesa's ``rng`` and ``random``, seeded with the
    run seed, are left to Mesa's own use (shuffling agent views): the twin draws every number
    from named streams (:mod:`simulator.random_streams`), so that two scenarios run with one
    seed share each stream whatever else differs (common random numbers), which one generator
    would not give: every draw would move every later one.

    Args:
        scenario: the validated scenario.
        engine: the cognition engine; created from the scenario when ``None``.
        timeline: the policy timeline; built from the scenario when ``None`` (sweeps pass a
            transformed timeline here).
        cache_path: response cache for LLM engines (``None``: the scenario's or per-user cache).
        agent_views: offer one :class:`AgentView` per agent in ``model.agents``. They are made
            on first use of ``model.agents`` (~0.6 GB and a few seconds per million agents);
            the step never needs them.

    An engine the twin makes itself is closed if the build fails; once built, closing it is
    the caller's (:func:`simulator.run.run_scenario` does).

    Attributes:
        population, network, timeline, cells, engine: the parts of the twin (``cells``: the
            population's cells and the persona design that answers them).
        dynamics: each agent's habit, peer weight and offset, and the noise
            (:class:`simulator.dynamics.Dynamics`).
        state: behaviour probabilities, float32 array of shape (n_agents, n_behaviours); a new
            array every tick.
        baseline: population-mean probabilities before any policy, shape (n_behaviours,).
        forked_at: the tick at which this twin was forked from another (``None`` if it was
            not; see :meth:`fork`).
    """

    def __init__(
        self,
        scenario: Scenario,
        engine: Engine | None = None,
        timeline: PolicyTimeline | None = None,
        cache_path=None,
        agent_views: bool = True,
    ) -> None:
        super().__init__(seed=scenario.seed)
        self.scenario = scenario
        self.behaviour_names = scenario.behaviour_names
        seed = scenario.seed
        self.population = Population.synthesize(
            scenario.region, scenario.population_size, random_stream(seed, "population"),
            scenario.marginals)
        # The network (a third of the build at scale) is built on a thread of its own while
        # the rest of the model is; it is needed only by the first step.
        network = alongside(SocialNetwork.build, self.population, scenario.network,
                            random_stream(seed, "network"))
        self.timeline = timeline if timeline is not None else PolicyTimeline.from_scenario(scenario)
        self.cells = PopulationCells.build(
            self.population, scenario.engine.personas,
            reference=reference_population(scenario.region, scenario.marginals))
        self.routine = self.timeline.routine(scenario.start)
        self.prompts = PromptBuilder(get_region(scenario.region).name, self.timeline.indicators,
                                     self.timeline.shown, scenario.prompts, self.routine)
        self.engine = engine if engine is not None else make_engine(
            scenario.engine.name, scenario.engine.options, self.timeline.indicators,
            cache_path or scenario.engine.cache)
        cells = self.cells.cells
        key = [name for name in KEY_ATTRIBUTES if name in cells.labels]
        names = list(cells.labels)
        self._decision_groups = CellSubgroups(
            {name: cells.labels[name] for name in key},
            {name: cells.codes[:, names.index(name)] for name in key}, cells.sizes)
        self._subgroups = SubgroupMeans(self.population)
        self.dynamics = Dynamics.build(scenario.dynamics, self.population,
                                       self.cells.assignment, len(scenario.behaviours), seed)
        self._peers = np.empty_like(self.dynamics.offset)
        self.forked_at: int | None = None
        self.failed_answers = 0
        self.decision_log: list[pd.DataFrame] = []
        self.persona_log: list[pd.DataFrame] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={name: self._mean_reporter(j)
                             for j, name in enumerate(self.behaviour_names)},
            tables={"trajectories": ["tick", "date", "behaviour", "group", "subgroup", "value",
                                     "agents"]},
        )
        try:
            self.baseline = self._start_from_baseline()
            self.network = network.result()
        except BaseException:
            if engine is None:
                self.engine.close()
            raise
        self._views_pending = agent_views
        self.running = len(self.timeline) > 0
        self.epidemic: EpidemicLoop | None = None

    def start_epidemic(self, parameters: EpidemicParameters) -> None:
        """Simulate the cases from here on (:mod:`simulator.epidemic.loop`), before any tick.

        Args:
            parameters: the region's fitted epidemic (:mod:`simulator.epidemic.setup`).
        """
        region = get_region(self.scenario.region).population or len(self.population)
        self.epidemic = EpidemicLoop(parameters, ContactShares.of(self.scenario.behaviours),
                                     self.baseline, region, self.timeline.days)

    @property
    def agents(self) -> AgentSet:
        """Every agent as an :class:`AgentView` (made on first use; empty without views)."""
        self._make_views()
        return super().agents

    @property
    def agents_by_type(self) -> dict[type[mesa.Agent], AgentSet]:
        """Mesa's agents by type: the :class:`AgentView` set (made on first use)."""
        self._make_views()
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """Mesa's agent types: :class:`AgentView` once the views are made."""
        self._make_views()
        return super().agent_types

    def _make_views(self) -> None:
        if self.__dict__.get("_views_pending"):
            self._views_pending = False
            for index in range(len(self.population)):
                AgentView(self, index)

    def _start_from_baseline(self) -> np.ndarray:
        """Set each agent's routine: the answers to the pre-policy situation, personalised.

        Agents whose routine answer failed start from 0.5; the failure is counted.
        """
        answers = self._ask(self.routine)
        answers = np.where(np.isnan(answers), 0.5, answers)
        self.state = self.dynamics.personalise(cell_logits(answers))
        self._collect(self.routine)
        return self._means[0][2].copy()

    def _ask(self, signals: Signals) -> np.ndarray:
        """Cell answers of shape (n_cells, n_behaviours); NaN where an answer failed."""
        answers, asked, decisions = self.cells.answers(
            self.engine, signals, self.scenario.behaviours, self.prompts)
        self.failed_answers += int(decisions.failed.sum())
        if self.engine.factorised:
            log = pd.DataFrame(decisions.probabilities, columns=list(self.behaviour_names))
            log.insert(0, "persona", [a.index for a in asked])
            log.insert(0, "tick", signals.tick)
            self.persona_log.append(log)
        self.decision_log.append(self._subgroup_answers(signals.tick, answers))
        return answers

    def _subgroup_answers(self, tick: int, answers: np.ndarray) -> pd.DataFrame:
        """Mean answer of the agents of each key subgroup (before habit, peers and noise)."""
        groups = self._decision_groups
        frame = pd.DataFrame(groups.means(answers), columns=list(self.behaviour_names))
        frame.insert(0, "subgroup", [subgroup for _, subgroup in groups.keys])
        frame.insert(0, "group", [group for group, _ in groups.keys])
        frame.insert(0, "tick", tick)
        return frame

    @property
    def tick(self) -> int:
        """Number of ticks run: Mesa's ``steps`` (which counts a step as it starts)."""
        return self.steps

    def step(self) -> None:
        """Advance one tick, the tick ``steps - 1`` (Mesa has counted it before calling this).

        The order of operations:

        1. ``signals = timeline.at(tick)``: the policy levels and context of this tick; with a
           simulated epidemic, its cases of this tick instead of the observed ones (made by
           last tick's contacts; the population's mean behaviour is passed on after step 6).
        2. ``answers = cells.answers(engine, signals, ...)``: every cell's answer, shape
           (n_cells, k), never one per agent (the rules engine answers the cells; a language
           model the design's personas, combined per cell in logit space). Inside it,
           ``engine.decide`` asks the response cache first, the model only on a miss. An
           answer that failed is NaN and counted in ``failed_answers``; each key subgroup's
           mean answer is logged (:meth:`decisions`).
        3. ``logits = cell_logits(answers)``: float32 logits of the answers kept 1e-4 from 0
           and 1.
        4. ``peers = network.peer_mean(state)``: the mean behaviour of each agent's distinct
           neighbours at the last tick (an isolated agent's own).
        5. ``state = dynamics.update(state, logits, peers)``: each agent's target
           ``sigmoid(logits[cell] + offset)``, or its current behaviour where its cell's answer
           failed; then ``habit * state + (1 - habit) * ((1 - w) * target + w * peers)
           + noise_sd * noise``, clipped to [0, 1], with the agent's own habit, peer weight
           ``w`` and offset, and this tick's standard normal draws (one bulk draw from the
           ``noise`` stream, made on another core while the engine answered). Then the next
           tick's noise starts being drawn.
        6. ``collect``: population and subgroup means into the data collector; ``running``
           turns false after the timeline's last tick.

        Step 5 runs as one compiled loop over agents (:mod:`simulator.dynamics`), float32.
        """
        signals = self.timeline.at(self.steps - 1)
        if self.epidemic is not None:
            signals = self.epidemic.signals(signals)
        answers = self._ask(signals)
        logits = cell_logits(answers)
        peers = self.network.peer_mean(self.state, out=self._peers)
        self.state = self.dynamics.update(self.state, logits, peers)
        self._collect(signals)
        if self.epidemic is not None:
            self.epidemic.observe(self._means[0][2])
        self.running = self.steps < len(self.timeline)

    def fork(self, timeline: PolicyTimeline) -> TwinModel:
        """A twin that goes on from this one's current tick under another policy timeline.

        The fork shares the population, network, cells, individual parameters and engine, copies
        the state and what was collected so far, and continues the noise stream from where this
        twin is, so from here on the two differ only by the timeline's signals (common random
        numbers): a counterfactual that departs at tick t costs the ticks after t, not a run.
        The fork's ``failed_answers`` counts the failures of its own ticks.

        Args:
            timeline: the timeline to go on with; the same ticks as this twin's (its signals
                before the current tick are not read).

        Raises:
            ValueError: the timeline's ticks are not this twin's.
        """
        if not timeline.dates.equals(self.timeline.dates) or timeline.days != self.timeline.days:
            raise ValueError("a fork's timeline must have the same ticks as the twin's")
        clone = copy.copy(self)
        # Mesa's bookkeeping (the wrapped step bound to its model, agent registries) is made
        # anew for the clone rather than shared with this twin.
        for name in ("step", "_user_step"):
            clone.__dict__.pop(name, None)
        mesa.Model.__init__(clone, seed=self.scenario.seed)
        clone.steps = self.steps
        clone.rng = copy.deepcopy(self.rng)
        clone.timeline = timeline
        clone.dynamics = self.dynamics.fork()
        clone._peers = np.empty_like(self._peers)
        clone._views_pending = False
        clone.forked_at = self.tick
        clone.epidemic = None if self.epidemic is None else self.epidemic.fork()
        clone.failed_answers = 0
        clone.decision_log = list(self.decision_log)
        clone.persona_log = list(self.persona_log)
        collector = copy.copy(self.datacollector)
        collector.model_vars = {name: list(values) for name, values in
                                self.datacollector.model_vars.items()}
        collector.tables = {name: {column: list(values) for column, values in table.items()}
                            for name, table in self.datacollector.tables.items()}
        clone.datacollector = collector
        clone.running = self.tick < len(timeline)
        return clone

    def run(self, progress: Callable[[int], None] | None = None,
            until: int | None = None) -> pd.DataFrame:
        """Run every remaining tick, or those before tick ``until``, and return the trajectories.

        Args:
            progress: called with the tick number after each step (e.g. a progress bar update).
            until: stop once this many ticks have run (default: the whole timeline).
        """
        while self.running and (until is None or self.tick < until):
            self.step()
            if progress is not None:
                progress(self.tick)
        return self.trajectories()

    def _mean_reporter(self, column: int) -> Callable[[TwinModel], float]:
        return lambda model: float(model._means[0][2][column])

    def _collect(self, signals: Signals) -> None:
        """Population and subgroup means of this tick's behaviour into the data collector."""
        self._means = self._subgroups.rows(self.state)
        self.datacollector.collect(self)
        date = pd.Timestamp(signals.date)
        for j, behaviour in enumerate(self.behaviour_names):
            for group, subgroup, means, agents in self._means:
                self.datacollector.add_table_row("trajectories", {
                    "tick": signals.tick, "date": date, "behaviour": behaviour, "group": group,
                    "subgroup": subgroup, "value": float(means[j]), "agents": agents})

    def trajectories(self) -> pd.DataFrame:
        """Tidy trajectories: one row per tick, behaviour and (sub)group.

        Columns: tick (-1 is the pre-policy baseline), date, behaviour, group (``all`` or a
        population attribute), subgroup, value (mean probability), agents, and change_pct
        (percent change from the group's baseline, comparable to Google's mobility figures).
        """
        frame = self.datacollector.get_table_dataframe("trajectories")
        base = frame[frame["tick"] == -1].set_index(["behaviour", "group", "subgroup"])["value"]
        reference = base.reindex(pd.MultiIndex.from_frame(frame[["behaviour", "group",
                                                                 "subgroup"]])).to_numpy()
        frame["change_pct"] = 100.0 * (frame["value"].to_numpy() / reference - 1.0)
        return frame

    def decisions(self) -> pd.DataFrame:
        """Answers per tick and key subgroup, before individual dynamics (NaN = all failed).

        Columns: tick, group (``all`` or a key persona attribute), subgroup, one per behaviour.
        """
        return pd.concat(self.decision_log, ignore_index=True)

    def persona_answers(self) -> pd.DataFrame:
        """Language-model engines: each persona's answer per tick (tick, persona, behaviours)."""
        if not self.persona_log:
            return pd.DataFrame(columns=["tick", "persona", *self.behaviour_names])
        return pd.concat(self.persona_log, ignore_index=True)
