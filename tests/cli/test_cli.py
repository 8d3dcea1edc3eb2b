"""The command line: `travel import bundle` is idempotent; bad usage exits 2 with a reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["TRAVEL_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "travel", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_import_bundle_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    first = run("import", "bundle", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    assert " 0 unchanged" in first.stderr and "road_section" in first.stderr
    second = run("import", "bundle", data_dir=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "0 new, 0 updated" in second.stderr
    assert (tmp_path / "travel.sqlite3").exists()


def test_unknown_command_exits_2(tmp_path: Path) -> None:
    result = run("frobnicate", data_dir=tmp_path)
    assert result.returncode == 2 and "invalid choice" in result.stderr
