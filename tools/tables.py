"""Writing the tables a builder module computes: one CSV per builder, named by its key."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd


def write_tables(builders: Mapping[str, Callable[[Path], pd.DataFrame]], raw_dir: str | Path,
                 out_dir: Path, float_format: str | None = None) -> list[Path]:
    """Run every builder on ``raw_dir`` and write its table into ``out_dir``.

    Returns:
        The paths written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, builder in builders.items():
        path = out_dir / name
        builder(Path(raw_dir)).to_csv(path, index=False, float_format=float_format)
        written.append(path)
    return written
