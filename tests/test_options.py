"""Engine options are declared once, with their defaults, and engines read that declaration."""

import pytest

from simulator.cognition.options import (
    LiteLLMOptions,
    LocalOptions,
    RulesOptions,
    engine_options,
)
from simulator.cognition.rules import RulesEngine
from simulator.errors import EngineError
from simulator.sources.indicators import OXCGRT_INDICATORS


def test_engines_read_their_settings_from_the_declaration():
    from simulator.cognition.remote import LiteLLMModel

    remote = LiteLLMModel("openai/m", engine_options("litellm:openai/m", {"concurrency": 3}))
    assert remote.limit.concurrency == 3 and remote.timeout == LiteLLMOptions().timeout
    rules = RulesEngine(OXCGRT_INDICATORS, RulesOptions(fatigue_weeks=10))
    assert (rules.fatigue_weeks, rules.vaccine_protection) == (10.0, 0.6)
    assert RulesEngine(OXCGRT_INDICATORS).fatigue_weeks == RulesOptions().fatigue_weeks


def test_options_left_out_or_null_take_their_defaults_and_bad_ones_are_named():
    options = engine_options("litellm:openai/m", {"concurrency": 4, "api_base": None})
    assert options.given() == {"concurrency": 4}
    assert options.api_base is None and options.elicitation == "option_tokens"
    assert engine_options("local", options=None) == LocalOptions()
    with pytest.raises(EngineError, match=r"engine local: unknown option n_gpu_layers "
                                          r"\(allowed: elicitation, .*reuse_prefix\)"):
        engine_options("local", {"n_gpu_layers": 4})
    with pytest.raises(EngineError, match=r"engine rules: vaccine_protection: 1.5 is out of "
                                          r"range \(allowed: from 0 to 1\)"):
        engine_options("rules", {"vaccine_protection": 1.5})


def test_validated_options_pass_through_and_another_engines_are_checked_again():
    local = LocalOptions(n_ctx=4096)
    assert engine_options("local", local) is local
    with pytest.raises(EngineError, match="unknown option n_ctx"):
        engine_options("rules", local)
