"""RiskTagger: a multi-label linear text classifier that follows scikit-learn's estimator rules.

TF-IDF features of the article, of each paragraph and of the headline and lead; one linear SVM per
tag with its regularisation chosen by multi-label stratified cross-validation; a calibration that
turns the article score and paragraph statistics into a probability; and per-tag thresholds tuned
on out-of-fold scores.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from joblib import Parallel, delayed
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, precision_recall_curve
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from riskcls.data import kfold_indices
from riskcls.features import TextFeatures

DEFAULT_C_GRID = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)


class RiskTagger(ClassifierMixin, BaseEstimator):
    """Multi-label news tagger.

    Parameters
    ----------
    C : float or "auto"
        SVM regularisation; "auto" picks, for each tag, the value of `C_grid` with the best
        out-of-fold average precision.
    C_grid : sequence of float
        Candidates for C when C="auto". The default reaches 4: with the grid topped at 1, 74 of
        Reuters R90's 90 tags and 11 of the shipped corpus's 12 tags chose the top value, and
        adding 2 and 4 raised cross-validated micro-F1 on both (8 and 16 gained nothing on the
        corpus and 0.0006 on R90).
    lead_words, lead_weight : int, float
        Size and weight of the extra block built from the headline and first words; weight 0 drops it.
    min_df : int
        Minimum document frequency of a feature.
    paragraph_features : bool
        Also score each paragraph with the tag's linear model and let the calibrated score weigh the
        best and second-best paragraphs, the share of paragraphs that lean towards the tag and the
        lead paragraph beside the whole-article score, so that a theme that fills paragraphs is told
        apart from one mentioned in passing, and a long article's secondary threads are not diluted
        away.
    class_weight : "balanced" or None
        Class weighting for each tag's SVM, so rare tags are not drowned by negatives.
    cv : int
        Folds of multi-label stratified cross-validation used to choose C, calibrate and set
        thresholds. Five rather than three keeps more of a rare tag's few positives in each
        training fold, so its out-of-fold scores look more like the final model's (bench/reuters_cv.py
        measures the difference).
    threshold_rule : "max_f1" or "half_f1"
        How a tag's threshold is set from its calibrated out-of-fold probabilities: "max_f1" takes
        the cut with the best out-of-fold F1; "half_f1" takes half of that best F1, which is where
        the F1-optimal cut of a calibrated classifier lies (Lipton, Elkan & Narayanaswamy 2014) and
        depends less on where a few out-of-fold positives happen to fall. On Reuters R90 (CV on
        the training split) "half_f1" gave slightly higher micro-F1 and lower macro-F1: it sets
        too high a cut for small tags, whose calibration rests on few positives.
    threshold_bounds : (float, float)
        A tag's own tuned threshold is clipped into this range, so a few out-of-fold scores cannot
        give it a degenerate one. The rare tags' shared threshold (see `min_positives`) is not:
        it is tuned on the pooled scores of many tags, against a calibration that folds in each
        tag's rarity, and may lie far below the range.
    threshold_prior_weight : float
        Pulls each tuned threshold towards 0.5, the calibrated even-odds cut, as if that many
        extra positives had voted for it: (n x tuned + weight x 0.5) / (n + weight), n being the
        positives the threshold was tuned on. A threshold tuned on a handful of out-of-fold
        positives is a noisy estimate; 0 keeps the tuned value. On Reuters R90 (CV on the training
        split, bench/reuters_cv.py) weights of 2 to 20 lowered macro-F1 from 0.597 to 0.581-0.548
        for at most 0.0014 more micro-F1, hence the default of 0.
    min_positives : int
        Tags with fewer training positives are too rare to calibrate or tune one by one. They share
        one calibration and one threshold, learned from the pooled out-of-fold scores of all such
        tags with at least two positives (a held-out positive then had another one in its training
        folds, just as a one-positive tag has at tagging time); the threshold maximises those
        tags' mean F1. With fewer than three such tags to pool, a rare tag is given when its
        class-weighted SVM's margin is positive (probability sigmoid(margin)).
    labels : sequence of str or None
        Tag ids naming the columns of Y; defaults to 0..k-1.
    random_state : int
        Seed for the folds and the solver.
    n_jobs : int or None
        Parallel jobs over tags (processes: liblinear's random generator is shared by threads,
        which made threaded fits differ from run to run).
    """

    def __init__(self, *, C="auto", C_grid=DEFAULT_C_GRID, lead_words=60, lead_weight=0.5, min_df=2,
                 paragraph_features=True, class_weight="balanced", cv=5, threshold_rule="max_f1",
                 threshold_bounds=(0.1, 0.9), threshold_prior_weight=0.0, min_positives=5,
                 labels=None, random_state=0, n_jobs=None):
        self.C = C
        self.C_grid = C_grid
        self.lead_words = lead_words
        self.lead_weight = lead_weight
        self.min_df = min_df
        self.paragraph_features = paragraph_features
        self.class_weight = class_weight
        self.cv = cv
        self.threshold_rule = threshold_rule
        self.threshold_bounds = threshold_bounds
        self.threshold_prior_weight = threshold_prior_weight
        self.min_positives = min_positives
        self.labels = labels
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_label = True
        return tags

    def _features(self, min_df: int) -> TextFeatures:
        return TextFeatures(lead_words=self.lead_words, lead_weight=self.lead_weight,
                            min_df=min_df)

    @property
    def _n_stats(self) -> int:
        return N_PARAGRAPH_STATS + 1 if self.paragraph_features else 1

    def fit(self, X, Y):
        """Learn features, per-tag SVMs, calibration and thresholds from texts and a 0/1 matrix."""
        texts = _as_texts(X)
        Y = np.asarray(Y)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if len(texts) != len(Y):
            raise ValueError(f"X has {len(texts)} documents but Y has {len(Y)} rows")
        if len(texts) < 2:
            raise ValueError("need at least 2 documents to fit")
        Y = (Y > 0).astype(np.int8)
        n_labels = Y.shape[1]
        self.classes_ = np.array(list(self.labels) if self.labels is not None
                                 else list(range(n_labels)), dtype=object)
        if len(self.classes_) != n_labels:
            raise ValueError(f"labels has {len(self.classes_)} names but Y has {n_labels} columns")
        self._check_threshold_rule()
        grid = list(self.C_grid) if self.C == "auto" else [float(self.C)]
        min_df = self.min_df if len(texts) >= 10 * self.min_df else 1

        oof, self.oof_fold_ = self._out_of_fold_stats(texts, Y, grid, min_df)
        self._choose(oof, Y, grid)
        self.features_ = self._features(min_df)
        features, _, _ = self.features_.fit_transform(texts)
        models = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_binary)(features, Y[:, j], self.C_[j], self.class_weight,
                                 self.random_state)
            for j in range(n_labels))
        # column-major, so that coef_.T, which every prediction multiplies by, is C-contiguous
        # and scipy does not copy it on each call
        self.coef_ = np.asfortranarray(np.vstack([coef for coef, _ in models]), dtype=np.float32)
        self.intercept_ = np.array([intercept for _, intercept in models], dtype=np.float32)
        self.n_features_in_ = features.shape[1]
        return self

    def _choose(self, oof: list[np.ndarray] | None, Y: np.ndarray, grid: list[float]) -> None:
        """From out-of-fold statistics: each tag's C, calibration, probabilities and threshold."""
        positives = Y.sum(axis=0)
        self.label_prior_ = Y.mean(axis=0)
        self.oof_proba_ = np.zeros(Y.shape, dtype=np.float32)
        self.C_ = np.empty(Y.shape[1])
        self.calibration_ = np.zeros((Y.shape[1], self._n_stats + 1))
        self.thresholds_ = np.full(Y.shape[1], 0.5)
        scorable = (positives > 0) & (positives < len(Y)) & (oof is not None)
        # average precision of each tag's out-of-fold article margin, per C of the grid
        ap = np.full((len(grid), Y.shape[1]), np.nan)
        for j in np.flatnonzero(scorable):
            ap[:, j] = [average_precision_score(Y[:, j], oof[g][:, j, 0]) for g in range(len(grid))]
        self.cv_average_precision_ = np.full(Y.shape[1], np.nan)
        for j in range(Y.shape[1]):
            if not scorable[j]:
                self.C_[j] = grid[len(grid) // 2]
                continue
            best = int(np.argmax(ap[:, j]))
            self.C_[j] = grid[best]
            self.cv_average_precision_[j] = ap[best, j]
            if positives[j] < self.min_positives:
                self.oof_proba_[:, j] = 1.0 / (1.0 + np.exp(-oof[best][:, j, 0]))
                continue
            self.calibration_[j] = _calibrate(oof[best][:, j], Y[:, j])
            self.oof_proba_[:, j] = _sigmoid(oof[best][:, j], self.calibration_[j])
            self.thresholds_[j] = self.tune_threshold(self.oof_proba_[:, j], Y[:, j])
        rare = np.flatnonzero(scorable & (positives < self.min_positives))
        if len(rare):
            self._pool_rare_tags(oof, Y, rare, grid, ap)

    def _pool_rare_tags(self, oof: list[np.ndarray], Y: np.ndarray, rare: np.ndarray,
                        grid: list[float], ap: np.ndarray) -> None:
        """One C, calibration and threshold for all rare tags, from their pooled out-of-fold
        statistics (the C with the best mean average precision over them, `ap` being grid x
        tags); the tag's number of positives enters the calibration as a feature, which for a
        single tag is a shift of its bias."""
        positives = Y.sum(axis=0)
        pooled = rare[positives[rare] >= 2]
        if len(pooled) < MIN_POOLED_TAGS:
            return
        best = int(np.argmax(ap[:, pooled].mean(axis=1)))
        rarity = np.log(np.maximum(positives, 1))
        stats = np.vstack([np.column_stack([oof[best][:, j], np.full(len(Y), rarity[j])])
                           for j in pooled])
        weights = _calibrate(stats, np.concatenate([Y[:, j] for j in pooled]))
        for j in rare:
            self.C_[j] = grid[best]
            self.cv_average_precision_[j] = ap[best, j]
            self.calibration_[j] = np.append(weights[:-2], weights[-1] + weights[-2] * rarity[j])
            self.oof_proba_[:, j] = _sigmoid(oof[best][:, j], self.calibration_[j])
        self.thresholds_[rare] = self.tune_shared_threshold(self.oof_proba_[:, pooled],
                                                            Y[:, pooled])

    def tune_shared_threshold(self, probs: np.ndarray, Y: np.ndarray) -> float:
        """The one threshold `threshold_rule` gives a group of rare tags from their calibrated
        out-of-fold probabilities (documents x tags), judged by the tags' mean F1 and pulled
        towards 0.5 by `threshold_prior_weight` (their pooled positives as the count)."""
        self._check_threshold_rule()
        cut, best_mean_f1 = _best_mean_f1_threshold(probs, Y)
        return self._towards_even_odds(best_mean_f1 / 2 if self.threshold_rule == "half_f1"
                                       else cut, int((Y > 0).sum()))

    def _towards_even_odds(self, cut: float, positives: int) -> float:
        weight = self.threshold_prior_weight
        if not weight >= 0:
            raise ValueError(f"threshold_prior_weight must be 0 or more, not {weight!r}")
        return float((positives * cut + weight * 0.5) / (positives + weight)) if weight else cut

    def _check_threshold_rule(self) -> None:
        if self.threshold_rule not in ("max_f1", "half_f1"):
            raise ValueError(f"threshold_rule must be 'max_f1' or 'half_f1', not "
                             f"{self.threshold_rule!r}")

    def tune_threshold(self, probs: np.ndarray, y: np.ndarray) -> float:
        """The threshold `threshold_rule` gives one tag from its calibrated out-of-fold
        probabilities, within `threshold_bounds`, pulled towards 0.5 by `threshold_prior_weight`."""
        self._check_threshold_rule()
        cut, best_f1 = _best_f1_threshold(probs, y)
        return self._towards_even_odds(
            float(np.clip(best_f1 / 2 if self.threshold_rule == "half_f1" else cut,
                          *self.threshold_bounds)), int((np.asarray(y) > 0).sum()))

    def _out_of_fold_stats(self, texts: list[str], Y: np.ndarray, grid: list[float],
                           min_df: int) -> tuple[list[np.ndarray] | None, np.ndarray]:
        """For each C, the statistics the calibration reads (documents x tags x stats), computed
        by models that did not see the document; and the fold each document was scored in."""
        fold_of = np.zeros(len(texts), dtype=np.int16)
        n_folds = min(self.cv, len(texts))
        if n_folds < 2:
            return None, fold_of
        folds = kfold_indices(Y, n_splits=n_folds, seed=self.random_state)
        stats = [np.zeros((*Y.shape, self._n_stats), dtype=np.float64) for _ in grid]
        n_labels = Y.shape[1]
        for number, (train, test) in enumerate(folds):
            fold_of[test] = number
            features = self._features(min_df)
            train_features, _, _ = features.fit_transform([texts[i] for i in train])
            test_features = features.transform([texts[i] for i in test])
            fitted = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_binary)(train_features, Y[train, j], grid[g], self.class_weight,
                                     self.random_state)
                for g in range(len(grid)) for j in range(n_labels))
            for g in range(len(grid)):
                models = fitted[g * n_labels:(g + 1) * n_labels]
                coef = np.vstack([c for c, _ in models])
                intercept = np.array([b for _, b in models])
                stats[g][test] = self._stats(test_features, coef, intercept)
        return stats, fold_of

    def _stats(self, transformed, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """Documents x tags x statistics: the article margin, then paragraph statistics if used."""
        doc_features, paragraph_features, starts = transformed
        margins = np.asarray(doc_features @ coef.T) + intercept
        if not self.paragraph_features:
            return margins[:, :, None]
        paragraph_margins = np.asarray(paragraph_features @ coef.T) + intercept
        return _with_paragraph_stats(margins, paragraph_margins, starts)

    def _transform(self, X):
        check_is_fitted(self, "coef_")
        return self.features_.transform(_as_texts(X))

    def transform_features(self, X) -> sparse.csr_matrix:
        """The article feature matrix the linear models read."""
        return self._transform(X)[0]

    def decision_function(self, X) -> np.ndarray:
        """Raw linear margins of the whole article, documents x tags."""
        return np.asarray(self.transform_features(X) @ self.coef_.T) + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probability of each tag, documents x tags."""
        return self._proba(self._transform(X))

    def _proba(self, transformed) -> np.ndarray:
        stats = self._stats(transformed, self.coef_, self.intercept_)
        weights, bias = self.calibration_[:, :-1], self.calibration_[:, -1]
        z = np.einsum("nkm,km->nk", stats, weights) + bias
        uncalibrated = ~weights.any(axis=1)
        z[:, uncalibrated] = stats[:, uncalibrated, 0]
        return 1.0 / (1.0 + np.exp(-z))

    def predict(self, X, threshold: float | None = None) -> np.ndarray:
        """0/1 tags: each tag's tuned threshold, or one explicit `threshold` for every tag."""
        probs = self.predict_proba(X)
        cut = self.thresholds_ if threshold is None else float(threshold)
        return (probs >= cut).astype(np.int8)

    def predict_with_evidence(self, X, threshold: float | None = None, top: int = 5
                              ) -> tuple[np.ndarray, list[dict]]:
        """Probabilities and, for each document, the evidence (see `explain`) for just the tags it
        is given — in one pass over the text."""
        transformed = self._transform(X)
        probs = self._proba(transformed)
        cut = self.thresholds_ if threshold is None else float(threshold)
        given = [np.flatnonzero(row) for row in probs >= cut]
        return probs, self._evidence(transformed[0], given, top)

    def score(self, X, Y, sample_weight=None) -> float:
        """Micro-averaged F1 of `predict` against Y (the usual multi-label summary)."""
        from sklearn.metrics import f1_score

        return float(f1_score(np.asarray(Y), self.predict(X), average="micro",
                              sample_weight=sample_weight, zero_division=0))

    def explain(self, X, top: int = 5, tags: Sequence | None = None) -> list[dict]:
        """For each document, the phrases that pushed each tag's article score up most
        (weight x value, summed over the word and lead blocks): word n-grams that neither start nor
        end with a stop word, since fragments such as "the commerce" mean
        little to a reader. Returns {tag: [(phrase, contribution), ...]} per document."""
        features = self.transform_features(X)
        wanted = np.arange(len(self.classes_)) if tags is None else \
            np.array([list(self.classes_).index(t) for t in tags], dtype=np.int64)
        return self._evidence(features, [wanted] * features.shape[0], top)

    def _evidence(self, features, wanted: list[np.ndarray], top: int) -> list[dict]:
        features = features.tocsr()
        phrase_of, phrases = self.features_.phrase_index()
        result = []
        for row, tags in enumerate(wanted):
            start, end = features.indptr[row], features.indptr[row + 1]
            ids = phrase_of[features.indices[start:end]]
            keep = ids >= 0
            ids = ids[keep]
            if not len(tags):
                result.append({})
                continue
            unique, slot = np.unique(ids, return_inverse=True)
            contributions = (features.data[start:end][keep][:, None]
                             * self.coef_[tags][:, features.indices[start:end][keep]].T)
            totals = np.zeros((len(unique), len(tags)))
            np.add.at(totals, slot, contributions)
            per_tag = {}
            for k, j in enumerate(tags):
                order = np.argsort(-totals[:, k], kind="stable")[:top]
                per_tag[self.classes_[j]] = [(phrases[unique[i]], round(float(totals[i, k]), 4))
                                             for i in order if totals[i, k] > 0]
            result.append(per_tag)
        return result


def _as_texts(X) -> list[str]:
    if isinstance(X, str):
        raise TypeError("X must be a sequence of documents, not a single string; wrap it in a list")
    return ["" if doc is None else str(doc) for doc in X]


def _fit_binary(features, y: np.ndarray, C: float, class_weight, random_state) -> tuple:
    """One tag's linear SVM as (dense coefficients, intercept); a constant scorer if y has one class."""
    if y.min() == y.max():
        coef = np.zeros(features.shape[1], dtype=np.float32)
        return coef, (1.0 if y[0] else -1.0)
    model = LinearSVC(C=C, class_weight=class_weight, dual=True, max_iter=5000,
                      random_state=random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, y)
    return model.coef_.ravel().astype(np.float32), float(model.intercept_[0])


N_PARAGRAPH_STATS = 4
MIN_POOLED_TAGS = 3
SINGLE_PARAGRAPH_GAP = 1.0


def _with_paragraph_stats(margins: np.ndarray, paragraph_margins: np.ndarray,
                          starts: np.ndarray) -> np.ndarray:
    """Per document and tag: [article margin, best paragraph margin, second-best paragraph margin,
    share of paragraphs with a positive margin, lead paragraph margin]. A theme the article is
    about lifts several paragraphs; a passing mention lifts at most one, which the second-best
    margin exposes. A one-paragraph text's second best is its best minus SINGLE_PARAGRAPH_GAP."""
    counts = np.diff(np.append(starts, len(paragraph_margins)))
    owner = np.repeat(np.arange(len(starts)), counts)
    best = np.maximum.reduceat(paragraph_margins, starts, axis=0)
    is_best = paragraph_margins == best[owner]
    # float32 sums: numpy's integer reduceat is several times slower
    ties = np.add.reduceat(is_best.astype(np.float32), starts, axis=0)
    others = np.where(is_best, np.float32(-np.inf), paragraph_margins)
    second = np.maximum.reduceat(others, starts, axis=0)
    second = np.where(ties >= 2, best, second)
    second = np.where(counts[:, None] == 1, best - SINGLE_PARAGRAPH_GAP, second)
    share = np.add.reduceat((paragraph_margins > 0).astype(np.float32), starts, axis=0) / \
        counts[:, None]
    lead = paragraph_margins[starts]
    return np.stack([margins, best, second, share, lead], axis=2)


def _calibrate(stats: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Logistic calibration from out-of-fold statistics (article margin, and paragraph statistics
    when used) to a probability: weights followed by the bias."""
    model = LogisticRegression(C=10.0)
    model.fit(stats, y)
    return np.append(model.coef_[0], model.intercept_[0])


def _sigmoid(stats: np.ndarray, calibration: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(stats @ calibration[:-1] + calibration[-1])))


def _best_mean_f1_threshold(probs: np.ndarray, Y: np.ndarray) -> tuple[float, float]:
    """The one probability cut, tried at each positive's score, that maximises the tags' mean F1
    (the macro view: each rare tag counts as much as any other), midway to the next lower score;
    and that mean F1."""
    candidates = np.unique(probs[Y > 0])
    positives = Y.sum(axis=0)
    best_cut, best_f1 = float(candidates.max()), -1.0
    for cut in candidates:
        given = probs >= cut
        true_positives = (given & (Y > 0)).sum(axis=0)
        f1 = 2 * true_positives / np.maximum(given.sum(axis=0) + positives, 1)
        if f1.mean() > best_f1:
            best_cut, best_f1 = float(cut), float(f1.mean())
    below = probs[probs < best_cut]
    return (best_cut + float(below.max())) / 2 if below.size else best_cut, best_f1


def _best_f1_threshold(probs: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The probability cut that maximises F1 on out-of-fold scores, placed midway between the
    lowest accepted score and the next one below it; and that F1."""
    precision, recall, cuts = precision_recall_curve(y, probs)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall + 1e-12), 0)
    best = int(np.argmax(f1[:-1]))
    cut = cuts[best]
    below = probs[probs < cut]
    if below.size:
        cut = (cut + below.max()) / 2
    return float(cut), float(f1[best])
