"""Reading the files users feed riskcls: record files (JSONL, CSV, Parquet, gzipped too) and text files
(plain, Markdown, HTML) in unknown encodings. Readers stream and report each bad line or row as a
`Problem` naming the file and line, instead of stopping at the first one."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

RECORD_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".parquet")
TEXT_SUFFIXES = (".txt", ".md", ".html", ".htm")
BINARY_SNIFF_BYTES = 8192

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located by file and line (or row) where known."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.message}"

    def to_dict(self) -> dict:
        return {"source": self.source, "line": self.line, "reason": self.message}


def kind_of(path: Path) -> str | None:
    """'record' or 'text' for a supported file (optionally .gz), else None."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name.endswith(RECORD_SUFFIXES):
        return "record"
    if name.endswith(TEXT_SUFFIXES):
        return "text"
    return None


def base_suffix(path: Path) -> str:
    """The suffix that says the format, looking through a trailing .gz."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _open_binary(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def iter_records(path: Path, max_line_bytes: int | None = None
                 ) -> Iterator[tuple[int, dict] | Problem]:
    """Yield (line or row number, record dict) for each record of a JSONL/CSV/Parquet file, or a
    Problem for each line or row that cannot be read. A JSONL line longer than `max_line_bytes` is
    reported and skipped without being held in memory."""
    suffix = base_suffix(path)
    source = str(path)
    try:
        if suffix in (".jsonl", ".ndjson"):
            yield from _iter_jsonl(path, source, max_line_bytes)
        elif suffix == ".csv":
            yield from _iter_csv(path, source)
        elif suffix == ".parquet":
            yield from _iter_parquet(path, source)
        else:
            yield Problem(source, None, f"unsupported record format {suffix!r}; "
                                        "use .jsonl, .csv or .parquet")
    except (OSError, EOFError, zlib.error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        yield Problem(source, None, f"cannot read file: {reason}")


def _iter_jsonl(path: Path, source: str, max_line_bytes: int | None
                ) -> Iterator[tuple[int, dict] | Problem]:
    limit = max_line_bytes + 1 if max_line_bytes else -1
    with _open_binary(path) as handle:
        number = 0
        while raw := handle.readline(limit):
            number += 1
            if limit > 0 and len(raw) == limit and not raw.endswith(b"\n"):
                while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass
                yield Problem(source, number, f"line is longer than the --max-bytes limit of "
                                              f"{max_line_bytes} bytes; split the record")
                continue
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Problem(source, number, _undecodable_message(raw, exc))
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Problem(source, number, f"malformed JSON ({exc.msg} at column {exc.colno}); "
                                              "fix or remove the line")
                continue
            if not isinstance(record, dict):
                yield Problem(source, number, "expected a JSON object per line, got "
                                              f"{type(record).__name__}")
                continue
            yield number, record


def _iter_csv(path: Path, source: str) -> Iterator[tuple[int, dict] | Problem]:
    with _open_binary(path) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.DictReader(text)
        if reader.fieldnames is None:
            return
        for row in reader:
            number = reader.line_num
            if None in row:
                yield Problem(source, number, f"row has more cells than the header's "
                                              f"{len(reader.fieldnames)} columns")
                continue
            bad = next((v for v in row.values() if isinstance(v, str) and _has_surrogates(v)), None)
            if bad is not None:
                raw = bad.encode("utf-8", "surrogateescape")
                yield Problem(source, number, _undecodable_message(raw, None))
                continue
            yield number, {key: value for key, value in row.items() if key is not None}


def _iter_parquet(path: Path, source: str) -> Iterator[tuple[int, dict] | Problem]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a corrupt file
        yield Problem(source, None, f"not a readable Parquet file ({exc}); re-export it")
        return
    row = 0
    for batch in parquet.iter_batches(batch_size=2048):
        for record in batch.to_pylist():
            row += 1
            yield row, record


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _undecodable_message(raw: bytes, exc: UnicodeDecodeError | None) -> str:
    guess = from_bytes(raw).best()
    hint = f" (looks like {guess.encoding})" if guess is not None else ""
    offset = f" at byte {exc.start}" if exc is not None else ""
    return f"undecodable bytes{offset}: not UTF-8{hint}; re-save the file as UTF-8"


class UnreadableText(ValueError):
    """A text input that is binary, empty or in no recognisable encoding."""


def decode_text(data: bytes) -> str:
    """Decode bytes of unknown encoding: UTF-8 (with or without BOM), UTF-16 with BOM, else the
    charset-normalizer guess. Raises UnreadableText for binary or undecodable data."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise UnreadableText(f"invalid UTF-16 at byte {exc.start}") from None
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        raise UnreadableText("binary file (NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    guess = from_bytes(data).best()
    if guess is None:
        raise UnreadableText("undecodable bytes in no recognisable text encoding; "
                             "re-save the file as UTF-8")
    return str(guess)


def read_text_file(path: Path, max_bytes: int | None = None) -> str:
    """The text of a .txt/.md/.html file (optionally gzipped); HTML is reduced to its article text."""
    with _open_binary(path) as handle:
        data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise UnreadableText(f"larger than the {max_bytes}-byte limit (--max-bytes)")
    text = decode_text(data)
    if base_suffix(path) in (".html", ".htm"):
        text = html_to_text(text)
    return text


def html_to_text(html: str) -> str:
    """The main article text of an HTML page, title first, without navigation and boilerplate."""
    import trafilatura

    body = trafilatura.extract(html, include_comments=False, include_tables=False)
    metadata = trafilatura.extract_metadata(html)
    title = metadata.title if metadata is not None and metadata.title else ""
    if not body:
        from lxml import html as lxml_html

        try:
            body = lxml_html.fromstring(html).text_content()
        except Exception:  # lxml rejects some fragments outright; treat them as no text
            body = ""
    body = "\n".join(line.strip() for line in body.splitlines() if line.strip())
    if title and not body.startswith(title):
        return f"{title}\n{body}"
    return body
