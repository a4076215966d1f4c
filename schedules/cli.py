"""The `parkwatch` command line.

Library errors become one clear line on stderr and a non-zero exit here, at the edge, and nowhere
else. Exit codes: 0 success, 1 an error the user must fix, 2 bad usage, 3 a crawl that finished but
recorded source errors (unreachable site, HTTP errors, bad feeds).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from schedules.config import Config, ConfigError, load_config, normalise_db
from schedules.errors import UserError

EXIT_ERROR, EXIT_USAGE, EXIT_SOURCE_ERRORS = 1, 2, 3

EXAMPLES = """\
examples:
  parkwatch demo                                  # offline demo on the bundled sample site
  parkwatch init                                  # create the database, load the knowledge base
  parkwatch crawl --sources sources.yaml          # crawl once, store articles, mentions, new parks
  parkwatch extract notice.html article.txt --json
  parkwatch parks --json ; parkwatch alerts --json ; parkwatch runs
  parkwatch parks --candidates ; parkwatch parks confirm park:found:…   # review doubtful finds
  parkwatch digest --week 2026-W48 --format html --out digest.html
  parkwatch eval --check                          # extraction P/R/F1 on the labelled corpus
  parkwatch schedule --sources sources.yaml       # nightly crawl + weekly digest, runs until stopped
"""


def _known_errors() -> tuple[type[BaseException], ...]:
    from crawler.errors import CrawlerError
    from nlp.kb import KnowledgeBaseError
    from store.errors import StoreError

    return (UserError, ConfigError, StoreError, KnowledgeBaseError, CrawlerError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parkwatch",
        description="Watch Chinese and English news for newly named Guangdong "
        '"5G + Industrial Internet" demonstration parks.',
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", help="SQLAlchemy URL or SQLite file path (env PARKWATCH_DB)")
    parser.add_argument("--data-dir", type=Path, help="data directory (env PARKWATCH_HOME)")
    parser.add_argument("--config", type=Path, help="YAML config file (env PARKWATCH_CONFIG)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace, Config], int], help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=handler)
        return p

    add("init", cmd_init, "create the database and load the knowledge base")
    p = add("crawl", cmd_crawl, "crawl the sources once and store what is found")
    p.add_argument("--sources", type=Path, help="sources file (YAML); default: config 'sources', else the bundled one")
    p.add_argument("--priority", choices=["high", "normal"], help="only sources of this priority")
    p.add_argument("--source", action="append", dest="only", metavar="NAME", help="only this source (repeatable)")
    p = add("extract", cmd_extract, "print the entities found in HTML or text files")
    p.add_argument("files", nargs="+", metavar="FILE", help="HTML or text file; '-' reads stdin")
    p.add_argument("--json", action="store_true", help="one JSON object per line per file")
    p.add_argument("--lang", choices=["zh", "en"], help="language (default: detected)")
    from schedules.eval_cmd import add_arguments as eval_arguments, cmd_eval

    eval_arguments(add("eval", cmd_eval, "score entity extraction on the bundled labelled corpus"))
    p = add("parks", cmd_parks, "list known and newly found parks; confirm or reject a found park")
    p.add_argument("action", nargs="?", choices=["list", "confirm", "reject"], default="list")
    p.add_argument("park_id", nargs="?", metavar="ID", help="park id (park:found:…) or row number")
    p.add_argument("--json", action="store_true")
    p.add_argument("--candidates", action="store_true",
                   help="only doubtful finds waiting for review (confirm alerts one, reject dismisses it)")
    p = add("alerts", cmd_alerts, "list alerts with their delivery state per channel; send or retry them")
    p.add_argument("action", nargs="?", choices=["list", "send", "retry"], default="list",
                   help="send: deliver what is due now; retry: failed and uncertain deliveries again")
    p.add_argument("--json", action="store_true")
    p = add("runs", cmd_runs, "list recent crawl runs with per-source counts and errors")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=10)
    p = add("digest", cmd_digest, "write the digest of a week or of dates, as Markdown, HTML or e-mail")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--week", metavar="YYYY-Www", help="an ISO week, e.g. 2026-W48")
    when.add_argument("--since", metavar="DATE", help="first day, e.g. 2026-11-16 (with --until)")
    when.add_argument("--days", type=int, help="the last N days up to now (the default: 7)")
    p.add_argument("--until", metavar="DATE", help="last day, inclusive (with --since)")
    p.add_argument("--format", choices=["md", "html", "email"],
                   help="md, html or email (an .eml message); default from --out's suffix, else md")
    p.add_argument("--out", type=Path, help="output file (default: stdout)")
    p = add("demo", cmd_demo, "run the whole pipeline offline on the bundled sample site")
    p.add_argument("--dir", type=Path, default=Path("parkwatch-demo"), help="where the demo writes (default ./parkwatch-demo)")
    p = add("schedule", cmd_schedule, "run the scheduler (nightly crawl, weekly digest) until stopped")
    p.add_argument("action", nargs="?", choices=["start", "list", "run"], default="start")
    p.add_argument("job", nargs="?", metavar="JOB", help="with 'run': the job id to run now (see 'schedule list')")
    p.add_argument("--sources", type=Path, help="sources file; default: config 'sources', else the bundled one")
    p.add_argument("--crawl", metavar="CRON", help="crawl schedule, cron syntax (default '0 2 * * *')")
    p.add_argument("--digest", metavar="CRON", help="digest schedule (default '0 8 * * mon')")
    p.add_argument("--poll", metavar="CRON", help="high-priority sources poll (default '0 * * * *', hourly)")
    p.add_argument("--timezone", help="time zone of the schedule (default Asia/Shanghai)")
    return parser


# --------------------------------------------------------------------------- helpers


def _check_database(cfg: Config) -> None:
    """One clear line now when the database is missing or not initialised."""
    from store.db import open_store

    with open_store(cfg.database_url):
        pass


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _print_json_lines(rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))


def _crawl_settings(cfg: Config, verbose: int = 0) -> Any:
    """Scrapy's own log stays quiet unless asked for: every failure is recorded in the run and
    summarised in one line per source, so a traceback on stderr would only bury that line."""
    from crawler.settings import CrawlSettings

    level = {0: "CRITICAL", 1: "INFO"}.get(verbose, "DEBUG")
    return CrawlSettings(contact=cfg.contact, download_delay=cfg.download_delay, log_level=level,
                         workers=cfg.workers)


# --------------------------------------------------------------------------- commands


def cmd_init(args: argparse.Namespace, cfg: Config) -> int:
    from schedules.database import init_database

    kb = init_database(cfg.database_url, cfg.kb_dir)
    print(f"database ready: {cfg.database_url}")
    if cfg.kb_dir is not None:
        print(f"knowledge base extended by {cfg.kb_dir}")
    print(f"knowledge base: {len(kb.parks)} parks, {len(kb.cities)} cities, {len(kb.companies)} companies")
    return 0


def _bundled_sources(announce: bool = False) -> Path:
    """No sources file configured: the bundled Guangdong/English sources (crawler/data/).

    Announced on stdout (information, not an error: stderr keeps its one-line-error rule)."""
    from crawler.sources import bundled_sources_path

    path = bundled_sources_path()
    if announce:
        print(f"no sources file configured, using the bundled one: {path}")
    return path


def cmd_crawl(args: argparse.Namespace, cfg: Config) -> int:
    from schedules.crawl import run_crawl_job

    sources = args.sources or cfg.sources or _bundled_sources(announce=True)
    report = run_crawl_job(cfg.database_url, sources, _crawl_settings(cfg, args.verbose), priority=args.priority, only=args.only,
                           alerts=cfg.alerts, kb_dir=cfg.kb_dir)
    if report.delivery is not None and report.delivery.anything:
        print(report.delivery.summary())
    return _print_crawl_report(report)


def _print_crawl_report(report: Any) -> int:
    print(
        f"crawl run {report.run_id}: {report.total('pages_fetched')} pages, "
        f"{report.total('articles_new')} new, {report.total('articles_changed')} changed, "
        f"{report.total('articles_unchanged')} unchanged articles; {len(report.new_parks)} new park(s)"
    )
    for name, url in report.new_parks:
        print(f"  NEW PARK: {name}  <{url}>")
    for name, url in report.candidates:
        print(f"  CANDIDATE (not alerted; see 'parkwatch parks --candidates'): {name}  <{url}>")
    failing = report.failing_sources()
    for source, kinds in failing.items():
        detail = ", ".join(f"{k} ×{n}" for k, n in sorted(kinds.items()))
        print(f"parkwatch: source '{source}' had errors: {detail} (see 'parkwatch runs')", file=sys.stderr)
    return EXIT_SOURCE_ERRORS if failing else 0


def cmd_extract(args: argparse.Namespace, cfg: Config) -> int:
    from schedules.extract_files import extract_files

    failures = 0
    for result in extract_files(args.files, cfg, lang=args.lang):
        if result.error:
            failures += 1
            print(f"parkwatch: {result.source}: {result.error}", file=sys.stderr)
            continue
        if args.json:
            _print_json_lines([result.as_json()])
        else:
            print(f"{result.source} [{result.lang}] {result.title or ''}".rstrip())
            for e in result.entities:
                flag = " NEW" if e.new else ""
                print(f"  {e.type:<8} {e.text}  → {e.id or '-'} {e.name_zh or ''} / {e.name_en or ''}{flag}")
    return EXIT_ERROR if failures else 0


def cmd_parks(args: argparse.Namespace, cfg: Config) -> int:
    from store.db import open_store
    from store.repository import entity_names, list_parks, max_confidence, park_evidence

    if args.action != "list":
        from schedules.alerts_cmd import set_park_status

        if not args.park_id:
            raise UserError(f"parks {args.action} needs a park ID (see 'parkwatch parks')")
        _check_database(cfg)
        park = set_park_status(cfg.database_url, args.park_id, "confirmed" if args.action == "confirm" else "rejected")
        print(f"{park.status}: {park.name_zh or park.name_en} ({park.kb_id})")
        return 0
    with open_store(cfg.database_url) as sessions, sessions() as session:
        names = entity_names(session)
        parks = list_parks(session, "candidate" if args.candidates else None)
        evidence = park_evidence(session)
        rows = []
        for p in parks:
            found = evidence.get(p.id, [])
            rows.append({
                "id": p.kb_id,
                "name_zh": p.name_zh,
                "name_en": p.name_en,
                "city": p.city_kb_id,
                "city_name": names.get(p.city_kb_id or "", (None, None))[1],
                "lead_company": p.company_kb_id,
                "lead_company_name": p.company_name or names.get(p.company_kb_id or "", (None, None))[0],
                "batch": p.batch,
                "origin": p.origin,
                "status": p.status,
                "first_seen_at": _iso(p.first_seen_at),
                "first_seen_url": p.first_seen_url,
                "first_seen_sentence": p.first_seen_sentence,
                "confidence": max_confidence(found),
                "evidence": [{"url": e.url, "sentence": e.sentence, "tags": list(e.tags), "confidence": e.confidence}
                             for e in found],
            })
    if args.json:
        _print_json_lines(rows)
    elif args.candidates:
        _print_candidates(rows)
    else:
        for r in rows:
            seen = f" first seen {r['first_seen_at'][:16]} {r['first_seen_url']}" if r["first_seen_at"] else ""
            ref = f"  ({r['id']})" if r["origin"] == "found" else ""  # the ID `parks confirm|reject` takes
            print(f"{r['status']:<9} batch {r['batch'] or '?'}  {r['name_zh'] or r['name_en']}  "
                  f"[{r['city_name'] or '?'}]{seen}{ref}")
    return 0


def _print_candidates(rows: Sequence[dict[str, Any]]) -> None:
    """Doubtful finds, surest first: why each was found, where, and the ID to confirm or reject."""
    if not rows:
        print("no candidates waiting for review")
        return
    rows = sorted(rows, key=lambda r: (-(r["confidence"] or 0.0), r["first_seen_at"] or "", r["id"]))
    for r in rows:
        confidence = "?" if r["confidence"] is None else f"{r['confidence']:.2f}"
        tags = sorted({t for e in r["evidence"] for t in e["tags"]})
        first = r["evidence"][0] if r["evidence"] else {"url": r["first_seen_url"], "sentence": r["first_seen_sentence"]}
        print(f"candidate {confidence}  {r['name_zh'] or r['name_en']}  [{r['city_name'] or '?'}]  "
              f"evidence: {', '.join(tags) or 'none recorded'}")
        when = f"first seen {r['first_seen_at'][:16]} " if r["first_seen_at"] else "first seen "
        print(f"    {when}<{first['url'] or '?'}>")
        if first["sentence"]:
            print(f"    “{' '.join(first['sentence'].split())}”")
        print(f"    parkwatch parks confirm {r['id']}   # or: parkwatch parks reject {r['id']}")


def cmd_alerts(args: argparse.Namespace, cfg: Config) -> int:
    from schedules import alerts_cmd

    _check_database(cfg)
    if args.action in ("send", "retry"):
        if args.action == "retry":
            reset, report = alerts_cmd.retry(cfg.database_url, cfg.alerts)
            print(f"{reset} failed or uncertain deliveries made due again")
        else:
            report = alerts_cmd.deliver(cfg.database_url, cfg.alerts)
        print(report.summary())
        for error in report.errors:
            print(f"parkwatch: alert delivery failed: {error}", file=sys.stderr)
        return EXIT_ERROR if report.failed else 0
    rows = alerts_cmd.alert_rows(cfg.database_url)
    if args.json:
        _print_json_lines(rows)
        return 0
    if not rows:
        print("no alerts")
    for r in rows:
        print(f"#{r['id']} {r['kind']} {r['created_at'][:16]}  {r['source']}  <{r['url']}>")
        for park in r["parks"]:
            flag = "" if park["status"] in ("new", "confirmed") else f"  ({park['status']})"
            print(f"    {park['name_zh']}{flag}")
        if not r["deliveries"]:
            print("    not delivered: no channel configured (PARKWATCH_ALERT_URLS)")
        for d in r["deliveries"]:
            extra = f", next try {d['next_attempt_at'][:16]}" if d["next_attempt_at"] and d["status"] == "failed" else ""
            error = f": {d['error']}" if d["error"] and d["status"] != "sent" else ""
            print(f"    {d['status']:<9} {d['channel']} ({d['attempts']} attempt(s){extra}){error}")
    return 0


def cmd_runs(args: argparse.Namespace, cfg: Config) -> int:
    from store.db import open_store
    from store.repository import list_runs, run_errors

    with open_store(cfg.database_url) as sessions, sessions() as session:
        rows = []
        for run in list_runs(session, args.limit):
            errors = [
                {"source": e.source, "url": e.url, "kind": e.kind, "reason": e.reason}
                for e in run_errors(session, run.id)
            ]
            rows.append(
                {
                    "id": run.id,
                    "status": run.status,
                    "started_at": _iso(run.started_at),
                    "finished_at": _iso(run.finished_at),
                    "sources": run.stats or {name: {} for name in run.sources},
                    "errors": errors,
                    "message": run.message,
                }
            )
    if args.json:
        _print_json_lines(rows)
        return 0
    if not rows:
        print("no crawl runs yet")
    for r in rows:
        print(f"run {r['id']} {r['status']} started {r['started_at'][:19]}")
        for name, st in r["sources"].items():
            errs = ", ".join(f"{k} ×{n}" for k, n in (st.get("errors") or {}).items()) or "no errors"
            print(
                f"  {name}: {st.get('pages_fetched', 0)} pages, {st.get('articles_new', 0)} new, "
                f"{st.get('articles_changed', 0)} changed, {st.get('articles_unchanged', 0)} unchanged; {errs}"
            )
            if st.get("requests") is not None:  # crawls since incremental crawling report these
                print(
                    f"    {st['requests']} requests, {st.get('not_modified', 0)} not modified, "
                    f"{st.get('skipped_known', 0)} known links skipped, {st.get('duplicates', 0)} near-duplicates, "
                    f"{st.get('attachments', 0)} attachments"
                )
        if r["message"]:
            print(f"  {r['message']}")
    return 0


def cmd_digest(args: argparse.Namespace, cfg: Config) -> int:
    from reports.digest_window import WindowError, date_span, iso_week, last_days
    from schedules.digest_job import write_digest

    tz = cfg.digest.timezone
    suffix = {".html": "html", ".htm": "html", ".eml": "email"}.get(args.out.suffix.lower(), "md") if args.out else "md"
    fmt = args.format or suffix
    try:
        if (args.since is None) != (args.until is None):
            raise UserError("--since and --until go together (both dates inclusive)")
        if args.week:
            window = iso_week(args.week, tz)
        elif args.since:
            window = date_span(args.since, args.until, tz)
        else:
            window = last_days(7 if args.days is None else args.days, datetime.now().astimezone(), tz)
    except WindowError as exc:
        raise UserError(str(exc)) from None
    data = write_digest(cfg.database_url, window=window, out=args.out, fmt=fmt, settings=cfg.digest, smtp=cfg.smtp,
                        kb_dir=cfg.kb_dir)
    if args.out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        print(f"digest {window.label} ({fmt}) written to {args.out}")
    return 0


def cmd_demo(args: argparse.Namespace, cfg: Config) -> int:
    from schedules.demo import run_demo

    return run_demo(args.dir, verbose=args.verbose > 0)


def cmd_schedule(args: argparse.Namespace, cfg: Config) -> int:
    from schedules import scheduler

    sched_cfg = cfg.schedule
    overrides = {k: v for k, v in (("crawl", args.crawl), ("digest", args.digest), ("timezone", args.timezone),
                                   ("poll", args.poll)) if v}
    if overrides:
        sched_cfg = replace(sched_cfg, **overrides)
    scheduler.validate(replace(cfg, schedule=sched_cfg))  # a bad cron is the one line printed
    if cfg.kb_dir is not None:  # a bad kb_dir is one line now, not a failed crawl every night
        from nlp.kb import KnowledgeBase

        KnowledgeBase.load(user_dir=cfg.kb_dir)
    crawls = args.action != "run" or args.job in (scheduler.CRAWL_JOB_ID, scheduler.POLL_JOB_ID)
    cfg = replace(cfg, schedule=sched_cfg,
                  sources=args.sources or cfg.sources or (_bundled_sources() if crawls else None))
    if args.action == "list":
        for line in scheduler.describe_jobs(cfg):
            print(line)
        return 0
    if args.action == "run":
        if not args.job:
            raise UserError(f"schedule run needs a job id: {', '.join(scheduler.JOB_IDS)}")
        print(scheduler.run_job_now(cfg, args.job))
        return 0
    if cfg.sources is None:
        raise UserError("no sources file: pass --sources FILE or set 'sources' in the config file")
    scheduler.run_forever(cfg)
    return 0


# --------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        cfg = load_config(args.config)
        if args.data_dir:
            cfg = replace(cfg, data_dir=args.data_dir)
        if args.db:
            cfg = replace(cfg, db_url=normalise_db(args.db))
        return int(args.handler(args, cfg))
    except _known_errors() as exc:
        print(f"parkwatch: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        print(f"parkwatch: error: database: {detail}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("parkwatch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `parkwatch alerts --json | head -1`: the reader left; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0



if __name__ == "__main__":
    sys.exit(main())
