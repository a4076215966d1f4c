"""Knowledge base: the programme, Guangdong's cities, lead companies and known parks.

The data lives in editable YAML files (``nlp/kb/*.yaml``) so that analysts can add a park or an
alias without touching code. This module turns them into the frozen dataclasses fixed by
docs/architecture.md and validates them up front: a typo in an id would otherwise surface much
later as a silently unlinked mention, so every error names the file and the entry.

A user's own folder (the ``kb_dir`` setting) extends or overrides the bundled files without
editing the installed package: the same file names and schema, each file optional; an entry
whose id is already known replaces the bundled one, a new id is added
(``KnowledgeBase.load(user_dir=...)``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

#: Directory of the bundled YAML files.
KB_DIR = Path(__file__).with_name("kb")

#: The files a knowledge-base folder holds (a user's ``kb_dir`` may hold any of them).
KB_FILES = ("programme.yaml", "cities.yaml", "companies.yaml", "parks.yaml")


class KnowledgeBaseError(ValueError):
    """The KB data is invalid; the message names the file and the entry."""


@dataclass(frozen=True)
class City:
    id: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...] = ()
    #: Districts, counties and zones named in coverage instead of the city (顺德 → Foshan).
    #: A district mention links to its city; only unambiguous names belong here.
    districts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Company:
    id: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...] = ()
    city: str | None = None
    #: Short forms that are also ordinary words (美的 "beautiful", 中兴 "revival"): the extractor
    #: takes them for this company only where the context makes them one, never like ``aliases``.
    ambiguous: tuple[str, ...] = ()
    #: The group this company belongs to (工业富联 → 富士康), for reading only: never linked.
    parent: str | None = None


@dataclass(frozen=True)
class Park:
    id: str
    name_zh: str
    name_en: str | None
    city: str | None
    company: str | None
    batch: int | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Programme:
    name_zh: str
    name_en: str
    planned_parks: int
    first_batch_year: int


@dataclass
class KnowledgeBase:
    programme: Programme
    cities: dict[str, City] = field(default_factory=dict)
    companies: dict[str, Company] = field(default_factory=dict)
    parks: dict[str, Park] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path | None = None, user_dir: Path | str | None = None) -> KnowledgeBase:
        """Load and validate ``programme.yaml``, ``cities.yaml``, ``companies.yaml``, ``parks.yaml``.

        ``directory`` defaults to the bundled ``nlp/kb``; tests and deployments may point it
        elsewhere. ``user_dir`` (the ``kb_dir`` setting) is a folder whose files of the same names
        and schema, each optional, extend it: an entry with a known id replaces that entry, a new
        id is added, and the fields of its ``programme.yaml`` replace those given.
        """
        d = Path(directory) if directory is not None else KB_DIR
        programme = _load_programme(d / "programme.yaml")
        cities = _load_entries(d / "cities.yaml", "cities", _city)
        companies = _load_entries(d / "companies.yaml", "companies", _company)
        parks = _load_entries(d / "parks.yaml", "parks", _park)
        kb = cls(programme=programme, cities=cities, companies=companies, parks=parks)
        if user_dir is None:
            kb._check_references(companies_file="companies.yaml", parks_file="parks.yaml")
            return kb
        return kb._extended(Path(user_dir).expanduser())

    def _extended(self, folder: Path) -> KnowledgeBase:
        """This knowledge base extended by the files in ``folder`` (see ``load``)."""
        where = f"kb_dir {folder}"
        if not folder.exists():
            raise KnowledgeBaseError(f"{where}: folder not found")
        if not folder.is_dir():
            raise KnowledgeBaseError(f"{where}: not a folder")
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in (".yaml", ".yml") and f.name not in KB_FILES:
                raise KnowledgeBaseError(
                    f"{f}: not a knowledge-base file (a kb_dir holds {', '.join(KB_FILES)})")
        origins: dict[str, str] = {}   # id -> the file its entry comes from, for error messages
        programme = self.programme
        if (folder / "programme.yaml").is_file():
            programme = _load_programme(folder / "programme.yaml", base=programme)
        merged: dict[str, dict[str, Any]] = {}
        for key, build, current in (("cities", _city, self.cities), ("companies", _company, self.companies),
                                    ("parks", _park, self.parks)):
            path = folder / f"{key}.yaml"
            bundled_file = f"{key}.yaml"
            table = dict(current)
            origins.update({i: bundled_file for i in table})
            if path.is_file():
                mine = _load_entries(path, key, build, label=str(path), strict=True)
                for obj in mine.values():
                    table[obj.id] = obj
                    origins[obj.id] = str(path)
                _check_names(f"{key}.yaml", table, origins)
            merged[key] = table
        kb = KnowledgeBase(programme, merged["cities"], merged["companies"], merged["parks"])
        kb._check_references(companies_file="companies.yaml", parks_file="parks.yaml", origins=origins)
        return kb

    def with_parks(self, extra: Iterable[Park]) -> KnowledgeBase:
        """A copy with ``extra`` parks added (e.g. parks found earlier and stored in the DB).

        A park whose id is already present replaces it: the stored copy is the newer
        knowledge. References are validated like the bundled data.
        """
        parks = dict(self.parks)
        for p in extra:
            if not isinstance(p, Park):
                raise KnowledgeBaseError(f"with_parks: expected Park, got {type(p).__name__}")
            parks[p.id] = p
        kb = KnowledgeBase(self.programme, dict(self.cities), dict(self.companies), parks)
        kb._check_references(companies_file="companies.yaml", parks_file="with_parks")
        return kb

    def _check_references(self, *, companies_file: str, parks_file: str,
                          origins: Mapping[str, str] | None = None) -> None:
        """Every city and company an entry names exists; ``origins`` (id -> file) names the file
        of each entry when they come from more than one."""
        origins = origins or {}
        for c in self.companies.values():
            if c.city is not None and c.city not in self.cities:
                raise KnowledgeBaseError(
                    f"{origins.get(c.id, companies_file)}: company {c.id!r}: unknown city {c.city!r}")
        for p in self.parks.values():
            where = origins.get(p.id, parks_file)
            if p.city is not None and p.city not in self.cities:
                raise KnowledgeBaseError(f"{where}: park {p.id!r}: unknown city {p.city!r}")
            if p.company is not None and p.company not in self.companies:
                raise KnowledgeBaseError(f"{where}: park {p.id!r}: unknown company {p.company!r}")


# --------------------------------------------------------------------------- YAML readers


def _read_yaml(path: Path, label: str | None = None) -> Any:
    label = label or path.name
    if not path.is_file():
        raise KnowledgeBaseError(f"{path.name}: file not found in {path.parent}")
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{label}: invalid YAML: {_yaml_problem(exc)}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeBaseError(f"{label}: cannot read: {exc}") from exc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error on one line: what is wrong and where (PyYAML's own text spans several)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if problem and mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(str(exc).split())


class _Entry:
    """Typed field access to one YAML mapping, producing errors that say where."""

    def __init__(self, fname: str, where: str, raw: Any, allowed: set[str]) -> None:
        self.fname, self.where = fname, where
        if not isinstance(raw, Mapping):
            self.fail(f"expected a mapping, got {type(raw).__name__}")
        unknown = set(raw) - allowed
        if unknown:
            self.fail(f"unknown field(s) {sorted(map(str, unknown))}")
        self.raw = raw

    def fail(self, msg: str) -> None:
        raise KnowledgeBaseError(f"{self.fname}: {self.where}: {msg}")

    def text(self, key: str, *, required: bool = True) -> str | None:
        v = self.raw.get(key)
        if v is None:
            if required:
                self.fail(f"missing field {key!r}")
            return None
        if not isinstance(v, str) or not v.strip():
            self.fail(f"field {key!r} must be a non-empty string")
        return v.strip()

    def integer(self, key: str, *, required: bool = True) -> int | None:
        v = self.raw.get(key)
        if v is None:
            if required:
                self.fail(f"missing field {key!r}")
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(f"field {key!r} must be an integer")
        return v

    def aliases(self, key: str = "aliases") -> tuple[str, ...]:
        v = self.raw.get(key) or []
        if not isinstance(v, list) or not all(isinstance(a, str) and a.strip() for a in v):
            self.fail(f"field {key!r} must be a list of non-empty strings")
        return tuple(dict.fromkeys(a.strip() for a in v))


def _load_programme(path: Path, base: Programme | None = None) -> Programme:
    """The programme; with ``base`` (a user's file over the bundled one) every field is optional
    and those given replace the bundled ones."""
    label = path.name if base is None else str(path)
    e = _Entry(label, "programme", _read_yaml(path, label),
               {"name_zh", "name_en", "planned_parks", "first_batch_year"})
    if base is not None:
        return Programme(
            name_zh=e.text("name_zh", required=False) or base.name_zh,
            name_en=e.text("name_en", required=False) or base.name_en,
            planned_parks=_or(e.integer("planned_parks", required=False), base.planned_parks),
            first_batch_year=_or(e.integer("first_batch_year", required=False), base.first_batch_year),
        )
    return Programme(
        name_zh=e.text("name_zh") or "",
        name_en=e.text("name_en") or "",
        planned_parks=e.integer("planned_parks") or 0,
        first_batch_year=e.integer("first_batch_year") or 0,
    )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _city(e: _Entry) -> City:
    return City(id=e.text("id") or "", name_zh=e.text("name_zh") or "",
                name_en=e.text("name_en") or "", aliases=e.aliases(),
                districts=e.aliases("districts"))


def _company(e: _Entry) -> Company:
    return Company(id=e.text("id") or "", name_zh=e.text("name_zh") or "",
                   name_en=e.text("name_en") or "", aliases=e.aliases(),
                   city=e.text("city", required=False), ambiguous=e.aliases("ambiguous"), parent=e.text("parent", required=False))


def _park(e: _Entry) -> Park:
    if "city" not in e.raw or "company" not in e.raw or "batch" not in e.raw:
        e.fail("fields 'city', 'company' and 'batch' are required (use null when unknown)")
    return Park(id=e.text("id") or "", name_zh=e.text("name_zh") or "",
                name_en=e.text("name_en", required=False), city=e.text("city", required=False),
                company=e.text("company", required=False), batch=e.integer("batch", required=False),
                aliases=e.aliases())


_FIELDS: dict[str, set[str]] = {
    "cities": {f.name for f in dataclasses.fields(City)},
    "companies": {f.name for f in dataclasses.fields(Company)},
    "parks": {f.name for f in dataclasses.fields(Park)},
}
_PREFIX = {"cities": "city:", "companies": "company:", "parks": "park:"}


def _load_entries(path: Path, key: str, build: Any, label: str | None = None, strict: bool = False
                  ) -> dict[str, Any]:
    """The entries of one file, validated; ``label`` names the file in errors (default its name).

    ``strict`` (a user's file) refuses top-level keys other than ``key``: a typo there would
    otherwise drop the entries silently."""
    label = label or path.name
    data = _read_yaml(path, label)
    if not isinstance(data, Mapping) or not isinstance(data.get(key), list):
        raise KnowledgeBaseError(f"{label}: expected a top-level list {key!r}")
    unknown = set(data) - {key}
    if unknown and strict:
        raise KnowledgeBaseError(f"{label}: unknown top-level key(s) {sorted(map(str, unknown))}")
    out: dict[str, Any] = {}
    file_label = label
    for i, raw in enumerate(data[key], start=1):
        label = f"entry #{i}"
        if isinstance(raw, Mapping) and isinstance(raw.get("id"), str):
            label += f" ({raw['id']})"
        e = _Entry(file_label, label, raw, _FIELDS[key])
        obj = build(e)
        if not obj.id.startswith(_PREFIX[key]):
            e.fail(f"id must start with {_PREFIX[key]!r}")
        if obj.id in out:
            e.fail(f"duplicate id {obj.id!r}")
        out[obj.id] = obj
    _check_names(file_label, out)
    return out


def _check_names(fname: str, entries: Mapping[str, Any], origins: Mapping[str, str] | None = None) -> None:
    """Two entries of one kind sharing a name or alias could never be linked unambiguously.

    ``origins`` (id -> file) is given when a user's entries were merged over the bundled ones
    (``fname``): the error then names the user's file and entry, and the entry it collides with.
    """
    owner: dict[str, str] = {}
    for obj in entries.values():
        names = (obj.name_zh, obj.name_en, *obj.aliases, *getattr(obj, "districts", ()),
                 *getattr(obj, "ambiguous", ()))
        for name in dict.fromkeys(names):
            if name is None:
                continue
            prev = owner.setdefault(name, obj.id)
            if prev == obj.id:
                continue
            if origins is None:
                raise KnowledgeBaseError(f"{fname}: entry ({obj.id}): name {name!r} is already used by {prev!r}")
            mine, theirs = obj.id, prev
            if origins.get(mine, fname) == fname and origins.get(theirs, fname) != fname:
                mine, theirs = theirs, mine  # report it from the user's side
            where, other = origins.get(mine, fname), origins.get(theirs, fname)
            other = f"the bundled {other}" if other == fname else other
            raise KnowledgeBaseError(
                f"{where}: entry ({mine}): name {name!r} is already used by {theirs!r} in {other}")
