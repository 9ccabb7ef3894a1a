"""``socialtwin decompose``: refused before work when it cannot split; a table when it can."""

import json
from pathlib import Path

import pytest

from socialtwin.main import main

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
EPIDEMIC = str(SCENARIOS / "covid_us_2020_epidemic.yaml")
TIMING = str(SCENARIOS / "covid_us_2020_stay_at_home_timing.yaml")


@pytest.mark.parametrize("arguments, words", [
    ([str(SCENARIOS / "covid_us_2020.yaml"), "--variants", TIMING, "--variant", "never"],
     "context.epidemic: is observed"),
    ([EPIDEMIC, "--variants", TIMING, "--variant", "nope"], "--variant: 'nope' is not in"),
    ([EPIDEMIC, "--variants", TIMING, "--variant", "never", "--from", "2021-03-01", "--to",
      "2021-02-01"], "--from/--to"),
])
def test_what_cannot_be_split_is_refused_in_one_line(arguments, words, capsys, monkeypatch):
    monkeypatch.setattr("simulator.epidemic.decomposition.decompose",
                        lambda *a, **k: pytest.fail("work started"))
    assert main(["decompose", *arguments]) == 2
    error = capsys.readouterr().err.strip()
    assert words in error and len(error.splitlines()) == 1


def test_the_json_has_each_behaviours_parts(capsys):
    assert main(["decompose", EPIDEMIC, "--variants", TIMING, "--variant", "never",
                 "--agents", "300", "--from", "2020-03-16", "--to", "2020-05-31",
                 "--json"]) == 0
    found = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert found["variant"] == "never" and found["window"] == ["2020-03-16", "2020-05-31"]
    rows = {row["behaviour"]: row for row in found["behaviours"]}
    assert rows["workplaces"]["direct"] > 0  # no stay-at-home order: more people at work
    for row in rows.values():
        assert row["total"] == pytest.approx(row["direct"] + row["through_epidemic"], abs=2e-4)
