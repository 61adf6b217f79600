"""Scheduled batch tagging: tag everything new under some inputs into an output folder, exactly
once.

`run_batch` (and `riskcls batch`) reads files and folders of every kind `predict` reads, streams
them in chunks (memory stays flat however many documents there are) and writes, under the output
folder:

- ``tags-<model>-p<pass>-<run>-<seq>.jsonl``: one row per document, the shape `predict` writes plus
  ``model`` (the bundle's fingerprint), ``pass`` and ``run``;
- ``errors-<run>-<seq>.jsonl``: one row per rejected input: ``source``, ``line`` (line or row, or
  null for a whole file), ``reason`` and ``run``;
- ``runs/<run>.json``: the run summary (counts, per-tag counts, duration, docs/s).

Every output file appears atomically: written to ``.tmp-<name>``, fsync'd, renamed, and the folder
fsync'd, so a reader never sees a partial file.

State ledger
------------
A SQLite database in the state folder (default ``<output>/.state``) records:

- ``docs``: one key per tagged document, ``(model fingerprint, pass, document id, content hash)``
  where the content hash is `riskcls.data.content_id` of title + text, with the chunk file it
  went to;
- ``chunks``: every output file, ``pending`` or ``done``;
- ``problems``: every rejected input already reported, ``(source, line, reason, file signature)``;
- ``passes``: the current pass of each model (``--retag`` starts a new one), and ``runs``.

A run tags only documents whose key is not in the ledger. A different model has a different
fingerprint, so everything is tagged again into files named after it; ``--retag`` starts a new pass
of the same model, so again everything is tagged into new files (``pass`` in name and rows). The
guarantee: for one model and pass, across all ``tags-*.jsonl``, every valid input document appears
exactly once, whatever point a run is killed at.

Commit order (one chunk)
------------------------
1. Tag the chunk; write ``.tmp-tags-…`` (and ``.tmp-errors-…`` if the chunk rejected inputs); fsync.
2. ONE SQLite transaction records the chunk's files as ``pending`` together with every document key
   and problem in them; COMMIT (WAL, synchronous=FULL, so it is durable).  <- the commit point
3. Rename each temp file to its final name; fsync the folder.
4. A second small transaction marks the files ``done``.

Recovery at start (under the lock) rolls every chunk forward:

- killed before 2: the temp files belong to no ledger entry; they are deleted and their documents,
  absent from the ledger, are tagged again;
- killed between 2 and 4: the ledger holds the keys and the names; a final file that exists is
  kept, a temp file that exists is renamed (it was fsync'd in 1, so it is complete), then both are
  marked done. Only if neither exists (someone deleted them) are the chunk's keys removed, so those
  documents get tagged again;
- killed after 4: nothing to do.

So a tags file, once visible under its final name, is never deleted or rewritten, and the keys of
every visible file are in the ledger: no document can be written twice, none can be lost.
(Renaming first and committing afterwards would leave a visible file that recovery must either
delete, though a reader may already have consumed it, or re-read to adopt; recording the intent
first avoids both.)

Duplicates and rejected inputs
------------------------------
- The same document (same id and same content) read twice, in one run or across runs and wherever it
  sits, is tagged once (the first occurrence's ``source`` is kept); later copies count as
  ``skipped_duplicate`` (this run) or ``skipped_done`` (earlier runs). Same id with other content is
  a new document (an edited article) and is tagged.
- Rejected inputs (undecodable, binary, empty, malformed lines, rows without text, too large,
  unsupported, unreadable, symlink loops, missing) never stop the run. Each is written to an errors
  file once: its key, including the file's size and mtime, goes into the ledger in the same
  transaction, so a re-run does not write the same bad line again (it is counted as
  ``rejected_known`` and logged) until the file changes. Exit code 3 means this run found new
  rejected inputs.

Lock
----
One run at a time per state folder: an exclusive `filelock` lock (``flock(2)`` on ``<state>/lock``).
The kernel drops an flock when its process dies, even by SIGKILL, so a lock can never be stale; a
``lock.json`` left behind by a dead holder is reported and taken over. A second run while one holds
the lock exits at once with code 75 (EX_TEMPFAIL). The output folder gets a ``.riskcls-batch.json``
marker naming its ledger, so one output folder is never fed by two ledgers.

Exit codes: 0 all done, 3 done but some inputs newly rejected, 75 locked, 1 fatal (no model, …).

Test hooks: ``RISKCLS_BATCH_CRASH_AT=<point>:<n>`` SIGKILLs the process at ``<point>`` of chunk
``n`` of the run (points: after_tmp, after_ledger, after_rename, after_commit);
``RISKCLS_BATCH_PAUSE_AT=<point>:<n>`` sleeps there instead (to test the lock).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from riskcls.data import compose, content_id
from riskcls.errors import RiskclsError
from riskcls.inputs import (
    DEFAULT_MAX_BYTES,
    STDIN,
    Document,
    documents_from_file,
    iter_input_files,
    iter_named_input_files,
)
from riskcls.paths import DEFAULT_MODEL
from riskcls.readers import Problem

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_REJECTED = 3
EXIT_LOCKED = 75
DEFAULT_BATCH_CHUNK = 1000
STATE_DIRNAME = ".state"
LEDGER_FILE = "ledger.sqlite"
MARKER_FILE = ".riskcls-batch.json"
TMP_PREFIX = ".tmp-"
CRASH_ENV = "RISKCLS_BATCH_CRASH_AT"
PAUSE_ENV = "RISKCLS_BATCH_PAUSE_AT"
HOOK_POINTS = ("after_tmp", "after_ledger", "after_rename", "after_commit")
MAX_LOGGED_PROBLEMS = 50
SCHEMA_VERSION = "1"


class BatchLocked(RiskclsError):
    """Another run holds the state folder's lock."""


# ------------------------------------------------------------------------------------------------
# Summary


@dataclass
class BatchSummary:
    """What one run did; written to runs/<run-id>.json."""

    run_id: str
    model: str
    model_path: str
    pass_: int
    output: str
    state: str
    started_at: str
    status: str = "running"
    finished_at: str | None = None
    duration_s: float = 0.0
    docs_per_s: float = 0.0
    read: int = 0
    tagged: int = 0
    skipped_done: int = 0
    skipped_duplicate: int = 0
    rejected: int = 0
    rejected_known: int = 0
    ignored_outputs: int = 0
    files_read: int = 0
    per_tag: dict = field(default_factory=dict)
    untagged: int = 0
    tags_files: list = field(default_factory=list)
    errors_files: list = field(default_factory=list)
    recovered: dict = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return self.skipped_done + self.skipped_duplicate

    @property
    def exit_code(self) -> int:
        return EXIT_REJECTED if self.rejected else EXIT_OK

    def to_dict(self) -> dict:
        data = asdict(self)
        data["pass"] = data.pop("pass_")
        data["skipped"] = self.skipped
        data["exit_code"] = self.exit_code
        return data


# ------------------------------------------------------------------------------------------------
# Logging and progress


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BatchLog:
    """Structured log lines for cron/systemd (logfmt, or JSON with mode="json"), or a rich progress
    bar on a terminal (mode="rich"). Everything goes to `stream` (stderr by default)."""

    def __init__(self, mode: str = "plain", stream: TextIO | None = None):
        if mode not in ("plain", "json", "rich"):
            raise ValueError(f"unknown log mode {mode!r}")
        self.mode = mode
        self.stream = stream if stream is not None else sys.stderr
        self._progress = None
        self._task = None
        self._console = None

    # structured lines ----------------------------------------------------------------------------
    def event(self, event: str, message: str = "", level: str = "info", **fields) -> None:
        if self.mode == "rich":
            if level != "info" or event in ("start", "finish", "recovery"):
                self._rich_line(event, message, level, fields)
            return
        if self.mode == "json":
            record = {"ts": _now(), "level": level, "event": event, "msg": message, **fields}
            line = json.dumps(record, ensure_ascii=False, default=str)
        else:
            parts = [f"ts={_now()}", f"level={level}", f"event={event}"]
            if message:
                parts.append(f"msg={_logfmt(message)}")
            parts += [f"{key}={_logfmt(value)}" for key, value in fields.items()]
            line = " ".join(parts)
        self.stream.write(line + "\n")
        self.stream.flush()

    def _rich_line(self, event, message, level, fields) -> None:
        from rich.text import Text

        style = {"warning": "yellow", "error": "bold red"}.get(level, "")
        text = message or event
        if event == "finish":
            text += ": " + ", ".join(f"{k} {v}" for k, v in fields.items()
                                     if k in ("read", "tagged", "skipped", "rejected",
                                              "rejected_known", "docs_per_s", "summary"))
        console = self._console or self._make_console()
        console.print(Text(text, style=style))

    def _make_console(self):
        from rich.console import Console

        self._console = Console(file=self.stream)
        return self._console

    # progress ---------------------------------------------------------------------------------
    def start_progress(self, total_files: int | None) -> None:
        if self.mode != "rich":
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        console = self._console or self._make_console()
        self._progress = Progress(SpinnerColumn(), TextColumn("tagging"), BarColumn(),
                                  MofNCompleteColumn(), TextColumn("files"),
                                  TextColumn("{task.fields[counts]}"), TimeElapsedColumn(),
                                  console=console, transient=False)
        self._progress.start()
        self._task = self._progress.add_task("batch", total=total_files, counts="")

    def update(self, summary: BatchSummary, elapsed: float, files_done: int) -> None:
        if self._progress is None:
            return
        rate = summary.tagged / elapsed if elapsed > 0 else 0.0
        counts = (f"{summary.tagged:,} tagged • {summary.skipped:,} skipped • "
                  f"{summary.rejected + summary.rejected_known:,} rejected • {rate:,.0f} docs/s")
        self._progress.update(self._task, completed=files_done, counts=counts)

    def stop_progress(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _logfmt(value) -> str:
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = "null" if value is None else str(value)
    if text == "" or any(c in text for c in ' "=\n\t'):
        return json.dumps(text, ensure_ascii=False)
    return text


# ------------------------------------------------------------------------------------------------
# Files


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_durable(path: Path, lines: Iterable[str]) -> None:
    """Write lines to `path` and fsync it (the caller renames it into place)."""
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for line in lines:
            handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def write_json_atomic(path: Path, payload: dict) -> None:
    """Write JSON to a temp sibling, fsync, rename, fsync the folder: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")
    _write_durable(tmp, [json.dumps(payload, indent=2, ensure_ascii=False) + "\n"])
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _file_signature(source: str) -> str:
    """Size and mtime of the file behind a problem, so a changed file is reported again."""
    try:
        info = os.stat(source)
    except (OSError, ValueError):
        return ""
    return f"{info.st_size}:{info.st_mtime_ns}"


# ------------------------------------------------------------------------------------------------
# Ledger


class Ledger:
    """The SQLite state ledger (see the module docstring)."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript("""
            BEGIN;
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS passes(model TEXT PRIMARY KEY, pass INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS runs(run_id TEXT PRIMARY KEY, model TEXT, pass INTEGER,
                pid INTEGER, started_at TEXT, finished_at TEXT, status TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS chunks(name TEXT PRIMARY KEY, tmp TEXT NOT NULL,
                kind TEXT NOT NULL, run_id TEXT NOT NULL, seq INTEGER NOT NULL, model TEXT,
                pass INTEGER, rows INTEGER NOT NULL, state TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS chunks_state ON chunks(state);
            CREATE TABLE IF NOT EXISTS docs(model TEXT NOT NULL, pass INTEGER NOT NULL,
                doc_id TEXT NOT NULL, content TEXT NOT NULL, run_id TEXT NOT NULL,
                chunk TEXT NOT NULL, PRIMARY KEY(model, pass, doc_id, content)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS problems(source TEXT NOT NULL, line INTEGER NOT NULL,
                reason TEXT NOT NULL, signature TEXT NOT NULL, run_id TEXT NOT NULL,
                chunk TEXT NOT NULL, PRIMARY KEY(source, line, reason, signature)) WITHOUT ROWID;
            COMMIT;
        """)
        if self.meta("schema") is None:
            self.set_meta("schema", SCHEMA_VERSION)

    def close(self) -> None:
        self.db.close()

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def current_pass(self, model: str, *, new: bool) -> int:
        row = self.db.execute("SELECT pass FROM passes WHERE model=?", (model,)).fetchone()
        current = row[0] if row else 1
        if new and row is not None:
            current += 1
        self.db.execute("INSERT OR REPLACE INTO passes(model, pass) VALUES (?, ?)",
                        (model, current))
        return current

    def has_chunks(self) -> bool:
        return self.db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is not None

    def doc_run(self, model: str, pass_: int, doc_id: str, content: str) -> str | None:
        row = self.db.execute("SELECT run_id FROM docs WHERE model=? AND pass=? AND doc_id=? AND "
                              "content=?", (model, pass_, doc_id, content)).fetchone()
        return row[0] if row else None

    def problem_known(self, key: tuple) -> bool:
        return self.db.execute("SELECT 1 FROM problems WHERE source=? AND line=? AND reason=? AND "
                               "signature=?", key).fetchone() is not None

    def known_chunk(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM chunks WHERE name=?", (name,)).fetchone() is not None

    @contextmanager
    def transaction(self):
        """BEGIN IMMEDIATE ... COMMIT (durable: WAL, synchronous=FULL); ROLLBACK on any error."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def commit_pending(self, files: list[tuple], docs: list[tuple], problems: list[tuple]) -> None:
        """Step 2: the chunk's files (pending), keys and problems, in one durable transaction."""
        with self.transaction() as db:
            db.executemany("INSERT INTO chunks(name, tmp, kind, run_id, seq, model, pass, rows, "
                           "state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')", files)
            db.executemany("INSERT INTO docs(model, pass, doc_id, content, run_id, chunk) "
                           "VALUES (?, ?, ?, ?, ?, ?)", docs)
            db.executemany("INSERT INTO problems(source, line, reason, signature, run_id, chunk) "
                           "VALUES (?, ?, ?, ?, ?, ?)", problems)

    def mark_done(self, names: list[str]) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE chunks SET state='done' WHERE name=?", [(n,) for n in names])

    def pending(self) -> list[tuple[str, str, str]]:
        return self.db.execute("SELECT name, tmp, kind FROM chunks WHERE state='pending' "
                               "ORDER BY run_id, seq").fetchall()

    def forget_chunk(self, name: str, kind: str) -> None:
        """Undo a pending chunk whose files are gone, so its documents are tagged again."""
        table = "docs" if kind == "tags" else "problems"
        with self.transaction() as db:
            db.execute(f"DELETE FROM {table} WHERE chunk=?", (name,))
            db.execute("UPDATE chunks SET state='lost' WHERE name=?", (name,))

    def start_run(self, run_id: str, model: str, pass_: int, started_at: str) -> None:
        self.db.execute("INSERT INTO runs(run_id, model, pass, pid, started_at, status) VALUES "
                        "(?, ?, ?, ?, ?, 'running')", (run_id, model, pass_, os.getpid(),
                                                         started_at))

    def finish_run(self, run_id: str, status: str, finished_at: str) -> None:
        self.db.execute("UPDATE runs SET status=?, finished_at=? WHERE run_id=?",
                        (status, finished_at, run_id))

    def mark_crashed_runs(self) -> list[str]:
        crashed = [r[0] for r in self.db.execute(
            "SELECT run_id FROM runs WHERE status='running'").fetchall()]
        self.db.execute("UPDATE runs SET status='crashed' WHERE status='running'")
        return crashed


# ------------------------------------------------------------------------------------------------
# Lock


class StateLock:
    """An exclusive flock on <state>/lock, plus lock.json naming the holder for messages."""

    def __init__(self, state: Path, run_id: str):
        from filelock import FileLock

        self.state = state
        self.run_id = run_id
        self.info_path = state / "lock.json"
        self._lock = FileLock(state / "lock", timeout=0)
        self.stale: dict | None = None

    def acquire(self) -> None:
        from filelock import Timeout

        try:
            self._lock.acquire()
        except Timeout:
            holder = self._read_info()
            who = ""
            if holder:
                who = (f" (pid {holder.get('pid')} on {holder.get('host')}, run "
                       f"{holder.get('run_id')}, since {holder.get('started_at')})")
            raise BatchLocked(f"another riskcls batch run{who} holds the lock on {self.state}; "
                              "this run did nothing. Try again when it has finished.") from None
        # We hold the flock, so whoever wrote a leftover lock.json has died without cleaning up.
        self.stale = self._read_info()
        write_json_atomic(self.info_path, {"pid": os.getpid(), "host": socket.gethostname(),
                                           "run_id": self.run_id, "started_at": _now()})

    def _read_info(self) -> dict | None:
        try:
            return json.loads(self.info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        try:
            self.info_path.unlink(missing_ok=True)
        finally:
            self._lock.release()


# ------------------------------------------------------------------------------------------------
# The run


def _hook_from_env(name: str) -> tuple[str, int] | None:
    value = os.environ.get(name)
    if not value:
        return None
    point, _, number = value.partition(":")
    if point not in HOOK_POINTS:
        raise RiskclsError(f"{name}={value!r}: point must be one of {', '.join(HOOK_POINTS)}")
    return point, int(number or 1)


def new_run_id() -> str:
    """A unique run id whose names sort by start time: 20250101T120000.123Z-1a2b3c."""
    now = datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}Z-{uuid.uuid4().hex[:6]}"


class _Run:
    def __init__(self, *, run_id: str, output: Path, state: Path, tagger, max_bytes: int | None,
                 chunk_size: int, threshold: float | None, log: BatchLog, split_pages: bool,
                 pool=None):
        self.run_id = run_id
        self.pool = pool
        self.output = output
        self.state = state
        self.tagger = tagger
        self.max_bytes = max_bytes
        self.chunk_size = chunk_size
        self.threshold = threshold
        self.log = log
        self.split_pages = split_pages
        self.fingerprint = tagger.bundle_["fingerprint"]
        self.crash_at = _hook_from_env(CRASH_ENV)
        self.pause_at = _hook_from_env(PAUSE_ENV)
        self.seq = 0
        self.docs: list[tuple[Document, str]] = []
        self.doc_keys: set[tuple[str, str]] = set()
        self.problems: list[tuple[Problem, tuple]] = []
        self.problem_keys: set[tuple] = set()
        self.per_tag: Counter = Counter()
        self.logged_problems = 0
        self.files_done = 0
        self.started = time.perf_counter()
        self.own = [os.path.realpath(output), os.path.realpath(state)]

    # hooks ------------------------------------------------------------------------------------
    def _hook(self, point: str) -> None:
        if self.crash_at == (point, self.seq):
            os.kill(os.getpid(), signal.SIGKILL)
        if self.pause_at == (point, self.seq):
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                time.sleep(0.1)

    # recovery ---------------------------------------------------------------------------------
    def recover(self, ledger: Ledger) -> dict:
        crashed = ledger.mark_crashed_runs()
        rolled, lost = [], []
        for name, tmp, kind in ledger.pending():
            final_path, tmp_path = self.output / name, self.output / tmp
            if not final_path.exists() and tmp_path.exists():
                os.replace(tmp_path, final_path)
                _fsync_dir(self.output)
            if final_path.exists():
                ledger.mark_done([name])
                rolled.append(name)
            else:
                ledger.forget_chunk(name, kind)
                lost.append(name)
        removed = []
        foreign = []
        runs = self.output / "runs"
        for entry in os.scandir(runs) if runs.is_dir() else ():
            if entry.name.startswith(TMP_PREFIX) and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)          # a run summary that was being written
        for entry in os.scandir(self.output):
            if entry.name.startswith(TMP_PREFIX) and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(entry.name)
            elif (entry.name.startswith(("tags-", "errors-")) and entry.name.endswith(".jsonl")
                  and not ledger.known_chunk(entry.name)):
                foreign.append(entry.name)
        if removed:
            _fsync_dir(self.output)
        report = {}
        if crashed:
            report["crashed_runs"] = crashed
        if rolled:
            report["rolled_forward"] = rolled
        if lost:
            report["lost_chunks_retagged"] = lost
        if removed:
            report["removed_tmp"] = removed
        if report:
            self.log.event("recovery", f"recovered after an interrupted run: "
                           f"{len(rolled)} file(s) completed, {len(removed)} partial file(s) "
                           f"removed, {len(lost)} lost file(s) to tag again", level="warning",
                           **{k: len(v) for k, v in report.items()})
        if foreign:
            self.log.event("foreign_files", f"{len(foreign)} tags/errors file(s) in {self.output} "
                           "are not in this state's ledger; left alone", level="warning",
                           files=foreign[:20])
        return report

    # reading ----------------------------------------------------------------------------------
    def _is_own(self, path: Path) -> bool:
        real = os.path.realpath(path)
        return any(real == own or real.startswith(own + os.sep) for own in self.own)

    def process(self, inputs: list[str], ledger: Ledger, summary: BatchSummary) -> None:
        for item, name in iter_named_input_files(inputs):
            if isinstance(item, Problem):
                self._problem(item, ledger, summary)
            elif item == STDIN:
                self._problem(Problem(STDIN, None, "batch does not read standard input; write "
                                                   "the documents to a file"), ledger, summary)
            elif self._is_own(item):
                summary.ignored_outputs += 1
            else:
                for entry in documents_from_file(item, split_pages=self.split_pages,
                                                 max_bytes=self.max_bytes, name=name):
                    if isinstance(entry, Problem):
                        self._problem(entry, ledger, summary)
                    else:
                        self._document(entry, ledger, summary)
                    self._maybe_flush(ledger, summary)
                summary.files_read += 1
            self.files_done += 1
            self._maybe_flush(ledger, summary)
            self.log.update(summary, time.perf_counter() - self.started, self.files_done)
        self.flush(ledger, summary)

    def _maybe_flush(self, ledger: Ledger, summary: BatchSummary) -> None:
        if len(self.docs) >= self.chunk_size or len(self.problems) >= self.chunk_size:
            self.flush(ledger, summary)

    def _document(self, doc: Document, ledger: Ledger, summary: BatchSummary) -> None:
        if not doc.text.strip():
            self._problem(Problem(doc.source, None, "empty: no text to tag"), ledger, summary)
            return
        summary.read += 1
        content = content_id(compose(doc.title, doc.text))
        key = (doc.id, content)
        if key in self.doc_keys:
            summary.skipped_duplicate += 1
            return
        done_by = ledger.doc_run(self.fingerprint, summary.pass_, doc.id, content)
        if done_by == self.run_id:
            summary.skipped_duplicate += 1
        elif done_by is not None:
            summary.skipped_done += 1
        else:
            self.docs.append((doc, content))
            self.doc_keys.add(key)

    def _problem(self, problem: Problem, ledger: Ledger, summary: BatchSummary) -> None:
        key = (problem.source, -1 if problem.line is None else problem.line, problem.message,
               _file_signature(problem.source))
        if key in self.problem_keys or ledger.problem_known(key):
            summary.rejected_known += 1
            return
        self.problems.append((problem, key))
        self.problem_keys.add(key)
        summary.rejected += 1
        if self.logged_problems < MAX_LOGGED_PROBLEMS:
            self.log.event("rejected", str(problem), level="warning", source=problem.source,
                           line=problem.line, reason=problem.message)
        elif self.logged_problems == MAX_LOGGED_PROBLEMS:
            self.log.event("rejected", "more rejected inputs; see the errors files",
                           level="warning")
        self.logged_problems += 1

    # writing ----------------------------------------------------------------------------------
    def flush(self, ledger: Ledger, summary: BatchSummary) -> None:
        """Write one chunk following the commit order in the module docstring."""
        if not self.docs and not self.problems:
            return
        from riskcls.tagging import tag_chunk

        self.seq += 1
        pass_ = summary.pass_
        files, doc_rows, problem_rows, names = [], [], [], []
        tmp_writes: list[tuple[Path, list[str]]] = []
        tag_counts: Counter = Counter()
        untagged = 0
        if self.docs:
            name = f"tags-{self.fingerprint}-p{pass_}-{self.run_id}-{self.seq:06d}.jsonl"
            rows = tag_chunk([doc for doc, _ in self.docs], self.tagger, threshold=self.threshold,
                             pool=self.pool)
            lines = []
            for row in rows:
                row["model"] = self.fingerprint
                row["pass"] = pass_
                row["run"] = self.run_id
                lines.append(json.dumps(row, ensure_ascii=False) + "\n")
                tag_counts.update(row["tags"])
                untagged += not row["tags"]
            tmp_writes.append((self.output / (TMP_PREFIX + name), lines))
            files.append((name, TMP_PREFIX + name, "tags", self.run_id, self.seq,
                          self.fingerprint, pass_, len(lines)))
            doc_rows = [(self.fingerprint, pass_, doc.id, content, self.run_id, name)
                        for doc, content in self.docs]
            names.append(name)
        if self.problems:
            name = f"errors-{self.run_id}-{self.seq:06d}.jsonl"
            lines = [json.dumps({**problem.to_dict(), "run": self.run_id}, ensure_ascii=False)
                     + "\n" for problem, _ in self.problems]
            tmp_writes.append((self.output / (TMP_PREFIX + name), lines))
            files.append((name, TMP_PREFIX + name, "errors", self.run_id, self.seq, None, None,
                          len(lines)))
            problem_rows = [(*key, self.run_id, name) for _, key in self.problems]
            names.append(name)
        # 1. temp files, fsync'd
        for path, lines in tmp_writes:
            _write_durable(path, lines)
        _fsync_dir(self.output)
        self._hook("after_tmp")
        # 2. the commit point: files (pending), keys and problems in one transaction
        ledger.commit_pending(files, doc_rows, problem_rows)
        self._hook("after_ledger")
        # 3. rename into place, fsync the folder
        for path, _ in tmp_writes:
            os.replace(path, self.output / path.name[len(TMP_PREFIX):])
        _fsync_dir(self.output)
        self._hook("after_rename")
        # 4. mark done
        ledger.mark_done(names)
        self._hook("after_commit")
        summary.tagged += len(self.docs)
        summary.untagged += untagged
        self.per_tag.update(tag_counts)
        summary.per_tag = dict(sorted(self.per_tag.items()))
        for name in names:
            (summary.tags_files if name.startswith("tags-") else summary.errors_files).append(name)
        self.log.update(summary, time.perf_counter() - self.started, self.files_done)
        self.log.event("chunk", f"chunk {self.seq} written", seq=self.seq,
                       tagged=len(self.docs), rejected=len(self.problems), files=names,
                       total_tagged=summary.tagged, total_read=summary.read)
        self.docs, self.doc_keys, self.problems, self.problem_keys = [], set(), [], set()


def run_batch(inputs: Iterable[str], output: str | Path, *, model: str | Path = DEFAULT_MODEL,
              state: str | Path | None = None, retag: bool = False,
              max_bytes: int | None = DEFAULT_MAX_BYTES, chunk_size: int = DEFAULT_BATCH_CHUNK,
              threshold: float | None = None, split_pages: bool = True,
              log: BatchLog | None = None, jobs: int = 1) -> BatchSummary:
    """Tag every new document under `inputs` into `output` exactly once (see the module docstring).
    `jobs` > 1 (or -1: all cores) scores each chunk in that many worker processes.
    Raises BatchLocked if another run holds the state, RiskclsError for fatal problems."""
    inputs = list(inputs)
    if not inputs:
        raise RiskclsError("no inputs; give at least one --input file, folder or pattern")
    if chunk_size < 1:
        raise RiskclsError("--chunk-size must be at least 1")
    log = log or BatchLog("plain")
    output = Path(output)
    state = Path(state) if state is not None else output / STATE_DIRNAME
    try:
        output.mkdir(parents=True, exist_ok=True)
        state.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RiskclsError(f"cannot create {exc.filename}: {exc.strerror}") from None
    from riskcls.tagging import TaggingPool, load_model, resolve_jobs

    try:
        tagger = load_model(model)
        # workers start before the lock is taken and the ledger opened, so they hold neither
        pool = TaggingPool(tagger, jobs) if resolve_jobs(jobs) > 1 else None
    except OSError as exc:
        raise RiskclsError(f"{exc.filename or model}: {exc.strerror or exc}; nothing was tagged "
                           "(model unreadable, or worker processes could not start)") from None
    with pool if pool is not None else contextlib.nullcontext():
        return _locked_run(inputs, output, state, model, tagger, pool, retag=retag,
                           max_bytes=max_bytes, chunk_size=chunk_size, threshold=threshold,
                           split_pages=split_pages, log=log)


def _locked_run(inputs, output: Path, state: Path, model, tagger, pool, *, retag, max_bytes,
                chunk_size, threshold, split_pages, log) -> BatchSummary:
    run_id = new_run_id()
    lock = StateLock(state, run_id)
    lock.acquire()
    ledger = None
    try:
        if lock.stale:
            log.event("stale_lock", "took over the lock of a run that is no longer running "
                      f"(pid {lock.stale.get('pid')}, run {lock.stale.get('run_id')})",
                      level="warning", pid=lock.stale.get("pid"), run=lock.stale.get("run_id"))
        ledger = Ledger(state / LEDGER_FILE)
        _bind_output(ledger, output, state)
        run = _Run(run_id=run_id, output=output, state=state, tagger=tagger, max_bytes=max_bytes,
                   chunk_size=chunk_size, threshold=threshold, log=log, split_pages=split_pages,
                   pool=pool)
        recovered = run.recover(ledger)
        pass_ = ledger.current_pass(run.fingerprint, new=retag)
        started_at = _now()
        ledger.start_run(run_id, run.fingerprint, pass_, started_at)
        summary = BatchSummary(run_id=run_id, model=run.fingerprint, model_path=str(model),
                               pass_=pass_, output=str(output), state=str(state),
                               started_at=started_at, recovered=recovered)
        log.event("start", f"batch run {run_id}: model {run.fingerprint} pass {pass_}",
                  run=run_id, model=run.fingerprint, **{"pass": pass_}, inputs=inputs,
                  output=str(output), state=str(state), retag=retag)
        started = run.started = time.perf_counter()
        total_files = None
        if log.mode == "rich":
            total_files = sum(1 for _ in iter_input_files(inputs))
        log.start_progress(total_files)
        try:
            run.process(inputs, ledger, summary)
        except BaseException as exc:
            summary.status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            log.stop_progress()
            try:
                _finish(summary, ledger, log, started)
            except Exception:  # keep the original error; the ledger is consistent regardless
                pass
            raise
        summary.status = "done"
        log.stop_progress()
        _finish(summary, ledger, log, started)
        return summary
    except sqlite3.Error as exc:
        raise RiskclsError(f"the state ledger {state / LEDGER_FILE} cannot be used ({exc}); the "
                           "run stopped") from exc
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise RiskclsError(f"{where}{exc.strerror or exc}; the run stopped (a re-run completes "
                           "the work)") from exc
    finally:
        if ledger is not None:
            ledger.close()
        lock.release()


def _finish(summary: BatchSummary, ledger: Ledger, log: BatchLog, started: float) -> None:
    """Close the run in the ledger and write runs/<run-id>.json."""
    elapsed = time.perf_counter() - started
    summary.finished_at = _now()
    summary.duration_s = round(elapsed, 3)
    summary.docs_per_s = round(summary.tagged / elapsed, 1) if elapsed > 0 else 0.0
    ledger.finish_run(summary.run_id, summary.status, summary.finished_at)
    path = Path(summary.output) / "runs" / f"{summary.run_id}.json"
    write_json_atomic(path, summary.to_dict())
    if summary.rejected_known:
        log.event("known_rejections", f"{summary.rejected_known} input(s) rejected by an earlier "
                  "run are still rejected (see the errors files)", level="warning",
                  count=summary.rejected_known)
    log.event("finish", f"batch run {summary.run_id} {summary.status}",
              level="info" if summary.status == "done" else "error", run=summary.run_id,
              status=summary.status, read=summary.read, tagged=summary.tagged,
              skipped=summary.skipped, rejected=summary.rejected,
              rejected_known=summary.rejected_known, duration_s=summary.duration_s,
              docs_per_s=summary.docs_per_s, summary=str(path))


def _bind_output(ledger: Ledger, output: Path, state: Path) -> None:
    """Tie the output folder to this ledger, so files recorded in one ledger are never mixed with
    another's (which would break exactly-once)."""
    state_id = ledger.meta("state_id")
    if state_id is None:
        state_id = uuid.uuid4().hex
        ledger.set_meta("state_id", state_id)
    marker = output / MARKER_FILE
    try:
        bound = json.loads(marker.read_text(encoding="utf-8")).get("state_id")
    except FileNotFoundError:
        bound = None
    except (OSError, ValueError, AttributeError):
        raise RiskclsError(f"{marker} is damaged; remove it only if {output} holds no batch "
                           "output") from None
    if bound is None:
        if ledger.has_chunks():
            raise RiskclsError(f"the state in {state} recorded files in another output folder; "
                               f"{output} has none of them. Use the output folder that goes with "
                               "this state, or a new --state")
        write_json_atomic(marker, {"state_id": state_id, "state": str(state)})
    elif bound != state_id:
        raise RiskclsError(f"{output} holds batch output recorded by another state ledger; use "
                           "the --state that made it, or a new --output folder")
