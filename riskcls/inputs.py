"""Turn what users point riskcls at (files, folders, glob patterns, '-' for stdin) into a stream of
documents to tag, with a `Problem` for every input that cannot be used — never a silent drop."""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from riskcls.data import content_id
from riskcls.pages import split_page
from riskcls.readers import (
    Problem,
    UnreadableText,
    decode_text,
    iter_records,
    kind_of,
    read_text_file,
)

STDIN = "-"
DEFAULT_MAX_BYTES = 20_000_000
TEXT_FIELDS = ("text", "body", "content", "article")
TITLE_FIELDS = ("title", "headline")


@dataclass
class Document:
    """One article to tag: `source` says where it came from (file, or file:line for records)."""

    id: str
    text: str
    title: str = ""
    source: str = ""
    extra: dict = field(default_factory=dict)


def iter_input_files(inputs: Iterable[str]) -> Iterator[Path | str | Problem]:
    """Files behind the inputs, in order: folders walked recursively (hidden entries skipped, symlink
    loops reported), glob patterns expanded, '-' passed through."""
    for item, _ in iter_named_input_files(inputs):
        yield item


def iter_named_input_files(inputs: Iterable[str]
                           ) -> Iterator[tuple[Path | str | Problem, str | None]]:
    """Like `iter_input_files`, each file paired with the name its documents' ids start with: its
    path relative to the folder given (so same-named files in different sub-folders stay apart),
    else its file name."""
    for item in inputs:
        if item == STDIN:
            yield STDIN, "stdin"
            continue
        path = Path(item)
        if path.is_dir():
            yield from _named(_walk(path), path)
        elif path.exists() or path.is_symlink():
            yield path, path.name
        elif glob.has_magic(item):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                yield Problem(item, None, "pattern matched no files"), None
            for match in matches:
                match_path = Path(match)
                if match_path.is_dir():
                    yield from _named(_walk(match_path), match_path)
                else:
                    yield match_path, match_path.name
        else:
            yield Problem(item, None, "no such file or folder"), None


def _named(found: Iterable[Path | Problem], root: Path
           ) -> Iterator[tuple[Path | Problem, str | None]]:
    for entry in found:
        if isinstance(entry, Problem):
            yield entry, None
        else:
            yield entry, entry.relative_to(root).as_posix()


def _walk(root: Path) -> Iterator[Path | Problem]:
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            info = folder.stat()
        except OSError as exc:
            yield Problem(str(folder), None, f"cannot open folder: {exc.strerror}")
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen:
            yield Problem(str(folder), None, "symlink loop: folder already visited; skipped")
            continue
        seen.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield Problem(str(folder), None, f"cannot list folder: {exc.strerror}")
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                if entry.is_dir():
                    subfolders.append(path)
                    continue
            except OSError as exc:
                yield Problem(str(path), None, f"cannot read entry: {exc.strerror}")
                continue
            yield path
        stack.extend(reversed(subfolders))


def iter_documents(inputs: Iterable[str], *, split_pages: bool = True,
                   max_bytes: int | None = DEFAULT_MAX_BYTES, stdin=None
                   ) -> Iterator[Document | Problem]:
    """Documents from every input, or a Problem for each file, line or row that cannot be used."""
    for item, name in iter_named_input_files(inputs):
        if isinstance(item, Problem):
            yield item
        elif item == STDIN:
            stream = stdin if stdin is not None else sys.stdin.buffer
            yield from _documents_from_text_bytes(stream.read(), "<stdin>", "stdin", split_pages)
        else:
            yield from documents_from_file(item, split_pages=split_pages, max_bytes=max_bytes,
                                           name=name)


def documents_from_file(path: Path, *, split_pages: bool = True,
                        max_bytes: int | None = DEFAULT_MAX_BYTES, name: str | None = None
                        ) -> Iterator[Document | Problem]:
    """Documents in one file (a text file or page, or a record file); a text file's documents get
    ids from `name` (default: the file name), with #N per article of a split page."""
    source = str(path)
    kind = kind_of(path)
    if kind is None:
        yield Problem(source, None, "unsupported file type; riskcls reads .txt .md .html .jsonl "
                                    ".csv .parquet (optionally .gz)")
        return
    try:
        size = path.stat().st_size
    except OSError as exc:
        yield Problem(source, None, f"cannot read file: {exc.strerror}")
        return
    if kind == "record":
        yield from _documents_from_records(path, max_bytes)
        return
    if max_bytes is not None and size > max_bytes and not source.endswith(".gz"):
        yield Problem(source, None, f"file is {size} bytes, over the --max-bytes limit of "
                                    f"{max_bytes}; raise the limit or split the file")
        return
    try:
        text = read_text_file(path, max_bytes=max_bytes)
    except UnreadableText as exc:
        yield Problem(source, None, str(exc))
        return
    except (OSError, EOFError) as exc:
        yield Problem(source, None, f"cannot read file: {getattr(exc, 'strerror', None) or exc}")
        return
    yield from _documents_from_text(text, source, name or path.name, split_pages)


def _documents_from_text_bytes(data: bytes, source: str, stem: str, split_pages: bool
                               ) -> Iterator[Document | Problem]:
    try:
        text = decode_text(data)
    except UnreadableText as exc:
        yield Problem(source, None, str(exc))
        return
    yield from _documents_from_text(text, source, stem, split_pages)


def _documents_from_text(text: str, source: str, stem: str, split_pages: bool
                         ) -> Iterator[Document | Problem]:
    if not text.strip():
        yield Problem(source, None, "empty: no text to tag")
        return
    if not split_pages:
        yield Document(id=stem, text=text.strip(), source=source)
        return
    articles = split_page(text)
    if not articles:
        yield Problem(source, None, "no article text found (only page furniture)")
        return
    if len(articles) == 1:
        yield Document(id=stem, title=articles[0].title, text=articles[0].text, source=source)
        return
    for index, article in enumerate(articles, start=1):
        yield Document(id=f"{stem}#{index}", title=article.title, text=article.text,
                       source=f"{source}#{index}")


def _documents_from_records(path: Path, max_bytes: int | None) -> Iterator[Document | Problem]:
    source = str(path)
    for entry in iter_records(path, max_line_bytes=max_bytes):
        if isinstance(entry, Problem):
            yield entry
            continue
        line, record = entry
        text = _first_field(record, TEXT_FIELDS)
        if not isinstance(text, str) or not text.strip():
            yield Problem(source, line, "record has no 'text' (empty or missing; also looked for "
                                        f"{', '.join(TEXT_FIELDS[1:])})")
            continue
        if max_bytes is not None and len(text.encode("utf-8")) > max_bytes:
            yield Problem(source, line, f"record text is over the --max-bytes limit of {max_bytes}")
            continue
        title = _first_field(record, TITLE_FIELDS)
        record_id = record.get("id")
        extra = {k: v for k, v in record.items()
                 if k not in ("id", "labels", *TEXT_FIELDS, *TITLE_FIELDS)}
        yield Document(
            id=str(record_id) if record_id not in (None, "") else content_id(text),
            title=title if isinstance(title, str) else "",
            text=text,
            source=f"{source}:{line}",
            extra=extra,
        )


def _first_field(record: dict, names: tuple[str, ...]):
    """The first of `names` present with a non-empty value, so records from other tools that call
    the text 'body' or 'content' (or the title 'headline') are read as they are."""
    for name in names:
        value = record.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return None
