"""Reuters-21578 ModApte benchmark: riskcls beside fastText and a plain TF-IDF + LinearSVC, in one run.

For R90 (the 90 TOPICS categories with at least one train and one test document) and R10 (the 10
largest), the ModApte training documents become riskcls labelled records and a taxonomy generated
from the categories; they go through riskcls's own path: `riskcls.data.validate` / `to_dataset` /
`documents` / `label_matrix` -> `RiskTagger()` (default parameters: C chosen per tag by
cross-validation, calibration and per-tag thresholds from out-of-fold scores, all on the training
split) -> `riskcls.evaluate.metrics` on the ModApte test documents. The test split is only ever
scored, never used to choose anything.

fastText (`fasttext-numpy2`, loss='ova') is trained on the same training records; epochs, lr and
word n-grams are chosen by 3-fold multi-label stratified CV on the training split (mean average
precision over labels), and per-label thresholds are tuned on that configuration's out-of-fold
probabilities. Both tools' predict throughput is measured on the same test documents, median of 3.

Macro-F1 is the unweighted mean over all categories of the set (every R90/R10 category has test
documents), with F1 = 0 for a category with no true or predicted positive (zero division = 0).

    python bench/reuters.py                 # R90 and R10, riskcls + fastText + LinearSVC
    python bench/reuters.py --sets R10 --quick
    python bench/reuters.py --params '{"C_grid": [0.1, 0.5, 1.0]}'   # RiskTagger overrides
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    RESULTS,
    ROOT,
    machine,
    peak_rss_mb,
    single_thread_blas,
    timed,
    write_result,
)
from reuters_data import REUTERS_DIR, available, r90_r10, read_modapte  # noqa: E402

ANCHORS = {
    "R90": [
        ("Joachims 1998, linear SVM, C=0.5 (micro break-even)", 0.867, None),
        ("Joachims 1998, linear SVM, C=1.0 (micro break-even)", 0.875, None),
        ("Yang & Liu 1999, kNN", 0.8567, 0.5242),
        ("kNN with per-category thresholds (later replication)", None, 0.6146),
    ],
    "R10": [],
}
TARGETS = {"R90": {"micro": 0.90, "macro": 0.60}, "R10": {"micro": 0.95}}
CHUNK = 512  # riskcls.tagging.DEFAULT_CHUNK


# ---------------------------------------------------------------- records through riskcls.data
def tag_id(category: str) -> str:
    """Reuters categories as riskcls tag ids (which allow [a-z0-9_] only)."""
    return category.replace("-", "_")


def riskcls_datasets(categories, train, test):
    """Validated riskcls datasets (train, test), the taxonomy and what validation dropped."""
    from riskcls.data import to_dataset, validate
    from riskcls.taxonomy import Tag, Taxonomy

    taxonomy = Taxonomy(tags=tuple(Tag(id=tag_id(c), name=c, definition=f"Reuters TOPICS "
                                       f"category '{c}'") for c in categories))
    out, dropped = [], {}
    for split, records in (("train", train), ("test", test)):
        rows = [(f"reuters/{split}", i + 1, {**r, "labels": [tag_id(t) for t in r["labels"]]})
                for i, r in enumerate(records)]
        good, problems = validate(rows, taxonomy)
        dropped[split] = [str(p) for p in problems]
        out.append(to_dataset(good, taxonomy))
    return out[0], out[1], taxonomy, dropped


def training_split(set_name: str = "R90"):
    """The ModApte training split of a set as the validated riskcls dataset, its tag ids, texts
    and label matrix — all that the CV-on-training benchmarks read (never the test split)."""
    from riskcls.data import documents, label_matrix

    categories, train, _ = r90_r10(*read_modapte())[set_name]
    train_ds, _, taxonomy, _ = riskcls_datasets(categories, train, [])
    return train_ds, taxonomy.ids, documents(train_ds), label_matrix(train_ds, taxonomy.ids)


# ---------------------------------------------------------------- riskcls
def chunks(items, size=CHUNK):
    return [items[i:i + size] for i in range(0, len(items), size)]


def bench_riskcls(train_ds, test_ds, ids, params, repeat):
    from riskcls.data import documents, label_matrix
    from riskcls.evaluate import metrics
    from riskcls.model import RiskTagger
    from riskcls.tagging import TaggingPool, iter_tagged

    X_train, Y_train = documents(train_ds), label_matrix(train_ds, ids)
    X_test, Y_test = documents(test_ds), label_matrix(test_ds, ids)
    tagger = RiskTagger(labels=ids, **{"n_jobs": -1, **params})
    started = time.perf_counter()
    tagger.fit(X_train, Y_train)
    train_s = time.perf_counter() - started
    rss_after_train = peak_rss_mb()

    parts = chunks(X_test)
    with single_thread_blas():
        proba_s, proba_times, probs = timed(
            lambda: np.vstack([tagger.predict_proba(p) for p in parts]), repeat)
        api_s, api_times, rows = timed(lambda: list(iter_tagged(X_test, tagger)), repeat)
    cores = os.cpu_count() or 1
    with single_thread_blas(), TaggingPool(tagger, jobs=-1) as pool:
        # as riskcls.tagging.iter_tagged does: each worker scores a CHUNK-document share
        shares = chunks(X_test, CHUNK * pool.jobs)
        pool.predict_proba(shares[0])  # warm the workers
        par_s, par_times, par_probs = timed(
            lambda: np.vstack([pool.predict_proba(p) for p in shares]), repeat)
    assert np.allclose(par_probs, probs)
    n = len(X_test)
    tuned = (probs >= tagger.thresholds_).astype(int)
    at_half = (probs >= 0.5).astype(int)
    result = {
        "params": {k: v for k, v in tagger.get_params().items() if k not in ("labels",)},
        "n_train": len(X_train), "n_test": n, "train_s": round(train_s, 1),
        "tuned_thresholds": _scores(metrics(Y_test, tuned, probs, ids, tagger.thresholds_)),
        "threshold_0.5": _scores(metrics(Y_test, at_half, probs, ids, np.full(len(ids), 0.5))),
        "predict_proba_docs_per_s_1thread": round(n / proba_s, 1),
        "api_iter_tagged_docs_per_s_1thread": round(n / api_s, 1),
        f"predict_proba_docs_per_s_{cores}procs": round(n / par_s, 1),
        "timings_s": {"predict_proba_1thread": proba_times, "iter_tagged_1thread": api_times,
                      f"predict_proba_{cores}procs": par_times},
        "peak_rss_mb_after_train": rss_after_train,
        "chosen_C": {str(c): int((tagger.C_ == c).sum()) for c in sorted(set(tagger.C_))},
        "thresholds_mean": round(float(tagger.thresholds_.mean()), 3),
        "per_tag_f1": {t: round(m["f1"], 4) for t, m in metrics(
            Y_test, tuned, probs, ids, tagger.thresholds_)["labels"].items()},
    }
    del rows
    return result, Y_test, X_test, Y_train, X_train


def _scores(m: dict) -> dict:
    return {"micro_f1": round(m["micro"]["f1"], 4), "macro_f1": round(m["macro"]["f1"], 4),
            "micro_p": round(m["micro"]["precision"], 4), "micro_r": round(m["micro"]["recall"], 4)}


# ---------------------------------------------------------------- fastText
_TOKEN = re.compile(r"[a-z0-9]+(?:[.,'][a-z0-9]+)*|[^\sa-z0-9]")


def ft_text(doc: str) -> str:
    """fastText's input: one line, lower-cased, punctuation split off (its tokenizer only splits
    on white space)."""
    return " ".join(_TOKEN.findall(doc.lower()))


def ft_train(texts, Y, ids, config, threads, workdir):
    import fasttext

    path = Path(workdir) / "ft-train.txt"
    with open(path, "w", encoding="utf-8") as handle:
        for text, row in zip(texts, Y):
            labels = " ".join(f"__label__{ids[j]}" for j in np.flatnonzero(row))
            handle.write(f"{labels} {text}\n")
    epoch, lr, ngrams = config
    return fasttext.train_supervised(str(path), loss="ova", epoch=epoch, lr=lr, wordNgrams=ngrams,
                                     minCount=1, bucket=2_000_000 if ngrams > 1 else 0,
                                     thread=threads, verbose=0, seed=0)


def ft_predict(model, texts, ids):
    """Probabilities documents x labels (every label's score: k=-1, threshold 0)."""
    column = {f"__label__{t}": j for j, t in enumerate(ids)}
    labels, probs = model.predict(texts, k=-1, threshold=0.0)
    out = np.zeros((len(texts), len(ids)), dtype=np.float32)
    for i, (names, values) in enumerate(zip(labels, probs)):
        for name, value in zip(names, values):
            j = column.get(name)
            if j is not None:
                out[i, j] = value
    return out


def _mean_ap(Y, P):
    from sklearn.metrics import average_precision_score

    aps = [average_precision_score(Y[:, j], P[:, j]) for j in range(Y.shape[1])
           if 0 < Y[:, j].sum() < len(Y)]
    return float(np.mean(aps))


def bench_fasttext(X_train, Y_train, X_test, Y_test, ids, grid, repeat, workdir):
    import fasttext  # noqa: F401  (fail early with a clear message)

    from riskcls.data import kfold_indices
    from riskcls.evaluate import metrics
    from riskcls.model import _best_f1_threshold

    threads = os.cpu_count() or 1
    started = time.perf_counter()
    train_text = [ft_text(x) for x in X_train]
    folds = kfold_indices(Y_train, n_splits=3, seed=0)
    cv = []
    oof_by_config = {}
    for config in grid:
        oof = np.zeros(Y_train.shape, dtype=np.float32)
        try:
            for train, test in folds:
                model = ft_train([train_text[i] for i in train], Y_train[train], ids, config,
                                 threads, workdir)
                oof[test] = ft_predict(model, [train_text[i] for i in test], ids)
        except RuntimeError as exc:  # fastText diverges ("Encountered NaN") at too high an lr
            cv.append({"epoch": config[0], "lr": config[1], "wordNgrams": config[2],
                       "cv_mean_ap": None, "failed": str(exc)})
            print(f"    fastText CV {config}: failed ({exc})", flush=True)
            continue
        score = _mean_ap(Y_train, oof)
        cv.append({"epoch": config[0], "lr": config[1], "wordNgrams": config[2],
                   "cv_mean_ap": round(score, 4)})
        oof_by_config[config] = oof
        print(f"    fastText CV {config}: mean AP {score:.4f}", flush=True)
    best = max(oof_by_config, key=lambda c: next(r["cv_mean_ap"] for r in cv if
                                                 (r["epoch"], r["lr"], r["wordNgrams"]) == c))
    oof = oof_by_config[best]
    thresholds = np.full(len(ids), 0.5)
    for j in range(len(ids)):
        if Y_train[:, j].sum() >= 5:  # each label's best-F1 cut on its CV probabilities
            thresholds[j] = np.clip(_best_f1_threshold(oof[:, j], Y_train[:, j])[0], 0.1, 0.9)
    cv_s = time.perf_counter() - started
    started = time.perf_counter()
    model = ft_train(train_text, Y_train, ids, best, threads, workdir)
    train_s = time.perf_counter() - started

    n = len(X_test)
    test_text = [ft_text(x) for x in X_test]
    column = {f"__label__{t}": j for j, t in enumerate(ids)}
    raw_s, raw_times, _ = timed(lambda: model.predict(test_text, k=-1, threshold=0.0), repeat)
    full_s, full_times, probs = timed(lambda: ft_predict(model, [ft_text(x) for x in X_test], ids),
                                      repeat)
    assert len(column) == len(ids)
    at_half = (probs >= 0.5).astype(int)
    tuned = (probs >= thresholds).astype(int)
    return {
        "grid": cv, "chosen": {"epoch": best[0], "lr": best[1], "wordNgrams": best[2]},
        "cv_seconds": round(cv_s, 1), "train_s": round(train_s, 1), "threads_train": threads,
        "threshold_0.5": _scores(metrics(Y_test, at_half, probs, ids, np.full(len(ids), 0.5))),
        "tuned_thresholds": _scores(metrics(Y_test, tuned, probs, ids, thresholds)),
        "predict_docs_per_s_raw": round(n / raw_s, 1),
        "predict_docs_per_s_with_tokenising": round(n / full_s, 1),
        "timings_s": {"raw": raw_times, "with_tokenising_and_matrix": full_times},
        "note": "raw = model.predict(list of pre-tokenised lines, k=-1) alone (C++ loop, one "
                "thread); with_tokenising = lower-casing/punctuation splitting of the raw text "
                "plus filling the documents x labels matrix, as riskcls's figure includes its "
                "own tokenising",
    }


# ---------------------------------------------------------------- plain TF-IDF + LinearSVC
def bench_linear_svc(X_train, Y_train, X_test, Y_test, ids):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import LinearSVC

    from riskcls.evaluate import metrics

    started = time.perf_counter()
    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2)
    features = vectorizer.fit_transform(X_train)
    model = OneVsRestClassifier(LinearSVC(C=1.0, class_weight="balanced"), n_jobs=-1)
    model.fit(features, Y_train)
    train_s = time.perf_counter() - started
    with single_thread_blas():
        predict_s, _, margins = timed(lambda: model.decision_function(
            vectorizer.transform(X_test)), 3)
    pred = (margins > 0).astype(int)
    return {"what": "unigram TF-IDF (sublinear, min_df=2) + LinearSVC(C=1, balanced), margin 0",
            "train_s": round(train_s, 1), "predict_docs_per_s_1thread": round(len(X_test) /
                                                                                predict_s, 1),
            **_scores(metrics(Y_test, pred, margins, ids, np.zeros(len(ids))))}


# ---------------------------------------------------------------- main
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="R90,R10")
    parser.add_argument("--params", default="{}", help="JSON of RiskTagger parameter overrides")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="R10 only, fastText grid of one configuration")
    parser.add_argument("--no-fasttext", action="store_true")
    parser.add_argument("--name", default="reuters", help="results file name (bench/results)")
    args = parser.parse_args(argv)
    if not available():
        print(f"SKIP reuters: {REUTERS_DIR} not found (the Reuters-21578 SGML files are not part "
              "of the repository; place them in ../shared/data/reuters21578 to run this "
              "benchmark)")
        return 0
    params = json.loads(args.params)
    sets = ["R10"] if args.quick else [s.strip() for s in args.sets.split(",") if s.strip()]
    grid = [(25, 0.5, 2)] if args.quick else list(itertools.product((25, 50), (0.1, 0.5), (1, 2)))
    fasttext_ok = not args.no_fasttext
    if fasttext_ok:
        try:
            import fasttext  # noqa: F401
        except ImportError:
            print("fastText not installed (pip install -e '.[bench]'): skipping the fastText column")
            fasttext_ok = False

    import tempfile

    train_all, test_all = read_modapte()
    collections = r90_r10(train_all, test_all)
    report = {"benchmark": "Reuters-21578 ModApte", "date": time.strftime("%Y-%m-%d"),
              "machine": machine(), "command": "python bench/reuters.py " + " ".join(
                  argv if argv is not None else sys.argv[1:]),
              "macro_convention": "unweighted mean of per-category F1 over all categories of "
                                  "the set, zero division = 0",
              "sets": {}}
    for name in sets:
        categories, train, test = collections[name]
        train_ds, test_ds, taxonomy, dropped = riskcls_datasets(categories, train, test)
        ids = taxonomy.ids
        print(f"{name}: {len(categories)} categories, {len(train_ds)} train / {len(test_ds)} test "
              f"documents ({len(dropped['train'])} train records rejected by riskcls.data)",
              flush=True)
        entry = {"categories": len(categories), "n_train_modapte": len(train),
                 "n_test_modapte": len(test), "rejected_by_riskcls_data": dropped,
                 "targets": TARGETS.get(name, {}),
                 "anchors": [{"what": a, "micro_f1": mi, "macro_f1": ma}
                             for a, mi, ma in ANCHORS.get(name, [])]}
        riskcls_result, Y_test, X_test, Y_train, X_train = bench_riskcls(
            train_ds, test_ds, ids, params, args.repeat)
        entry["riskcls"] = riskcls_result
        report["sets"][name] = entry
        write_result(args.name + ".partial", report)
        r = riskcls_result["tuned_thresholds"]
        print(f"  riskcls: micro {r['micro_f1']:.4f} macro {r['macro_f1']:.4f}, train "
              f"{riskcls_result['train_s']:.0f}s, predict "
              f"{riskcls_result['predict_proba_docs_per_s_1thread']:.0f} docs/s (1 thread)",
              flush=True)
        entry["linear_svc"] = bench_linear_svc(X_train, Y_train, X_test, Y_test, ids)
        print(f"  LinearSVC: micro {entry['linear_svc']['micro_f1']:.4f} macro "
              f"{entry['linear_svc']['macro_f1']:.4f}", flush=True)
        if fasttext_ok:
            with tempfile.TemporaryDirectory() as workdir:
                ft = bench_fasttext(X_train, Y_train, X_test, Y_test, ids, grid, args.repeat,
                                    workdir)
            entry["fasttext"] = ft
            entry["ratio_riskcls_to_fasttext"] = {
                "1thread_vs_raw": round(riskcls_result["predict_proba_docs_per_s_1thread"] /
                                        ft["predict_docs_per_s_raw"], 3),
                "1thread_vs_with_tokenising": round(
                    riskcls_result["predict_proba_docs_per_s_1thread"] /
                    ft["predict_docs_per_s_with_tokenising"], 3),
                "all_cores_vs_raw": round(next(v for k, v in riskcls_result.items() if
                                               k.endswith("procs")) /
                                          ft["predict_docs_per_s_raw"], 3),
            }
            t, h = ft["tuned_thresholds"], ft["threshold_0.5"]
            print(f"  fastText {ft['chosen']}: 0.5 micro {h['micro_f1']:.4f} macro "
                  f"{h['macro_f1']:.4f}; tuned micro {t['micro_f1']:.4f} macro {t['macro_f1']:.4f}"
                  f"; predict {ft['predict_docs_per_s_raw']:.0f} docs/s raw", flush=True)
        entry["peak_rss_mb_process"] = peak_rss_mb()
        report["sets"][name] = entry
        write_result(args.name, report)
    path = write_result(args.name, report)
    (RESULTS / f"{args.name}.partial.json").unlink(missing_ok=True)
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
