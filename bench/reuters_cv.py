"""Which RiskTagger settings suit Reuters R90 — chosen by cross-validation on the ModApte TRAINING
split only (the test split is never read here).

K-fold multi-label stratified CV over the R90 training records (riskcls.data.kfold_indices): in each
fold a RiskTagger is fitted on the other folds and scores the held-out fold. Settings that only
change the decision stage after the out-of-fold scores (`min_positives`: which tags are pooled as
rare; `threshold_prior_weight`) are compared from the same fit, by re-running that stage on the
fit's own out-of-fold statistics and refitting the tags whose C changed; parameter sets that
change the model (--params) need their own run. Reports micro- and macro-F1 pooled over the
held-out folds, with each tag's tuned threshold and with 0.5.

    python bench/reuters_cv.py                                   # defaults, 3 folds
    python bench/reuters_cv.py --params '{"lead_weight": 0}' --name nolead
    python bench/reuters_cv.py --min-positives 5,10,15
    python bench/reuters_cv.py --min-positives 5 --prior-weights 0,5,20
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


def _tagger_keeping_oof(params: dict, ids: list[str]):
    """A RiskTagger that keeps the out-of-fold statistics its fit computes (bench-only)."""
    from riskcls.model import RiskTagger

    class Tagger(RiskTagger):
        def _out_of_fold_stats(self, *args, **kwargs):
            stats, folds = super()._out_of_fold_stats(*args, **kwargs)
            self.bench_oof_ = stats
            return stats, folds

    return Tagger(labels=ids, **{"n_jobs": -1, **params})


def _redecided(tagger, Y, min_positives, prior_weight, base):
    """The fitted tagger re-decided with another `min_positives` and `threshold_prior_weight`
    (tags whose C changes refitted)."""
    from riskcls.model import _fit_binary

    grid = list(tagger.C_grid) if tagger.C == "auto" else [float(tagger.C)]
    base_C, base_coef, base_intercept, features = base
    tagger.min_positives = min_positives
    tagger.threshold_prior_weight = prior_weight
    tagger._choose(tagger.bench_oof_, Y, grid)
    coef, intercept = base_coef.copy(), base_intercept.copy()
    for j in np.flatnonzero(tagger.C_ != base_C):
        coef[j], intercept[j] = _fit_binary(features, Y[:, j], tagger.C_[j], tagger.class_weight,
                                            tagger.random_state)
    tagger.coef_, tagger.intercept_ = np.asfortranarray(coef), intercept
    return tagger


def _default_prior_weight() -> float:
    from riskcls.model import RiskTagger

    return RiskTagger().threshold_prior_weight


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--set", default="R90")
    parser.add_argument("--params", default="{}")
    parser.add_argument("--min-positives", default="5,10,15",
                        help="comma-separated min_positives values to compare from each fit")
    parser.add_argument("--prior-weights",
                        help="comma-separated threshold_prior_weight values to compare likewise "
                             "(default: the one --params gives, else RiskTagger's)")
    parser.add_argument("--name", default="default")
    args = parser.parse_args(argv)
    if not available():
        print(f"SKIP reuters_cv: {REUTERS_DIR} not found")
        return 0
    from riskcls.data import kfold_indices
    from riskcls.evaluate import metrics

    params = json.loads(args.params)
    weights = args.prior_weights.split(",") if args.prior_weights else [
        params.get("threshold_prior_weight", _default_prior_weight())]
    variants = [(int(m), float(w)) for m in args.min_positives.split(",") for w in weights]
    _, ids, X, Y = training_split(args.set)
    probs = {v: np.zeros(Y.shape) for v in variants}
    cuts = {v: np.zeros(Y.shape) for v in variants}
    started = time.perf_counter()
    for number, (fit_rows, held_out) in enumerate(kfold_indices(Y, n_splits=args.folds, seed=1)):
        texts, Y_fit = [X[i] for i in fit_rows], Y[fit_rows]
        tagger = _tagger_keeping_oof(params, ids).fit(texts, Y_fit)
        features, _, _ = tagger.features_.transform(texts)
        base = (tagger.C_.copy(), tagger.coef_.copy(), tagger.intercept_.copy(), features)
        held_texts = [X[i] for i in held_out]
        for v in variants:
            _redecided(tagger, (Y_fit > 0).astype(np.int8), *v, base)
            probs[v][held_out] = tagger.predict_proba(held_texts)
            cuts[v][held_out] = tagger.thresholds_
        print(f"  fold {number + 1}/{args.folds} done ({time.perf_counter() - started:.0f}s)",
              flush=True)
    rows = []
    for v in variants:
        tuned = metrics(Y, (probs[v] >= cuts[v]).astype(int), probs[v], ids, cuts[v].mean(axis=0))
        half = metrics(Y, (probs[v] >= 0.5).astype(int), probs[v], ids, np.full(len(ids), 0.5))
        rows.append({"min_positives": v[0], "threshold_prior_weight": v[1],
                     "tuned": {"micro_f1": round(tuned["micro"]["f1"], 4),
                               "macro_f1": round(tuned["macro"]["f1"], 4)},
                     "threshold_0.5": {"micro_f1": round(half["micro"]["f1"], 4),
                                       "macro_f1": round(half["macro"]["f1"], 4)}})
        print(f"  min_positives {v[0]}, prior weight {v[1]:g}: tuned micro "
              f"{rows[-1]['tuned']['micro_f1']:.4f} macro "
              f"{rows[-1]['tuned']['macro_f1']:.4f}; 0.5 micro "
              f"{rows[-1]['threshold_0.5']['micro_f1']:.4f} macro "
              f"{rows[-1]['threshold_0.5']['macro_f1']:.4f}", flush=True)
    report = {"benchmark": f"Reuters {args.set}: {args.folds}-fold CV on the ModApte training split "
                           "only", "date": time.strftime("%Y-%m-%d"), "machine": machine(),
              "command": "python bench/reuters_cv.py " + " ".join(
                  argv if argv is not None else sys.argv[1:]),
              "params": params, "n_docs": len(X), "seconds": round(time.perf_counter() - started),
              "variants": rows,
              "note": "macro over all categories of the set (those with a single training "
                      "document score 0 here: in the fold that holds it out, no training "
                      "document has the category); each held-out fold is judged with the "
                      "thresholds its tagger chose from its own out-of-fold scores"}
    write_result(f"reuters_cv_{args.name}", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
