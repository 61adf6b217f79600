"""How much Reuters R90 scores drop when a model tags news from after the period it learned from —
measured inside the ModApte TRAINING split only (the test split is never read here).

The training documents are ordered by wire date (26 Feb - 7 Apr 1987; every test document is
later, 8 Apr - 20 Oct 1987). A RiskTagger is fitted on the earliest part and tags the latest
part ("forward"); the same sizes drawn at random instead ("random", one run per seed) show what
the same model scores without the gap in time. Random-fold cross-validation, like the CV inside
RiskTagger and bench/reuters_cv.py, can only see the "random" figure.

    python bench/reuters_drift.py                        # defaults, holdout 25%, seeds 0,1,2
    python bench/reuters_drift.py --params '{"C": 1.0}' --name C1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, write_result  # noqa: E402
from reuters import training_split  # noqa: E402
from reuters_data import REUTERS_DIR, available  # noqa: E402


def splits(dates: list[str], holdout: float, seeds: list[int]) -> list[tuple[str, np.ndarray,
                                                                              np.ndarray]]:
    """(name, fit rows, held-out rows): the latest `holdout` share of the documents by date
    against the rest, then random splits of the same sizes."""
    n_held = int(round(len(dates) * holdout))
    by_date = np.argsort(np.array(dates), kind="stable")
    result = [("forward", by_date[:-n_held], by_date[-n_held:])]
    for seed in seeds:
        shuffled = np.random.default_rng(seed).permutation(len(dates))
        result.append((f"random seed {seed}", shuffled[:-n_held], shuffled[-n_held:]))
    return result


def _scores(Y: np.ndarray, probs: np.ndarray, cuts: np.ndarray, ids: list[str]) -> dict:
    from riskcls.evaluate import metrics

    report = metrics(Y, (probs >= cuts).astype(int), probs, ids, cuts)
    return {"micro_f1": round(report["micro"]["f1"], 4),
            "micro_precision": round(report["micro"]["precision"], 4),
            "micro_recall": round(report["micro"]["recall"], 4),
            "macro_f1": round(report["macro"]["f1"], 4),
            "tags_present": len(ids) - len(report["absent_tags"])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--holdout", type=float, default=0.25)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds of random splits")
    parser.add_argument("--params", default="{}")
    parser.add_argument("--name", default="default")
    args = parser.parse_args(argv)
    if not available():
        print(f"SKIP reuters_drift: {REUTERS_DIR} not found")
        return 0
    from riskcls.model import RiskTagger

    params = json.loads(args.params)
    train_ds, ids, X, Y = training_split("R90")
    dates = list(train_ds["date"])
    rows = []
    started = time.perf_counter()
    for name, fit_rows, held_out in splits(dates, args.holdout,
                                           [int(s) for s in args.seeds.split(",") if s]):
        tagger = RiskTagger(labels=ids, **{"n_jobs": -1, **params})
        tagger.fit([X[i] for i in fit_rows], Y[fit_rows])
        probs = tagger.predict_proba([X[i] for i in held_out])
        rows.append({
            "split": name,
            "fit_docs": len(fit_rows), "held_out_docs": len(held_out),
            "fit_dates": [min(dates[i] for i in fit_rows), max(dates[i] for i in fit_rows)],
            "held_out_dates": [min(dates[i] for i in held_out), max(dates[i] for i in held_out)],
            "tuned": _scores(Y[held_out], probs, tagger.thresholds_, ids),
            "threshold_0.5": _scores(Y[held_out], probs, np.full(len(ids), 0.5), ids)})
        print(f"  {name}: tuned micro {rows[-1]['tuned']['micro_f1']:.4f} macro "
              f"{rows[-1]['tuned']['macro_f1']:.4f}; 0.5 micro "
              f"{rows[-1]['threshold_0.5']['micro_f1']:.4f} "
              f"({time.perf_counter() - started:.0f}s)", flush=True)
    report = {"benchmark": "Reuters R90: forward-in-time against random holdout, inside the ModApte "
                           "training split only", "date": time.strftime("%Y-%m-%d"),
              "machine": machine(),
              "command": "python bench/reuters_drift.py " + " ".join(
                  argv if argv is not None else sys.argv[1:]),
              "params": params, "holdout": args.holdout, "n_docs": len(X),
              "seconds": round(time.perf_counter() - started), "splits": rows,
              "note": "Macro-F1 over the tags present in the held-out part (riskcls.evaluate); "
                      "each part is judged with the thresholds its tagger tuned on its own "
                      "out-of-fold scores"}
    write_result(f"reuters_drift_{args.name}", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
