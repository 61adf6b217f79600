import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer

from riskcls.features import TextFeatures, TokenIdCounts, split_paragraphs

TRAIN = ["Tariffs on steel rose again as Washington and Beijing traded duties.",
         "The café in Zürich raised prices; steel and aluminium tariffs were blamed.",
         "Troops shelled the town. Steel mills closed; the tariff fight went on.",
         "Steel steel steel tariffs tariffs on on imports"]


def test_token_id_counts_equal_countvectorizer():
    for ngram_range in ((1, 1), (1, 2)):
        counter = CountVectorizer(ngram_range=ngram_range, strip_accents="unicode",
                                  dtype=np.float32).fit(TRAIN)
        fast = TokenIdCounts(counter)
        docs = TRAIN + ["", "unknown words only", "Zurich cafe steel tariffs on imports rose",
                        "steel\nsteel tariffs"]
        assert (fast.transform(docs) != counter.transform(docs)).nnz == 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("abc éZ.\n")), max_size=40), max_size=6))
def test_token_id_counts_equal_countvectorizer_on_any_text(docs):
    counter = CountVectorizer(ngram_range=(1, 2), strip_accents="unicode",
                              token_pattern=r"(?u)\b\w+\b").fit(TRAIN + ["a b c ab bc e z"])
    assert (TokenIdCounts(counter).transform(docs) != counter.transform(docs)).nnz == 0


def test_paragraphs_join_short_lines_and_every_text_has_one():
    paragraphs, starts = split_paragraphs(["Headline\nA body line with more than twelve words in it "
                                           "for sure, yes indeed.\nShort tail", "", "one"])
    assert starts.tolist() == [0, 1, 2]
    assert paragraphs[0].startswith("Headline A body line") and paragraphs[0].endswith("Short tail")
    assert paragraphs[1:] == ["", "one"]


def test_article_counts_are_the_sum_of_paragraph_counts():
    features = TextFeatures(lead_weight=0, min_df=1)
    docs, paragraphs, starts = features.fit_transform(TRAIN)
    again, _, _ = features.transform(TRAIN)
    assert (docs != again).nnz == 0
    assert docs.shape[0] == 4 and paragraphs.shape[1] == docs.shape[1]
    assert np.allclose(np.asarray((docs.multiply(docs)).sum(axis=1)).ravel(), 1.0, atol=1e-5)


def test_token_id_counts_with_a_pruned_vocabulary():
    docs = ["The EU imposed duties on Chinese cars.", "Café owners said the duties hurt",
            "duties on cars and café exports", "", "the the the cars"]
    counter = CountVectorizer(strip_accents="unicode", ngram_range=(1, 2), dtype=np.float32)
    counter.fit(docs[:3])
    counter.vocabulary_ = {t: i for i, t in enumerate(sorted(counter.vocabulary_)[::2])}
    assert (TokenIdCounts(counter).transform(docs) != counter.transform(docs)).nnz == 0
