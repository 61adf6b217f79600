import pytest

from riskcls.bundle import read_manifest
from riskcls.data import load_labelled
from riskcls.train import data_fingerprint, staleness, train

FAST = {"cv": 2, "C_grid": (0.5,)}


def test_train_saves_a_bundle_with_cv_metrics_and_skips_when_current(labelled_file, tmp_path,
                                                                     taxonomy):
    model_dir = tmp_path / "m"
    result = train([labelled_file], model_dir=model_dir, params=FAST, n_jobs=1)
    assert not result.skipped and result.n_docs == 48
    assert result.cv_metrics["micro"]["f1"] > 0.8
    manifest = read_manifest(model_dir)
    dataset = load_labelled([labelled_file], taxonomy)
    assert manifest["training"]["data_fingerprint"] == data_fingerprint(dataset)
    assert manifest["cv_metrics"]["labels"]["sanctions"]["support"] == 12
    again = train([labelled_file], model_dir=model_dir, params=FAST, if_stale=True)
    assert again.skipped


def test_staleness_follows_data_and_taxonomy(labelled_file, tmp_path, taxonomy):
    model_dir = tmp_path / "m"
    dataset = load_labelled([labelled_file], taxonomy)
    assert staleness(model_dir, dataset, taxonomy) == "no usable model yet"
    train([labelled_file], model_dir=model_dir, params=FAST, n_jobs=1)
    assert staleness(model_dir, dataset, taxonomy) is None
    changed = labelled_file.read_text().replace("football", "rugby", 1)
    labelled_file.write_text(changed)
    assert staleness(model_dir, load_labelled([labelled_file], taxonomy), taxonomy) == \
        "the training data changed"
    other = tmp_path / "tax.yaml"
    other.write_text(taxonomy_path_text(taxonomy) + "\n")
    from riskcls.taxonomy import load_taxonomy

    assert staleness(model_dir, dataset, load_taxonomy(other)) == "the taxonomy changed"


def test_a_bundle_of_an_older_format_is_stale(labelled_file, tmp_path, taxonomy):
    import json

    model_dir = tmp_path / "m"
    dataset = load_labelled([labelled_file], taxonomy)
    train([labelled_file], model_dir=model_dir, params=FAST, n_jobs=1)
    manifest_path = model_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 1
    manifest_path.write_text(json.dumps(manifest))
    assert staleness(model_dir, dataset, taxonomy) == "the model format changed"


def taxonomy_path_text(taxonomy):
    import yaml

    document = taxonomy.to_dict()
    document["tags"][0]["definition"] += " Edited."
    return yaml.safe_dump(document)


def test_bad_data_fails_before_training(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "labels": ["nope"]}\n')
    from riskcls.data import DataError

    with pytest.raises(DataError, match="unknown tag 'nope'"):
        train([bad], model_dir=tmp_path / "m")


def test_out_of_fold_metrics_judge_rare_tags_by_a_shared_cut_from_other_folds(rare_tag_corpus):
    from riskcls.model import RiskTagger
    from riskcls.train import out_of_fold_metrics

    texts, Y, tags = rare_tag_corpus
    tagger = RiskTagger(labels=tags, cv=3, C_grid=(0.5,), min_positives=5).fit(texts, Y)
    result = out_of_fold_metrics(tagger, Y)
    rare = ("rye", "palladium", "naphtha", "propane")
    assert all(result["labels"][t]["support"] == 3 for t in rare)
    assert all(result["labels"][t]["recall"] >= 2 / 3 for t in rare)
    assert result["labels"]["tariffs"]["f1"] > 0.9
