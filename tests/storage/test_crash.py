"""A writer SIGKILLed at 200 random moments never leaves a broken vault."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_sigkill_at_random_points_leaves_old_or_new(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = subprocess.run(
        [sys.executable, "-m", "tests.storage.crash_harness", str(home), os.urandom(32).hex(), "200", "1234"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    tally = json.loads(proc.stdout.strip().splitlines()[-1])
    assert tally["problems"] == []
    assert tally["kills"] == 200
    assert tally["corrupt_files"] == 0
    # The kills must land while writing, or the test proves nothing.
    assert tally["progressed"] >= 20, tally
    assert tally["temps_left"] >= 1, tally  # some kills hit a write in progress
    # Temp files of killed writers are cleaned up by the next writer.
    assert tally["temps_after_next_write"] == 0
