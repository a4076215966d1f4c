"""Knowledge base: the programme, Guangdong's cities, lead companies and known parks.

The data lives in editable YAML files (``nlp/kb/*.yaml``) so that analysts can add a park or an
alias without touching code. This module turns them into the frozen dataclasses fixed by
docs/architecture.md and validates them up front: a typo in an id would otherwise surface much
later as a silently unlinked mention, so every error names the file and the entry.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

#: Directory of the bundled YAML files.
KB_DIR = Path(__file__).with_name("kb")


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
    def load(cls, directory: Path | None = None) -> KnowledgeBase:
        """Load and validate ``programme.yaml``, ``cities.yaml``, ``companies.yaml``, ``parks.yaml``.

        ``directory`` defaults to the bundled ``nlp/kb``; tests and deployments may point it
        elsewhere.
        """
        d = Path(directory) if directory is not None else KB_DIR
        programme = _load_programme(d / "programme.yaml")
        cities = _load_entries(d / "cities.yaml", "cities", _city)
        companies = _load_entries(d / "companies.yaml", "companies", _company)
        parks = _load_entries(d / "parks.yaml", "parks", _park)
        kb = cls(programme=programme, cities=cities, companies=companies, parks=parks)
        kb._check_references(companies_file="companies.yaml", parks_file="parks.yaml")
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

    def _check_references(self, *, companies_file: str, parks_file: str) -> None:
        for c in self.companies.values():
            if c.city is not None and c.city not in self.cities:
                raise KnowledgeBaseError(f"{companies_file}: company {c.id!r}: unknown city {c.city!r}")
        for p in self.parks.values():
            if p.city is not None and p.city not in self.cities:
                raise KnowledgeBaseError(f"{parks_file}: park {p.id!r}: unknown city {p.city!r}")
            if p.company is not None and p.company not in self.companies:
                raise KnowledgeBaseError(f"{parks_file}: park {p.id!r}: unknown company {p.company!r}")


# --------------------------------------------------------------------------- YAML readers


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise KnowledgeBaseError(f"{path.name}: file not found in {path.parent}")
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{path.name}: invalid YAML: {exc}") from exc


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


def _load_programme(path: Path) -> Programme:
    e = _Entry(path.name, "programme", _read_yaml(path),
               {"name_zh", "name_en", "planned_parks", "first_batch_year"})
    return Programme(
        name_zh=e.text("name_zh") or "",
        name_en=e.text("name_en") or "",
        planned_parks=e.integer("planned_parks") or 0,
        first_batch_year=e.integer("first_batch_year") or 0,
    )


def _city(e: _Entry) -> City:
    return City(id=e.text("id") or "", name_zh=e.text("name_zh") or "",
                name_en=e.text("name_en") or "", aliases=e.aliases(),
                districts=e.aliases("districts"))


def _company(e: _Entry) -> Company:
    return Company(id=e.text("id") or "", name_zh=e.text("name_zh") or "",
                   name_en=e.text("name_en") or "", aliases=e.aliases(),
                   city=e.text("city", required=False))


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


def _load_entries(path: Path, key: str, build: Any) -> dict[str, Any]:
    data = _read_yaml(path)
    if not isinstance(data, Mapping) or not isinstance(data.get(key), list):
        raise KnowledgeBaseError(f"{path.name}: expected a top-level list {key!r}")
    out: dict[str, Any] = {}
    for i, raw in enumerate(data[key], start=1):
        label = f"entry #{i}"
        if isinstance(raw, Mapping) and isinstance(raw.get("id"), str):
            label += f" ({raw['id']})"
        e = _Entry(path.name, label, raw, _FIELDS[key])
        obj = build(e)
        if not obj.id.startswith(_PREFIX[key]):
            e.fail(f"id must start with {_PREFIX[key]!r}")
        if obj.id in out:
            e.fail(f"duplicate id {obj.id!r}")
        out[obj.id] = obj
    _check_names(path.name, out)
    return out


def _check_names(fname: str, entries: Mapping[str, Any]) -> None:
    """Two entries of one kind sharing a name or alias could never be linked unambiguously."""
    owner: dict[str, str] = {}
    for obj in entries.values():
        for name in (obj.name_zh, obj.name_en, *obj.aliases, *getattr(obj, "districts", ())):
            if name is None:
                continue
            prev = owner.setdefault(name, obj.id)
            if prev != obj.id:
                raise KnowledgeBaseError(
                    f"{fname}: entry ({obj.id}): name {name!r} is already used by {prev!r}")
