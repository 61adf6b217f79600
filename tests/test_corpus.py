"""The shipped corpus meets the bar the default model is trained on: size, balance, length, no
near-duplicates, and fields for checking balance."""

from collections import Counter

import numpy as np
import pytest

from riskcls.data import check, load_labelled
from riskcls.paths import DEFAULT_CORPUS

CASES = {"positive", "near_miss", "passing_mention", "general"}


@pytest.fixture(scope="module")
def corpus_dataset(taxonomy):
    return load_labelled([DEFAULT_CORPUS], taxonomy)


def test_corpus_is_clean_and_big_enough(taxonomy):
    report = check([DEFAULT_CORPUS], taxonomy)
    assert report.ok, [str(p) for p in report.problems[:10]]
    assert report.n_records >= 2000
    assert report.untagged >= 600
    assert min(report.tag_counts.values()) >= 150, report.tag_counts
    assert report.length_words["median"] >= 170
    assert report.length_words["share_over_400"] >= 0.15
    assert report.length_words["min"] >= 40 and report.length_words["max"] <= 1200


def test_every_record_has_balance_fields(corpus_dataset):
    for field in ("style", "region", "era", "case"):
        assert None not in set(corpus_dataset[field]), field
    cases = Counter(corpus_dataset["case"])
    assert set(cases) <= CASES
    assert cases["passing_mention"] >= 120
    labels = corpus_dataset["labels"]
    for case, tagged in zip(corpus_dataset["case"], labels):
        if case in ("near_miss", "general"):
            assert tagged == []
        if case == "positive":
            assert tagged != []


def test_no_near_duplicates(corpus_dataset):
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = corpus_dataset["text"]
    vectors = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    similarity = (vectors @ vectors.T).tocoo()
    pairs = [(corpus_dataset["id"][i], corpus_dataset["id"][j], round(float(v), 3))
             for i, j, v in zip(similarity.row, similarity.col, similarity.data)
             if i < j and v >= 0.8]
    assert pairs == []


def test_near_misses_for_every_tag_are_written_as_untagged(corpus_dataset, taxonomy):
    near_miss = np.array(corpus_dataset["case"]) == "near_miss"
    assert near_miss.sum() >= 20 * len(taxonomy)
