import pytest

from riskcls.taxonomy import TaxonomyError, load_taxonomy

EXPECTED = ["export_controls", "sanctions", "trade_war", "subsidies", "state_backed_ai",
            "tech_rivalry", "critical_minerals", "investment_screening", "military_conflict",
            "cyber_operations", "energy_security", "political_instability"]


def test_shipped_taxonomy_has_the_twelve_tags_with_phrases():
    taxonomy = load_taxonomy()
    assert taxonomy.ids == EXPECTED
    for tag in taxonomy.tags:
        assert tag.definition and tag.includes and tag.excludes and tag.phrases
    assert "passing mention" in taxonomy.salience_rule


def test_custom_taxonomy_with_any_label_set(tmp_path):
    path = tmp_path / "tax.yaml"
    path.write_text("schema_version: 1\ntags:\n  - id: pets\n    name: Pets\n"
                    "    definition: Stories about pets.\n    phrases: [dog, cat]\n")
    taxonomy = load_taxonomy(path)
    assert taxonomy.ids == ["pets"]
    assert taxonomy["pets"].phrases == ("dog", "cat")


def test_every_problem_is_reported_with_its_line(tmp_path):
    path = tmp_path / "tax.yaml"
    path.write_text(
        "tags:\n"
        "  - id: alpha\n    name: A\n    definition: first\n"
        "  - id: alpha\n    name: A again\n    definition: duplicate\n"
        "  - id: Bad-Id\n    name: B\n    definition: bad id\n"
        "  - id: gamma\n    definition: no name\n    phrases: nope\n"
    )
    with pytest.raises(TaxonomyError) as caught:
        load_taxonomy(path)
    message = str(caught.value)
    assert f"{path}:5: duplicate tag id 'alpha' (first defined on line 2)" in message
    assert f"{path}:8: bad tag id 'Bad-Id'" in message
    assert f"{path}:11: tag is missing the text field 'name'" in message
    assert "'phrases' must be a list of strings" in message


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "tax.yaml"
    path.write_text("tags:\n  - id: a\n   name: [unclosed\n")
    with pytest.raises(TaxonomyError, match=r"tax.yaml:\d+: invalid YAML"):
        load_taxonomy(path)


def test_missing_file_and_empty_tags(tmp_path):
    with pytest.raises(TaxonomyError, match="not found"):
        load_taxonomy(tmp_path / "nope.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("tags: []\n")
    with pytest.raises(TaxonomyError, match="empty"):
        load_taxonomy(empty)


def test_suggest_and_digest():
    taxonomy = load_taxonomy()
    assert taxonomy.suggest("sanction") == "sanctions"
    assert taxonomy.suggest("export_control") == "export_controls"
    assert taxonomy.suggest("zzzz") is None
    assert len(taxonomy.digest()) == 64
    assert taxonomy.digest() == load_taxonomy().digest()
