import json

import pytest

from riskcls.bundle import BundleError, load_bundle, read_manifest, save_bundle
from riskcls.taxonomy import Tag, Taxonomy


def small_taxonomy(ids):
    return Taxonomy(tags=tuple(Tag(id=i, name=i, definition=i) for i in ids))


@pytest.fixture
def bundle_dir(tmp_path, fitted_tagger):
    taxonomy = small_taxonomy(list(fitted_tagger.classes_))
    return save_bundle(fitted_tagger, tmp_path / "models" / "small", taxonomy=taxonomy,
                       data_fingerprint="abc123", n_docs=48,
                       cv_metrics={"labels": {}, "micro": {"f1": 0.9}, "macro": {"f1": 0.8}})


def test_round_trip_predicts_the_same(bundle_dir, fitted_tagger, corpus):
    texts, _, _ = corpus
    loaded = load_bundle(bundle_dir)
    assert (loaded.predict_proba(texts) == fitted_tagger.predict_proba(texts)).all()
    assert loaded.bundle_["fingerprint"] == read_manifest(bundle_dir)["sha256"][:16]


def test_manifest_records_versions_taxonomy_and_digest(bundle_dir, fitted_tagger):
    manifest = read_manifest(bundle_dir)
    for key in ("format_version", "riskcls_version", "sklearn_version", "python_version",
                "created_at", "sha256", "thresholds", "params", "training", "cv_metrics"):
        assert key in manifest
    assert manifest["taxonomy"]["ids"] == list(fitted_tagger.classes_)
    assert len(manifest["taxonomy"]["sha256"]) == 64
    assert manifest["training"]["data_fingerprint"] == "abc123"
    assert (bundle_dir / "MODEL_CARD.md").read_text().startswith("# Model card")


def test_a_changed_byte_is_refused_before_loading(bundle_dir):
    model_file = bundle_dir / "model.joblib"
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="does not match the digest.*Retrain"):
        load_bundle(bundle_dir)


def test_missing_manifest_missing_model_and_other_sklearn_are_refused(bundle_dir):
    manifest_path = bundle_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["sklearn_version"] = "0.0.1"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="scikit-learn 0.0.1.*Retrain"):
        load_bundle(bundle_dir)
    manifest_path.unlink()
    with pytest.raises(BundleError, match="manifest.json is missing"):
        load_bundle(bundle_dir)
    with pytest.raises(BundleError, match="no model at .*riskcls train"):
        load_bundle(bundle_dir.parent / "absent")


def test_resave_replaces_atomically_and_leaves_no_temp(bundle_dir, fitted_tagger):
    taxonomy = small_taxonomy(list(fitted_tagger.classes_))
    save_bundle(fitted_tagger, bundle_dir, taxonomy=taxonomy, data_fingerprint="new", n_docs=1)
    assert read_manifest(bundle_dir)["training"]["data_fingerprint"] == "new"
    leftovers = [p.name for p in bundle_dir.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    load_bundle(bundle_dir)
