"""Scheduled batch tagging: outputs, rejected inputs, incremental re-runs, exactly-once after
kill -9 at every commit step, the lock, and the CLI."""

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskcls import readers
from riskcls.batch import (
    CRASH_ENV,
    EXIT_LOCKED,
    EXIT_REJECTED,
    HOOK_POINTS,
    PAUSE_ENV,
    BatchLocked,
    BatchLog,
    run_batch,
)
from riskcls.errors import RiskclsError
from tests.conftest import make_corpus

PROJECT = Path(__file__).resolve().parent.parent

PAGE = """World News
2 hours ago
Troops advance on frontline town
artillery shelling hit the frontline town overnight as troops advanced and missile strikes.
Related Articles
Tariff fight deepens
washington raised tariffs on steel imports and beijing retaliated with duties and new levies.
Comments
"""
HTML = """<html><head><title>Banks blacklisted</title></head><body><nav>Home | World</nav>
<article><h1>Banks blacklisted</h1><p>The treasury froze assets and blacklisted banks under new
sanctions, and officials were cut off from swift and designated on the sanctions list.</p>
<p>The european union imposed sanctions and an asset freeze on oligarchs as well.</p></article>
</body></html>"""


# ------------------------------------------------------------------------------------------------
# fixtures and helpers


def _bundle(tagger, directory: Path) -> Path:
    from riskcls.bundle import save_bundle
    from riskcls.taxonomy import Tag, Taxonomy

    ids = [str(c) for c in tagger.classes_]
    taxonomy = Taxonomy(tags=tuple(Tag(id=i, name=i, definition=i) for i in ids))
    return save_bundle(tagger, directory, taxonomy=taxonomy, data_fingerprint="x", n_docs=10)


@pytest.fixture(scope="session")
def model_dir(fitted_tagger, tmp_path_factory):
    return _bundle(fitted_tagger, tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture(scope="session")
def other_model_dir(tmp_path_factory):
    from riskcls.model import RiskTagger

    texts, Y, tags = make_corpus(n_per_theme=10, seed=1)
    tagger = RiskTagger(labels=tags, cv=3).fit(texts, Y)
    return _bundle(tagger, tmp_path_factory.mktemp("models") / "other")


def _record(i: int, theme: str = "missile strikes and drone attacks killed soldiers") -> dict:
    return {"id": f"d{i}", "title": f"Report {i}", "text": f"{theme} near the border, item {i}."}


def _write_jsonl(path: Path, records, extra_lines=()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r).encode() + b"\n" for r in records] + list(extra_lines)
    data = b"".join(lines)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def _mixed_inputs(root: Path) -> dict:
    """A folder with every kind of good and bad input; returns what a run must find in it."""
    news, records, bad = root / "news", root / "records", root / "bad"
    for folder in (news, records, bad):
        folder.mkdir(parents=True)
    (news / "a.txt").write_text("Frontline town shelled\n\nartillery shelling hit the frontline "
                                "town overnight as troops advanced.", encoding="utf-8")
    (news / "page.txt").write_text(PAGE, encoding="utf-8")             # 2 articles
    (news / "c.html").write_text(HTML, encoding="utf-8")
    (news / "d.md.gz").write_bytes(gzip.compress(b"# Duties\n\nanti-dumping duties on solar "
                                                 b"panels escalated the trade dispute."))
    good = [_record(i) for i in range(3)]
    _write_jsonl(records / "r.jsonl", good, [
        b"{not json\n",                                                # malformed
        b'{"id": "x1", "text": "caf\xe9 au lait"}\n',                  # undecodable (latin-1)
        b'{"id": "x2", "title": "no text"}\n',                         # no text
        b"[1, 2, 3]\n",                                                # not an object
        json.dumps(good[0]).encode() + b"\n",                          # identical duplicate
    ])
    (records / "r.csv").write_text("id,title,text\nc1,Levies,retaliatory levies on soybeans and "
                                   "cars\nc2,Freeze,the treasury froze assets\nc3,Empty,\n",
                                   encoding="utf-8")
    _write_jsonl(records / "g.jsonl.gz", [_record(10), _record(11)])
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([_record(20), _record(21)]), records / "p.parquet")
    (bad / "empty.txt").write_bytes(b"")
    (bad / "blank.md").write_text("  \n\n  ", encoding="utf-8")
    (bad / "binary.txt").write_bytes(b"\x00\x01\x02 not text \x00" * 10)
    (bad / "big.txt").write_text("word " * 2000, encoding="utf-8")     # over max_bytes=5000
    (bad / "scan.pdf").write_bytes(b"%PDF-1.4")
    (bad / "locked.txt").write_text("readable only in theory", encoding="utf-8")
    (bad / "broken.jsonl.gz").write_bytes(b"this is not gzip data")
    (bad / "loop").symlink_to(bad, target_is_directory=True)
    (bad / "self.txt").symlink_to(bad / "self.txt")
    ids = {"news/a.txt", "news/page.txt#1", "news/page.txt#2", "news/c.html", "news/d.md.gz", "d0",
           "d1", "d2", "c1", "c2", "d10", "d11", "d20", "d21"}
    reasons = {
        ("r.jsonl", 4): "malformed JSON", ("r.jsonl", 5): "undecodable bytes",
        ("r.jsonl", 6): "no 'text'", ("r.jsonl", 7): "expected a JSON object",
        ("r.csv", 4): "no 'text'",
        ("empty.txt", None): "empty", ("blank.md", None): "empty",
        ("binary.txt", None): "binary file", ("big.txt", None): "--max-bytes",
        ("scan.pdf", None): "unsupported file type", ("locked.txt", None): "Permission denied",
        ("broken.jsonl.gz", None): "cannot read file", ("loop", None): "symlink loop",
        ("self.txt", None): "symbolic links", ("missing", None): "no such file",
    }
    return {"ids": ids, "reasons": reasons, "inputs": [str(root), str(root / "missing")]}


@pytest.fixture
def unreadable(monkeypatch):
    """Tests run as root, where chmod cannot make a file unreadable: fail its open instead."""
    real_open = readers._open_binary

    def fake_open(path):
        if Path(path).name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path)

    monkeypatch.setattr(readers, "_open_binary", fake_open)


def _rows(out: Path) -> list[dict]:
    rows = []
    for path in sorted(out.glob("tags-*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


def _errors(out: Path) -> list[dict]:
    rows = []
    for path in sorted(out.glob("errors-*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


def _assert_exactly_once(out: Path, ids: set[str], model: str, pass_: int = 1) -> None:
    rows = [r for r in _rows(out) if r["model"] == model and r["pass"] == pass_]
    counts = Counter(r["id"] for r in rows)
    assert {i for i, n in counts.items() if n > 1} == set(), "documents written twice"
    assert set(counts) == ids


def _fingerprint(model_dir: Path) -> str:
    from riskcls.tagging import load_model

    return load_model(model_dir).bundle_["fingerprint"]


def _quiet() -> BatchLog:
    return BatchLog("plain", stream=StringIO())


# ------------------------------------------------------------------------------------------------
# one run, re-runs, new files, --retag, other models


def test_run_tags_good_inputs_and_reports_every_bad_one(tmp_path, model_dir, unreadable):
    case = _mixed_inputs(tmp_path / "in")
    out = tmp_path / "out"
    summary = run_batch(case["inputs"], out, model=model_dir, max_bytes=5000, chunk_size=4,
                        log=_quiet())

    rows = _rows(out)
    fingerprint = _fingerprint(model_dir)
    assert len(rows) == len(case["ids"]) == 14
    _assert_exactly_once(out, case["ids"], fingerprint)
    for row in rows:
        assert set(row) >= {"id", "title", "source", "tags", "scores", "model", "pass", "run"}
        assert row["model"] == fingerprint and row["source"]
        assert set(row["scores"]) == {"military_conflict", "trade_war", "sanctions"}
    assert {r["source"].rsplit("/", 1)[-1] for r in rows if r["id"].startswith("news/page")} == {
        "page.txt#1", "page.txt#2"}

    errors = _errors(out)
    assert len(errors) == len(case["reasons"]) == 15
    found = {(Path(e["source"]).name, e["line"]): e["reason"] for e in errors}
    assert set(found) == set(case["reasons"])
    for key, fragment in case["reasons"].items():
        assert fragment in found[key], (key, found[key])

    assert summary.read == 15 and summary.tagged == 14 and summary.skipped_duplicate == 1
    assert summary.rejected == 15 and summary.exit_code == EXIT_REJECTED
    saved = json.loads((out / "runs" / f"{summary.run_id}.json").read_text())
    assert saved["tagged"] == 14 and saved["rejected"] == 15 and saved["skipped"] == 1
    assert saved["status"] == "done" and saved["docs_per_s"] > 0 and saved["duration_s"] > 0
    assert sum(saved["per_tag"].values()) + saved["untagged"] >= 14
    assert saved["per_tag"] == dict(Counter(t for r in rows for t in r["tags"]))
    assert not list(out.glob(".tmp-*")) and not (out / ".state" / "lock.json").exists()


def test_rerun_tags_nothing_and_does_not_rereport_known_problems(tmp_path, model_dir, unreadable):
    case = _mixed_inputs(tmp_path / "in")
    out = tmp_path / "out"
    run_batch(case["inputs"], out, model=model_dir, max_bytes=5000, log=_quiet())
    files = sorted(p.name for p in out.glob("*-*.jsonl"))

    again = run_batch(case["inputs"], out, model=model_dir, max_bytes=5000, log=_quiet())
    assert again.tagged == 0 and again.skipped_done == 15 and again.read == 15
    assert again.rejected == 0 and again.rejected_known == 15 and again.exit_code == 0
    assert sorted(p.name for p in out.glob("*-*.jsonl")) == files
    assert len(list((out / "runs").glob("*.json"))) == 2

    # A bad file that changes is reported again; fixing it gets its rows tagged.
    (tmp_path / "in" / "records" / "r.csv").write_text(
        "id,title,text\nc1,Levies,retaliatory levies on soybeans and cars\nc2,Freeze,the treasury"
        " froze assets\nc3,Fixed,officials were cut off from swift\nc4,Still empty,\n",
        encoding="utf-8")
    third = run_batch(case["inputs"], out, model=model_dir, max_bytes=5000, log=_quiet())
    assert third.tagged == 1 and third.rejected == 1 and third.exit_code == EXIT_REJECTED
    assert [e["line"] for e in _errors(out) if e["run"] == third.run_id] == [5]
    _assert_exactly_once(out, case["ids"] | {"c3"}, _fingerprint(model_dir))


def test_new_file_is_picked_up(tmp_path, model_dir):
    inputs = tmp_path / "in"
    _write_jsonl(inputs / "day1.jsonl", [_record(i) for i in range(5)])
    out = tmp_path / "out"
    assert run_batch([str(inputs)], out, model=model_dir, log=_quiet()).tagged == 5
    _write_jsonl(inputs / "day2.jsonl", [_record(i) for i in range(3, 9)])   # 2 seen, 4 new
    (inputs / "late.txt").write_text("Sanctions\n\nthe treasury froze assets", encoding="utf-8")
    second = run_batch([str(inputs / "*.jsonl"), str(inputs / "*.txt")], out, model=model_dir,
                       log=_quiet())
    assert (second.tagged, second.skipped_done) == (5, 7)
    assert {r["id"] for r in _rows(out) if r["run"] == second.run_id} == {
        "d5", "d6", "d7", "d8", "late.txt"}
    _assert_exactly_once(out, {f"d{i}" for i in range(9)} | {"late.txt"},
                         _fingerprint(model_dir))


def test_worker_processes_tag_each_document_once_with_the_same_tags(tmp_path, model_dir):
    inputs = tmp_path / "in"
    _write_jsonl(inputs / "day1.jsonl", [_record(i) for i in range(25)])
    alone, together = tmp_path / "alone", tmp_path / "together"
    run_batch([str(inputs)], alone, model=model_dir, chunk_size=10, log=_quiet())
    summary = run_batch([str(inputs)], together, model=model_dir, chunk_size=10, jobs=2,
                        log=_quiet())
    assert summary.tagged == 25
    _assert_exactly_once(together, {f"d{i}" for i in range(25)}, _fingerprint(model_dir))
    strip = ("run",)
    assert [{k: v for k, v in r.items() if k not in strip} for r in _rows(together)] == \
        [{k: v for k, v in r.items() if k not in strip} for r in _rows(alone)]


def test_same_id_with_new_content_is_tagged_again(tmp_path, model_dir):
    inputs = tmp_path / "in"
    _write_jsonl(inputs / "a.jsonl", [_record(1)])
    out = tmp_path / "out"
    run_batch([str(inputs)], out, model=model_dir, log=_quiet())
    _write_jsonl(inputs / "a.jsonl", [_record(1, theme="the treasury froze assets")])
    assert run_batch([str(inputs)], out, model=model_dir, log=_quiet()).tagged == 1
    assert [r["id"] for r in _rows(out)] == ["d1", "d1"]


def test_retag_and_another_model_write_new_files(tmp_path, model_dir, other_model_dir):
    inputs = tmp_path / "in"
    ids = {f"d{i}" for i in range(7)}
    _write_jsonl(inputs / "a.jsonl", [_record(i) for i in range(7)])
    out = tmp_path / "out"
    first = run_batch([str(inputs)], out, model=model_dir, chunk_size=3, log=_quiet())
    first_files = set(out.glob("tags-*.jsonl"))

    retag = run_batch([str(inputs)], out, model=model_dir, chunk_size=3, retag=True, log=_quiet())
    assert retag.tagged == 7 and retag.pass_ == 2
    new_files = set(out.glob("tags-*.jsonl")) - first_files
    assert len(new_files) == 3 and all("-p2-" in p.name for p in new_files)
    fingerprint = _fingerprint(model_dir)
    _assert_exactly_once(out, ids, fingerprint, pass_=1)
    _assert_exactly_once(out, ids, fingerprint, pass_=2)
    assert run_batch([str(inputs)], out, model=model_dir, log=_quiet()).tagged == 0

    other = run_batch([str(inputs)], out, model=other_model_dir, log=_quiet())
    other_fp = _fingerprint(other_model_dir)
    assert other.tagged == 7 and other.model == other_fp != fingerprint
    other_files = [p for p in out.glob("tags-*.jsonl") if other_fp in p.name]
    assert len(other_files) == 1
    _assert_exactly_once(out, ids, other_fp, pass_=1)
    assert first.model == fingerprint


def test_output_inside_an_input_folder_is_not_read_back(tmp_path, model_dir):
    inputs = tmp_path / "in"
    _write_jsonl(inputs / "a.jsonl", [_record(i) for i in range(3)])
    out = inputs / "tagged"
    run_batch([str(inputs)], out, model=model_dir, log=_quiet())
    second = run_batch([str(inputs)], out, model=model_dir, log=_quiet())
    assert second.tagged == 0 and second.rejected == 0 and second.ignored_outputs >= 2


def test_a_state_is_tied_to_its_output_folder(tmp_path, model_dir):
    inputs = tmp_path / "in"
    _write_jsonl(inputs / "a.jsonl", [_record(1)])
    run_batch([str(inputs)], tmp_path / "out", model=model_dir, state=tmp_path / "state",
              log=_quiet())
    with pytest.raises(RiskclsError, match="another state ledger"):
        run_batch([str(inputs)], tmp_path / "out", model=model_dir, state=tmp_path / "state2",
                  log=_quiet())
    with pytest.raises(RiskclsError, match="another output folder"):
        run_batch([str(inputs)], tmp_path / "out2", model=model_dir, state=tmp_path / "state",
                  log=_quiet())


def test_missing_model_is_fatal(tmp_path):
    _write_jsonl(tmp_path / "in" / "a.jsonl", [_record(1)])
    with pytest.raises(RiskclsError, match="no model"):
        run_batch([str(tmp_path / "in")], tmp_path / "out", model=tmp_path / "nope",
                  log=_quiet())
    assert not (tmp_path / "out" / ".state" / "lock.json").exists()


def test_logs_json_lines_and_rich_progress(tmp_path, model_dir):
    _write_jsonl(tmp_path / "in" / "a.jsonl", [_record(i) for i in range(4)], [b"{bad\n"])
    stream = StringIO()
    run_batch([str(tmp_path / "in")], tmp_path / "out", model=model_dir, chunk_size=2,
              log=BatchLog("json", stream=stream))
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["event"] for e in events][0] == "start" and events[-1]["event"] == "finish"
    assert {"chunk", "rejected"} <= {e["event"] for e in events}
    assert events[-1]["tagged"] == 4 and events[-1]["rejected"] == 1
    assert all({"ts", "level", "msg"} <= set(e) for e in events)

    stream = StringIO()
    (tmp_path / "in" / "b.txt").write_text("Duties\n\nanti-dumping duties on solar panels")
    run_batch([str(tmp_path / "in")], tmp_path / "out", model=model_dir,
              log=BatchLog("rich", stream=stream))
    assert "tagging" in stream.getvalue() and "done" in stream.getvalue()


# ------------------------------------------------------------------------------------------------
# the CLI


def test_cli_batch_exit_codes(tmp_path, model_dir):
    from riskcls.cli import app

    inputs = tmp_path / "in"
    _write_jsonl(inputs / "a.jsonl", [_record(i) for i in range(3)], [b"{bad\n"])
    out = tmp_path / "out"
    runner = CliRunner()
    args = ["batch", "--input", str(inputs / "a.jsonl"), "--output", str(out), "--model",
            str(model_dir), "--log-json"]
    result = runner.invoke(app, args)
    assert result.exit_code == EXIT_REJECTED, result.output
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert events[-1]["event"] == "finish" and events[-1]["tagged"] == 3
    assert len(_rows(out)) == 3 and len(_errors(out)) == 1

    _write_jsonl(inputs / "b.jsonl", [_record(9)])
    # `--input a b` works: extra arguments are inputs too
    result = runner.invoke(app, ["batch", "--output", str(out), "--model", str(model_dir),
                                 "--input", str(inputs / "a.jsonl"), str(inputs / "b.jsonl")])
    assert result.exit_code == 0, result.output
    assert "event=finish" in result.stderr and "tagged=1" in result.stderr

    result = runner.invoke(app, ["batch", "--input", str(inputs), "--output", str(out),
                                 "--model", str(tmp_path / "missing")])
    assert result.exit_code == 1 and "no model" in result.stderr
    help_text = runner.invoke(app, ["batch", "--help"]).output
    assert all(code in help_text for code in ("75", "3 ", "0 ", "1 "))


# ------------------------------------------------------------------------------------------------
# kill -9 at every commit step, and the lock (subprocesses)


def _crash_inputs(root: Path) -> set[str]:
    _write_jsonl(root / "a.jsonl", [_record(i) for i in range(10)])
    _write_jsonl(root / "b.jsonl.gz", [_record(i) for i in range(10, 17)] + [_record(3)])
    (root / "c.txt").write_text(PAGE, encoding="utf-8")
    (root / "z.txt").write_bytes(b"")
    return {f"d{i}" for i in range(17)} | {"c.txt#1", "c.txt#2"}


def _batch_process(root: Path, out: Path, model_dir: Path, env: dict, *more) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "riskcls", "batch", "--input", str(root), "--output", str(out),
         "--model", str(model_dir), "--chunk-size", "4", *more],
        cwd=PROJECT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


def _visible_files_are_complete(out: Path) -> None:
    for path in [*out.glob("tags-*.jsonl"), *out.glob("errors-*.jsonl")]:
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n")
        for line in text.splitlines():
            json.loads(line)


@pytest.mark.slow
@pytest.mark.parametrize("point", HOOK_POINTS)
def test_kill_9_at_each_commit_step_then_rerun_gives_each_document_once(tmp_path, model_dir,
                                                                        point):
    root = tmp_path / "in"
    root.mkdir()
    ids = _crash_inputs(root)
    out = tmp_path / "out"
    process = _batch_process(root, out, model_dir, {CRASH_ENV: f"{point}:2"})
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    _visible_files_are_complete(out)
    tmp_files = list(out.glob(".tmp-*"))
    assert bool(tmp_files) == (point in ("after_tmp", "after_ledger"))
    assert (out / ".state" / "lock.json").exists()          # the dead run's note is left behind

    stream = StringIO()
    summary = run_batch([str(root)], out, model=model_dir, chunk_size=4,
                        log=BatchLog("json", stream=stream))
    events = {json.loads(line)["event"] for line in stream.getvalue().splitlines()}
    assert {"stale_lock", "recovery"} <= events
    recovered = {key: len(value) for key, value in summary.recovered.items()}
    expected = {"after_tmp": {"removed_tmp": 1}, "after_ledger": {"rolled_forward": 1},
                "after_rename": {"rolled_forward": 1}, "after_commit": {}}[point]
    assert recovered == {"crashed_runs": 1, **expected}
    _visible_files_are_complete(out)
    assert not list(out.glob(".tmp-*"))
    _assert_exactly_once(out, ids, _fingerprint(model_dir))
    assert len(_errors(out)) == 1                             # z.txt reported exactly once
    # chunks of 4: chunk 1 was done; chunk 2 is done unless it died before the ledger commit
    assert summary.tagged == len(ids) - (4 if point == "after_tmp" else 8)


@pytest.mark.slow
def test_repeated_kills_and_lost_temp_files_still_give_each_document_once(tmp_path, model_dir):
    root = tmp_path / "in"
    root.mkdir()
    ids = _crash_inputs(root)
    out = tmp_path / "out"
    for env in ({CRASH_ENV: "after_ledger:3"}, {CRASH_ENV: "after_rename:1"},
                {CRASH_ENV: "after_tmp:1"}, {CRASH_ENV: "after_ledger:1"}):
        process = _batch_process(root, out, model_dir, env)
        process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL
        _visible_files_are_complete(out)
    # Someone deletes the durable temp files of the last (pending) chunk: its documents must be
    # tagged again rather than lost.
    for path in out.glob(".tmp-*"):
        path.unlink()
    process = _batch_process(root, out, model_dir, {})
    _, stderr = process.communicate(timeout=60)
    # z.txt's report was in the lost chunk too, so it is reported again: exit 3
    assert process.returncode == EXIT_REJECTED, stderr
    assert "level=warning event=recovery" in stderr and "lost_chunks_retagged=2" in stderr
    _assert_exactly_once(out, ids, _fingerprint(model_dir))
    assert len(_errors(out)) == 1


@pytest.mark.slow
def test_second_run_gets_75_and_a_dead_holder_lock_is_taken_over(tmp_path, model_dir):
    from riskcls.cli import app

    root = tmp_path / "in"
    root.mkdir()
    ids = _crash_inputs(root)
    out = tmp_path / "out"
    holder = _batch_process(root, out, model_dir, {PAUSE_ENV: "after_commit:1"})
    try:
        deadline = time.monotonic() + 60
        while not list(out.glob("tags-*.jsonl")):
            assert holder.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        started = time.monotonic()
        result = CliRunner().invoke(app, ["batch", "--input", str(root), "--output", str(out),
                                          "--model", str(model_dir)])
        assert result.exit_code == EXIT_LOCKED
        assert time.monotonic() - started < 5
        assert "holds the lock" in result.stderr and f"pid {holder.pid}" in result.stderr
        with pytest.raises(BatchLocked):
            run_batch([str(root)], out, model=model_dir, log=_quiet())
    finally:
        holder.kill()
        holder.communicate(timeout=30)
    result = CliRunner().invoke(app, ["batch", "--input", str(root), "--output", str(out),
                                      "--model", str(model_dir), "--chunk-size", "4"])
    assert result.exit_code == EXIT_REJECTED, result.output   # z.txt: the holder died before it
    assert "event=stale_lock" in result.stderr and f"pid {holder.pid}" in result.stderr
    _assert_exactly_once(out, ids, _fingerprint(model_dir))
