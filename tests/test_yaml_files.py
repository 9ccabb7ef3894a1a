import datetime as dt
import time

import pytest

from simulator.errors import ScenarioError
from simulator.yaml_files import MAX_ALIAS_EXPANSION, MAX_FILE_BYTES, parse_yaml, read_yaml


def test_read_yaml_reports_file_problems(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        read_yaml(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        read_yaml(bad)
    unsafe = tmp_path / "unsafe.yaml"
    unsafe.write_text("a: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        read_yaml(unsafe)


def test_an_impossible_date_is_left_as_text_for_the_field_check(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text("end: 2020-02-30\nstart: 2020-02-28\n")
    assert read_yaml(path)[0] == {"end": "2020-02-30", "start": dt.date(2020, 2, 28)}


def bomb(levels: int, width: int = 9) -> str:
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb(9))
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match=r"<file>: YAML aliases expand the document by "
                                            r"[\d,]+ nodes \(allowed: at most 10,000\)"):
        read_yaml(path)
    assert time.perf_counter() - started < 1.0


def test_a_few_aliases_are_fine_and_recursive_ones_are_refused(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(bomb(3))
    assert len(read_yaml(path)[0]["a3"]) == 9
    assert 9**3 < MAX_ALIAS_EXPANSION
    loop = tmp_path / "loop.yaml"
    loop.write_text("a: &a [1, *a]\n")
    with pytest.raises(ScenarioError, match="recursive alias"):
        read_yaml(loop)


@pytest.mark.parametrize(("text", "message"), [
    ("population:\n  size: 2000\n  size: 3\n",
     "f.yaml: population.size: repeated key at line 3 (first at line 2) (allowed: each key once "
     "in a mapping)"),
    ("seed: 1\nname: x\nseed: 2\n", "f.yaml: seed: repeated key at line 3 (first at line 1)"),
    ("grid:\n  - {axis: a, values: [1], values: [2]}\n",
     "f.yaml: grid[0].values: repeated key at line 2 (first at line 2)"),
    ("shares:\n  urbanicity: {urban: 0.5, rural: 0.5}\n  urbanicity: {urban: 0, rural: 1}\n",
     "f.yaml: shares.urbanicity: repeated key at line 3 (first at line 2)"),
])
def test_a_repeated_key_is_refused_naming_it_and_its_line(text, message):
    with pytest.raises(ScenarioError) as info:
        parse_yaml(text, "f.yaml")
    assert str(info.value).startswith(message)


def test_merge_keys_and_equal_values_under_other_keys_are_not_repeats():
    text = "base: &b {a: 1, c: 2}\nthis:\n  <<: *b\n  a: 3\nother: {a: 1}\n"
    assert parse_yaml(text, "f.yaml")["this"] == {"a": 3, "c": 2}


def test_a_yaml_error_is_one_line_with_its_place():
    with pytest.raises(ScenarioError) as info:
        parse_yaml("a: [1, 2\nb: 3\n", "f.yaml")
    assert str(info.value) == ("f.yaml: <file>: not valid YAML (while parsing a flow sequence: "
                               "expected ',' or ']', but got ':' at line 2, column 2)")


def test_a_file_too_large_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("a: 1\n" * (MAX_FILE_BYTES // 5 + 1))
    with pytest.raises(ScenarioError, match=r"<file>: the file is too large \([\d,]+ bytes\) "
                                            r"\(allowed: at most 1,000,000 bytes\)"):
        read_yaml(path)
