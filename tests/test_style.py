"""The code's shape is checked, not hoped for: ruff passes, and no module or function is long.

A module of ``simulator``, ``calibration``, ``socialtwin`` or ``tools`` (the files git tracks)
has at most :data:`MODULE_LINES` lines, and a function or method (nested ones too) at most
:data:`FUNCTION_LINES`, from its ``def`` to its last line, docstring included.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("simulator", "calibration", "socialtwin", "tools")
MODULE_LINES = 400
FUNCTION_LINES = 60


def test_code_passes_ruff():
    pytest.importorskip("ruff")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "simulator", "calibration",
                           "socialtwin", "tests", "benchmarks", "tools", "notebooks"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def tracked_modules() -> list[Path]:
    """The Python modules of :data:`PACKAGES` that git tracks, relative to the repository."""
    done = subprocess.run(["git", "ls-files", "--", *(f"{p}/*.py" for p in PACKAGES)],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"not a git checkout: {done.stderr.strip()}")
    return [Path(name) for name in done.stdout.splitlines()]


def oversized(root: Path, modules: list[Path]) -> list[str]:
    """Each module over :data:`MODULE_LINES` and function over :data:`FUNCTION_LINES`, sized."""
    found = []
    for module in modules:
        text = (root / module).read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MODULE_LINES:
            found.append(f"{module.as_posix()}: {lines} lines (at most {MODULE_LINES})")
        for node in ast.walk(ast.parse(text, filename=str(module))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES:
                    found.append(f"{module.as_posix()}:{node.lineno} {node.name}: {length} lines "
                                 f"(at most {FUNCTION_LINES})")
    return found


def test_no_module_over_400_lines_and_no_function_over_60():
    modules = tracked_modules()
    assert any(m.as_posix() == "simulator/model.py" for m in modules)
    offenders = oversized(ROOT, modules)
    assert not offenders, "too long; split by concept:\n" + "\n".join(offenders)


def function(name: str, lines: int, indent: str = "") -> str:
    """Source of a function ``lines`` lines long, from its ``def`` to its last line."""
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(lines - 1))
    return f"{indent}def {name}():\n{body}"


def test_the_size_check_sees_methods_nested_functions_and_long_modules(tmp_path):
    at_the_limits = function("fits", FUNCTION_LINES) + "x = 0\n" * (MODULE_LINES - FUNCTION_LINES)
    files = {"fits.py": at_the_limits,
             "method.py": "class Thing:\n" + function("long", FUNCTION_LINES + 1, "    "),
             "nested.py": ("def outer():\n" + function("inner", FUNCTION_LINES + 1, "    ")
                           + "    return inner\n"),
             "big.py": "x = 0\n" * (MODULE_LINES + 1)}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert oversized(tmp_path, [Path(name) for name in files]) == [
        "method.py:2 long: 61 lines (at most 60)",
        "nested.py:1 outer: 63 lines (at most 60)",
        "nested.py:2 inner: 61 lines (at most 60)",
        "big.py: 401 lines (at most 400)",
    ]
