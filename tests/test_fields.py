import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from simulator.errors import ScenarioError
from simulator.fields import (
    Date,
    Section,
    Text,
    choice,
    number,
    plain,
    repeated,
    validated,
    whole,
)


class Inner(Section):
    level: number(0, 5)
    count: whole(1, 10) = 1


class Outer(Section):
    name: Text
    when: Date | None = None
    kind: choice("a", "b") = "a"
    items: list[Inner] = []


def error_of(data) -> str:
    with pytest.raises(ScenarioError) as info:
        validated(Outer, data, "f.yaml")
    return str(info.value)


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "x", "items": [{"level": 7}]},
     "f.yaml: items[0].level: 7 is out of range (allowed: from 0 to 5)"),
    ({"name": "x", "items": [{"level": float("nan")}]},
     "f.yaml: items[0].level: nan is not a finite number (allowed: a finite number from 0 to 5)"),
    ({"name": "x", "items": [{"level": 1, "count": float("inf")}]},
     "f.yaml: items[0].count: inf is not a finite number (allowed: an integer from 1 to 10)"),
    ({"name": "x", "items": [{"level": 1, "count": 2.5}]},
     "f.yaml: items[0].count: expected a whole number, got 2.5 (allowed: an integer from 1 to 10)"),
    ({"name": "x", "items": [{"level": True}]},
     "f.yaml: items[0].level: expected a number, got True (allowed: a number from 0 to 5)"),
    ({"name": "x", "items": [{"levle": 1}]},
     "f.yaml: items[0].levle: unknown field (allowed: level, count)"),
    ({"name": "x", "when": "2020-02-30"},
     "f.yaml: when: '2020-02-30' is not a date (allowed: YYYY-MM-DD)"),
    ({"name": "x", "kind": "c"}, "f.yaml: kind: 'c' is not allowed (allowed: a, b)"),
    ({"name": " "}, "f.yaml: name: expected non-empty text, got ' '"),
    ({}, "f.yaml: name: missing required field"),
    ([1], "f.yaml: <top level>: expected a mapping, got [1] (allowed: key: value pairs)"),
    ({"name": "x", "items": {"level": 1}}, "f.yaml: items: expected a list, got {'level': 1}"),
])
def test_errors_name_the_file_field_value_and_what_is_allowed(data, message):
    assert error_of(data) == message


def test_whole_numbers_written_as_floats_are_whole():
    assert validated(Inner, {"level": 1, "count": 3.0}, "f").count == 3


def test_plain_data():
    value = {"d": dt.date(2020, 1, 2), "p": Path("/x"), "n": np.float32(1.5), "t": (1, 2)}
    assert plain(value) == {"d": "2020-01-02", "p": "/x", "n": 1.5, "t": [1, 2]}


def test_values_with_braces_are_quoted_not_formatted():
    assert error_of({"name": {"a": "{b}"}}) == \
        "f.yaml: name: expected non-empty text, got {'a': '{b}'}"


def test_repeated_names_are_listed_once_and_sorted():
    assert repeated(["b", "a", "b", "c", "a", "b"]) == ["a", "b"]
    assert repeated(["a", "b"]) == [] and repeated([]) == []
