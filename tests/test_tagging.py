import os

import numpy as np
import pytest

from riskcls.bundle import save_bundle
from riskcls.inputs import Document
from riskcls.tagging import TaggingPool, iter_tagged, keyword_rows, load_model, resolve_jobs, tag
from riskcls.taxonomy import Tag, Taxonomy


@pytest.fixture
def model_dir(tmp_path, fitted_tagger):
    ids = list(fitted_tagger.classes_)
    taxonomy = Taxonomy(tags=tuple(Tag(id=i, name=i, definition=i) for i in ids))
    return save_bundle(fitted_tagger, tmp_path / "m", taxonomy=taxonomy, data_fingerprint="x",
                       n_docs=1)


def test_tag_rows_have_the_documented_shape(model_dir):
    model = load_model(model_dir)
    rows = tag(["Missile strikes and shelling hit the town as troops advanced.",
                {"id": "x1", "title": "Tariff fight", "text": "Washington raised tariffs."},
                Document(id="d", text="The museum opened an exhibition.", source="f.txt")],
               model, explain=True)
    assert [r["id"] for r in rows][1:] == ["x1", "d"]
    assert rows[0]["tags"] == ["military_conflict"]
    assert rows[1]["tags"] == ["trade_war"]
    assert rows[2]["tags"] == [] and rows[2]["source"] == "f.txt"
    assert set(rows[0]["scores"]) == {"military_conflict", "trade_war", "sanctions"}
    assert rows[0]["evidence"]["military_conflict"]
    assert set(rows[2]["evidence"]) == set()


def test_load_model_is_cached_and_threshold_override(model_dir):
    assert load_model(model_dir) is load_model(model_dir)
    [row] = tag("The museum opened an exhibition.", load_model(model_dir), threshold=0.0)
    assert len(row["tags"]) == 3


def test_streaming_in_chunks_keeps_order(model_dir):
    docs = [{"id": f"d{i}", "text": "Troops shelled the town as missiles hit."} for i in range(25)]
    rows = list(iter_tagged(iter(docs), load_model(model_dir), chunk_size=4))
    assert [r["id"] for r in rows] == [f"d{i}" for i in range(25)]
    assert all(r["tags"] == ["military_conflict"] for r in rows)


def test_keyword_rows_use_the_taxonomy_phrases():
    taxonomy = Taxonomy(tags=(Tag(id="trade_war", name="t", definition="t",
                                  phrases=("tariffs",)),))
    [row] = list(keyword_rows(["New tariffs announced."], taxonomy))
    assert row["tags"] == ["trade_war"] and row["evidence"] == {"trade_war": ["tariffs"]}


def test_tagging_in_worker_processes_gives_the_same_rows(fitted_tagger):
    texts = [f"Troops shelled the border town for the {i}th day; tariffs on steel rose." for i in
             range(40)] + ["", "The museum reopened."]
    alone = tag(texts, fitted_tagger, explain=True)
    assert tag(texts, fitted_tagger, explain=True, jobs=2) == alone
    with TaggingPool(fitted_tagger, jobs=2) as pool:
        assert np.allclose(pool.predict_proba(texts), fitted_tagger.predict_proba(texts))


def test_resolve_jobs_counts_back_from_all_cores():
    cores = os.cpu_count() or 1
    assert resolve_jobs(3) == 3 and resolve_jobs(-1) == cores
    assert resolve_jobs(-cores - 5) == 1
