import re
import unicodedata

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from riskcls.features import TextFeatures, tokens

TRAIN = ["Tariffs on steel rose again as Washington and Beijing traded duties.",
         "The café in Zürich raised prices; steel and aluminium tariffs were blamed.",
         "Troops shelled the town. Steel mills closed; the tariff fight went on.",
         "Steel steel steel tariffs tariffs on on imports"]


def reference_tokens(text: str) -> list[bytes]:
    """The tokenising rule written the slow, obvious way."""
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return [b"\x01" if t == "\n" else t.encode() for t in re.findall(r"[^\W_]+|\n", text.lower())]


def test_tokens_lowercase_strip_accents_and_split_at_non_alphanumerics():
    assert tokens("U.S. chip-tool CURBS_2024\non Café") == [
        b"u", b"s", b"chip", b"tool", b"curbs", b"2024", b"\x01", b"on", b"cafe"]
    assert tokens("") == [] and tokens("...") == []
    assert tokens("Zürich Дума 東京") == [b"zurich", "дума".encode(), "東京".encode()]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcXYZ09 _.-\n\té√ßД東\u0301'")), max_size=60))
def test_ascii_fast_path_and_unicode_path_follow_one_rule(text):
    assert tokens(text) == reference_tokens(text)


def test_paragraphs_join_short_lines_and_every_text_has_one():
    texts = ["Headline\nA body line with more than twelve words in it for sure, yes indeed.\n"
             "Short tail", "", "one", "First paragraph has at least twelve words in it, which "
             "makes it stand alone.\nSecond paragraph also has twelve words or more, so it is "
             "its own."]
    features = TextFeatures(lead_weight=0, min_df=1)
    _, paragraphs, starts = features.fit_transform(texts)
    assert starts.tolist() == [0, 1, 2, 3]
    assert paragraphs.shape[0] == 5
    assert paragraphs[1].nnz == 0 and paragraphs[2].nnz == 1
    phrases = features.phrase_names()
    first = {phrases[c] for c in paragraphs[0].indices}
    assert {"headline", "headline a", "short tail", "indeed short"} <= first
    assert {phrases[c] for c in paragraphs[3].indices}.isdisjoint({"second paragraph"})


def test_article_rows_have_unit_length_and_transform_repeats_fit():
    features = TextFeatures(min_df=1)
    docs, paragraphs, starts = features.fit_transform(TRAIN)
    again, _, _ = features.transform(TRAIN)
    assert (docs != again).nnz == 0
    assert docs.shape[0] == 4 and paragraphs.shape[1] == docs.shape[1]
    article = docs[:, :features.blocks_[0].n_columns]
    assert np.allclose(np.asarray(article.multiply(article).sum(axis=1)).ravel(), 1.0, atol=1e-5)
    lead = docs[:, features.blocks_[0].n_columns:]
    assert np.allclose(np.sqrt(np.asarray(lead.multiply(lead).sum(axis=1)).ravel()), 0.5,
                       atol=1e-5)
    empty, _, _ = features.transform(["", "zzz qqq"])
    assert empty.nnz == 0


def test_counts_match_a_direct_count_of_the_text():
    features = TextFeatures(lead_weight=0, min_df=1, max_df=1.0)
    features.fit_transform(TRAIN)
    docs, _, _ = features.transform(["steel steel tariffs on unknownword steel"])
    phrases = list(features.phrase_names())
    block = features.blocks_[0]
    idf = dict(zip(phrases, block.idf))
    expected = {"steel": (1 + np.log(3)) * idf["steel"], "tariffs": idf["tariffs"],
                "on": idf["on"], "steel steel": idf["steel steel"],
                "steel tariffs": idf["steel tariffs"], "tariffs on": idf["tariffs on"]}
    norm = np.sqrt(sum(v * v for v in expected.values()))
    got = {phrases[c]: v for c, v in zip(docs.indices, docs.data)}
    assert set(got) == set(expected)
    for phrase, value in expected.items():
        assert np.isclose(got[phrase], value / norm, rtol=1e-5), phrase


def test_document_frequency_bounds_and_unseen_words():
    features = TextFeatures(lead_weight=0, min_df=2, max_df=0.9)
    features.fit_transform(TRAIN)
    names = set(features.phrase_names())
    assert "tariffs" in names  # in 3 of 4 articles
    assert "zurich" not in names  # in 1: under min_df
    assert "steel" not in names  # in all 4: over max_df
    docs, _, _ = features.transform(["zurich zurich", ""])
    assert docs.nnz == 0 and docs.shape[0] == 2


def test_lead_block_sees_only_the_first_words():
    texts = ["alpha beta " * 3 + "gamma " * 30, "alpha gamma " * 20]
    features = TextFeatures(lead_words=4, lead_weight=0.5, min_df=1)
    docs, paragraphs, _ = features.fit_transform(texts)
    n_article = features.blocks_[0].n_columns
    lead_names = list(features.phrase_names()[n_article:])
    assert "gamma" in lead_names and "beta" in lead_names
    lead = docs[0, n_article:]
    assert {lead_names[c] for c in lead.indices} == {"alpha", "beta", "alpha beta", "beta alpha"}
    assert paragraphs[:, n_article:].nnz == 0


def test_every_distinct_word_keeps_its_own_column():
    alphabet = "ab45é"
    words = sorted({a + b + c for a in alphabet for b in alphabet + " " for c in alphabet + " "})
    texts = [" ".join(words), " ".join(reversed(words))]
    features = TextFeatures(lead_weight=0, min_df=1, max_df=1.0)
    features.fit_transform(texts)
    expected = {t.decode() for text in texts for t in tokens(text)}
    assert sorted(features.words_) == sorted(expected)


def test_a_word_maps_to_the_same_column_wherever_it_stands(monkeypatch):
    features = TextFeatures(lead_weight=0.5, min_df=1)
    features.fit_transform(TRAIN)
    batch, batch_paragraphs, _ = features.transform(TRAIN)
    for row, text in enumerate(TRAIN):
        alone, _, _ = features.transform([text])
        assert (alone != batch[row]).nnz == 0
    lines_only = ["steel\ntariffs\nrose\nagain\nsteel\nmills"]
    whole_lines, _, _ = features.transform(lines_only)
    monkeypatch.setattr("riskcls.features._SLICE_BYTES", 7)
    sliced, sliced_paragraphs, _ = features.transform(TRAIN)
    assert (sliced != batch).nnz == 0 and (sliced_paragraphs != batch_paragraphs).nnz == 0
    assert whole_lines.nnz > 0 and (features.transform(lines_only)[0] != whole_lines).nnz == 0
    refit = TextFeatures(lead_weight=0.5, min_df=1)
    refit.fit_transform(TRAIN)
    assert refit.words_ == features.words_
