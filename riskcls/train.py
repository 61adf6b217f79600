"""Training a model bundle from labelled data: load and validate, fit, measure, save."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from riskcls.bundle import FORMAT_VERSION, BundleError, read_manifest, save_bundle
from riskcls.data import documents, label_matrix, load_labelled
from riskcls.evaluate import metrics
from riskcls.model import MIN_POOLED_TAGS, RiskTagger
from riskcls.paths import DEFAULT_CORPUS, DEFAULT_MODEL
from riskcls.taxonomy import Taxonomy, load_taxonomy


@dataclass
class TrainResult:
    """What a training run produced and measured."""

    model_dir: Path
    n_docs: int
    seconds: float
    cv_metrics: dict
    skipped: bool = False
    reason: str = ""


def data_fingerprint(dataset) -> str:
    """SHA-256 over every record's id, labels and text: changes whenever the training data does."""
    digest = hashlib.sha256()
    names = dataset.features["labels"].feature.names
    for record_id, labels, title, text in zip(dataset["id"], dataset["labels"], dataset["title"],
                                              dataset["text"]):
        digest.update(record_id.encode("utf-8") + b"\x00")
        digest.update(";".join(sorted(names[i] for i in labels)).encode("utf-8") + b"\x00")
        digest.update(title.encode("utf-8") + b"\x00" + text.encode("utf-8") + b"\x01")
    return digest.hexdigest()


def staleness(model_dir: str | Path, dataset, taxonomy: Taxonomy) -> str | None:
    """Why the bundle must be retrained (missing, other data, other taxonomy), or None if current."""
    try:
        manifest = read_manifest(model_dir)
    except BundleError:
        return "no usable model yet"
    if manifest.get("format_version") != FORMAT_VERSION:
        return "the model format changed"
    if manifest.get("taxonomy", {}).get("sha256") != taxonomy.digest():
        return "the taxonomy changed"
    if manifest.get("training", {}).get("data_fingerprint") != data_fingerprint(dataset):
        return "the training data changed"
    import sklearn

    if manifest.get("sklearn_version") != sklearn.__version__:
        return "scikit-learn was upgraded"
    return None


def out_of_fold_metrics(tagger: RiskTagger, Y: np.ndarray) -> dict:
    """Metrics from the out-of-fold scores kept by fit, each fold's documents judged with thresholds
    tuned on the other folds only, so no document is scored by a threshold it helped choose."""
    scores = tagger.oof_proba_
    folds = tagger.oof_fold_
    predicted = np.zeros_like(Y)
    cuts = np.zeros(Y.shape)
    for fold in np.unique(folds):
        inside, outside = folds == fold, folds != fold
        positives = Y[outside].sum(axis=0)
        pooled = np.flatnonzero((positives >= 2) & (positives < tagger.min_positives))
        shared = (tagger.tune_shared_threshold(scores[outside][:, pooled], Y[outside][:, pooled])
                  if len(pooled) >= MIN_POOLED_TAGS else 0.5)
        for j in range(Y.shape[1]):
            if positives[j] >= tagger.min_positives:
                cut = tagger.tune_threshold(scores[outside, j], Y[outside, j])
            else:
                cut = shared
            cuts[inside, j] = cut
            predicted[inside, j] = scores[inside, j] >= cut
    tag_ids = [str(c) for c in tagger.classes_]
    return metrics(Y, predicted, scores, tag_ids, cuts.mean(axis=0))


def train(data: Sequence[str | Path] = (DEFAULT_CORPUS,), *, taxonomy_path: str | Path | None = None,
          model_dir: str | Path = DEFAULT_MODEL, seed: int = 0, if_stale: bool = False,
          n_jobs: int | None = -1, params: dict | None = None) -> TrainResult:
    """Train a RiskTagger on labelled data and save it as a bundle; with if_stale, do nothing when
    the bundle already matches the data and taxonomy."""
    taxonomy = load_taxonomy(taxonomy_path)
    dataset = load_labelled(data, taxonomy)
    if if_stale:
        reason = staleness(model_dir, dataset, taxonomy)
        if reason is None:
            return TrainResult(Path(model_dir), len(dataset), 0.0, {}, skipped=True,
                               reason="model is up to date with the data and taxonomy")
    started = time.perf_counter()
    Y = label_matrix(dataset, taxonomy.ids)
    tagger = RiskTagger(labels=taxonomy.ids, random_state=seed, n_jobs=n_jobs, **(params or {}))
    tagger.fit(documents(dataset), Y)
    seconds = time.perf_counter() - started
    cv_metrics = out_of_fold_metrics(tagger, Y)
    save_bundle(tagger, model_dir, taxonomy=taxonomy, data_fingerprint=data_fingerprint(dataset),
                n_docs=len(dataset), cv_metrics=cv_metrics,
                training={"sources": [str(p) for p in data], "seed": seed,
                          "train_seconds": round(seconds, 2)})
    return TrainResult(Path(model_dir), len(dataset), seconds, cv_metrics)
