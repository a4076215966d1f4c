"""README.md stays true: every CLI command documented, and CI runs the README's test command."""

from __future__ import annotations

import argparse
from pathlib import Path

from schedules.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [name for name in sub.choices if f"parkwatch {name}" not in readme]
    assert missing == []


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = "bash scripts/test.sh"
    assert f"```sh\n{test_command}\n```" in readme
    commands = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")]
    assert commands[-1] == test_command


def test_the_test_command_sets_up_what_the_tests_need() -> None:
    """The one command installs the Debian packages the suite uses, the venv and the extras."""
    script = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    for package in ("chromium", "fonts-noto-cjk", "postgresql", "redis-server"):
        assert package in script
    assert "pip install -q -e '.[test]'" in script and "python -m pytest" in script
