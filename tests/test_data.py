import gzip
import json

import numpy as np
import pytest

from riskcls.data import (
    DataError,
    check,
    content_id,
    export,
    kfold_indices,
    label_matrix,
    load_labelled,
    train_test_split,
)
from tests.conftest import write_jsonl


def test_jsonl_loads_into_a_dataset_with_classlabel_labels(labelled_file, taxonomy):
    dataset = load_labelled([labelled_file], taxonomy)
    assert len(dataset) == 48
    assert dataset.features["labels"].feature.names == taxonomy.ids
    assert dataset[0]["title"] == "Report military_conflict 0"
    assert dataset[0]["style"] == "wire"
    assert dataset[0]["origin"].endswith("train.jsonl:1")
    matrix = label_matrix(dataset, taxonomy.ids)
    assert matrix[:, taxonomy.ids.index("trade_war")].sum() == 12


def test_csv_parquet_folder_and_gzip(tmp_path, taxonomy):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.csv").write_text('id,text,labels\nc1,"Tariffs rose, again.",trade_war;sanctions\n'
                                  "c2,Quiet day,\n", encoding="utf-8")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([{"id": "p1", "text": "Coup in the capital",
                                          "labels": ["political_instability"]}]),
                   folder / "b.parquet")
    with gzip.open(folder / "c.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"text": "Warships gathered", "labels": ["military_conflict"]}))
    dataset = load_labelled([folder], taxonomy)
    by_id = {row["id"]: row for row in dataset}
    names = taxonomy.ids
    assert sorted(names[i] for i in by_id["c1"]["labels"]) == ["sanctions", "trade_war"]
    assert by_id["c2"]["labels"] == []
    assert [names[i] for i in by_id["p1"]["labels"]] == ["political_instability"]
    assert content_id("Warships gathered") in by_id


def test_every_kind_of_problem_is_reported_in_one_pass(tmp_path, taxonomy):
    bad = tmp_path / "bad.jsonl"
    lines = [
        json.dumps({"id": "a", "text": "fine text", "labels": ["sanctions"]}),
        json.dumps({"id": "b", "text": "other", "labels": ["sanction"]}),
        json.dumps({"id": "c", "text": "   ", "labels": []}),
        json.dumps({"id": "a", "text": "dup id", "labels": []}),
        json.dumps({"id": "e", "text": "FINE   text", "labels": ["trade_war"]}),
        '{"id": "f", "text": broken',
    ]
    bad.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "g", "text": "caf\xe9"}\n')
    report = check([bad], taxonomy)
    messages = [str(p) for p in report.problems]
    assert any(m.startswith(f"{bad}:2: unknown tag 'sanction'; did you mean 'sanctions'") for m in messages)
    assert any(m.startswith(f"{bad}:3: empty or missing 'text'") for m in messages)
    assert any(m.startswith(f"{bad}:4: duplicate id 'a'") for m in messages)
    assert any(m.startswith(f"{bad}:5: same text as {bad}:1 but different labels") for m in messages)
    assert any(m.startswith(f"{bad}:6: malformed JSON") for m in messages)
    assert any(m.startswith(f"{bad}:7: undecodable bytes") for m in messages)
    assert len(messages) == 6
    with pytest.raises(DataError) as caught:
        load_labelled([bad], taxonomy)
    assert len(caught.value.problems) == 6


def test_check_statistics_on_clean_data(labelled_file, taxonomy):
    report = check([labelled_file], taxonomy)
    assert report.ok
    assert report.n_records == 48
    assert report.untagged == 12
    assert report.tag_counts["sanctions"] == 12
    assert report.length_words["median"] > 10


def test_missing_path_is_a_problem(tmp_path, taxonomy):
    report = check([tmp_path / "nothing.jsonl"], taxonomy)
    assert "no such file" in str(report.problems[0])


def test_kfold_is_stratified_and_deterministic(corpus):
    _, Y, _ = corpus
    first = kfold_indices(Y, n_splits=4, seed=3)
    second = kfold_indices(Y, n_splits=4, seed=3)
    assert all((a[1] == b[1]).all() for a, b in zip(first, second))
    covered = np.sort(np.concatenate([test for _, test in first]))
    assert (covered == np.arange(len(Y))).all()
    for _, test in first:
        assert (Y[test].sum(axis=0) == 3).all()


def test_train_test_split_and_export_round_trip(labelled_file, taxonomy, tmp_path):
    dataset = load_labelled([labelled_file], taxonomy)
    train, test = train_test_split(dataset, test_size=0.25, seed=1)
    assert len(train) + len(test) == len(dataset)
    assert not set(train["id"]) & set(test["id"])
    for suffix in (".jsonl", ".parquet"):
        out = export(dataset, tmp_path / f"out{suffix}")
        again = load_labelled([out], taxonomy)
        assert again["id"] == dataset["id"]
        assert again["labels"] == dataset["labels"]


def test_hugging_face_loading_on_local_data(tmp_path, taxonomy):
    folder = tmp_path / "hfdata"
    folder.mkdir()
    write_jsonl(folder / "train.jsonl", [{"id": "h1", "text": "Export ban on chips",
                                          "labels": ["export_controls"]}])
    dataset = load_labelled([f"hf:{folder}"], taxonomy)
    assert dataset["id"] == ["h1"]
    assert dataset.features["labels"].feature.names[dataset[0]["labels"][0]] == "export_controls"
