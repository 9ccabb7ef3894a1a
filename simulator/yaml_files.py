"""Users' YAML files read safely: bounded in size and alias expansion, keys never repeated.

:func:`read_yaml` refuses what PyYAML would accept and then silently act on: a file so large that
parsing it takes minutes, aliases that expand beyond a small budget ("billion laughs"), and a
mapping that repeats a key (YAML keeps the last value: ``size: 2000`` then ``size: 3`` would run
three agents). Every problem is one :class:`~simulator.errors.ScenarioError` line naming the
file, the field and the line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import ScenarioError

TOP = "<top level>"
MAX_FILE_BYTES = 1_000_000
"""Largest YAML file read. The shipped scenarios, batteries and marginals are under 10 kB; a
scenario at the cap of interventions is about 150 kB. Larger files cost minutes of parsing and
gigabytes of memory before any check could refuse them."""
MAX_ALIAS_EXPANSION = 10_000
"""Most YAML nodes that aliases may add to a document once expanded."""


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader; an impossible date stays text, for the field check to name it."""

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def read_yaml(path: str | os.PathLike) -> tuple[Any, str]:
    """Load a YAML file safely; returns ``(data, source)`` with the path as the source name.

    Raises:
        ScenarioError: the file is missing, unreadable, too large, not YAML, repeats a key, or
            its aliases expand beyond :data:`MAX_ALIAS_EXPANSION` nodes.
    """
    return parse_yaml(read_text(path), str(path)), str(path)


def read_text(path: str | os.PathLike) -> str:
    """The text of a user's file of at most :data:`MAX_FILE_BYTES`.

    Raises:
        ScenarioError: the file is missing, unreadable or too large.
    """
    source = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            raise ScenarioError(source, "<file>", f"the file is too large ({size:,} bytes)",
                                f"at most {MAX_FILE_BYTES:,} bytes")
        return Path(path).read_text()
    except FileNotFoundError:
        raise ScenarioError(source, "<file>", "file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(source, "<file>", f"cannot read the file ({error})") from None


def parse_yaml(text: str, source: str) -> Any:
    """The data of a YAML document read from ``source`` (for messages), safely.

    Raises:
        ScenarioError: the text is not YAML, a mapping repeats a key (YAML keeps the last one
            silently), or its aliases expand beyond :data:`MAX_ALIAS_EXPANSION` nodes.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        added = _expanded(node, {}, set()) - _expanded(node, {}, set(), aliases=False)
        if added > MAX_ALIAS_EXPANSION:
            raise ScenarioError(source, "<file>", f"YAML aliases expand the document by "
                                f"{added:,} nodes", f"at most {MAX_ALIAS_EXPANSION:,}")
        _check_keys(node, source, (), set())
        return loader.construct_document(node)
    except yaml.YAMLError as error:
        raise ScenarioError(source, "<file>", f"not valid YAML ({_one_line(error)})") from None
    except RecursionError:
        raise ScenarioError(source, "<file>", "nested too deeply or recursive") from None
    finally:
        loader.dispose()


def _one_line(error: yaml.YAMLError) -> str:
    """A YAML error on one line: what is wrong and where (PyYAML spreads it over several)."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return " ".join(str(error).split())
    mark = error.problem_mark or error.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    context = f"{error.context}: " if error.context else ""
    return f"{context}{error.problem or 'invalid'}{where}"


def _check_keys(node: yaml.Node, source: str, path: tuple, seen: set[int]) -> None:
    """Refuse a mapping under ``node`` that repeats a key, naming the key and its lines.

    Each node is visited once (aliases share nodes); merge keys (``<<``) may override keys.
    """
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _check_keys(child, source, (*path, index), seen)
        return
    if not isinstance(node, yaml.MappingNode):
        return
    lines: dict[tuple[str, str], int] = {}
    for key, value in node.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else "?"
        if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
            line = key.start_mark.line + 1
            if (key.tag, name) in lines:
                raise ScenarioError(source, field_path((*path, name)),
                                    f"repeated key at line {line} (first at line "
                                    f"{lines[key.tag, name]})", "each key once in a mapping")
            lines[key.tag, name] = line
        _check_keys(value, source, (*path, name), seen)


def _expanded(node: yaml.Node, sizes: dict[int, int], open_: set[int],
              aliases: bool = True) -> int:
    """Nodes in the document under ``node`` with aliases expanded (or each node counted once).

    Sizes are memoised per node, so a bomb of nested aliases costs one visit per node; a node
    that contains itself (a recursive alias) is refused.
    """
    if id(node) in sizes:
        return sizes[id(node)] if aliases else 0
    if id(node) in open_:
        raise yaml.YAMLError("a recursive alias (an anchor used inside itself)")
    open_.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    else:
        children = []
    total = 1 + sum(_expanded(child, sizes, open_, aliases) for child in children)
    open_.discard(id(node))
    sizes[id(node)] = total
    return total


def field_path(loc: tuple) -> str:
    """``("a", 0, "b")`` as ``a[0].b``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or TOP
