import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from simulator.errors import ScenarioError
from simulator.fields import TOP, FieldReader, plain, read_yaml


def test_errors_name_the_file_and_field(tmp_path):
    read = FieldReader("f.yaml", tmp_path)
    expected = r"f\.yaml: a\.b: 7 is out of range \(allowed: from 0 to 5\)"
    with pytest.raises(ScenarioError, match=expected):
        read.number(7, "a.b", 0, 5)
    with pytest.raises(ScenarioError, match="expected a whole number"):
        read.whole(2.5, "n")
    with pytest.raises(ScenarioError, match="unknown field"):
        read.known({"sede": 1}, TOP, ("seed",))
    with pytest.raises(ScenarioError, match="YYYY-MM-DD"):
        read.date("yesterday", "d")
    with pytest.raises(ScenarioError, match="does not exist"):
        read.path("missing.csv", "p")
    assert read.date("2020-03-01", "d") == dt.date(2020, 3, 1)
    assert read.path("x", "p", must_exist=False) == (tmp_path / "x").resolve()


def test_read_yaml_reports_file_problems(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        read_yaml(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        read_yaml(bad)


def test_plain_data():
    value = {"d": dt.date(2020, 1, 2), "p": Path("/x"), "n": np.float32(1.5), "t": (1, 2)}
    assert plain(value) == {"d": "2020-01-02", "p": "/x", "n": 1.5, "t": [1, 2]}
