"""Where the shipped taxonomy, corpus, samples and default model live."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LABELS_DIR = PROJECT_ROOT / "labels"
DEFAULT_TAXONOMY = LABELS_DIR / "taxonomy.yaml"
DEFAULT_CORPUS = LABELS_DIR / "corpus"
SAMPLES_DIR = LABELS_DIR / "samples"
DEFAULT_MODEL = Path("models") / "default"
