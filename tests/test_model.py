import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import KFold, cross_val_score
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from riskcls.model import RiskTagger, _best_f1_threshold


@pytest.mark.parametrize("check", [check_no_attributes_set_in_init,
                                   check_parameters_default_constructible,
                                   check_get_params_invariance, check_set_params])
def test_sklearn_estimator_checks_that_apply_to_a_text_model(check):
    check("RiskTagger", RiskTagger())


def test_init_stores_parameters_unchanged_and_clone_works():
    tagger = RiskTagger(C=0.3, C_grid=(0.1, 1.0), lead_weight=0.0, cv=4)
    params = tagger.get_params()
    assert params["C"] == 0.3 and params["C_grid"] == (0.1, 1.0) and params["cv"] == 4
    copy = clone(tagger)
    assert copy.get_params() == params


def test_not_fitted_raises():
    with pytest.raises(NotFittedError):
        RiskTagger().predict(["some text"])


def test_fit_predict_shapes_and_learned_state(fitted_tagger, corpus):
    texts, Y, tags = corpus
    assert list(fitted_tagger.classes_) == tags
    proba = fitted_tagger.predict_proba(texts)
    assert proba.shape == Y.shape and ((proba >= 0) & (proba <= 1)).all()
    assert fitted_tagger.decision_function(texts).shape == Y.shape
    assert fitted_tagger.predict(texts).shape == Y.shape
    low, high = fitted_tagger.threshold_bounds
    assert ((fitted_tagger.thresholds_ >= low) & (fitted_tagger.thresholds_ <= high)).all()
    assert set(fitted_tagger.C_) <= set(fitted_tagger.C_grid)
    assert fitted_tagger.oof_proba_.shape == Y.shape


def test_tags_new_articles_by_theme(fitted_tagger):
    texts = ["Missile strikes and shelling as troops launched an offensive near the border.",
             "The government raised tariffs on imports; the partner retaliated with duties.",
             "The museum opened an exhibition and the football team won on sunday."]
    predicted = fitted_tagger.predict(texts)
    assert predicted.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 0]]


def test_explicit_threshold_overrides_tuned_ones(fitted_tagger, corpus):
    texts, _, _ = corpus
    assert fitted_tagger.predict(texts, threshold=0.0).all()
    assert not fitted_tagger.predict(texts, threshold=1.0).any()


def test_evidence_lists_phrases_that_raised_the_score(fitted_tagger):
    [explained] = fitted_tagger.explain(["Washington raised tariffs on steel imports today."],
                                        top=3)
    phrases = [p for p, _ in explained["trade_war"]]
    assert 0 < len(phrases) <= 3
    assert any("tariff" in p or "steel" in p or "imports" in p for p in phrases)
    assert all(v > 0 for _, v in explained["trade_war"])


def test_drops_into_sklearn_cross_validation(corpus):
    texts, Y, tags = corpus
    scores = cross_val_score(RiskTagger(C=1.0, cv=2), np.array(texts), Y,
                             cv=KFold(3, shuffle=True, random_state=0))
    assert scores.mean() > 0.8


def test_tag_without_positives_is_never_predicted(corpus):
    texts, Y, tags = corpus
    Y = np.hstack([Y, np.zeros((len(Y), 1), dtype=int)])
    tagger = RiskTagger(labels=tags + ["empty"], cv=2).fit(texts, Y)
    assert tagger.predict(texts)[:, -1].sum() == 0


def test_rejects_a_single_string_and_mismatched_shapes(corpus):
    texts, Y, _ = corpus
    with pytest.raises(TypeError):
        RiskTagger().fit("one string", Y[:1])
    with pytest.raises(ValueError):
        RiskTagger().fit(texts[:5], Y)


def test_best_f1_threshold_separates_and_reports_its_f1():
    probs = np.array([0.9, 0.8, 0.7, 0.2, 0.1, 0.05])
    y = np.array([1, 1, 1, 0, 0, 0])
    cut, f1 = _best_f1_threshold(probs, y)
    assert 0.2 < cut <= 0.7 and f1 == pytest.approx(1.0)


def test_threshold_rules_and_bounds():
    probs = np.array([0.9, 0.8, 0.6, 0.55, 0.2, 0.1])
    y = np.array([1, 1, 0, 1, 0, 0])  # best F1 6/7 when the top four are given
    assert RiskTagger(threshold_rule="max_f1").tune_threshold(probs, y) == \
        pytest.approx((0.55 + 0.2) / 2)
    assert RiskTagger(threshold_rule="half_f1").tune_threshold(probs, y) == pytest.approx(3 / 7)
    low = RiskTagger(threshold_rule="max_f1", threshold_bounds=(0.1, 0.9))
    assert low.tune_threshold(np.array([0.05, 0.04, 0.01]), np.array([1, 1, 0])) == \
        pytest.approx(0.1)
    with pytest.raises(ValueError, match="threshold_rule"):
        RiskTagger(threshold_rule="nope").tune_threshold(probs, y)
    with pytest.raises(ValueError, match="threshold_rule"):
        RiskTagger(threshold_rule="nope").fit(["a text", "another text"], np.array([[1], [0]]))


def test_prior_weight_pulls_thresholds_tuned_on_few_positives_towards_even_odds():
    probs = np.array([0.9, 0.8, 0.6, 0.55, 0.2, 0.1])
    y = np.array([1, 1, 0, 1, 0, 0])  # tuned alone: 0.375, from 3 positives
    pulled = RiskTagger(threshold_prior_weight=3.0).tune_threshold(probs, y)
    assert pulled == pytest.approx((3 * 0.375 + 3 * 0.5) / 6)
    many = np.repeat(probs, 10), np.repeat(y, 10)  # same cut, from 30 positives: pulled less
    assert RiskTagger(threshold_prior_weight=3.0).tune_threshold(*many) == \
        pytest.approx((30 * 0.375 + 3 * 0.5) / 33)
    shared = RiskTagger(threshold_prior_weight=3.0).tune_shared_threshold(
        np.column_stack([probs, probs]), np.column_stack([y, y]))
    assert shared == pytest.approx((6 * 0.375 + 3 * 0.5) / 9)
    with pytest.raises(ValueError, match="threshold_prior_weight"):
        RiskTagger(threshold_prior_weight=-3.0).tune_threshold(probs, y)


def test_paragraph_statistics_expose_how_many_paragraphs_carry_a_theme():
    from riskcls.model import _with_paragraph_stats

    paragraph_margins = np.array([[1.0], [3.0], [2.0], [5.0], [4.0], [4.0]])
    stats = _with_paragraph_stats(np.zeros((3, 1)), paragraph_margins, np.array([0, 3, 4]))
    # [article, best, second best, share positive, lead] per document
    assert stats[:, 0, :].tolist() == [[0, 3, 2, 1, 1], [0, 5, 4, 1, 5], [0, 4, 4, 1, 4]]


def test_predict_with_evidence_gives_evidence_for_given_tags_only(fitted_tagger):
    texts = ["Washington raised tariffs on steel imports today.", "The museum opened on sunday."]
    probs, evidence = fitted_tagger.predict_with_evidence(texts, top=3)
    assert (probs == fitted_tagger.predict_proba(texts)).all()
    assert list(evidence[0]) == ["trade_war"] and evidence[1] == {}
    [explained] = fitted_tagger.explain(texts[:1], top=3, tags=["trade_war"])
    assert evidence[0]["trade_war"] == explained["trade_war"]


def test_rare_tags_share_one_calibration_and_threshold_and_are_still_given(rare_tag_corpus):
    texts, Y, tags = rare_tag_corpus
    tagger = RiskTagger(labels=tags, cv=3, C_grid=(0.5,), min_positives=5).fit(texts, Y)
    rare = [tags.index(t) for t in ("rye", "palladium", "naphtha", "propane")]
    assert len(set(tagger.thresholds_[rare])) == 1
    assert tagger.calibration_[rare].any(axis=1).all()
    new = ["the market report said rye output rose while rye prices held", "troops moved in"]
    predicted = tagger.predict(new)
    assert predicted[0, tags.index("rye")] == 1 and predicted[0].sum() == 1
    assert predicted[1, tags.index("troops")] == 1 and predicted[1, rare].sum() == 0


def test_best_mean_f1_threshold_weighs_every_tag_alike():
    from riskcls.model import _best_mean_f1_threshold

    probs = np.array([[0.9, 0.30], [0.8, 0.05], [0.2, 0.25], [0.1, 0.02]])
    Y = np.array([[1, 1], [1, 0], [0, 1], [0, 0]])
    # one cut keeps both positives of the second tag and nothing else
    cut, mean_f1 = _best_mean_f1_threshold(probs, Y)
    assert 0.2 < cut < 0.25 and mean_f1 == pytest.approx(1.0)
    assert ((probs >= cut) == Y.astype(bool)).all()
