"""Run every benchmark (`make bench`; `make bench-quick` passes --quick) and rewrite
docs/benchmarks.md from bench/results/*.json.

Each benchmark runs in its own subprocess (so its peak RSS is its own) and writes
bench/results/<name>.json; a benchmark whose data is absent (Reuters-21578 outside a checkout with
../shared/data/reuters21578) prints SKIP and the table says so. --report-only rewrites the Markdown
from the existing JSON without running anything.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, machine  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
NOTES = """\
- The machine is shared and has 2 cores: absolute times and docs/s are noisy. The riskcls/fastText
  ratios are measured in the same process a few seconds apart, on the same documents; fastText's
  raw rate itself moved between about 14,000 and 18,600 docs/s on R90 across runs on this
  machine (2026-11-29), so read the ratios as +/- 0.1.
- "All cores" runs `riskcls.tagging.TaggingPool` (what `predict --jobs -1`, `batch --jobs -1` and
  `tag(..., jobs=-1)` use): forked workers that share the loaded model, each scoring a
  512-document share of every chunk (256-document shares ran 18% slower on R90, 16,800 against
  20,400 docs/s: the hand-over of texts and scores to the workers weighed more). fastText's
  Python `predict` has no such option. For the `*-all-cores` throughput rows, peak RSS is the
  main process's only: the forked workers share the model's pages with it but each holds its own
  working memory for the chunk share it scores.
- Throughput rows at 1,000 articles are dominated by start-up and model load (about 1.4 s: the
  API row's 1.7 s wall holds 0.23 s of tagging), so seconds per 1,000 articles fall with size;
  the tagging loop alone (API rows) is no slower per article at 100,000 than at 1,000, i.e. cost
  is linear, and peak RSS stays within a few percent from 1,000 to 100,000.
- R90 figures are deterministic for a given machine and library set: the per-tag SVMs are fitted
  in worker processes (liblinear's random generator is process-global, which made threaded fits
  differ from run to run), and the CV folds are seeded.
- fastText: unigram configurations (wordNgrams=1, bucket=0) diverged ("Encountered NaN") in CV at
  lr 0.1 and 0.5 on both sets with loss='ova'; they are listed as failed in the JSON and the CV
  chose among bigram configurations."""

HOT_PATH = """\
Profiled on the 3,019 Reuters R90 test articles (90 tags, one thread, 512-article chunks).

First round (commit 825e6e2 -> 3d00b98, cProfile). `predict_proba` ran at about 4,200 docs/s; two
thirds of that time went to the article and paragraph products with the 90 x 158k weight matrix,
because `coef_.T` was not C-contiguous and scipy copied the whole matrix on every call, and most of
the rest to `re.findall` tokenising and a binary search per word pair. Changes:

- `coef_` is stored column-major, so `coef_.T` is C-contiguous (article product alone: about
  16,000 -> 95,000 docs/s);
- text is lower-cased and its separators made spaces by one `bytes.translate` on ASCII text (a
  Unicode regex with the same rule only for other text);
- text with a few non-ASCII characters (typographic quotes and dashes, accented names: 80% of the
  synthetic throughput articles) stays on that path: after NFKD it is encoded to ASCII with an
  error handler called once per non-ASCII run (accents dropped, other marks made separators), and
  only a genuinely non-Latin letter sends it to the regex (tokenising those articles: about 4,200
  -> 18,800 docs/s);
- one tokenising pass feeds the article, paragraph and lead blocks (line breaks are marker tokens);
- word pairs are found in a vectorised open-addressing hash table (about 41 -> 19 ms per pass);
- TF-IDF weighting and per-block normalisation work on the CSR arrays; the article and lead blocks
  are built as one matrix (no `hstack`).

That gave about 12,800 docs/s (3x). Second round (commit ae4f692, pyinstrument): `bytes.split`
and one dictionary lookup per word (about 60 ms of a 235 ms pass) were the largest Python-level
cost, and sorting each row's columns to add up repeated terms the largest scipy one (31 ms). Now

- a batch's word bytes are joined and every word's 64-bit polynomial hash (byte x base**offset
  modulo 2**64, from prefix sums in numpy, 256 KB of text at a time so memory stays bounded) is
  looked up in a vectorised open-addressing table of the vocabulary's hashes: no Python work per
  word (two words of a one-million-word vocabulary share a hash with probability about
  3 x 10^-8);
- TF-IDF matrices are built column-major and converted to rows: two linear passes that leave each
  row's columns sorted, instead of a comparison sort per row (11-13 ms a pass saved, three
  alternations in one process).

`TextFeatures.transform` on these articles: 155 -> 121 ms (one process, same vocabulary, median of
5, three alternations). What remains, as pyinstrument shares of a `predict_proba` pass: building
the TF-IDF matrices 27%, the two sparse x dense products 23% (non-zeros x 90 tags), word-pair
lookups 11%, hashing words 10%, line and paragraph bookkeeping 9%, paragraph statistics 8%, word
lookups 5%. Beyond this, one core would need a compiled tokeniser and counter, which
riskcls does not have; on two cores (`--jobs -1`) it is well ahead of fastText."""

BENCHMARKS = {
    # name: (script, full arguments, quick arguments)
    "reuters": ("reuters.py", [], ["--quick"]),
    "throughput": ("throughput.py", [], ["--quick"]),
}


def run(quick: bool, only: list[str] | None) -> dict:
    status = {}
    for name, (script, full, fast) in BENCHMARKS.items():
        if only and name not in only:
            continue
        command = [sys.executable, str(ROOT / "bench" / script), *(fast if quick else full)]
        print(f"== {name}: {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        process = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        sys.stdout.write(process.stdout)
        sys.stderr.write(process.stderr[-5000:])
        skipped = next((line for line in process.stdout.splitlines() if line.startswith("SKIP ")
                        and name in line), None)
        status[name] = {"returncode": process.returncode, "seconds": round(
            time.perf_counter() - started, 1), "skipped": skipped}
        if process.returncode:
            print(f"!! {name} failed with exit code {process.returncode}", flush=True)
    return status


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _f(value, digits=3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _drift_section(drift: dict, stem: str) -> list[str]:
    """The forward-in-time against random holdout table of one bench/reuters_drift.py run."""
    params = json.dumps(drift["params"]) if drift["params"] else "defaults"
    lines = [f"### Later news: forward-in-time against random holdout ({stem[len('reuters_drift_'):]})",
             "", f"Run {drift['date']}: `{drift['command']}` (RiskTagger `{params}`). Inside the "
             "R90 ModApte *training* split (the test split is never read): fitted on "
             f"{1 - drift['holdout']:.0%} of the documents, scored on the other "
             f"{drift['holdout']:.0%} — the latest by wire date (forward) or drawn at random. "
             f"{drift['note']}.", "",
             "| holdout | fit dates | held-out dates | micro-F1 (tuned) | micro P / R (tuned) | "
             "macro-F1 (tuned) | micro-F1 (0.5) | macro-F1 (0.5) |", "|---|---|---|---|---|---|---|---|"]
    for row in drift["splits"]:
        tuned, half = row["tuned"], row["threshold_0.5"]
        lines.append(f"| {row['split']} | {row['fit_dates'][0][:10]} – {row['fit_dates'][1][:10]} | "
                     f"{row['held_out_dates'][0][:10]} – {row['held_out_dates'][1][:10]} | "
                     f"{tuned['micro_f1']:.4f} | {tuned['micro_precision']:.3f} / "
                     f"{tuned['micro_recall']:.3f} | {tuned['macro_f1']:.4f} | "
                     f"{half['micro_f1']:.4f} | {half['macro_f1']:.4f} |")
    forward = [r["tuned"]["micro_f1"] for r in drift["splits"] if r["split"] == "forward"]
    random = [r["tuned"]["micro_f1"] for r in drift["splits"] if r["split"] != "forward"]
    if forward and random:
        lines += ["", f"Forward micro-F1 (tuned) is {statistics.median(random) - forward[0]:.3f} "
                      f"below the median of the random holdouts ({statistics.median(random):.4f}): "
                      "the cost of tagging later news, which random-fold CV cannot see. Every "
                      "ModApte test document is later than every training document."]
    return lines + [""]


def render(status: dict | None = None) -> str:
    info = machine()
    lines = ["# Benchmarks", "",
             "Generated by `bench/run_all.py` from `bench/results/*.json`; regenerate with "
             "`make bench` (full) or `make bench-quick`. Every figure below comes from those "
             "files; times are medians of 3 runs unless marked.", "",
             f"Machine of the last report: {info.get('cpus')} CPUs ({info.get('cpu_model', '?')}), "
             f"{info.get('ram_gib', '?')} GiB RAM, Python {info['python']}, "
             f"{', '.join(f'{k} {v}' for k, v in info['versions'].items())}.", ""]
    if status:
        for s in status.values():
            if s.get("skipped"):
                lines += [f"> {s['skipped']}", ""]
    reuters = _load("reuters")
    lines += ["## Reuters-21578 ModApte (R90 / R10)", ""]
    if reuters is None:
        lines += ["Not run: `../shared/data/reuters21578` absent (see bench/reuters_data.py).", ""]
    else:
        lines += [f"Run {reuters['date']}: `{reuters['command']}` "
                  f"({reuters['machine'].get('cpus')} CPUs, {reuters['machine'].get('ram_gib')} "
                  "GiB RAM). Training and every choice (C per tag, calibration, thresholds, "
                  "fastText epochs/lr/n-grams and its thresholds) use the ModApte training split "
                  "only, by multi-label stratified CV (5 folds inside `RiskTagger`, its default; "
                  "3 for fastText's grid); the test split is only scored. "
                  f"Macro-F1: {reuters['macro_convention']}.", "",
                  "| set | system | threshold | micro-F1 | macro-F1 | train s | predict docs/s "
                  "(1 thread) | predict docs/s (all cores) |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, entry in reuters["sets"].items():
            r = entry["riskcls"]
            cores = next((v for k, v in r.items() if k.endswith("procs")), None)
            lines.append(f"| {name} | riskcls `RiskTagger()` defaults | tuned per tag | "
                         f"**{_f(r['tuned_thresholds']['micro_f1'])}** | "
                         f"**{_f(r['tuned_thresholds']['macro_f1'])}** | {r['train_s']:.0f} | "
                         f"{r['predict_proba_docs_per_s_1thread']:,.0f} | {cores:,.0f} |")
            lines.append(f"| {name} | riskcls `RiskTagger()` defaults | 0.5 | "
                         f"{_f(r['threshold_0.5']['micro_f1'])} | "
                         f"{_f(r['threshold_0.5']['macro_f1'])} | | | |")
            ft = entry.get("fasttext")
            if ft:
                c = ft["chosen"]
                what = f"fastText ova (epoch {c['epoch']}, lr {c['lr']}, wordNgrams {c['wordNgrams']})"
                lines.append(f"| {name} | {what} | 0.5 | {_f(ft['threshold_0.5']['micro_f1'])} | "
                             f"{_f(ft['threshold_0.5']['macro_f1'])} | {ft['train_s']:.0f} | "
                             f"{ft['predict_docs_per_s_raw']:,.0f} raw / "
                             f"{ft['predict_docs_per_s_with_tokenising']:,.0f} with tokenising | |")
                lines.append(f"| {name} | {what} | tuned per label (CV) | "
                             f"{_f(ft['tuned_thresholds']['micro_f1'])} | "
                             f"{_f(ft['tuned_thresholds']['macro_f1'])} | | | |")
            svc = entry.get("linear_svc")
            if svc:
                lines.append(f"| {name} | unigram TF-IDF + LinearSVC (C=1, balanced) | margin 0 | "
                             f"{_f(svc['micro_f1'])} | {_f(svc['macro_f1'])} | "
                             f"{svc['train_s']:.0f} | {svc['predict_docs_per_s_1thread']:,.0f} | |")
            for anchor in entry.get("anchors", []):
                lines.append(f"| {name} | published: {anchor['what']} | | "
                             f"{_f(anchor['micro_f1'])} | {_f(anchor['macro_f1'])} | | | |")
        lines.append("")
        for name, entry in reuters["sets"].items():
            ratio = entry.get("ratio_riskcls_to_fasttext")
            targets = entry.get("targets", {})
            r = entry["riskcls"]["tuned_thresholds"]
            met = [f"{k}-F1 ≥ {v}: {'met' if r[k + '_f1'] >= v else 'NOT met'} "
                   f"({r[k + '_f1']:.3f})" for k, v in targets.items()]
            lines.append(f"- {name}: {entry['riskcls']['n_train']} training documents after "
                         f"`riskcls.data` validation ({len(entry['rejected_by_riskcls_data']['train'])}"
                         f" exact duplicates with conflicting labels rejected), "
                         f"{entry['riskcls']['n_test']} test documents; peak RSS of the run "
                         f"{entry['peak_rss_mb_process']:,.0f} MB. Targets: {'; '.join(met) or '–'}."
                         + (f" Throughput ratio riskcls/fastText: {ratio['1thread_vs_raw']:.2f} "
                            f"(1 thread vs fastText raw predict), "
                            f"{ratio['1thread_vs_with_tokenising']:.2f} (vs fastText with its "
                            f"tokenising), {ratio['all_cores_vs_raw']:.2f} (all cores)."
                            if ratio else ""))
        lines.append("")
    cv_runs = sorted(RESULTS.glob("reuters_cv_*.json"))
    if cv_runs:
        lines += ["### Settings chosen by CV on the training split only", "",
                  "`python bench/reuters_cv.py [--params JSON] [--min-positives LIST] --name NAME`:"
                  " 3-fold multi-label stratified CV over the R90 ModApte *training* documents "
                  "(the test split is never read); each held-out fold is judged with the "
                  "thresholds its tagger chose from its own out-of-fold scores. Figures are pooled "
                  "over the held-out folds; categories with a single training document score 0 "
                  "here by construction.", "",
                  "| run | RiskTagger params | min_positives | threshold_prior_weight | CV micro-F1 "
                  "(tuned) | CV macro-F1 (tuned) | CV micro-F1 (0.5) | CV macro-F1 (0.5) | "
                  "seconds |", "|---|---|---|---|---|---|---|---|---|"]
        for path in cv_runs:
            cv = json.loads(path.read_text(encoding="utf-8"))
            for v in cv["variants"]:
                lines.append(f"| {path.stem[len('reuters_cv_'):]} | "
                             f"`{json.dumps(cv['params']) if cv['params'] else 'defaults'}` | "
                             f"{v['min_positives']} | {v.get('threshold_prior_weight', 0):g} | "
                             f"{v['tuned']['micro_f1']:.4f} | "
                             f"{v['tuned']['macro_f1']:.4f} | {v['threshold_0.5']['micro_f1']:.4f}"
                             f" | {v['threshold_0.5']['macro_f1']:.4f} | {cv['seconds']} |")
        lines.append("")
    for path in sorted(RESULTS.glob("reuters_drift_*.json")):
        lines += _drift_section(json.loads(path.read_text(encoding="utf-8")), path.stem)
    throughput = _load("throughput")
    lines += ["## Tagging throughput and scaling (default model)", ""]
    if throughput is None:
        lines += ["Not run yet.", ""]
    else:
        lines += [f"Run {throughput['date']}: `{throughput['command']}`; model: "
                  f"{throughput['model']}. Synthetic news-length articles from the shipped corpus's "
                  "sentences; each measurement is a fresh subprocess (start-up and model load "
                  "included in wall figures); peak RSS is that subprocess's VmHWM.", "",
                  "| path | docs | MB | runs | wall s | docs/s | MB/s | s per 1k docs | peak RSS MB "
                  "| tagging-loop docs/s |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in throughput["results"]:
            lines.append(f"| {r['path']} | {r['n_docs']:,} | {r['input_mb']:.1f} | {r['runs']} | "
                         f"{r['wall_s']:.1f} | {r['docs_per_s']:,.0f} | {r['mb_per_s']:.2f} | "
                         f"{r['s_per_1000_docs']:.2f} | {r['peak_rss_mb']:.0f} | "
                         f"{r.get('docs_per_s_tagging', 0):,.0f} |".replace("| 0 |", "| |"))
        lines.append("")
        for kind, s in throughput.get("scaling", {}).items():
            lines.append(f"- {kind}: seconds per 1k documents, largest/middle size = "
                         f"{s['s_per_1000_docs_largest_over_middle']:.2f} (1.00 = linear); peak RSS "
                         f"largest/smallest = {s['peak_rss_largest_over_smallest']:.2f}.")
        for kind, why in throughput.get("skipped", {}).items():
            lines.append(f"- {kind}: SKIPPED — {why}")
        lines.append("")
    lines += ["## Hot path", "", HOT_PATH, ""]
    lines += ["## Notes", "", NOTES, "", "## Commands", "", "```",
              "make bench          # python bench/run_all.py",
              "make bench-quick    # python bench/run_all.py --quick (R10 only, 1k/10k docs)",
              "python bench/reuters.py --sets R90 --params '{\"C_grid\": [0.1, 0.5, 1.0]}'",
              "python bench/reuters_cv.py --name default   # CV on the R90 training split",
              "python bench/reuters_drift.py               # forward-in-time vs random holdout",
              "python bench/throughput.py --profile", "python bench/run_all.py --report-only",
              "```", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    status = None
    if not args.report_only:
        status = run(args.quick, args.only.split(",") if args.only else None)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render(status), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    failed = [n for n, s in (status or {}).items() if s["returncode"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
