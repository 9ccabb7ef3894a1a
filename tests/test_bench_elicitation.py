"""benchmarks/bench_elicitation.py: another engine's settings, and bad ones refused before work."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_elicitation import engine_options  # noqa: E402


def test_settings_are_read_as_yaml_scalars():
    assert engine_options(["api_base=http://127.0.0.1:8000/v1", "concurrency=2",
                           "api=text", "balanced=true"]) == {
        "api_base": "http://127.0.0.1:8000/v1", "concurrency": 2, "api": "text",
        "balanced": True}


@pytest.mark.parametrize("setting", ["api", "=text"])
def test_a_setting_without_a_key_and_value_is_named(setting):
    with pytest.raises(ValueError, match="KEY=VALUE"):
        engine_options([setting])


@pytest.mark.parametrize("arguments, named", [
    (["--engine", "litellm:openai/x", "--option", "api=chat2"], "engine.options.api: 'chat2'"),
    (["--engine", "nonsense"], "unknown engine 'nonsense'"),
    (["--option", "apibase"], "--option 'apibase'")])
def test_bad_settings_stop_the_benchmark_before_any_call(arguments, named):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_elicitation.py"),
                           "--only", "option_tokens", *arguments], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and named in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
