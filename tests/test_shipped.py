"""End to end on what ships: the corpus trains a model that tags the samples and the shared seed
page sensibly. Slow: trains on the whole corpus."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskcls.cli import app
from riskcls.paths import PROJECT_ROOT, SAMPLES_DIR

SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"
runner = CliRunner()
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shipped_model(tmp_path_factory) -> Path:
    model = tmp_path_factory.mktemp("shipped") / "default"
    result = runner.invoke(app, ["train", "--model", str(model)])
    assert result.exit_code == 0, result.output
    return model


def predict(model: Path, *inputs) -> list[dict]:
    result = runner.invoke(app, ["predict", *map(str, inputs), "--model", str(model),
                                 "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_samples_are_tagged_by_theme(shipped_model):
    rows = {row["id"]: row for row in predict(shipped_model, SAMPLES_DIR)}
    assert "export_controls" in rows["01_chip_tools.txt"]["tags"]
    assert "energy_security" in rows["02_gas_storage.html"]["tags"]
    assert rows["03_scraped_page.txt#1"]["tags"][0] == "political_instability"
    assert rows["03_scraped_page.txt#2"]["tags"] == []
    assert "export_controls" in rows["03_scraped_page.txt#3"]["tags"]
    assert rows["rec-2"]["tags"] == []
    assert "cyber_operations" in rows["rec-3"]["tags"]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside the project")
def test_seed_page_is_split_and_the_culture_story_gets_no_trade_war(shipped_model):
    [page] = sorted(SEEDS.glob("*.txt"))
    rows = predict(shipped_model, page)
    assert len(rows) == 4
    for row in rows:
        for furniture in ("Related Articles", "Try Our AI Features", "No comments yet"):
            assert furniture not in row["title"]
    culture = next(row for row in rows if "fortune" in row["title"].lower())
    assert "trade_war" not in culture["tags"]
