"""The exit codes of the ``socialtwin`` command, and the one that reports failed answers."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

FAILED_ANSWERS = 3
EXIT_CODES = """exit codes:
  0    done
  1    a paid sweep was not confirmed (sweep)
  2    bad input, or an output folder or file refused: one error line, nothing written
  3    --fail-on-failed-answers and some answers failed (the folder is written)
  130  interrupted (answers obtained so far are in the response cache)"""
"""The epilog of the commands that write a run or sweep folder."""


def failed_answers_status(manifest: Mapping, folder: Path, fail: bool) -> int:
    """The exit code of a written run or sweep: 3 if ``fail`` and answers failed (said), else 0."""
    failed = manifest["failed_answers"]
    if not fail or not failed:
        return 0
    asked = manifest.get("answers", manifest.get("questions"))
    print(f"socialtwin: error: {failed:,} of {asked:,} answers failed "
          f"(--fail-on-failed-answers); the folder {folder} is written and its report counts "
          "them", file=sys.stderr)
    return FAILED_ANSWERS
