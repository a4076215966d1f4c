"""`parkwatch demo`, as a newcomer runs it."""

from __future__ import annotations

from pathlib import Path

from tests.pipeline_helpers import SECOND_BATCH, run_cli


def test_demo_catches_the_second_batch_once_and_writes_the_digest(tmp_path: Path) -> None:
    result = run_cli("demo", "--dir", str(tmp_path / "demo"), timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    new_lines = [line for line in out.splitlines() if "NEW PARK" in line]
    assert len(new_lines) == 2 and {n for n in SECOND_BATCH if any(n in line for line in new_lines)} == SECOND_BATCH
    assert "alerts (2, each sent once)" in out
    digest = (tmp_path / "demo" / "digest.md").read_text(encoding="utf-8")
    for name in SECOND_BATCH:
        assert name in digest
    assert str(tmp_path / "demo" / "parkwatch.db") in out
    # running it again starts fresh and tells the same story
    again = run_cli("demo", "--dir", str(tmp_path / "demo"), timeout=300)
    assert again.returncode == 0 and "alerts (2, each sent once)" in again.stdout
