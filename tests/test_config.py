"""Configuration precedence and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from schedules.config import ConfigError, ScheduleConfig, load_config, normalise_db


def test_defaults_without_file_or_environment(tmp_path: Path) -> None:
    cfg = load_config(env={"XDG_DATA_HOME": str(tmp_path)})
    assert cfg.database_url == f"sqlite:///{tmp_path / 'parkwatch' / 'parkwatch.db'}"
    assert cfg.schedule == ScheduleConfig()
    assert cfg.schedule.timezone == "Asia/Shanghai"


def test_file_then_environment_override(tmp_path: Path) -> None:
    f = tmp_path / "pw.yaml"
    f.write_text("data_dir: /srv/pw\ncontact: me@example.org\nschedule:\n  crawl: '30 1 * * *'\n")
    cfg = load_config(f, env={})
    assert cfg.data_dir == Path("/srv/pw")
    assert cfg.schedule.crawl == "30 1 * * *" and cfg.schedule.digest == ScheduleConfig().digest
    cfg = load_config(f, env={"PARKWATCH_DB": "postgresql://h/pw", "PARKWATCH_CONTACT": "ops@example.org"})
    assert cfg.database_url == "postgresql://h/pw" and cfg.contact == "ops@example.org"


@pytest.mark.parametrize(
    "text, message",
    [
        ("colour: blue\n", "unknown setting(s): colour"),
        ("schedule:\n  when: never\n", "unknown schedule setting(s): when"),
        ("schedule: nightly\n", "'schedule' must be a mapping"),
        ("- a\n- b\n", "must be a mapping of settings"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_bad_config_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "pw.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        load_config(f, env={})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml", env={})


def test_plain_paths_become_sqlite_urls(tmp_path: Path) -> None:
    assert normalise_db(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    assert normalise_db("postgresql://h/db") == "postgresql://h/db"


def test_workers_setting_reaches_the_crawl(tmp_path: Path) -> None:
    from schedules.cli import _crawl_settings

    f = tmp_path / "pw.yaml"
    f.write_text("workers: 3\n")
    cfg = load_config(f, env={})
    assert cfg.workers == 3 and _crawl_settings(cfg).workers == 3
    assert load_config(env={}).workers is None  # default: one per CPU, decided by the crawler
    for bad in ("workers: -1\n", "workers: two\n", "workers: true\n"):
        f.write_text(bad)
        with pytest.raises(ConfigError, match="'workers' must be a whole number"):
            load_config(f, env={})
