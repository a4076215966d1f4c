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
    # one grouped message for the notice naming both parks, delivered once over four crawls
    assert "webhook messages received: 1\n" in out
    assert "park alerts: 2, each in the outbox once:" in out
    sent = [line.rsplit(",", 1)[1] for line in out.splitlines() if "alert message(s) sent" in line]
    assert [s.strip() for s in sent] == ["0 alert message(s) sent"] * 2 + ["1 alert message(s) sent"] + \
        ["0 alert message(s) sent"]
    for digest in ("digest.md", "digest.html"):
        text = (tmp_path / "demo" / digest).read_text(encoding="utf-8")
        for name in SECOND_BATCH:
            assert name in text
    assert str(tmp_path / "demo" / "parkwatch.db") in out
    # running it again starts fresh and tells the same story
    again = run_cli("demo", "--dir", str(tmp_path / "demo"), timeout=300)
    assert again.returncode == 0 and "webhook messages received: 1\n" in again.stdout
