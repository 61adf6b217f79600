"""Shared fixtures: small labelled data and a tiny fitted model built by the tests themselves."""

import json
import os

os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from riskcls.taxonomy import load_taxonomy  # noqa: E402

THEMES = {
    "military_conflict": [
        "artillery shelling hit the frontline town overnight as troops advanced",
        "missile strikes and drone attacks killed soldiers near the border",
        "the navy deployed warships after the invasion and the army launched an offensive",
    ],
    "trade_war": [
        "washington raised tariffs on steel imports and beijing retaliated with duties",
        "anti-dumping duties on solar panels escalated the trade dispute at the wto",
        "retaliatory levies on soybeans and cars deepened the tariff fight",
    ],
    "sanctions": [
        "the treasury froze assets and blacklisted banks under new sanctions",
        "the european union imposed sanctions and an asset freeze on oligarchs",
        "officials were cut off from swift and designated on the sanctions list",
    ],
}
FILLER = [
    "the local football team won the cup final on sunday",
    "heavy rain is forecast for the weekend across the valley",
    "the museum opened a new exhibition of renaissance paintings",
    "shares in the retailer rose after strong holiday sales",
    "the city council approved a budget for new cycle lanes",
]


def make_corpus(n_per_theme: int = 12, seed: int = 0) -> tuple[list[str], np.ndarray, list[str]]:
    """A small synthetic labelled corpus: texts, a 0/1 matrix and the tag ids."""
    rng = np.random.default_rng(seed)
    tags = list(THEMES)
    texts, rows = [], []
    for j, tag in enumerate(tags):
        for k in range(n_per_theme):
            sentences = list(rng.choice(THEMES[tag], 2)) + list(rng.choice(FILLER, 2))
            texts.append(f"Report {tag} {k}\n\n" + ". ".join(sentences) + f". item {k}.")
            rows.append([int(i == j) for i in range(len(tags))])
    for k in range(n_per_theme):
        texts.append(f"Local news {k}\n\n" + ". ".join(rng.choice(FILLER, 3)) + f". note {k}.")
        rows.append([0] * len(tags))
    return texts, np.array(rows), tags


@pytest.fixture(scope="session")
def taxonomy():
    return load_taxonomy()


@pytest.fixture(scope="session")
def corpus():
    return make_corpus()


@pytest.fixture(scope="session")
def fitted_tagger(corpus):
    from riskcls.model import RiskTagger

    texts, Y, tags = corpus
    return RiskTagger(labels=tags, cv=3).fit(texts, Y)


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def labelled_file(tmp_path, corpus):
    texts, Y, tags = corpus
    records = []
    for i, (text, row) in enumerate(zip(texts, Y)):
        title, body = text.split("\n\n", 1)
        records.append({"id": f"d{i}", "title": title, "text": body,
                        "labels": [t for t, v in zip(tags, row) if v], "style": "wire"})
    return write_jsonl(tmp_path / "train.jsonl", records)


@pytest.fixture
def rare_tag_corpus():
    """Two common tags and four rare ones (3 articles each), every theme with its own words."""
    rng = np.random.default_rng(0)
    filler = ("market officials said the report on monday showed prices and trading volumes "
              "in the region were steady while analysts expected more data next week").split()
    themes = {"tariffs": 30, "troops": 30, "rye": 3, "palladium": 3, "naphtha": 3, "propane": 3}
    texts, rows = [], []
    for j, (word, count) in enumerate(themes.items()):
        for _ in range(count):
            words = list(rng.choice(filler, 40)) + [word] * 4 + [f"{word}s", f"{word} output"]
            rng.shuffle(words)
            texts.append(" ".join(words))
            rows.append([int(k == j) for k in range(len(themes))])
    for _ in range(30):
        texts.append(" ".join(rng.choice(filler, 45)))
        rows.append([0] * len(themes))
    return texts, np.array(rows), list(themes)
