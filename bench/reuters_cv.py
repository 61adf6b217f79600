"""Which RiskTagger settings would lift Reuters R90 macro-F1 — chosen by cross-validation on the
ModApte TRAINING split only (the test split is never read here).

K-fold multi-label stratified CV over the R90 training records (riskcls.data.kfold_indices): in each
fold a RiskTagger is fitted on the other folds and scores the held-out fold. Threshold policies
(min_positives, threshold_bounds) only change how thresholds are derived from the fitted tagger's own
out-of-fold probabilities (`oof_proba_`), so many are compared from the same fits; parameter sets
that change the model (--params) need their own run. Reports micro- and macro-F1 pooled over the
held-out folds (macro over categories with a positive in the training split).

    python bench/reuters_cv.py                       # defaults, 3 folds
    python bench/reuters_cv.py --params '{"C_grid": [0.1, 0.25, 0.5, 1, 2]}' --name c_grid
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
from reuters import riskcls_datasets  # noqa: E402
from reuters_data import REUTERS_DIR, available, r90_r10, read_modapte  # noqa: E402

POLICIES = [(mp, bounds) for mp in (5, 3, 2, 1)
            for bounds in ((0.1, 0.9), (0.05, 0.9), (0.02, 0.9))]


def thresholds_for(tagger, Y_train, min_positives, bounds):
    from riskcls.model import _best_f1_threshold

    cut = np.full(Y_train.shape[1], 0.5)
    positives = Y_train.sum(axis=0)
    for j in range(Y_train.shape[1]):
        calibrated = tagger.calibration_[j].any()
        if calibrated and positives[j] >= min_positives and positives[j] < len(Y_train):
            cut[j] = _best_f1_threshold(tagger.oof_proba_[:, j], Y_train[:, j], bounds)
    return cut


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--set", default="R90")
    parser.add_argument("--params", default="{}")
    parser.add_argument("--name", default="default")
    args = parser.parse_args(argv)
    if not available():
        print(f"SKIP reuters_cv: {REUTERS_DIR} not found")
        return 0
    from riskcls.data import documents, kfold_indices, label_matrix
    from riskcls.evaluate import metrics
    from riskcls.model import RiskTagger

    params = json.loads(args.params)
    categories, train, test = r90_r10(*read_modapte())[args.set]
    train_ds, _, taxonomy, _ = riskcls_datasets(categories, train, [])
    ids = taxonomy.ids
    X, Y = documents(train_ds), label_matrix(train_ds, ids)
    probs = np.zeros(Y.shape)
    cuts = {policy: np.zeros(Y.shape) for policy in POLICIES}
    started = time.perf_counter()
    for number, (fit_rows, held_out) in enumerate(kfold_indices(Y, n_splits=args.folds, seed=1)):
        tagger = RiskTagger(labels=ids, **{"n_jobs": -1, **params})
        tagger.fit([X[i] for i in fit_rows], Y[fit_rows])
        probs[held_out] = tagger.predict_proba([X[i] for i in held_out])
        for policy in POLICIES:
            cuts[policy][held_out] = thresholds_for(tagger, Y[fit_rows], *policy)
        print(f"  fold {number + 1}/{args.folds} done ({time.perf_counter() - started:.0f}s)",
              flush=True)
    rows = []
    for (min_positives, bounds), cut in cuts.items():
        m = metrics(Y, (probs >= cut).astype(int), probs, ids, cut.mean(axis=0))
        rows.append({"min_positives": min_positives, "threshold_bounds": bounds,
                     "micro_f1": round(m["micro"]["f1"], 4), "macro_f1": round(m["macro"]["f1"], 4)})
        print(f"  min_positives {min_positives} bounds {bounds}: micro {rows[-1]['micro_f1']:.4f}"
              f" macro {rows[-1]['macro_f1']:.4f}", flush=True)
    report = {"benchmark": f"Reuters {args.set}: {args.folds}-fold CV on the ModApte training split "
                           "only", "date": time.strftime("%Y-%m-%d"), "machine": machine(),
              "params": params, "n_docs": len(X), "seconds": round(time.perf_counter() - started),
              "policies": rows,
              "note": "macro over categories with a positive in the training split; each fold's "
                      "thresholds come from that fold's tagger's own out-of-fold probabilities"}
    write_result(f"reuters_cv_{args.name}", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
