"""Fitted parameters region by region: each region's scenario, and an engine with its options.

The protocols run one scenario over many regions with one engine (a language model's cache is
shared). With partial pooling (``socialtwin fit --pooling regions``) a region has values of its
own, some of them engine options (the ``rules`` engine's ``compliance_scale``): its scenario takes
them (:meth:`simulator.fitted_parameters.FittedParameters.applied_to`, the pooled values for a
region the fit did not see) and it runs on an engine of its own when its options differ.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


def regional_scenario(scenario, region: str, parameters=None, **changes):
    """The scenario of ``region`` (with ``changes``), with its fitted values when given.

    Args:
        scenario: the protocol's scenario.
        region: the region's code.
        parameters: a :class:`~simulator.fitted_parameters.FittedParameters`, or ``None``.
        changes: other fields to replace (population size, seed).
    """
    variant = scenario.replace(region=region, **changes)
    return variant if parameters is None else parameters.applied_to(variant)


@contextmanager
def regional_engine(variant, scenario, engine, cache_path=None) -> Iterator:
    """``engine`` when the region's engine options are the scenario's; else one of its own.

    Args:
        variant: the region's scenario.
        scenario: the scenario ``engine`` was made for.
        engine: the shared engine.
        cache_path: response cache for an engine of the region's own.
    """
    if variant.engine.options == scenario.engine.options:
        yield engine
        return
    from simulator.cognition import make_engine

    own = make_engine(variant.engine.name, variant.engine.options, variant.policy.indicators,
                      cache_path or variant.engine.cache)
    try:
        yield own
    finally:
        own.close()
