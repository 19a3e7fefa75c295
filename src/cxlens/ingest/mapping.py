"""Mappings from an export's columns to a kind's canonical fields, and the shipped presets.

The YAML form is documented in docs/mapping.md. A mapping is data, not code: it can be
written by hand, shipped as a preset, or proposed from a header by :mod:`cxlens.ingest.propose`.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cxlens import safe_yaml
from cxlens.errors import InputError, UserError
from cxlens.schema import KINDS, kind

PRESET_PACKAGE = "cxlens.sources.presets"
DECIMALS = (",", ".")
THOUSANDS = (",", ".", "'", " ", "none")


@dataclass
class Rule:
    """How one canonical field gets its value."""

    column: str | None = None
    value: str | None = None
    format: str | None = None
    decimal: str | None = None
    # The thousands separator of a number column: ",", ".", "'", " " or "none" (issue 9).
    thousands: str | None = None
    map: dict[str, str] | None = None

    def to_yaml(self) -> str | dict[str, Any]:
        items = {k: v for k, v in vars(self).items() if v is not None}
        return self.column if list(items) == ["column"] else items  # type: ignore[return-value]


@dataclass
class Mapping:
    kind: str
    columns: dict[str, Rule]
    source: str | None = None
    name: str | None = None
    description: str | None = None
    read: dict[str, str] = field(default_factory=dict)
    country: str = "FI"
    properties: str = "rest"
    # Whether the mapping says its country (``country:``): only a stated country settles
    # an ambiguous day/month order (docs/mapping.md, "Dates").
    country_set: bool = False
    # The fields that identify a record when the kind's own key is absent or not stable
    # (a ticket export without an id): a row with the same values is a change of the
    # same record, not a new one (docs/mapping.md, "key").
    key: list[str] | None = None

    @property
    def label(self) -> str:
        return self.name or "custom mapping"

    def source_columns(self) -> list[str]:
        return [r.column for r in self.columns.values() if r.column]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for key in ("name", "description", "source"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.read:
            out["read"] = dict(self.read)
        out["country"] = self.country
        out["columns"] = {f: r.to_yaml() for f, r in self.columns.items()}
        if self.key:
            out["key"] = list(self.key)
        out["properties"] = self.properties
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)


def parse_mapping(data: Any, origin: str,
                  lines: dict[tuple[str, ...], int] | None = None) -> Mapping:
    """Build a Mapping from parsed YAML, with messages that name the bad key.

    ``lines`` maps a key path such as ``("columns", "ts")`` to its line in the file, so that
    errors can say where the bad key is.
    """
    at = lines or {}
    if not isinstance(data, dict):
        raise InputError("a mapping must be a YAML dictionary", file=origin,
                         hint="see docs/mapping.md for the form")
    k = data.get("kind")
    if k not in KINDS:
        raise InputError(f"unknown or missing kind {k!r}", file=origin, line=at.get(("kind",)),
                         hint=f"set kind: to one of {', '.join(KINDS)}")
    canonical = kind(k)
    cols = data.get("columns") or {}
    if not isinstance(cols, dict):
        raise InputError("columns: must be a dictionary", file=origin,
                         line=at.get(("columns",)),
                         hint="write `field: Source column` lines under columns:")
    rules: dict[str, Rule] = {}
    for fname, spec in cols.items():
        line = at.get(("columns", str(fname)))
        if fname not in canonical.field_names:
            raise InputError(
                f"{fname!r} is not a field of kind {k}", file=origin, line=line,
                hint=f"fields of {k}: {', '.join(canonical.field_names)}",
            )
        if isinstance(spec, str):
            rules[fname] = Rule(column=spec)
        elif isinstance(spec, dict):
            unknown = set(spec) - {"column", "value", "format", "decimal", "thousands", "map"}
            if unknown:
                raise InputError(f"unknown key(s) {sorted(unknown)} for field {fname!r}",
                                 file=origin, line=line,
                                 hint="use column, value, format, decimal, thousands, map")
            for opt, allowed in (("decimal", DECIMALS), ("thousands", THOUSANDS)):
                if opt in spec and _opt_str(spec[opt]) not in allowed:
                    raise InputError(
                        f"{opt}: {spec[opt]!r} of field {fname!r} is not a separator cxlens "
                        "reads", file=origin, line=line,
                        hint=f"use one of {', '.join(repr(a) for a in allowed)}")
            if ("column" in spec) == ("value" in spec):
                raise InputError(f"field {fname!r} needs exactly one of column: or value:",
                                 file=origin, line=line,
                                 hint="name the source column, or give a value")
            rules[fname] = Rule(
                column=_opt_str(spec.get("column")),
                value=_opt_str(spec.get("value")),
                format=_opt_str(spec.get("format")),
                decimal=_opt_str(spec.get("decimal")),
                thousands=_opt_str(spec.get("thousands")),
                map={str(a): str(b) for a, b in (spec.get("map") or {}).items()} or None,
            )
        else:
            raise InputError(f"field {fname!r} must be a column name or a rule", file=origin,
                             line=line, hint="see docs/mapping.md")
    key = data.get("key")
    if key is not None:
        key = [key] if isinstance(key, str) else key
        if not isinstance(key, list) or not key or any(
                not isinstance(f, str) or f not in rules for f in key):
            raise InputError(
                "key: must list fields of this mapping (e.g. key: [email, ts])",
                file=origin, line=at.get(("key",)),
                hint="name the mapped fields that together identify a record; mapped: "
                     f"{', '.join(rules)}")
        if canonical.name == "customers":
            raise InputError("key: does not apply to customers (a customer is identified "
                             "by its crm_id, email, loyalty_id or phone)", file=origin,
                             line=at.get(("key",)), hint="remove key:")
    props = str(data.get("properties", "rest"))
    if props not in ("rest", "none"):
        raise InputError("properties: must be rest or none", file=origin,
                         line=at.get(("properties",)), hint="use rest")
    return Mapping(
        kind=k, columns=rules, source=_opt_str(data.get("source")),
        name=_opt_str(data.get("name")), description=_opt_str(data.get("description")),
        read={str(a): str(b) for a, b in (data.get("read") or {}).items()},
        country=str(data.get("country") or "FI").upper(), properties=props,
        country_set=bool(data.get("country")),
        key=[str(f) for f in key] if key else None,
    )


def _opt_str(v: Any) -> str | None:
    return None if v is None else str(v)


def load_mapping(path: Path) -> Mapping:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = safe_yaml.load(text)
    except FileNotFoundError:
        raise InputError("mapping file not found", file=str(path), hint="check the path") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"the mapping is not valid YAML: {getattr(exc, 'problem', exc)}",
                         file=str(path), line=(mark.line + 1) if mark else None,
                         hint="fix the YAML syntax") from None
    return parse_mapping(data, str(path), _key_lines(text))


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Line (1-based) of each key of the top level and of the dictionaries below it."""
    out: dict[tuple[str, ...], int] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode) and len(path) < 2:
            for key, value in node.value:
                sub = (*path, str(key.value))
                out.setdefault(sub, key.start_mark.line + 1)
                walk(value, sub)

    walk(safe_yaml.compose(text), ())
    return out


def preset_names() -> list[str]:
    files = resources.files(PRESET_PACKAGE)
    return sorted(p.name[:-4] for p in files.iterdir() if p.name.endswith(".yml"))


def load_preset(name: str) -> Mapping:
    res = resources.files(PRESET_PACKAGE) / f"{name}.yml"
    if not res.is_file():
        raise UserError(f"unknown preset {name!r}",
                        hint=f"presets: {', '.join(preset_names()) or '(none)'}")
    mapping = parse_mapping(copy.deepcopy(_preset_yaml(name)), f"preset {name}")
    mapping.name = mapping.name or name
    return mapping


@functools.cache
def _preset_yaml(name: str) -> Any:
    """A preset's parsed YAML, once per process: the presets ship with the package, and every
    ingest without one named tries them all (parsing them took 0.2 s of each small batch)."""
    res = resources.files(PRESET_PACKAGE) / f"{name}.yml"
    return yaml.safe_load(res.read_text(encoding="utf-8"))


def all_presets() -> list[Mapping]:
    return [load_preset(n) for n in preset_names()]


def wildcard(pattern: str) -> re.Pattern[str] | None:
    """The regular expression of a column name with ``*`` in it, or None without one.

    A ``*`` stands for any text, so that one preset reads the same export in every currency
    or language of its question texts (``Amount spent (*)`` matches ``Amount spent (SEK)``);
    each ``*`` is a group, so the text it matched can be taken as a value (``format: header``).
    Matched case-insensitively, as plain column names are.
    """
    if "*" not in pattern:
        return None
    parts = [re.escape(p) for p in pattern.strip().split("*")]
    return re.compile("(.*?)".join(parts[:-1]) + "(.*)" + parts[-1], re.IGNORECASE)


def column_matches(pattern: str, header: str) -> bool:
    """Whether a header is the column a mapping names: the same name in any case, or a
    match of its ``*`` wildcard."""
    rx = wildcard(pattern)
    if rx is None:
        return pattern.strip().lower() == header.strip().lower()
    return rx.fullmatch(header.strip()) is not None


def detect_preset(columns: list[str], kind_name: str | None) -> Mapping | None:
    """The preset whose named columns are all in the header; the most specific one wins."""
    fits = [
        m for m in all_presets()
        if (kind_name is None or m.kind == kind_name)
        and m.source_columns()
        and all(any(column_matches(c, h) for h in columns) for c in m.source_columns())
    ]
    return max(fits, key=lambda m: len(m.source_columns()), default=None)
