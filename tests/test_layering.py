"""The layers run one way: data sources <- simulator core <- calibration <- command line.

Every import statement counts, those inside functions too (grimp reads them all), so a cycle
cannot hide in a function body. The top-level packages import one another without a cycle:
``simulator`` imports neither ``calibration`` nor ``socialtwin``, ``calibration`` does not import
``socialtwin``.
"""

import sys

import grimp
import pytest

DATA = "data sources (simulator.sources, simulator.errors)"
CORE = "simulator core"
CALIBRATION = "calibration"
COMMANDS = "command line (socialtwin)"
ORDER = (DATA, CORE, CALIBRATION, COMMANDS)
PACKAGES = ("simulator", "calibration", "socialtwin")


def layer(module: str) -> str:
    if module.startswith("socialtwin"):
        return COMMANDS
    if module.startswith("calibration"):
        return CALIBRATION
    if module == "simulator.errors" or module.startswith("simulator.sources"):
        return DATA
    return CORE


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def upward_imports(graph) -> list[str]:
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if ORDER.index(layer(imported)) > ORDER.index(layer(importer)):
                lines = graph.get_import_details(importer=importer, imported=imported)
                where = ", ".join(f"line {detail['line_number']}" for detail in lines)
                found.append(f"{importer} ({layer(importer)}) imports {imported} "
                             f"({layer(imported)}) at {where}")
    return found


def package_imports(graph) -> set[tuple[str, str]]:
    """(importer, imported) pairs of distinct top-level packages."""
    return {(importer.split(".")[0], imported.split(".")[0])
            for importer in graph.modules
            for imported in graph.find_modules_directly_imported_by(importer)
            if importer.split(".")[0] != imported.split(".")[0]}


def test_no_layer_imports_a_layer_above_it(graph):
    assert upward_imports(graph) == []


def test_the_top_level_packages_import_one_another_without_a_cycle(graph):
    pairs = package_imports(graph)
    assert pairs == {("calibration", "simulator"), ("socialtwin", "simulator"),
                     ("socialtwin", "calibration")}
    assert not any((b, a) in pairs for a, b in pairs)


def test_the_check_sees_imports_inside_functions(tmp_path, monkeypatch):
    package = tmp_path / "simulator"
    (package / "sources").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sources" / "__init__.py").write_text("")
    (package / "sources" / "loader.py").write_text(
        "def load():\n    from simulator.model import Model\n    return Model\n")
    (package / "model.py").write_text("class Model:\n    pass\n")
    (tmp_path / "calibration").mkdir()
    (tmp_path / "calibration" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.split(".")[0] in ("simulator", "calibration")]:
        monkeypatch.delitem(sys.modules, name)
    found = upward_imports(grimp.build_graph("simulator", "calibration", cache_dir=None))
    assert found == ["simulator.sources.loader (data sources (simulator.sources, "
                     "simulator.errors)) imports simulator.model (simulator core) at line 2"]
