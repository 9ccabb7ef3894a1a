"""Every random stream the twin draws from, declared once by name (common random numbers).

A stream is seeded from its name, never from its place among the others, so adding a stream
never moves the draws of another, and two scenarios run with the same seed draw the same numbers
from a stream whatever else differs between them: their differences come from the policy, not
from noise. A registry refuses two streams with one name or one seed (as Starsim's
``Dists.check_seeds`` does).

The streams of a run (:data:`RUN_STREAMS`), each ``default_rng([seed, name_seed(name)])``:

- ``population``: the synthetic population, parent of :data:`POPULATION_STREAMS`;
- ``network``: the social network's ties;
- ``heterogeneity``: each agent's fixed logit offset from its cell's answer;
- ``noise``: each agent's noise, every tick;
- ``archetypes``: the reference population that fixes a region's base persona (seed 0, the
  same for every run).

The streams of a population's synthesis (:data:`POPULATION_STREAMS`), children of the generator
handed to :meth:`simulator.population.Population.synthesize`. The twelve frozen ones predate
naming: in their declared order, they are seeded by the twelve integers the parent draws first,
so that every population synthesised before the registry existed is synthesised again
identically. Never reorder, insert or remove one; a stream added later is named, seeded from those
twelve integers and its name.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

_SEED_BOUND = 2**62
"""Bound of the integers a parent generator draws as its children's seeds."""


def name_seed(name: str) -> int:
    """The integer a stream's name contributes to its seed (CRC-32 of the name)."""
    return zlib.crc32(name.encode())


@dataclass(frozen=True)
class StreamRegistry:
    """The random streams of one scope, each declared once.

    Attributes:
        scope: what the streams serve (named in errors).
        named: streams seeded from a key and their own name.
        frozen: streams seeded by position, in this order, by the first integers a parent
            generator draws (see :meth:`spawn`): those that predate naming. Never reorder,
            insert or remove one.

    Raises:
        ValueError: two streams share a name, or two named streams a seed.
    """

    scope: str
    named: tuple[str, ...] = ()
    frozen: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for name in (*self.frozen, *self.named):
            if name in seen:
                raise ValueError(f"{self.scope} stream {name!r} is declared twice")
            seen.add(name)
        check_seeds(self.scope, self.named, (name_seed(name) for name in self.named))

    def with_stream(self, name: str) -> StreamRegistry:
        """This registry with one more stream, seeded from its name."""
        return replace(self, named=(*self.named, name))

    def stream(self, key: int | Sequence[int], name: str) -> np.random.Generator:
        """The generator of stream ``name`` under ``key`` (a run's seed).

        Raises:
            KeyError: ``name`` is not a named stream of this registry.
        """
        if name not in self.named:
            raise KeyError(f"{name!r} is not a declared {self.scope} stream; declared: "
                           f"{', '.join(self.named)}")
        key = [key] if isinstance(key, int | np.integer) else list(key)
        return np.random.default_rng([*(int(k) for k in key), name_seed(name)])

    def spawn(self, parent: np.random.Generator) -> dict[str, np.random.Generator]:
        """Every stream of this registry as a child of ``parent``.

        The parent draws ``max(len(frozen), 1)`` integers below 2**62, nothing else: in order,
        the seeds of the frozen streams; together, the key of the named ones.

        Raises:
            ValueError: two frozen streams drew one seed.
        """
        seeds = [int(seed) for seed in parent.integers(_SEED_BOUND,
                                                       size=max(len(self.frozen), 1))]
        check_seeds(self.scope, self.frozen, seeds)
        streams = {name: np.random.default_rng(seed)
                   for name, seed in zip(self.frozen, seeds, strict=False)}
        streams.update((name, self.stream(seeds, name)) for name in self.named)
        return streams


def check_seeds(scope: str, names: Sequence[str], seeds: Iterable[int]) -> None:
    """Refuse two streams with one seed.

    Raises:
        ValueError: naming both streams and the seed.
    """
    owner: dict[int, str] = {}
    for name, seed in zip(names, seeds, strict=False):
        if seed in owner:
            raise ValueError(f"{scope} streams {owner[seed]!r} and {name!r} have one seed "
                             f"({seed}); rename one")
        owner[seed] = name


RUN_STREAMS = StreamRegistry(
    "run", named=("population", "network", "heterogeneity", "noise", "archetypes"))
"""The streams of a run, seeded from the run's seed and their names."""

POPULATION_STREAMS = StreamRegistry(
    "population",
    frozen=("cells", "age", "income", "households", "essential", "big_five", "party",
            "trust_government", "trust_science", "risk_tolerance", "perceived_vulnerability",
            "conformity"),
)
"""The child streams of a population's synthesis (twelve frozen, see the module docstring)."""


def random_stream(seed: int, name: str) -> np.random.Generator:
    """The run stream ``name`` under the run seed ``seed`` (a :data:`RUN_STREAMS` stream).

    Two scenarios run with the same seed draw identical numbers from a stream of the same name,
    whatever else differs between them, so their differences come from the policy, not noise.

    Raises:
        KeyError: ``name`` is not a declared run stream.
    """
    return RUN_STREAMS.stream(seed, name)
