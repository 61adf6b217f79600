"""Smoke tests for bench/: the scripts import, build their inputs, and render the report. The
benchmarks themselves are not unit tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))


def test_articles_are_news_length(tmp_path):
    import throughput

    titles, sentences = throughput.corpus_pieces()
    stats = throughput.write_articles(tmp_path / "a.jsonl", 200, titles, sentences)
    assert sum(1 for _ in open(tmp_path / "a.jsonl", encoding="utf-8")) == 200
    assert 250 < stats["words_median"] < 700


def test_report_renders_without_results(monkeypatch, tmp_path):
    import run_all

    monkeypatch.setattr(run_all, "RESULTS", tmp_path)
    text = run_all.render({"reuters": {"returncode": 0, "skipped": "SKIP reuters: absent"}})
    assert "# Benchmarks" in text and "SKIP reuters" in text


@pytest.mark.reuters
def test_reuters_modapte_counts():
    import reuters_data

    if not reuters_data.available():
        pytest.skip("../shared/data/reuters21578 absent")
    train, test = reuters_data.read_modapte()
    assert (len(train), len(test)) == (9603, 3299)
    sets = reuters_data.r90_r10(train, test)
    assert len(sets["R90"][0]) == 90 and len(sets["R10"][0]) == 10
    assert all(r["text"] for r in sets["R90"][1] + sets["R90"][2])


def test_report_lists_each_cv_variant(monkeypatch, tmp_path):
    import json

    import run_all

    monkeypatch.setattr(run_all, "RESULTS", tmp_path)
    variant = {"min_positives": 5, "tuned": {"micro_f1": 0.9013, "macro_f1": 0.5971},
               "threshold_0.5": {"micro_f1": 0.9024, "macro_f1": 0.5263}}
    (tmp_path / "reuters_cv_default.json").write_text(json.dumps(
        {"params": {}, "seconds": 285, "variants": [variant, {
            "min_positives": 15, "tuned": {"micro_f1": 0.8969, "macro_f1": 0.5898},
            "threshold_0.5": {"micro_f1": 0.9028, "macro_f1": 0.559}}]}))
    rows = [line for line in run_all.render().splitlines() if line.startswith("| default |")]
    assert rows == ["| default | `defaults` | 5 | 0.9013 | 0.5971 | 0.9024 | 0.5263 | 285 |",
                    "| default | `defaults` | 15 | 0.8969 | 0.5898 | 0.9028 | 0.5590 | 285 |"]
