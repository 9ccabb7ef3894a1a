"""A ``socialtwin`` command run as a user runs it: a child process, its JSON, time and memory."""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_json(arguments: list[str]) -> tuple[dict, float, float]:
    """Run ``python -m socialtwin ARGUMENTS`` from the repository.

    Returns:
        ``(result, wall_s, peak_gb)``: the JSON object of its last line of output, its wall
        time and the peak resident set size of the children so far (this one's, as the
        benchmarks run one command each).
    """
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "socialtwin", *arguments], cwd=ROOT,
                          env=environment, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    return json.loads(done.stdout.strip().splitlines()[-1]), wall, peak_gb
