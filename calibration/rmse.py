"""Errors of predicted observed metrics: RMSE per method and category, pooled and per region."""

from __future__ import annotations

import numpy as np
import pandas as pd


def rmse_table(predictions: dict[str, pd.DataFrame], targets: pd.DataFrame) -> pd.DataFrame:
    """RMSE (percentage points) per method and category, pooled over regions, and their mean."""
    rows = {}
    for name, predicted in predictions.items():
        errors = predicted[targets.columns] - targets
        rmse = np.sqrt((errors**2).mean(skipna=True))
        rows[name] = {**rmse.to_dict(), "macro": float(rmse.mean())}
    return pd.DataFrame.from_dict(rows, orient="index")


def region_rmse_table(predictions: dict[str, pd.DataFrame], targets: pd.DataFrame,
                      regions: pd.Series) -> pd.DataFrame:
    """RMSE per region, method and category (and their macro mean), one row per region and method.

    Args:
        predictions: method -> predictions of the rows of ``targets``.
        targets: observed metrics.
        regions: the region of each row.
    """
    frames = []
    for region in sorted(regions.unique()):
        rows = (regions == region).to_numpy()
        table = rmse_table({k: v[rows] for k, v in predictions.items()}, targets[rows])
        frames.append(table.rename_axis("method").reset_index().assign(region=region))
    frame = pd.concat(frames, ignore_index=True)
    return frame[["region", *frame.columns.drop("region")]]
