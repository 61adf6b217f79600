import numpy as np

from riskcls.baselines import KeywordTagger, PriorTagger
from riskcls.taxonomy import Tag, Taxonomy

TAXONOMY = Taxonomy(tags=(
    Tag(id="trade_war", name="t", definition="t", phrases=("tariffs", "trade war"),
        exclusion_terms=("electricity tariffs",)),
    Tag(id="sanctions", name="s", definition="s", phrases=("sanctions",)),
))


def test_keyword_tagger_matches_phrases_and_honours_exclusions():
    tagger = KeywordTagger(taxonomy=TAXONOMY).fit()
    docs = ["New tariffs deepen the trade war.", "Electricity tariffs rise for homes.",
            "Sanctions-busting ring", "Nothing here"]
    assert tagger.predict(docs).tolist() == [[1, 0], [0, 0], [0, 0], [0, 0]]
    assert tagger.hits(docs)[0, 0] == 2
    assert tagger.matches(docs[0]) == [["tariffs", "trade war"], []]
    assert tagger.matches(docs[1]) == [[], []]  # an exclusion term silences the tag
    assert (tagger.predict_proba(docs)[0, 0] > tagger.predict_proba(["tariffs"])[0, 0])


def test_prior_tagger_uses_tag_frequencies():
    Y = np.array([[1, 0]] * 9 + [[0, 0]])
    prior = PriorTagger(random_state=1).fit(None, Y)
    assert prior.predict_proba(["x", "y"]).tolist() == [[0.9, 0.0], [0.9, 0.0]]
    predicted = prior.predict(["x"] * 1000)
    assert 0.85 < predicted[:, 0].mean() < 0.95 and predicted[:, 1].sum() == 0


def test_prior_tagger_from_known_frequencies():
    prior = PriorTagger.from_frequencies([0.25, 0.0])
    assert prior.predict_proba(["x"]).tolist() == [[0.25, 0.0]]
