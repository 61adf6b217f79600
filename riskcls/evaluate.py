"""Evaluation harness: per-tag and averaged metrics, baselines side by side, worst errors, slices,
cross-validation of the whole training procedure, and a Markdown report with plots."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    hamming_loss,
    precision_recall_fscore_support,
)

from riskcls.baselines import KeywordTagger, PriorTagger
from riskcls.data import documents, kfold_indices, label_matrix
from riskcls.taxonomy import Taxonomy

ABSENT_NOTE = "tags with no positives in the data are reported with support 0 and left out of " \
              "macro averages"


def metrics(Y_true: np.ndarray, Y_pred: np.ndarray, scores: np.ndarray, tag_ids: Sequence[str],
            thresholds: Sequence[float]) -> dict:
    """Every figure of the report for one tagger's predictions (0/1 matrices and scores)."""
    Y_true = np.asarray(Y_true, dtype=int)
    Y_pred = np.asarray(Y_pred, dtype=int)
    support = Y_true.sum(axis=0)
    present = [j for j in range(len(tag_ids)) if support[j] > 0]
    precision, recall, f1, _ = precision_recall_fscore_support(
        Y_true, Y_pred, average=None, zero_division=0, labels=list(range(len(tag_ids))))
    labels = {}
    for j, tag in enumerate(tag_ids):
        tp = int(((Y_true[:, j] == 1) & (Y_pred[:, j] == 1)).sum())
        fp = int(((Y_true[:, j] == 0) & (Y_pred[:, j] == 1)).sum())
        fn = int(((Y_true[:, j] == 1) & (Y_pred[:, j] == 0)).sum())
        ap = float(average_precision_score(Y_true[:, j], scores[:, j])) if support[j] > 0 else None
        labels[tag] = {"precision": float(precision[j]), "recall": float(recall[j]),
                       "f1": float(f1[j]), "support": int(support[j]), "average_precision": ap,
                       "threshold": float(thresholds[j]), "tp": tp, "fp": fp, "fn": fn}
    result = {"labels": labels}
    for average in ("micro", "macro", "weighted"):
        chosen = present if average == "macro" else list(range(len(tag_ids)))
        if not chosen:
            result[average] = {"precision": 0.0, "recall": 0.0, "f1": 0.0}
            continue
        p, r, f, _ = precision_recall_fscore_support(Y_true, Y_pred, average=average,
                                                     labels=chosen, zero_division=0)
        result[average] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    result["samples_f1"] = float(f1_score(Y_true, Y_pred, average="samples", zero_division=1.0))
    result["hamming_loss"] = float(hamming_loss(Y_true, Y_pred))
    result["subset_accuracy"] = float(accuracy_score(Y_true, Y_pred))
    result["label_cardinality"] = {"true": float(Y_true.sum(axis=1).mean()),
                                   "predicted": float(Y_pred.sum(axis=1).mean())}
    result["absent_tags"] = [tag_ids[j] for j in range(len(tag_ids)) if support[j] == 0]
    return result


def _predict_all(tagger, texts, threshold):
    scores = tagger.predict_proba(texts)
    cut = tagger.thresholds_ if threshold is None else np.full(scores.shape[1], threshold)
    return (scores >= cut).astype(int), scores, cut


def evaluate(model, dataset, taxonomy: Taxonomy, *, threshold: float | None = None,
             slice_by: str | None = None, n_errors: int = 5, on_training_data: bool = False
             ) -> dict:
    """Tag a labelled dataset with the model and the baselines and compute every figure."""
    tag_ids = [str(c) for c in model.classes_]
    texts = documents(dataset)
    Y = label_matrix(dataset, tag_ids)
    predicted, scores, cut = _predict_all(model, texts, threshold)
    report = {"n_docs": len(dataset),
              "model": {"path": model.bundle_["path"] if hasattr(model, "bundle_") else None,
                        "fingerprint": model.bundle_["fingerprint"]
                        if hasattr(model, "bundle_") else None},
              "on_training_data": on_training_data, "note": ABSENT_NOTE}
    report.update(metrics(Y, predicted, scores, tag_ids, cut))

    training_prior = getattr(model, "label_prior_", None)
    prior = PriorTagger.from_frequencies(training_prior) if training_prior is not None \
        else PriorTagger().fit(None, Y)
    prior_pred = prior.predict(texts)
    report["baselines"] = {
        "keyword": keyword_metrics(taxonomy, texts, Y, tag_ids),
        "prior": metrics(Y, prior_pred, prior.predict_proba(texts), tag_ids, prior.thresholds_),
    }
    report["errors"] = worst_errors(model, dataset, texts, Y, predicted, scores, tag_ids, n_errors)
    if slice_by:
        report["slices"] = slices(dataset, slice_by, Y, predicted, scores, tag_ids, cut)
    report["_curves"] = {"Y": Y, "scores": scores, "predicted": predicted}
    return report


def keyword_metrics(taxonomy: Taxonomy, texts: list[str], Y: np.ndarray,
                    tag_ids: Sequence[str]) -> dict:
    """The keyword baseline's figures on the same documents (it learns nothing, so no folds)."""
    keyword = KeywordTagger(taxonomy=taxonomy).fit()
    predicted, scores, cut = _predict_all(keyword, texts, None)
    return metrics(Y, predicted, scores, tag_ids, cut)


def worst_errors(model, dataset, texts, Y, predicted, scores, tag_ids, n_errors: int) -> dict:
    """Per tag, the most confident false positives and the least confident false negatives."""
    errors = {}
    for j, tag in enumerate(tag_ids):
        fp = np.where((Y[:, j] == 0) & (predicted[:, j] == 1))[0]
        fn = np.where((Y[:, j] == 1) & (predicted[:, j] == 0))[0]
        fp = fp[np.argsort(-scores[fp, j])][:n_errors]
        fn = fn[np.argsort(scores[fn, j])][:n_errors]
        entries = {}
        for kind, rows in (("false_positives", fp), ("false_negatives", fn)):
            evidence = model.explain([texts[i] for i in rows], top=5, tags=[model.classes_[j]]) \
                if len(rows) and hasattr(model, "explain") else []
            entries[kind] = [{"id": dataset[int(i)]["id"], "title": dataset[int(i)]["title"],
                              "score": round(float(scores[i, j]), 4),
                              "evidence": [p for p, _ in evidence[k][model.classes_[j]]]}
                             for k, i in enumerate(rows)]
        errors[tag] = entries
    return errors


def slices(dataset, field: str, Y, predicted, scores, tag_ids, cut) -> dict:
    """Metrics for each value of a field of the data (e.g. case=passing_mention)."""
    if field not in dataset.column_names:
        raise KeyError(f"the data has no field {field!r} to slice by; fields: "
                       f"{', '.join(dataset.column_names)}")
    values = np.array([str(v) for v in dataset[field]])
    out = {}
    for value in sorted(set(values)):
        rows = values == value
        m = metrics(Y[rows], predicted[rows], scores[rows], tag_ids, cut)
        out[value] = {"n_docs": int(rows.sum()), "micro": m["micro"], "macro": m["macro"],
                      "false_positive_tags": int(sum(x["fp"] for x in m["labels"].values())),
                      "false_negative_tags": int(sum(x["fn"] for x in m["labels"].values())),
                      "exact_match": m["subset_accuracy"],
                      "per_tag_f1": {t: x["f1"] for t, x in m["labels"].items() if x["support"]}}
    return out


def cross_validate(dataset, tag_ids: Sequence[str], *, folds: int = 5, seed: int = 0,
                   params: dict | None = None, slice_by: str | None = None,
                   taxonomy: Taxonomy | None = None) -> dict:
    """Multi-label stratified k-fold of the whole training procedure (C choice and threshold tuning
    happen inside each training fold, so nothing leaks from the test fold). With a taxonomy, the
    keyword baseline (which learns nothing) is scored on the same documents for comparison."""
    from riskcls.model import RiskTagger

    texts = documents(dataset)
    Y = label_matrix(dataset, tag_ids)
    per_fold = []
    oof_pred = np.zeros_like(Y)
    oof_scores = np.zeros(Y.shape, dtype=float)
    oof_cut = np.zeros(Y.shape, dtype=float)
    for train, test in kfold_indices(Y, n_splits=folds, seed=seed):
        tagger = RiskTagger(labels=list(tag_ids), random_state=seed, **(params or {}))
        tagger.fit([texts[i] for i in train], Y[train])
        pred, scores, cut = _predict_all(tagger, [texts[i] for i in test], None)
        oof_pred[test], oof_scores[test], oof_cut[test] = pred, scores, cut
        per_fold.append(metrics(Y[test], pred, scores, tag_ids, cut))
    summary = {"folds": folds, "seed": seed, "n_docs": len(texts), "labels": {}}
    for tag in tag_ids:
        summary["labels"][tag] = {
            key: _mean_std([fold["labels"][tag][key] for fold in per_fold])
            for key in ("precision", "recall", "f1")}
        summary["labels"][tag]["support"] = int(Y[:, tag_ids.index(tag)].sum())
    for average in ("micro", "macro", "weighted"):
        summary[average] = {key: _mean_std([fold[average][key] for fold in per_fold])
                            for key in ("precision", "recall", "f1")}
    summary["pooled"] = metrics(Y, oof_pred, oof_scores, tag_ids, oof_cut.mean(axis=0))
    if taxonomy is not None:
        summary["baselines"] = {"keyword": keyword_metrics(taxonomy, texts, Y, tag_ids)}
    if slice_by:
        summary["slices"] = slices(dataset, slice_by, Y, oof_pred, oof_scores, tag_ids,
                                   oof_cut.mean(axis=0))
    return summary


def _mean_std(values: list[float]) -> dict:
    return {"mean": float(np.mean(values)), "std": float(np.std(values))}


def public(report: dict) -> dict:
    """The report without the arrays kept for plotting, ready for JSON."""
    return {k: v for k, v in report.items() if not k.startswith("_")}


def write_json(report: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(public(report), indent=2, default=_json_default) + "\n",
                    encoding="utf-8")
    return path


def _json_default(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if math.isnan(value) else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_report(report: dict, directory: str | Path, tag_ids: Sequence[str]) -> Path:
    """report.md plus PNG plots: PR curves with operating points, F1 against baselines, and label
    co-occurrence (true vs predicted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    curves = report["_curves"]
    Y, scores = curves["Y"], curves["scores"]
    n = len(tag_ids)
    columns = min(4, n)
    rows = math.ceil(n / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3.4 * rows), squeeze=False)
    for j, tag in enumerate(tag_ids):
        ax = axes[j // columns][j % columns]
        figures = report["labels"][tag]
        if figures["support"]:
            precision, recall, _ = precision_recall_curve(Y[:, j], scores[:, j])
            ax.plot(recall, precision, lw=1.5)
            ax.plot([figures["recall"]], [figures["precision"]], "o", color="crimson",
                    label=f"threshold {figures['threshold']:.2f}")
            ax.legend(loc="lower left", fontsize=8)
            ax.set_title(f"{tag}\nAP {figures['average_precision']:.2f}", fontsize=9)
        else:
            ax.text(0.5, 0.5, "no positives", ha="center", va="center")
            ax.set_title(tag, fontsize=9)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("recall", fontsize=8)
        ax.set_ylabel("precision", fontsize=8)
    for k in range(n, rows * columns):
        axes[k // columns][k % columns].axis("off")
    fig.tight_layout()
    fig.savefig(directory / "pr_curves.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 0.45 * n + 1.5))
    positions = np.arange(n)
    width = 0.27
    series = [("model", report), ("keyword", report["baselines"]["keyword"]),
              ("prior", report["baselines"]["prior"])]
    for k, (name, figures) in enumerate(series):
        ax.barh(positions + (k - 1) * width, [figures["labels"][t]["f1"] for t in tag_ids],
                height=width, label=name)
    ax.set_yticks(positions, tag_ids, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlabel("F1")
    ax.set_xlim(0, 1)
    ax.set_title("Per-tag F1: model vs baselines")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(directory / "f1_vs_baselines.png", dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(0.55 * n * 2 + 4, 0.55 * n + 2.5))
    for ax, (name, matrix) in zip(axes, (("true labels", Y), ("predicted", curves["predicted"]))):
        co = matrix.T.astype(int) @ matrix.astype(int)
        image = ax.imshow(co, cmap="Blues")
        ax.set_xticks(range(n), tag_ids, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(n), tag_ids, fontsize=8)
        ax.set_title(f"Tag co-occurrence ({name})")
        ax.set_xlabel("tag")
        ax.set_ylabel("tag")
        for a in range(n):
            for b in range(n):
                ax.text(b, a, str(co[a, b]), ha="center", va="center", fontsize=6,
                        color="white" if co[a, b] > co.max() / 2 else "black")
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(directory / "cooccurrence.png", dpi=110)
    plt.close(fig)

    (directory / "report.md").write_text(render_markdown(report, tag_ids), encoding="utf-8")
    return directory / "report.md"


def render_markdown(report: dict, tag_ids: Sequence[str]) -> str:
    keyword = report["baselines"]["keyword"]["labels"]
    prior = report["baselines"]["prior"]["labels"]
    lines = ["# riskcls evaluation report", ""]
    if report.get("on_training_data"):
        lines += ["> **These documents were used to train the model**: the figures are optimistic. "
                  "Use `riskcls cv` or held-out data for an honest estimate.", ""]
    lines += [f"Model: `{report['model']['path']}` (fingerprint `{report['model']['fingerprint']}`)"
              f", {report['n_docs']} documents. Note: {ABSENT_NOTE}.", "",
              "| tag | P | R | F1 | AP | support | threshold | keyword F1 | prior F1 |",
              "|---|---|---|---|---|---|---|---|---|"]
    for tag in tag_ids:
        m = report["labels"][tag]
        ap = f"{m['average_precision']:.3f}" if m["average_precision"] is not None else "n/a"
        lines.append(f"| {tag} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {ap} | "
                     f"{m['support']} | {m['threshold']:.2f} | {keyword[tag]['f1']:.3f} | "
                     f"{prior[tag]['f1']:.3f} |")
    lines += ["", "| average | P | R | F1 |", "|---|---|---|---|"]
    for average in ("micro", "macro", "weighted"):
        m = report[average]
        lines.append(f"| {average} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} |")
    lines += ["", f"Samples F1 {report['samples_f1']:.3f}; Hamming loss "
                  f"{report['hamming_loss']:.4f}; subset accuracy {report['subset_accuracy']:.3f}; "
                  f"label cardinality true {report['label_cardinality']['true']:.2f} / predicted "
                  f"{report['label_cardinality']['predicted']:.2f}.", "",
              "![PR curves](pr_curves.png)", "", "![F1 vs baselines](f1_vs_baselines.png)", "",
              "![Co-occurrence](cooccurrence.png)", ""]
    if report.get("slices"):
        lines += ["## Slices", "", "| slice | docs | micro F1 | macro F1 | false-positive tags | "
                                   "missed tags | exact match |", "|---|---|---|---|---|---|---|"]
        for value, s in report["slices"].items():
            lines.append(f"| {value} | {s['n_docs']} | {s['micro']['f1']:.3f} | "
                         f"{s['macro']['f1']:.3f} | {s['false_positive_tags']} | "
                         f"{s['false_negative_tags']} | {s['exact_match']:.3f} |")
        lines.append("")
    lines += ["## Worst errors", ""]
    for tag in tag_ids:
        entries = report["errors"][tag]
        if not entries["false_positives"] and not entries["false_negatives"]:
            continue
        lines.append(f"### {tag}")
        for kind in ("false_positives", "false_negatives"):
            for e in entries[kind]:
                lines.append(f"- {kind.replace('_', ' ')[:-1]}: `{e['id']}` {e['title']!r} "
                             f"score {e['score']:.3f}; evidence: {', '.join(e['evidence']) or '-'}")
        lines.append("")
    return "\n".join(lines)
