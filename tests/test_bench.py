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
    # every training document was filed before every test document (bench/reuters_drift.py)
    assert all(r["date"] for r in train + test)
    assert max(r["date"] for r in train) < min(r["date"] for r in test)


def test_report_lists_each_cv_variant(monkeypatch, tmp_path):
    import json

    import run_all

    monkeypatch.setattr(run_all, "RESULTS", tmp_path)
    variant = {"min_positives": 5, "tuned": {"micro_f1": 0.9013, "macro_f1": 0.5971},
               "threshold_0.5": {"micro_f1": 0.9024, "macro_f1": 0.5263}}
    (tmp_path / "reuters_cv_default.json").write_text(json.dumps(
        {"params": {}, "seconds": 285, "variants": [variant, {
            "min_positives": 15, "threshold_prior_weight": 5.0,
            "tuned": {"micro_f1": 0.8969, "macro_f1": 0.5898},
            "threshold_0.5": {"micro_f1": 0.9028, "macro_f1": 0.559}}]}))
    rows = [line for line in run_all.render().splitlines() if line.startswith("| default |")]
    assert rows == ["| default | `defaults` | 5 | 0 | 0.9013 | 0.5971 | 0.9024 | 0.5263 | 285 |",
                    "| default | `defaults` | 15 | 5 | 0.8969 | 0.5898 | 0.9028 | 0.5590 | 285 |"]


def test_forward_split_holds_out_the_latest_documents():
    import reuters_drift

    dates = [f"1987-03-{day:02d}" for day in (5, 3, 9, 1, 7, 2, 8, 4, 6, 10)]
    (name, fit, held), (random_name, random_fit, random_held) = reuters_drift.splits(
        dates, 0.3, [0])
    assert name == "forward" and sorted(dates[i] for i in held) == sorted(dates)[-3:]
    assert max(dates[i] for i in fit) < min(dates[i] for i in held)
    assert random_name == "random seed 0" and (len(random_fit), len(random_held)) == (7, 3)
    for part, rest in ((fit, held), (random_fit, random_held)):
        assert sorted([*part, *rest]) == list(range(10))


def test_report_shows_each_drift_split(monkeypatch, tmp_path):
    import json

    import run_all

    monkeypatch.setattr(run_all, "RESULTS", tmp_path)
    scores = {"micro_f1": 0.875, "micro_precision": 0.871, "micro_recall": 0.879,
              "macro_f1": 0.4894, "tags_present": 60}
    (tmp_path / "reuters_drift_default.json").write_text(json.dumps(
        {"date": "2026-11-29", "command": "python bench/reuters_drift.py", "params": {},
         "holdout": 0.25, "note": "macro over present tags", "splits": [
             {"split": "forward", "fit_dates": ["1987-02-26T15:01:01", "1987-03-26T18:30:11"],
              "held_out_dates": ["1987-03-26T18:31:00", "1987-04-07T23:35:21"],
              "tuned": scores, "threshold_0.5": {**scores, "micro_f1": 0.877}},
             *({"split": f"random seed {seed}", "fit_dates": ["1987-02-26", "1987-04-07"],
                "held_out_dates": ["1987-02-26", "1987-04-07"],
                "tuned": {**scores, "micro_f1": micro}, "threshold_0.5": scores}
               for seed, micro in enumerate((0.899, 0.9076, 0.91)))]}))
    text = run_all.render()
    rows = [line for line in text.splitlines() if line.startswith("| forward |")]
    assert rows == ["| forward | 1987-02-26 – 1987-03-26 | 1987-03-26 – 1987-04-07 | 0.8750 | "
                    "0.871 / 0.879 | 0.4894 | 0.8770 | 0.4894 |"]
    assert sum(line.startswith("| random seed ") for line in text.splitlines()) == 3
    assert "Forward micro-F1 (tuned) is 0.033 below the median of the random holdouts (0.9076)" \
        in text
