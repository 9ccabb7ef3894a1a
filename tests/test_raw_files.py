"""The table builders run only on a folder holding every raw file they read."""

import pytest
from shared_files import SHARED

from simulator.errors import UsageError
from tools.build_tables import build_all
from tools.raw_files import RAW_FILES, check_raw_dir


def test_an_empty_or_missing_folder_is_refused_before_any_table_is_rebuilt(tmp_path,
                                                                          monkeypatch):
    rebuilt = []
    monkeypatch.setattr("tools.build_regions.build_all", rebuilt.append)
    with pytest.raises(UsageError) as error:
        build_all(tmp_path)
    assert str(error.value) == (
        f"--from: {tmp_path} lacks population/oi_geoids_state_pop2019.csv and "
        f"{len(RAW_FILES) + 1} more of the raw files the tables are built from; nothing was "
        "rebuilt (allowed: a folder with the layout of ../shared/data, see "
        "simulator/data/SOURCES.md)")
    with pytest.raises(UsageError, match=r"--from: .*absent is not a folder"):
        build_all(tmp_path / "absent")
    assert rebuilt == []


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data is not available")
def test_the_shared_data_folder_holds_every_raw_file():
    assert check_raw_dir(SHARED) == SHARED
