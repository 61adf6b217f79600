"""Benchmark `riskcls batch`: throughput and peak memory on 10,000 and 100,000 synthetic documents.

Builds JSONL files of N synthetic articles by sampling sentences from labels/corpus/*.jsonl, gets a
model (--model, else models/default if present, else a quick RiskTagger trained on the corpus),
runs `python -m riskcls batch` on each file in a fresh subprocess, and reports documents per second
and that subprocess's peak RSS: its VmHWM high-water mark polled from /proc on Linux (the rusage of
a child would also count this process's memory, which Linux carries across fork and exec), else
wait4's ru_maxrss. Flat memory means the peak RSS barely moves between sizes. A second run over the
same input measures the incremental path (all already done, nothing tagged). Results are written to
bench/results/batch_memory.json.

    python bench/batch_memory.py                      # 10,000 and 100,000 documents
    python bench/batch_memory.py --sizes 2000,20000   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, corpus_pieces, run_measured  # noqa: E402

CORPUS = ROOT / "labels" / "corpus"
DEFAULT_MODEL = ROOT / "models" / "default"
RESULTS = ROOT / "bench" / "results" / "batch_memory.json"


def write_documents(path: Path, n: int, titles: list[str], sentences: list[str],
                    seed: int = 0) -> None:
    """N synthetic articles (4-10 sampled sentences each), streamed to a JSONL file."""
    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            picks = rng.integers(0, len(sentences), size=int(rng.integers(4, 11)))
            text = " ".join(sentences[j] for j in picks)
            title = titles[int(rng.integers(0, len(titles)))]
            handle.write(json.dumps({"id": f"b{seed}-{i}", "title": title, "text": text},
                                    ensure_ascii=False) + "\n")


QUICK_MODEL_NOTE = "quick RiskTagger (C=0.25) trained on the corpus"


def get_model(requested: Path | None, work: Path) -> tuple[Path, str]:
    """The model to benchmark; a quick one is trained in a subprocess, so this process stays small
    (see the module docstring on why that matters for the peak RSS figures)."""
    if requested is not None:
        return requested, "given"
    if (DEFAULT_MODEL / "manifest.json").is_file():
        return DEFAULT_MODEL, "models/default"
    target = work / "model"
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--train-quick-model",
                    str(target)], cwd=ROOT, check=True)
    return target, QUICK_MODEL_NOTE


def train_quick_model(target: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from riskcls.bundle import save_bundle
    from riskcls.data import documents, label_matrix, load_labelled
    from riskcls.model import RiskTagger
    from riskcls.taxonomy import load_taxonomy

    print("no models/default: training a quick RiskTagger on the corpus (fixed C) ...",
          flush=True)
    taxonomy = load_taxonomy()
    dataset = load_labelled([str(CORPUS)], taxonomy)
    started = time.perf_counter()
    tagger = RiskTagger(labels=taxonomy.ids, C=0.25, n_jobs=-1)
    tagger.fit(documents(dataset), label_matrix(dataset, taxonomy.ids))
    print(f"  trained on {len(dataset)} documents in {time.perf_counter() - started:.0f}s",
          flush=True)
    save_bundle(tagger, target, taxonomy=taxonomy, data_fingerprint="bench", n_docs=len(dataset))


def run_batch_process(input_path: Path, output: Path, model: Path, chunk_size: int) -> dict:
    """One `riskcls batch` subprocess: wall time, peak RSS, and its finish log event."""
    command = [sys.executable, "-m", "riskcls", "batch", "--input", str(input_path), "--output",
               str(output), "--model", str(model), "--chunk-size", str(chunk_size), "--log-json"]
    result = run_measured(command)
    log = result["stderr"]
    if result["code"] not in (0, 3):
        raise SystemExit(f"riskcls batch failed with exit code {result['code']}:\n{log[-3000:]}")
    finish = next(json.loads(line) for line in reversed(log.splitlines())
                  if line.startswith("{") and '"event": "finish"' in line)
    return {"exit_code": result["code"], "wall_s": round(result["wall_s"], 2),
            "peak_rss_mb": round(result["peak_rss_mb"], 1), "finish": finish}


def count_rows(output: Path) -> int:
    total = 0
    for path in output.glob("tags-*.jsonl"):
        with open(path, "rb") as handle:
            total += sum(1 for _ in handle)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000",
                        help="comma-separated document counts (default: 10000,100000)")
    parser.add_argument("--model", type=Path, help="model bundle to use")
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument("--no-rerun", action="store_true",
                        help="skip the second (nothing new) run per size")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--train-quick-model", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train_quick_model:
        train_quick_model(args.train_quick_model)
        return
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]

    work = args.work or Path(tempfile.mkdtemp(prefix="riskcls-batch-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        titles, sentences = corpus_pieces(CORPUS, min_words=5)
        model, model_note = get_model(args.model, work)
        results = []
        for n in sizes:
            input_path = work / f"docs-{n}.jsonl"
            write_documents(input_path, n, titles, sentences)
            output = work / f"out-{n}"
            shutil.rmtree(output, ignore_errors=True)
            print(f"{n:>9,} documents ({input_path.stat().st_size / 2**20:.1f} MiB): ",
                  end="", flush=True)
            first = run_batch_process(input_path, output, model, args.chunk_size)
            rows = count_rows(output)
            entry = {
                "n_docs": n,
                "input_mib": round(input_path.stat().st_size / 2**20, 1),
                "tagged": first["finish"]["tagged"],
                "rows_written": rows,
                "docs_per_s": first["finish"]["docs_per_s"],
                "docs_per_s_wall": round(n / first["wall_s"], 1),
                "wall_s": first["wall_s"],
                "peak_rss_mb": first["peak_rss_mb"],
                "tags_files": len(list(output.glob("tags-*.jsonl"))),
            }
            print(f"{entry['docs_per_s']:,.0f} docs/s tagging ({entry['docs_per_s_wall']:,.0f} "
                  f"wall), peak RSS {entry['peak_rss_mb']:.0f} MB, {rows:,} rows", flush=True)
            if rows != n:
                raise SystemExit(f"expected {n} rows, found {rows}")
            if not args.no_rerun:
                again = run_batch_process(input_path, output, model, args.chunk_size)
                entry["rerun"] = {"tagged": again["finish"]["tagged"],
                                  "skipped": again["finish"]["skipped"],
                                  "wall_s": again["wall_s"],
                                  "docs_per_s_wall": round(n / again["wall_s"], 1),
                                  "peak_rss_mb": again["peak_rss_mb"]}
                print(f"{'':>9}   re-run (nothing new): {again['wall_s']:.1f}s, "
                      f"{again['finish']['skipped']:,} skipped, peak RSS "
                      f"{again['peak_rss_mb']:.0f} MB", flush=True)
            results.append(entry)
            input_path.unlink()
            shutil.rmtree(output, ignore_errors=True)
        peaks = [r["peak_rss_mb"] for r in results]
        report = {
            "benchmark": "riskcls batch: throughput and peak RSS against document count",
            "model": model_note,
            "chunk_size": args.chunk_size,
            "python": platform.python_version(),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
            "peak_rss_from": "/proc VmHWM" if sys.platform.startswith("linux") else "ru_maxrss",
            "results": results,
            "peak_rss_ratio_largest_to_smallest": round(peaks[-1] / peaks[0], 3) if peaks else None,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_name(args.out.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, args.out)
        print(f"wrote {args.out}")
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
