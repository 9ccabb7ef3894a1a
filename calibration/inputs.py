"""What the methods may read: inputs completed where the data allow, and missing ones named.

A region or a user's data folder may lack an input: Taiwan's temperature normals, Puerto Rico's
vaccination reports, an OxCGRT file without its stringency index or without the E and H
indicators, a folder with policy and mobility only. The protocol never crashes on such a gap:

- the stringency index, where OxCGRT did not record it, is computed from the indicators by
  OxCGRT's formula (every scope flag taken as general), as the twin's own timeline does;
- an indicator left unrecorded in some weeks counts as level 0, OxCGRT's own convention for
  absent data (the weekly tables already score weeks before a region's first record so);
- a column with no value at all in the rows a method is fitted on is left out of that method's
  features, and a method left with no feature is left out of the comparison.

Each of these is said in a note (:func:`complete`, :func:`available`) that the command prints
and the report keeps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from simulator.sources.indicators import OXCGRT_INDICATORS, stringency_index

INDEX = "stringency_index"


def indicator_columns(inputs: pd.DataFrame) -> list[str]:
    """The OxCGRT indicator columns of an inputs frame (``c1_...`` to ``h8_...``)."""
    return [c for c in inputs.columns if c[:1] in "ceh" and c[1:2].isdigit()
            and not c.endswith("_flag")]


def complete(inputs: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Fill what the data allow: unrecorded indicator weeks as 0, the index from its formula.

    Returns:
        The completed inputs and a note per fill (empty when nothing was missing).
    """
    inputs = inputs.copy()
    notes = []
    indicators = [c for c in indicator_columns(inputs) if inputs[c].notna().any()]
    gaps = {c: int(inputs[c].isna().sum()) for c in indicators if inputs[c].isna().any()}
    if gaps:
        inputs[list(gaps)] = inputs[list(gaps)].fillna(0.0)
        notes.append("indicator weeks not recorded, counted as level 0 (OxCGRT's convention): "
                     + ", ".join(f"{c} {n}" for c, n in gaps.items()))
    index = inputs[INDEX] if INDEX in inputs else pd.Series(np.nan, index=inputs.index)
    missing = index.isna().to_numpy()
    if missing.any():
        known = [c for c in indicators if c in OXCGRT_INDICATORS]
        levels = inputs.loc[missing, known].to_dict("records")
        inputs.loc[missing, INDEX] = [stringency_index(row) for row in levels]
        regions = sorted(inputs.loc[missing, "region"].unique())
        notes.append(f"{INDEX}: {int(missing.sum())} region-weeks without OxCGRT's index "
                     f"({', '.join(regions[:8])}{', ...' if len(regions) > 8 else ''}) "
                     "computed from the indicators by OxCGRT's formula (general scope)")
    return inputs, notes


def available(inputs: pd.DataFrame, columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """The columns that have a value in the training rows, and those that do not (or are absent).

    Args:
        inputs: inputs with a ``window`` column (``train`` marks the rows methods are fitted on).
        columns: the columns a method would read.
    """
    train = inputs[inputs["window"] == "train"]
    kept = [c for c in columns if c in train and train[c].notna().any()]
    return kept, [c for c in columns if c not in kept]
