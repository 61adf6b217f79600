"""Model bundles: a fitted RiskTagger saved with joblib under models/<name>/ beside a manifest and a
model card. A joblib file is code — it runs when loaded — so loading checks the manifest's SHA-256
digest before unpickling and refuses anything changed, incomplete or made by another scikit-learn."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import joblib
import sklearn

from riskcls import __version__
from riskcls.errors import RiskclsError
from riskcls.taxonomy import Taxonomy

FORMAT_VERSION = 4
MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
CARD_FILE = "MODEL_CARD.md"


class BundleError(RiskclsError):
    """A model bundle that is missing, changed, incomplete or incompatible."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_bundle(tagger, directory: str | Path, *, taxonomy: Taxonomy, data_fingerprint: str,
                n_docs: int, cv_metrics: dict | None = None, training: dict | None = None) -> Path:
    """Write the bundle atomically: built complete in a temporary sibling folder, then swapped in,
    so a crash leaves either the old bundle or the new one, never half of one."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    try:
        model_path = staging / MODEL_FILE
        joblib.dump(tagger, model_path, compress=3)
        manifest = {
            "format_version": FORMAT_VERSION,
            "riskcls_version": __version__,
            "sklearn_version": sklearn.__version__,
            "python_version": platform.python_version(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "model_file": MODEL_FILE,
            "sha256": sha256_of(model_path),
            "taxonomy": {"ids": taxonomy.ids, "sha256": taxonomy.digest(), "path": taxonomy.path},
            "thresholds": dict(zip(tagger.classes_.tolist(),
                                   [round(float(t), 4) for t in tagger.thresholds_])),
            "chosen_C": dict(zip(tagger.classes_.tolist(), [float(c) for c in tagger.C_])),
            "params": _jsonable(tagger.get_params()),
            "training": {"data_fingerprint": data_fingerprint, "n_docs": n_docs,
                         **(training or {})},
            "cv_metrics": cv_metrics or {},
        }
        (staging / CARD_FILE).write_text(model_card(manifest, taxonomy), encoding="utf-8")
        _write_json(staging / MANIFEST_FILE, manifest)
        for path in staging.iterdir():
            _fsync(path)
        _swap_in(staging, directory)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return directory


def _swap_in(staging: Path, directory: Path) -> None:
    retired = None
    if directory.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=directory.parent))
        retired.rmdir()
        os.rename(directory, retired)
    os.rename(staging, directory)
    _fsync(directory.parent)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def read_manifest(directory: str | Path) -> dict:
    """The bundle's manifest, or a BundleError saying what to do."""
    directory = Path(directory)
    if not directory.is_dir():
        interrupted = sorted(directory.parent.glob(f".{directory.name}.old-*"))
        hint = (f" An interrupted save left {interrupted[0]}; retrain, or rename it back."
                if interrupted else "")
        raise BundleError(f"no model at {directory}. Train one with `riskcls train --model "
                          f"{directory}` (or `make run` for the default).{hint}")
    path = directory / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{path} is missing, so {directory} cannot be verified and will not be "
                          "loaded. Retrain with `riskcls train`.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path} is not valid JSON ({exc}); the bundle is damaged. "
                          "Retrain with `riskcls train`.") from None
    if not isinstance(manifest, dict) or "sha256" not in manifest:
        raise BundleError(f"{path} has no model digest; retrain with `riskcls train`.")
    return manifest


def load_bundle(directory: str | Path):
    """Load a bundle's tagger after checking format, scikit-learn version and file digest."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"{directory} has bundle format {manifest.get('format_version')}, this "
                          f"riskcls reads format {FORMAT_VERSION}. Retrain with `riskcls train`.")
    if manifest.get("sklearn_version") != sklearn.__version__:
        raise BundleError(f"{directory} was made with scikit-learn {manifest.get('sklearn_version')}"
                          f" but {sklearn.__version__} is installed; models do not carry across "
                          "versions. Retrain with `riskcls train`.")
    model_path = directory / manifest.get("model_file", MODEL_FILE)
    if not model_path.is_file():
        raise BundleError(f"{model_path} is missing; retrain with `riskcls train`.")
    actual = sha256_of(model_path)
    if actual != manifest["sha256"]:
        raise BundleError(f"{model_path} does not match the digest in its manifest (changed or "
                          "corrupted after saving). It was not loaded, since a model file runs code "
                          "when loaded. Retrain with `riskcls train`, and load only models you made.")
    try:
        tagger = joblib.load(model_path)
    except Exception as exc:  # unpickling can fail in many ways; all mean "cannot use this file"
        raise BundleError(f"{model_path} could not be loaded ({exc}); retrain with "
                          "`riskcls train`.") from None
    tagger.bundle_ = {"path": str(directory), "fingerprint": actual[:16], "manifest": manifest}
    return tagger


def model_card(manifest: dict, taxonomy: Taxonomy) -> str:
    """A short human-readable card: data, per-tag CV metrics, intended use and limits."""
    lines = [
        f"# Model card — riskcls {manifest['riskcls_version']}",
        "",
        f"Created {manifest['created_at']} with scikit-learn {manifest['sklearn_version']} on "
        f"Python {manifest['python_version']}.",
        "",
        "## Training data",
        f"- {manifest['training']['n_docs']} labelled articles; fingerprint "
        f"`{manifest['training']['data_fingerprint'][:16]}`",
        f"- Sources: {', '.join(manifest['training'].get('sources', [])) or 'n/a'}",
        f"- Taxonomy: {len(taxonomy)} tags, sha256 `{taxonomy.digest()[:16]}`",
        "",
        "## Cross-validated metrics",
        "",
        "Out-of-fold scores from the training run's own folds; each fold is judged with thresholds",
        "tuned on the other folds. C and the calibration were chosen on the same folds, so these are",
        "slightly optimistic; `riskcls cv` repeats the whole procedure inside each fold.",
    ]
    per_tag = manifest.get("cv_metrics", {}).get("labels", {})
    if per_tag:
        lines += ["", "| tag | precision | recall | F1 | support | threshold |",
                  "|---|---|---|---|---|---|"]
        for tag in taxonomy.ids:
            m = per_tag.get(tag, {})
            lines.append(f"| {tag} | {m.get('precision', 0):.3f} | {m.get('recall', 0):.3f} | "
                         f"{m.get('f1', 0):.3f} | {m.get('support', 0)} | "
                         f"{manifest['thresholds'].get(tag, 0.5):.3f} |")
        macro = manifest["cv_metrics"].get("macro", {})
        micro = manifest["cv_metrics"].get("micro", {})
        lines += ["", f"Micro F1 {micro.get('f1', 0):.3f}, macro F1 {macro.get('f1', 0):.3f}."]
    else:
        lines += ["", "Not measured (trained with --no-cv)."]
    lines += [
        "",
        "## Intended use",
        "Flagging news articles for analysts who screen for geopolitical-risk themes. Scores are",
        "calibrated probabilities; each tag has its own threshold tuned on out-of-fold F1.",
        "",
        "## Limits",
        "- Trained on articles written for this project; figures on real news are lower than the",
        "  cross-validated figures above, which are measured on the same kind of writing.",
        "- English only. Themes outside the taxonomy are not detected.",
        "- A model file is code: load only bundles you made yourself.",
        "",
    ]
    return "\n".join(lines)
