"""The tag taxonomy, kept as data in a YAML file and validated on load."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from riskcls.errors import RiskclsError
from riskcls.paths import DEFAULT_TAXONOMY

TAG_ID = re.compile(r"^[a-z][a-z0-9_]*$")
REQUIRED_TAG_FIELDS = ("id", "name", "definition")
LIST_TAG_FIELDS = ("includes", "excludes", "phrases", "exclusion_terms")
KNOWN_TAG_FIELDS = set(REQUIRED_TAG_FIELDS) | set(LIST_TAG_FIELDS)


class TaxonomyError(RiskclsError):
    """A taxonomy file that cannot be used; the message lists every problem found."""


@dataclass(frozen=True)
class Tag:
    """One category of the taxonomy."""

    id: str
    name: str
    definition: str
    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    exclusion_terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    """An ordered set of tags; the order fixes the columns of label matrices."""

    tags: tuple[Tag, ...]
    schema_version: int = 1
    salience_rule: str = ""
    path: str | None = None

    @property
    def ids(self) -> list[str]:
        return [tag.id for tag in self.tags]

    def __len__(self) -> int:
        return len(self.tags)

    def __getitem__(self, tag_id: str) -> Tag:
        for tag in self.tags:
            if tag.id == tag_id:
                return tag
        raise KeyError(tag_id)

    def __contains__(self, tag_id: object) -> bool:
        return tag_id in self.ids

    def suggest(self, unknown: str) -> str | None:
        """The closest known tag id to a misspelt one, or None."""
        matches = difflib.get_close_matches(unknown.strip().lower(), self.ids, n=1, cutoff=0.5)
        return matches[0] if matches else None

    def digest(self) -> str:
        """SHA-256 of the tags' content, so a model can tell whether its taxonomy changed."""
        payload = json.dumps([asdict(tag) for tag in self.tags], sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict:
        return {
            "schema_version": self.schema_version,
            "salience_rule": self.salience_rule,
            "tags": [asdict(tag) for tag in self.tags],
        }


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that records the line each mapping starts on, under the key '__line__'."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy file (the shipped one when path is None)."""
    path = Path(path) if path is not None else DEFAULT_TAXONOMY
    try:
        raw_text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaxonomyError(f"{path}: taxonomy file not found; pass --taxonomy FILE") from None
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"{path}: not UTF-8 ({exc.reason}); re-save the file as UTF-8") from None
    except OSError as exc:
        raise TaxonomyError(f"{path}: cannot read taxonomy file: {exc.strerror}") from None
    try:
        document = yaml.load(raw_text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise TaxonomyError(f"{where}: invalid YAML: {problem}") from None
    return parse_taxonomy(document, source=str(path))


def parse_taxonomy(document: object, source: str = "<taxonomy>") -> Taxonomy:
    """Validate a parsed taxonomy document, reporting every problem at once."""
    problems: list[str] = []
    if not isinstance(document, dict) or not isinstance(document.get("tags"), list):
        raise TaxonomyError(f"{source}: expected a mapping with a 'tags' list")
    if not document["tags"]:
        raise TaxonomyError(f"{source}: the 'tags' list is empty; define at least one tag")
    schema_version = document.get("schema_version", 1)
    if not isinstance(schema_version, int):
        problems.append(f"{source}: schema_version must be an integer, got {schema_version!r}")
    tags: list[Tag] = []
    first_line: dict[str, int] = {}
    for position, entry in enumerate(document["tags"], start=1):
        if not isinstance(entry, dict):
            problems.append(f"{source}: tag #{position} is not a mapping")
            continue
        line = entry.pop("__line__", "?")
        where = f"{source}:{line}"
        tag = _parse_tag(entry, where, problems)
        if tag is None:
            continue
        if tag.id in first_line:
            problems.append(
                f"{where}: duplicate tag id {tag.id!r} (first defined on line {first_line[tag.id]})"
            )
            continue
        first_line[tag.id] = line
        tags.append(tag)
    if problems:
        raise TaxonomyError("\n".join(problems))
    return Taxonomy(
        tags=tuple(tags),
        schema_version=schema_version,
        salience_rule=str(document.get("salience_rule", "")).strip(),
        path=source,
    )


def _parse_tag(entry: dict, where: str, problems: list[str]) -> Tag | None:
    found = len(problems)
    for field in REQUIRED_TAG_FIELDS:
        value = entry.get(field)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: tag is missing the text field {field!r}")
    for field in LIST_TAG_FIELDS:
        value = entry.get(field, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            problems.append(f"{where}: {field!r} must be a list of strings")
    unknown = sorted(set(entry) - KNOWN_TAG_FIELDS)
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: "
                        f"{', '.join(sorted(KNOWN_TAG_FIELDS))}")
    tag_id = entry.get("id")
    if isinstance(tag_id, str) and tag_id and not TAG_ID.match(tag_id):
        problems.append(
            f"{where}: bad tag id {tag_id!r}; use lower-case letters, digits and '_' "
            "starting with a letter"
        )
    if len(problems) > found:
        return None
    return Tag(
        id=entry["id"],
        name=entry["name"].strip(),
        definition=" ".join(entry["definition"].split()),
        **{field: tuple(entry.get(field, [])) for field in LIST_TAG_FIELDS},
    )
