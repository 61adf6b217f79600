import json

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    hamming_loss,
    precision_score,
    recall_score,
)

from riskcls.data import load_labelled
from riskcls.evaluate import cross_validate, evaluate, metrics, write_json, write_report

TAGS = ["a", "b", "c", "d"]


def case():
    rng = np.random.default_rng(0)
    Y = rng.integers(0, 2, size=(30, 4))
    Y[:, 3] = 0
    Y[:5] = 0
    scores = np.clip(Y * 0.6 + rng.random((30, 4)) * 0.5, 0, 1)
    return Y, (scores >= 0.5).astype(int), scores


def test_every_figure_matches_scikit_learn():
    Y, P, S = case()
    m = metrics(Y, P, S, TAGS, [0.5] * 4)
    for j, tag in enumerate(TAGS):
        assert m["labels"][tag]["precision"] == pytest.approx(
            precision_score(Y[:, j], P[:, j], zero_division=0))
        assert m["labels"][tag]["recall"] == pytest.approx(
            recall_score(Y[:, j], P[:, j], zero_division=0))
        assert m["labels"][tag]["f1"] == pytest.approx(f1_score(Y[:, j], P[:, j], zero_division=0))
        assert m["labels"][tag]["support"] == Y[:, j].sum()
        tp = int((Y[:, j] & P[:, j]).sum())
        assert m["labels"][tag]["tp"] == tp
        assert m["labels"][tag]["fp"] == int(P[:, j].sum()) - tp
        assert m["labels"][tag]["fn"] == int(Y[:, j].sum()) - tp
    for j in range(3):
        assert m["labels"][TAGS[j]]["average_precision"] == pytest.approx(
            average_precision_score(Y[:, j], S[:, j]))
    assert m["labels"]["d"]["average_precision"] is None
    assert m["absent_tags"] == ["d"]
    assert m["micro"]["f1"] == pytest.approx(f1_score(Y, P, average="micro"))
    assert m["macro"]["f1"] == pytest.approx(f1_score(Y, P, average="macro", labels=[0, 1, 2]))
    assert m["weighted"]["f1"] == pytest.approx(f1_score(Y, P, average="weighted",
                                                         zero_division=0))
    assert m["samples_f1"] == pytest.approx(f1_score(Y, P, average="samples", zero_division=1.0))
    assert m["hamming_loss"] == pytest.approx(hamming_loss(Y, P))
    assert m["subset_accuracy"] == pytest.approx(accuracy_score(Y, P))
    assert m["label_cardinality"]["true"] == pytest.approx(Y.sum(1).mean())


def test_a_model_that_predicts_nothing():
    Y, _, S = case()
    m = metrics(Y, np.zeros_like(Y), S, TAGS, [0.5] * 4)
    assert m["micro"]["f1"] == 0.0 and m["macro"]["recall"] == 0.0
    assert m["labels"]["a"]["fp"] == 0 and m["labels"]["a"]["fn"] == Y[:, 0].sum()
    assert m["label_cardinality"]["predicted"] == 0.0


def test_evaluate_with_baselines_slices_json_and_report(fitted_tagger, labelled_file, tmp_path):
    from riskcls.bundle import load_bundle, save_bundle
    from riskcls.taxonomy import Tag, Taxonomy

    ids = list(fitted_tagger.classes_)
    taxonomy = Taxonomy(tags=tuple(Tag(id=i, name=i, definition=i, phrases=("tariffs", "tariff", "duties")
                                       if i == "trade_war" else (i,)) for i in ids))
    save_bundle(fitted_tagger, tmp_path / "m", taxonomy=taxonomy, data_fingerprint="x", n_docs=1)
    model = load_bundle(tmp_path / "m")
    dataset = load_labelled([labelled_file], taxonomy)
    report = evaluate(model, dataset, taxonomy, slice_by="style")
    assert report["n_docs"] == 48
    assert report["micro"]["f1"] > 0.9
    assert set(report["baselines"]) == {"keyword", "prior"}
    assert report["baselines"]["keyword"]["labels"]["trade_war"]["recall"] == 1.0
    assert set(report["slices"]) == {"wire"}
    out = write_json(report, tmp_path / "out.json")
    loaded = json.loads(out.read_text())
    assert {"n_docs", "model", "labels", "micro", "macro", "weighted", "samples_f1",
            "hamming_loss", "subset_accuracy", "baselines"} <= set(loaded)
    assert set(loaded["labels"]["sanctions"]) >= {"precision", "recall", "f1", "support",
                                                  "average_precision", "threshold", "tp", "fp",
                                                  "fn"}
    write_report(report, tmp_path / "rep", ids)
    for name in ("report.md", "pr_curves.png", "f1_vs_baselines.png", "cooccurrence.png"):
        assert (tmp_path / "rep" / name).stat().st_size > 0
    with pytest.raises(KeyError, match="no field 'nope'"):
        evaluate(model, dataset, taxonomy, slice_by="nope")


def test_cross_validation_reports_mean_and_std(labelled_file, taxonomy):
    dataset = load_labelled([labelled_file], taxonomy)
    ids = ["military_conflict", "trade_war", "sanctions"]
    summary = cross_validate(dataset, ids, folds=3, seed=0,
                             params={"cv": 2})
    for tag in ids:
        assert 0.5 < summary["labels"][tag]["f1"]["mean"] <= 1.0
    assert summary["pooled"]["labels"]["sanctions"]["support"] == 12
    assert summary["micro"]["f1"]["mean"] > 0.8
