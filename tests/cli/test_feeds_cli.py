"""`travel feeds parse`, `travel feeds formats` and `travel sources` (contract: JSON Lines, exit 2 on bad input)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from feeds import FORMATS
from tests.services import free_port

FIXTURES = Path(__file__).parents[1] / "feeds" / "fixtures"


def travel(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "travel", *args], input=stdin, capture_output=True, timeout=60,
                          check=False, env={**os.environ, **(env or {})})


def test_parse_prints_one_json_line_per_record() -> None:
    result = travel("feeds", "parse", "--format", "datex2", str(FIXTURES / "datex2" / "v2_snapshot.xml"),
                    "--source", "hngs")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert lines and all(line["kind"] == "event" and line["id"].startswith("hngs:") for line in lines)
    assert any(line.get("road") == "G30" for line in lines)


def test_parse_reads_standard_input_and_prints_patches() -> None:
    data = (FIXTURES / "tabular" / "sa_status.csv").read_bytes()
    result = travel("feeds", "parse", "--format", "sa_status", "-", stdin=data)
    assert result.returncode == 0, result.stderr
    first = json.loads(result.stdout.decode().splitlines()[0])
    assert first["kind"] == "patch" and first["target_kind"] == "poi" and first["fields"]["open_status"] == "closed"


def test_invalid_input_is_one_line_on_stderr_exit_2_and_nothing_printed() -> None:
    bomb = b'<!DOCTYPE a [<!ENTITY b "bbbb"><!ENTITY c "&b;&b;&b;">]><alert>&c;</alert>'
    result = travel("feeds", "parse", "--format", "cap", "-", stdin=bomb)
    assert result.returncode == 2 and result.stdout == b""
    assert len(result.stderr.decode().strip().splitlines()) == 1 and "DTD" in result.stderr.decode()


def test_a_document_with_a_bad_item_is_refused_unless_lenient(tmp_path: Path) -> None:
    doc = tmp_path / "readings.csv"
    doc.write_text("gauge,observed_at,level_m\ngeodata:zhoukou,2026-07-15T08:00:00+08:00,46.31\n"
                   "geodata:zhoukou,not a time,46.5\n", encoding="utf-8")
    strict = travel("feeds", "parse", "--format", "gauge_readings", str(doc))
    assert strict.returncode == 2 and strict.stdout == b"" and "line 3" in strict.stderr.decode()
    lenient = travel("feeds", "parse", "--format", "gauge_readings", "--lenient", str(doc))
    assert lenient.returncode == 0 and len(lenient.stdout.splitlines()) == 1
    assert "line 3" in lenient.stderr.decode()


def test_a_missing_file_and_an_unknown_format_exit_2() -> None:
    assert travel("feeds", "parse", "--format", "cap", "/nonexistent.xml").returncode == 2
    unknown = travel("feeds", "parse", "--format", "rss", "-", stdin=b"")
    assert unknown.returncode == 2 and "cap" in unknown.stderr.decode()


def test_formats_lists_every_format() -> None:
    result = travel("feeds", "formats")
    assert [line.split("\t")[0] for line in result.stdout.decode().splitlines()] == list(FORMATS)


def test_sources_without_a_running_service_exits_2() -> None:
    result = travel("sources", "--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 2 and "cannot reach" in result.stderr.decode()
