"""Engine options are declared once, and the declarations match what the engines accept."""

import inspect

import pytest

from simulator.cognition.options import (
    ElicitationOptions,
    LiteLLMOptions,
    LocalOptions,
    RulesOptions,
    check_options,
)
from simulator.cognition.rules import RulesEngine
from simulator.errors import EngineError


def parameters(kind, fixed=()):
    return {p for p in inspect.signature(kind.__init__).parameters if p not in ("self", *fixed)}


def test_declarations_match_the_engines_arguments():
    from simulator.cognition.local import LocalModel
    from simulator.cognition.remote import LiteLLMModel

    elicitation = set(ElicitationOptions.model_fields)
    assert set(RulesOptions.model_fields) == parameters(RulesEngine, ("indicators",))
    assert set(LocalOptions.model_fields) - elicitation == parameters(LocalModel)
    assert set(LiteLLMOptions.model_fields) - elicitation == parameters(LiteLLMModel, ("model",))


def test_options_left_out_take_the_engines_defaults_and_bad_ones_are_named():
    assert check_options("litellm:openai/m", {"concurrency": 4, "api_base": None}) == {
        "concurrency": 4}
    with pytest.raises(EngineError, match=r"engine local: unknown option n_gpu_layers "
                                          r"\(allowed: elicitation, .*reuse_prefix\)"):
        check_options("local", {"n_gpu_layers": 4})
    with pytest.raises(EngineError, match=r"engine rules: vaccine_protection: 1.5 is out of "
                                          r"range \(allowed: from 0 to 1\)"):
        check_options("rules", {"vaccine_protection": 1.5})
