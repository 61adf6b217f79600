"""Throughput and scaling of the default tagger: 1,000 / 10,000 / 100,000 news-length articles
through the Python API (`riskcls.tagging.iter_tagged`), `riskcls predict` and `riskcls batch`, the
last two also with `--jobs -1` (all cores).

Articles are built by sampling and shuffling sentences of the shipped corpus (labels/corpus/*.jsonl)
into paragraphs of 1-3 sentences, with a log-normal sentence count (median 18 sentences; measured
median 347 words, p10 156, p90 782), like wire and newspaper copy. Every measurement
runs in a fresh subprocess whose peak RSS is read from /proc (VmHWM) on Linux (else ru_maxrss of
the child): docs/s and MB/s are input documents and bytes over the subprocess's wall time (start-up
and model load included), and for the API also over the tagging loop alone. Linear cost means a
flat seconds-per-1,000-documents column; flat memory means peak RSS barely moves with size.

    python bench/throughput.py                    # 1k, 10k, 100k; median of 3 runs at each size
    python bench/throughput.py --sizes 1000,10000 --repeat 3
    python bench/throughput.py --profile          # pyinstrument profile of the API path
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, corpus_pieces, machine, run_measured, write_result  # noqa: E402

CORPUS = ROOT / "labels" / "corpus"
DEFAULT_MODEL = ROOT / "models" / "default"


def write_articles(path: Path, n: int, titles, sentences, seed: int = 0) -> dict:
    """N articles as JSONL; returns their size statistics."""
    rng = np.random.default_rng(seed)
    words = []
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            count = int(np.clip(round(rng.lognormal(np.log(18), 0.6)), 3, 120))
            picks = [sentences[j] for j in rng.integers(0, len(sentences), size=count)]
            rng.shuffle(picks)
            paragraphs, k = [], 0
            while k < len(picks):
                step = int(rng.integers(1, 4))
                paragraphs.append(" ".join(picks[k:k + step]))
                k += step
            text = "\n\n".join(paragraphs)
            words.append(len(text.split()))
            handle.write(json.dumps({"id": f"t{i}", "title": titles[int(rng.integers(len(titles)))],
                                     "text": text}, ensure_ascii=False) + "\n")
    return {"bytes": path.stat().st_size, "words_median": float(np.median(words)),
            "words_p10": float(np.percentile(words, 10)),
            "words_p90": float(np.percentile(words, 90))}


def get_model(work: Path) -> tuple[Path, str]:
    if (DEFAULT_MODEL / "manifest.json").is_file():
        return DEFAULT_MODEL, "models/default (riskcls train on the shipped corpus)"
    target = work / "model"
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--train-model", str(target)],
                   cwd=ROOT, check=True)
    return target, "RiskTagger() defaults trained on the shipped corpus by this benchmark"


def train_model(target: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from riskcls.train import train

    print("no models/default: training one with `riskcls train` defaults ...", flush=True)
    train([str(CORPUS)], model_dir=target)


def api_worker(path: Path, model_path: Path) -> None:
    """The Python API path, streaming: read JSONL lazily, iter_tagged, consume every row."""
    from riskcls.tagging import iter_tagged, load_model

    model = load_model(model_path)

    def records():
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)

    started = time.perf_counter()
    count = sum(1 for _ in iter_tagged(records(), model))
    print(json.dumps({"tagged": count, "tagging_s": time.perf_counter() - started}))


def measure(kind: str, path: Path, model: Path, work: Path, n: int) -> dict:
    if kind == "api":
        command = [sys.executable, str(Path(__file__).resolve()), "--api-worker", str(path),
                   str(model)]
    elif kind.startswith("predict"):
        command = [sys.executable, "-m", "riskcls", "predict", str(path), "--model", str(model),
                   "--format", "jsonl"]
    else:
        output = work / "batch-out"
        shutil.rmtree(output, ignore_errors=True)
        command = [sys.executable, "-m", "riskcls", "batch", "--input", str(path), "--output",
                   str(output), "--model", str(model), "--log-json"]
    if kind.endswith("-all-cores"):
        command += ["--jobs", "-1"]
    result = run_measured(command)
    if result["code"] not in (0, 3):
        raise RuntimeError(f"{kind} exited {result['code']}: {result['stderr'][-1500:]}")
    entry = {"wall_s": result["wall_s"], "peak_rss_mb": result["peak_rss_mb"]}
    if kind == "api":
        inner = json.loads(result["stdout_tail"].strip().splitlines()[-1])
        if inner["tagged"] != n:
            raise RuntimeError(f"api tagged {inner['tagged']} of {n}")
        entry["tagging_s"] = inner["tagging_s"]
    if kind.startswith("batch"):
        rows = sum(sum(1 for _ in open(p, "rb")) for p in (work / "batch-out").glob("tags-*.jsonl"))
        if rows != n:
            raise RuntimeError(f"batch wrote {rows} rows for {n} documents")
        shutil.rmtree(work / "batch-out", ignore_errors=True)
    return entry


def batch_available() -> str | None:
    """None when `riskcls batch` can run, else why not."""
    try:
        from riskcls import batch  # noqa: F401
        from riskcls.batch import run_batch  # noqa: F401
    except Exception as exc:  # being built concurrently: any import failure means "not yet"
        return f"riskcls.batch not importable ({type(exc).__name__}: {exc})"
    result = run_measured([sys.executable, "-m", "riskcls", "batch", "--help"])
    if result["code"] != 0:
        return f"`riskcls batch --help` exited {result['code']}"
    return None


def profile_api(path: Path, model_path: Path, out: Path) -> None:
    from pyinstrument import Profiler

    from riskcls.tagging import iter_tagged, load_model

    model = load_model(model_path)
    records = [json.loads(line) for line in open(path, encoding="utf-8")]
    profiler = Profiler(interval=0.001)
    profiler.start()
    sum(1 for _ in iter_tagged(records, model))
    profiler.stop()
    out.write_text(profiler.output_text(unicode=False, color=False, show_all=False),
                   encoding="utf-8")
    print(profiler.output_text(unicode=False, color=False)[:6000])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--repeat-largest", type=int, default=3,
                        help="runs at the largest size (each takes about half a minute per path)")
    parser.add_argument("--paths", default="api,predict,batch,predict-all-cores,batch-all-cores",
                        help="api, predict, batch; predict-all-cores and batch-all-cores add "
                             "--jobs -1")
    parser.add_argument("--quick", action="store_true", help="sizes 1000,10000, 3 runs")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--api-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--train-model", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.api_worker:
        api_worker(*args.api_worker)
        return 0
    if args.train_model:
        train_model(args.train_model)
        return 0
    sizes = [1000, 10000] if args.quick else [int(s) for s in args.sizes.split(",")]
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    work = Path(tempfile.mkdtemp(prefix="riskcls-throughput-"))
    try:
        titles, sentences = corpus_pieces()
        model, model_note = get_model(work)
        if args.profile:
            data = work / "profile.jsonl"
            write_articles(data, 3000, titles, sentences)
            out = ROOT / "bench" / "results" / "throughput_profile.txt"
            out.parent.mkdir(parents=True, exist_ok=True)
            profile_api(data, model, out)
            print(f"wrote {out.relative_to(ROOT)}")
            return 0
        skipped = {}
        if any(p.startswith("batch") for p in paths):
            why = batch_available()
            if why:
                print(f"SKIP riskcls batch: {why}", flush=True)
                skipped["batch"] = why
                paths = [p for p in paths if not p.startswith("batch")]
        results = []
        for n in sizes:
            data = work / f"articles-{n}.jsonl"
            stats = write_articles(data, n, titles, sentences)
            mb = stats["bytes"] / 1e6
            repeat = args.repeat_largest if n == max(sizes) and n >= 100_000 else args.repeat
            for kind in paths:
                runs = [measure(kind, data, model, work, n) for _ in range(repeat)]
                wall = statistics.median(r["wall_s"] for r in runs)
                entry = {"path": kind, "n_docs": n, "input_mb": round(mb, 2), "runs": repeat,
                         "wall_s": round(wall, 2), "docs_per_s": round(n / wall, 1),
                         "mb_per_s": round(mb / wall, 3),
                         "s_per_1000_docs": round(1000 * wall / n, 3),
                         "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
                         "wall_s_all": [round(r["wall_s"], 2) for r in runs], **{
                             k: v for k, v in stats.items() if k.startswith("words")}}
                if kind == "api":
                    tag_s = statistics.median(r["tagging_s"] for r in runs)
                    entry.update({"tagging_s": round(tag_s, 2),
                                  "docs_per_s_tagging": round(n / tag_s, 1),
                                  "mb_per_s_tagging": round(mb / tag_s, 3)})
                results.append(entry)
                print(f"{kind:>8} {n:>7,} docs ({mb:6.1f} MB): {entry['docs_per_s']:>7,.0f} docs/s"
                      f" {entry['mb_per_s']:.2f} MB/s wall, {entry['s_per_1000_docs']:.2f} s/1k, "
                      f"peak RSS {entry['peak_rss_mb']:.0f} MB" +
                      (f"; tagging loop {entry['docs_per_s_tagging']:,.0f} docs/s"
                       if kind == "api" else ""), flush=True)
            data.unlink()
        scaling = {}
        for kind in paths:
            rows = [r for r in results if r["path"] == kind]
            if len(rows) >= 2:
                scaling[kind] = {
                    "s_per_1000_docs_largest_over_middle": round(
                        rows[-1]["s_per_1000_docs"] / rows[-2]["s_per_1000_docs"], 3),
                    "peak_rss_largest_over_smallest": round(
                        rows[-1]["peak_rss_mb"] / rows[0]["peak_rss_mb"], 3)}
        report = {"benchmark": "riskcls tagging throughput and scaling", "date":
                  time.strftime("%Y-%m-%d"), "machine": machine(), "model": model_note,
                  "command": "python bench/throughput.py " + " ".join(
                      argv if argv is not None else sys.argv[1:]),
                  "results": results, "scaling": scaling, "skipped": skipped}
        path = write_result("throughput", report)
        print(f"wrote {path.relative_to(ROOT)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
