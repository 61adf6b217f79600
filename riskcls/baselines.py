"""Reference taggers to read the model's figures against: a transparent keyword dictionary (in the
manner of GDELT themes and the Caldara-Iacoviello geopolitical-risk index) and a prior baseline."""

from __future__ import annotations

import re

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from riskcls.taxonomy import Taxonomy


def _phrase_pattern(phrases) -> re.Pattern | None:
    if not phrases:
        return None
    alternatives = sorted((re.escape(p.lower()) for p in phrases if p.strip()), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])")


class KeywordTagger(ClassifierMixin, BaseEstimator):
    """Tags a document when at least `min_hits` of a tag's indicative phrases occur in it and none
    of its exclusion terms do. Scores grow with the number of hits, so ranking metrics apply."""

    def __init__(self, *, taxonomy: Taxonomy | None = None, min_hits: int = 1):
        self.taxonomy = taxonomy
        self.min_hits = min_hits

    def fit(self, X=None, Y=None):
        """Compile the phrase patterns; the labels are not used (a dictionary learns nothing)."""
        if self.taxonomy is None:
            raise ValueError("KeywordTagger needs a taxonomy")
        self.classes_ = np.array(self.taxonomy.ids, dtype=object)
        self.patterns_ = [_phrase_pattern(tag.phrases) for tag in self.taxonomy.tags]
        self.exclusions_ = [_phrase_pattern(tag.exclusion_terms) for tag in self.taxonomy.tags]
        self.thresholds_ = np.full(len(self.classes_), self._cut())
        return self

    def _cut(self) -> float:
        return 1.0 - np.exp(-float(self.min_hits)) - 1e-9

    def matches(self, doc: str) -> list[list[str]]:
        """Every phrase occurrence in one document, per tag ([] where an exclusion term occurs)."""
        lowered = str(doc).lower()
        return [[] if pattern is None or (exclusion is not None and exclusion.search(lowered))
                else pattern.findall(lowered)
                for pattern, exclusion in zip(self.patterns_, self.exclusions_)]

    def hits(self, X) -> np.ndarray:
        """Number of phrase matches per document and tag (0 where an exclusion term occurs)."""
        return np.array([[len(found) for found in self.matches(doc)] for doc in X],
                        dtype=np.int32).reshape(len(X), len(self.classes_))

    def proba_from_hits(self, hits: np.ndarray) -> np.ndarray:
        return 1.0 - np.exp(-np.asarray(hits, dtype=float))

    def predict_proba(self, X) -> np.ndarray:
        return self.proba_from_hits(self.hits(X))

    def predict(self, X, threshold: float | None = None) -> np.ndarray:
        cut = self.thresholds_ if threshold is None else threshold
        return (self.predict_proba(X) >= cut).astype(np.int8)


class PriorTagger(ClassifierMixin, BaseEstimator):
    """Scores every document with each tag's training frequency and tags at random in proportion
    to it (seeded): what knowing only how common each tag is achieves."""

    def __init__(self, *, random_state: int = 0):
        self.random_state = random_state

    def fit(self, X, Y):
        return self._set_prior(np.asarray(Y).mean(axis=0))

    @classmethod
    def from_frequencies(cls, frequencies, *, random_state: int = 0) -> PriorTagger:
        """A fitted PriorTagger from known tag frequencies (e.g. a model's training prior)."""
        return cls(random_state=random_state)._set_prior(np.asarray(frequencies, dtype=float))

    def _set_prior(self, prior: np.ndarray) -> PriorTagger:
        self.classes_ = np.arange(len(prior))
        self.prior_ = prior
        self.thresholds_ = np.full(len(prior), 0.5)
        return self

    def predict_proba(self, X) -> np.ndarray:
        return np.tile(self.prior_, (len(X), 1))

    def predict(self, X, threshold: float | None = None) -> np.ndarray:
        rng = np.random.default_rng(self.random_state)
        return (rng.random((len(X), len(self.prior_))) < self.prior_).astype(np.int8)
