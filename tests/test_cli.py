import json

import pytest
from typer.testing import CliRunner

from riskcls.cli import app
from tests.test_pages import AGGREGATOR

runner = CliRunner()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, corpus):
    """A model trained through the CLI on a small labelled file."""
    from tests.conftest import write_jsonl

    folder = tmp_path_factory.mktemp("cli")
    texts, Y, tags = corpus
    records = [{"id": f"d{i}", "title": t.split("\n\n")[0], "text": t.split("\n\n")[1],
                "labels": [tag for tag, v in zip(tags, row) if v], "style": "wire"}
               for i, (t, row) in enumerate(zip(texts, Y))]
    data = write_jsonl(folder / "train.jsonl", records)
    model = folder / "model"
    result = runner.invoke(app, ["train", "--data", str(data), "--model", str(model)])
    assert result.exit_code == 0, result.output
    assert "cross-validated" in result.output and f"model saved to {model}" in result.output
    return data, model


def test_labels_prints_twelve_tags_and_json():
    result = runner.invoke(app, ["labels", "--json"])
    assert result.exit_code == 0
    assert len(json.loads(result.output)["tags"]) == 12
    table = runner.invoke(app, ["labels"])
    assert table.exit_code == 0 and "political_instability" in table.output


def test_labels_with_a_broken_taxonomy_is_a_clear_error(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("tags: [{id: x}]\n")
    result = runner.invoke(app, ["labels", "--taxonomy", str(bad)])
    assert result.exit_code == 1
    assert "error:" in result.output and "missing the text field 'name'" in result.output
    assert "Traceback" not in result.output


def test_data_check_clean_and_broken(trained, tmp_path):
    data, _ = trained
    clean = runner.invoke(app, ["data", "check", str(data)])
    assert clean.exit_code == 0
    assert "48 valid records; 12 with no tag" in clean.output and "no problems" in clean.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "labels": ["sanction"]}\n{"text": ""}\n{oops\n')
    broken = runner.invoke(app, ["data", "check", str(bad)])
    assert broken.exit_code == 1
    assert f"{bad}:1: unknown tag 'sanction'; did you mean 'sanctions'?" in broken.output
    assert f"{bad}:2: empty or missing 'text'" in broken.output
    assert f"{bad}:3: malformed JSON" in broken.output


def test_data_export(trained, tmp_path):
    data, _ = trained
    result = runner.invoke(app, ["data", "export", str(data), "-o", str(tmp_path / "x.parquet")])
    assert result.exit_code == 0 and (tmp_path / "x.parquet").exists()


def test_predict_formats_split_pages_and_explain(trained, tmp_path):
    _, model = trained
    page = tmp_path / "page.txt"
    page.write_text(AGGREGATOR)
    article = tmp_path / "war.txt"
    article.write_text("Front line\n\nMissile strikes and shelling as troops advanced on the town.")
    result = runner.invoke(app, ["predict", str(page), str(article), "--model", str(model),
                                 "--format", "jsonl", "--explain"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in rows] == ["page.txt#1", "page.txt#2", "page.txt#3", "war.txt"]
    assert rows[3]["tags"] == ["military_conflict"] and rows[3]["evidence"]["military_conflict"]
    in_workers = runner.invoke(app, ["predict", str(page), str(article), "--model", str(model),
                                     "--format", "jsonl", "--explain", "--jobs", "2"])
    assert in_workers.exit_code == 0, in_workers.output
    assert [json.loads(line) for line in in_workers.output.splitlines()] == rows
    csv_out = runner.invoke(app, ["predict", str(article), "--model", str(model), "--format", "csv"])
    assert csv_out.output.splitlines()[0].startswith("id,title,source,tags,")
    table = runner.invoke(app, ["predict", str(article), "--model", str(model), "--format",
                                "table"])
    assert "military_conflict" in table.output
    whole = runner.invoke(app, ["predict", str(page), "--model", str(model), "--no-split"])
    assert len(whole.output.splitlines()) == 1


def test_predict_stdin_threshold_and_keyword_baseline(trained):
    _, model = trained
    result = runner.invoke(app, ["predict", "-", "--model", str(model), "--threshold", "0"],
                           input="Some text about a museum.")
    row = json.loads(result.output)
    assert row["id"] == "stdin" and len(row["tags"]) == 12
    keyword = runner.invoke(app, ["predict", "-", "--keyword-baseline"],
                            input="New tariffs and retaliatory duties were announced.")
    assert json.loads(keyword.output)["tags"] == ["trade_war"]


def test_predict_bad_inputs_still_tags_the_rest(trained, tmp_path):
    _, model = trained
    good = tmp_path / "good.txt"
    good.write_text("Troops shelled the town overnight, officials said.")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\x00\xff\x00")
    result = runner.invoke(app, ["predict", str(empty), str(good), str(binary), "--model",
                                 str(model)])
    assert result.exit_code == 3
    assert f"error: {empty}: empty" in result.output
    assert f"error: {binary}: binary" in result.output
    assert '"id": "good.txt"' in result.output


def test_predict_missing_and_tampered_model(trained, tmp_path):
    result = runner.invoke(app, ["predict", "-", "--model", str(tmp_path / "none")], input="x")
    assert result.exit_code == 1 and "riskcls train" in result.output
    _, model = trained
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(model, copy)
    blob = bytearray((copy / "model.joblib").read_bytes())
    blob[100] ^= 1
    (copy / "model.joblib").write_bytes(bytes(blob))
    tampered = runner.invoke(app, ["predict", "-", "--model", str(copy)], input="x")
    assert tampered.exit_code == 1
    assert "does not match the digest" in tampered.output and "Traceback" not in tampered.output


def test_evaluate_json_report_and_training_data_note(trained, tmp_path):
    data, model = trained
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["evaluate", "--data", str(data), "--model", str(model), "--json",
                                 str(out), "--report", str(tmp_path / "rep"), "--slice-by",
                                 "style"])
    assert result.exit_code == 0, result.output
    assert "training data" in result.output
    figures = json.loads(out.read_text())
    assert figures["n_docs"] == 48 and figures["model"]["path"] == str(model)
    assert "keyword" in figures["baselines"]
    assert (tmp_path / "rep" / "report.md").exists()
    bad_slice = runner.invoke(app, ["evaluate", "--data", str(data), "--model", str(model),
                                    "--slice-by", "nope"])
    assert bad_slice.exit_code == 1 and "no field 'nope'" in bad_slice.output


def test_cv_prints_mean_and_std(trained, tmp_path):
    data, _ = trained
    tax = tmp_path / "tax.yaml"
    tax.write_text("tags:\n" + "".join(
        f"  - {{id: {t}, name: {t}, definition: {t}}}\n"
        for t in ("military_conflict", "trade_war", "sanctions")))
    result = runner.invoke(app, ["cv", "--data", str(data), "--folds", "3", "--taxonomy", str(tax)])
    assert result.exit_code == 0, result.output
    assert "±" in result.output and "trade_war" in result.output
