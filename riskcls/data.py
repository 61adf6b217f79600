"""Labelled data: load JSONL/CSV/Parquet files, folders of them, or Hugging Face datasets into a
validated `datasets.Dataset`; stratified multi-label splits; statistics; export.

Record schema: `text` (required, non-empty), `title` (optional), `id` (optional; a content hash when
absent), `labels` (list of tag ids, or a ';'-separated string in CSV; empty means no tag). Other fields
are kept as string columns and otherwise ignored.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from riskcls.errors import RiskclsError
from riskcls.readers import Problem, base_suffix, iter_records, kind_of
from riskcls.taxonomy import Taxonomy, load_taxonomy

HF_PREFIX = "hf:"
CORE_FIELDS = ("id", "title", "text", "labels")
ORIGIN = "origin"


class DataError(RiskclsError):
    """Labelled data with problems; `problems` lists every one found, each with file and line."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the labelled data:\n{shown}{more}\n"
                         "Run `riskcls data check PATH` for the full list.")


@dataclass
class Record:
    """One validated labelled article."""

    id: str
    title: str
    text: str
    labels: list[str]
    origin: str
    extra: dict = field(default_factory=dict)


def normalise_text(text: str) -> str:
    """Lower-cased text with runs of white space folded: what counts as 'the same text'."""
    return " ".join(text.lower().split())


def content_id(text: str) -> str:
    """A stable id for a document without one: a hash of its normalised text."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()[:16]


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path | str], list[Problem]]:
    """Files behind the given paths (folders searched recursively for record files) and Hugging Face
    references ('hf:NAME'), in a stable order."""
    found: list[Path | str] = []
    problems: list[Problem] = []
    for item in paths:
        text = str(item)
        if text.startswith(HF_PREFIX):
            found.append(text)
            continue
        path = Path(text)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and kind_of(p) == "record")
            if not files:
                problems.append(Problem(text, None, "folder holds no .jsonl, .csv or .parquet files"))
            found.extend(files)
        elif path.is_file():
            found.append(path)
        else:
            problems.append(Problem(text, None, "no such file or folder (for a Hugging Face dataset "
                                                "write hf:NAME)"))
    return found, problems


def _iter_hf(reference: str) -> Iterable[tuple[int, dict] | Problem]:
    """Rows of a Hugging Face dataset: 'hf:NAME_OR_PATH' or 'hf:NAME_OR_PATH:SPLIT'."""
    import datasets

    spec = reference[len(HF_PREFIX):]
    name, _, split = spec.partition(":") if not Path(spec).exists() else (spec, "", "")
    try:
        if Path(name).is_dir() and (Path(name) / "dataset_info.json").exists():
            loaded = datasets.load_from_disk(name)
        else:
            loaded = datasets.load_dataset(name, split=split or None)
    except Exception as exc:  # datasets raises many types; all mean "could not load"
        yield Problem(reference, None, f"could not load Hugging Face dataset: {exc}")
        return
    if isinstance(loaded, datasets.DatasetDict):
        if split:
            loaded = loaded[split]
        else:
            loaded = datasets.concatenate_datasets(list(loaded.values()))
    label_names = _class_label_names(loaded)
    for row_number, row in enumerate(loaded, start=1):
        if label_names and isinstance(row.get("labels"), list):
            row = {**row, "labels": [label_names[i] if isinstance(i, int) else i
                                     for i in row["labels"]]}
        yield row_number, row


def _class_label_names(dataset) -> list[str] | None:
    feature = dataset.features.get("labels")
    inner = getattr(feature, "feature", None)
    return list(inner.names) if hasattr(inner, "names") else None


def read_raw(paths: Iterable[str | Path]) -> tuple[list[tuple[str, int | None, dict]], list[Problem]]:
    """Every raw record (source, line, dict) behind the paths, plus the problems met reading them."""
    files, problems = expand_paths(paths)
    rows: list[tuple[str, int | None, dict]] = []
    for item in files:
        stream = _iter_hf(item) if isinstance(item, str) else iter_records(item)
        source = item if isinstance(item, str) else str(item)
        for entry in stream:
            if isinstance(entry, Problem):
                problems.append(entry)
            else:
                rows.append((source, entry[0], entry[1]))
    return rows, problems


def parse_labels(value: object) -> list[str] | None:
    """Tag ids from a list, a ';'-separated string, or nothing; None when the value is malformed."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    if isinstance(value, (list, tuple, np.ndarray)):
        if all(isinstance(item, str) for item in value):
            return [item.strip() for item in value if item.strip()]
    return None


def validate(rows: Iterable[tuple[str, int | None, dict]], taxonomy: Taxonomy
             ) -> tuple[list[Record], list[Problem]]:
    """Check raw records against the schema and taxonomy; return the good ones and every problem."""
    records: list[Record] = []
    problems: list[Problem] = []
    seen_ids: dict[str, str] = {}
    seen_texts: dict[str, tuple[str, frozenset[str]]] = {}
    for source, line, raw in rows:
        where = f"{source}:{line}" if line is not None else source
        found = len(problems)
        text = raw.get("text")
        if not isinstance(text, str) or not text.strip():
            problems.append(Problem(source, line, "empty or missing 'text'; every record needs the "
                                                  "article text"))
        title = raw.get("title")
        if title is not None and not isinstance(title, str):
            problems.append(Problem(source, line, "'title' must be a string"))
        labels = parse_labels(raw.get("labels"))
        if labels is None:
            problems.append(Problem(source, line, "'labels' must be a list of tag ids or a "
                                                  "';'-separated string"))
            labels = []
        for label in labels:
            if label not in taxonomy:
                suggestion = taxonomy.suggest(label)
                hint = f"; did you mean {suggestion!r}?" if suggestion else \
                    f"; known tags: {', '.join(taxonomy.ids)}"
                problems.append(Problem(source, line, f"unknown tag {label!r}{hint}"))
        if len(problems) > found:
            continue
        raw_id = raw.get("id")
        record_id = str(raw_id) if raw_id not in (None, "") else content_id(text)
        if record_id in seen_ids:
            problems.append(Problem(source, line, f"duplicate id {record_id!r} (first at "
                                                  f"{seen_ids[record_id]})"))
            continue
        seen_ids[record_id] = where
        key = normalise_text(text)
        label_set = frozenset(labels)
        if key in seen_texts and seen_texts[key][1] != label_set:
            first_where, first_labels = seen_texts[key]
            problems.append(Problem(source, line, f"same text as {first_where} but different labels "
                                                  f"({sorted(label_set)} vs {sorted(first_labels)}); "
                                                  "decide on one labelling"))
            continue
        seen_texts.setdefault(key, (where, label_set))
        extra = {k: v for k, v in raw.items() if k not in CORE_FIELDS}
        records.append(Record(id=record_id, title=title or "", text=text,
                              labels=sorted(set(labels), key=taxonomy.ids.index),
                              origin=where, extra=extra))
    return records, problems


def to_dataset(records: Sequence[Record], taxonomy: Taxonomy):
    """A `datasets.Dataset` of the records; `labels` is a sequence of ClassLabel from the taxonomy
    and extra fields become string columns."""
    import datasets

    extra_keys = sorted({key for record in records for key in record.extra} - {ORIGIN})
    columns: dict[str, list] = {
        "id": [r.id for r in records],
        "title": [r.title for r in records],
        "text": [r.text for r in records],
        "labels": [[taxonomy.ids.index(label) for label in r.labels] for r in records],
        ORIGIN: [r.origin for r in records],
    }
    for key in extra_keys:
        columns[key] = [_as_string(r.extra.get(key)) for r in records]
    features = datasets.Features({
        "id": datasets.Value("string"),
        "title": datasets.Value("string"),
        "text": datasets.Value("string"),
        "labels": datasets.Sequence(datasets.ClassLabel(names=taxonomy.ids)),
        ORIGIN: datasets.Value("string"),
        **{key: datasets.Value("string") for key in extra_keys},
    })
    return datasets.Dataset.from_dict(columns, features=features)


def _as_string(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def load_labelled(paths: Iterable[str | Path], taxonomy: Taxonomy | None = None):
    """Load and validate labelled data; raises DataError listing every problem."""
    taxonomy = taxonomy or load_taxonomy()
    rows, problems = read_raw(paths)
    records, invalid = validate(rows, taxonomy)
    problems += invalid
    if problems:
        raise DataError(problems)
    if not records:
        raise DataError([Problem(", ".join(map(str, paths)), None, "no records found")])
    return to_dataset(records, taxonomy)


def label_names(dataset) -> list[str]:
    """The tag ids behind the dataset's `labels` ClassLabel, in column order."""
    return list(dataset.features["labels"].feature.names)


def label_matrix(dataset, tag_ids: Sequence[str] | None = None) -> np.ndarray:
    """A 0/1 matrix (documents x tags) of the dataset's labels, columns in `tag_ids` order."""
    names = label_names(dataset)
    tag_ids = list(tag_ids) if tag_ids is not None else names
    column = {tag: i for i, tag in enumerate(tag_ids)}
    matrix = np.zeros((len(dataset), len(tag_ids)), dtype=np.int8)
    for row, labels in enumerate(dataset["labels"]):
        for index in labels:
            if names[index] in column:
                matrix[row, column[names[index]]] = 1
    return matrix


def documents(dataset) -> list[str]:
    """The text the model reads for each record: the title, a blank line, then the body."""
    return [compose(title, text) for title, text in zip(dataset["title"], dataset["text"])]


def compose(title: str | None, text: str) -> str:
    """Join a title and body the way the model expects (title as the first paragraph)."""
    title = (title or "").strip()
    return f"{title}\n\n{text}" if title else text


def kfold_indices(labels: np.ndarray, n_splits: int = 5, seed: int = 0
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Multi-label stratified k-fold (iterative stratification), deterministic for a seed."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    if n_splits < 2:
        raise ValueError("n_splits must be at least 2")
    if len(labels) < n_splits:
        raise RiskclsError(f"cannot make {n_splits} folds from {len(labels)} documents; "
                           "add data or use fewer folds")
    splitter = MultilabelStratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    placeholder = np.zeros(len(labels))
    return [(train, test) for train, test in splitter.split(placeholder, labels)]


def train_test_split(dataset, test_size: float = 0.2, seed: int = 0):
    """A multi-label stratified (train, test) split of a labelled dataset."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    labels = label_matrix(dataset)
    train, test = next(splitter.split(np.zeros(len(dataset)), labels))
    return dataset.select(sorted(train)), dataset.select(sorted(test))


def export(dataset, path: str | Path) -> Path:
    """Write the dataset back to JSONL or Parquet (by suffix), labels as tag ids."""
    path = Path(path)
    names = label_names(dataset)
    rows = [{**row, "labels": [names[i] for i in row["labels"]]} for row in dataset]
    suffix = base_suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".jsonl", ".ndjson"):
        with open(path, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        raise RiskclsError(f"{path}: cannot export to {suffix!r}; use .jsonl or .parquet")
    return path


@dataclass
class DataReport:
    """What `riskcls data check` shows: counts, co-occurrence, lengths and every problem."""

    n_records: int
    tag_counts: dict[str, int]
    untagged: int
    cooccurrence: dict[tuple[str, str], int]
    length_words: dict[str, float]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def check(paths: Iterable[str | Path], taxonomy: Taxonomy | None = None) -> DataReport:
    """Validate labelled data and describe it, without raising on problems."""
    taxonomy = taxonomy or load_taxonomy()
    rows, problems = read_raw(paths)
    records, invalid = validate(rows, taxonomy)
    problems += invalid
    counts = Counter(label for r in records for label in r.labels)
    pairs: Counter = Counter()
    for r in records:
        for i, a in enumerate(r.labels):
            for b in r.labels[i + 1:]:
                pairs[(a, b)] += 1
    words = [len(r.text.split()) for r in records]
    lengths = {}
    if words:
        quantiles = np.percentile(words, [10, 90])
        lengths = {"min": min(words), "p10": float(quantiles[0]),
                   "median": float(statistics.median(words)), "p90": float(quantiles[1]),
                   "max": max(words), "share_over_400": sum(w > 400 for w in words) / len(words)}
    return DataReport(
        n_records=len(records),
        tag_counts={tag: counts.get(tag, 0) for tag in taxonomy.ids},
        untagged=sum(not r.labels for r in records),
        cooccurrence=dict(pairs.most_common()),
        length_words=lengths,
        problems=problems,
    )
