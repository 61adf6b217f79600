"""The `riskcls` command line: a thin layer over the Python API."""

from __future__ import annotations

import csv
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from riskcls.errors import RiskclsError
from riskcls.paths import DEFAULT_CORPUS, DEFAULT_MODEL

app = typer.Typer(help="Tag news articles with geopolitical-risk categories.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
data_app = typer.Typer(help="Check and export labelled data.", no_args_is_help=True)
app.add_typer(data_app, name="data")

EXIT_REJECTED = 3

TaxonomyOption = Annotated[Path | None, typer.Option(
    "--taxonomy", help="Taxonomy YAML file (default: the shipped labels/taxonomy.yaml).",
    dir_okay=False)]
ModelOption = Annotated[Path, typer.Option("--model", help="Model bundle folder.",
                                           file_okay=False)]
JobsOption = Annotated[int, typer.Option(
    "--jobs", min=-64, max=256, help="Worker processes that score each chunk (-1: all cores). "
                                     "Pays off from a few thousand articles on.")]


def _err(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def user_errors():
    """Report riskcls errors as a message and exit code 1, never a traceback."""
    try:
        yield
    except RiskclsError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(130) from None


@app.command("labels")
def labels_command(taxonomy: TaxonomyOption = None,
                   as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False):
    """Print the taxonomy's tags."""
    from riskcls.taxonomy import load_taxonomy

    with user_errors():
        tax = load_taxonomy(taxonomy)
    if as_json:
        typer.echo(json.dumps(tax.to_dict(), indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(tax)} tags ({tax.path})", show_lines=True)
    table.add_column("id", style="bold")
    table.add_column("name")
    table.add_column("definition")
    for tag in tax.tags:
        table.add_row(tag.id, tag.name, tag.definition)
    Console(width=max(100, Console().width)).print(table)


@data_app.command("check")
def data_check_command(paths: Annotated[list[str], typer.Argument(
                           help="Labelled files, folders, or hf:NAME datasets.")],
                       taxonomy: TaxonomyOption = None):
    """Validate labelled data and print its statistics; exit 1 if any problem is found."""
    from riskcls.data import check
    from riskcls.taxonomy import load_taxonomy

    with user_errors():
        report = check(paths, load_taxonomy(taxonomy))
    typer.echo(f"{report.n_records} valid records; {report.untagged} with no tag")
    typer.echo("\nper tag:")
    for tag, count in report.tag_counts.items():
        typer.echo(f"  {tag:<24} {count:>6}")
    if report.length_words:
        lw = report.length_words
        typer.echo(f"\nlength (words): min {lw['min']}, p10 {lw['p10']:.0f}, median "
                   f"{lw['median']:.0f}, p90 {lw['p90']:.0f}, max {lw['max']}; "
                   f"{lw['share_over_400']:.1%} over 400")
    if report.cooccurrence:
        typer.echo("\nco-occurring tags:")
        for (a, b), count in list(report.cooccurrence.items())[:20]:
            typer.echo(f"  {a} + {b}: {count}")
    if report.problems:
        typer.echo(f"\n{len(report.problems)} problem(s):")
        for problem in report.problems:
            typer.echo(f"  {problem}")
        raise typer.Exit(1)
    typer.echo("\nno problems found")


@data_app.command("export")
def data_export_command(paths: Annotated[list[str], typer.Argument(help="Labelled data.")],
                        output: Annotated[Path, typer.Option("--output", "-o",
                                                             help="A .jsonl or .parquet file.")],
                        taxonomy: TaxonomyOption = None):
    """Validate labelled data and write it to one JSONL or Parquet file."""
    from riskcls.data import export, load_labelled
    from riskcls.taxonomy import load_taxonomy

    with user_errors():
        dataset = load_labelled(paths, load_taxonomy(taxonomy))
        export(dataset, output)
    typer.echo(f"wrote {len(dataset)} records to {output}")


@app.command("train")
def train_command(data: Annotated[list[str] | None, typer.Option(
                      "--data", help="Labelled data (repeatable); default: the shipped corpus.")]
                  = None,
                  taxonomy: TaxonomyOption = None,
                  model: ModelOption = DEFAULT_MODEL,
                  seed: Annotated[int, typer.Option(help="Seed for folds and solver.")] = 0,
                  if_stale: Annotated[bool, typer.Option(
                      "--if-stale", help="Only train when the model is missing or older than the "
                                         "data or taxonomy.")] = False):
    """Train a model bundle and print its cross-validated per-tag metrics."""
    from riskcls.train import train

    with user_errors():
        result = train(data or [str(DEFAULT_CORPUS)], taxonomy_path=taxonomy, model_dir=model,
                       seed=seed, if_stale=if_stale)
    if result.skipped:
        typer.echo(f"{model}: {result.reason}; not retrained")
        return
    typer.echo(f"trained on {result.n_docs} documents in {result.seconds:.1f}s")
    typer.echo("cross-validated (out-of-fold) per-tag metrics:")
    typer.echo(f"  {'tag':<24}{'P':>7}{'R':>7}{'F1':>7}{'support':>9}")
    for tag, m in result.cv_metrics["labels"].items():
        typer.echo(f"  {tag:<24}{m['precision']:>7.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}"
                   f"{m['support']:>9}")
    typer.echo(f"  micro F1 {result.cv_metrics['micro']['f1']:.3f}, macro F1 "
               f"{result.cv_metrics['macro']['f1']:.3f}")
    typer.echo(f"model saved to {result.model_dir}")


@app.command("predict")
def predict_command(
    inputs: Annotated[list[str] | None, typer.Argument(
        help="Text/Markdown/HTML files, JSONL/CSV/Parquet record files, folders, or - for stdin.")]
    = None,
    model: ModelOption = DEFAULT_MODEL,
    output_format: Annotated[str | None, typer.Option(
        "--format", help="table, jsonl or csv (default: table on a terminal, else jsonl).")] = None,
    explain: Annotated[bool, typer.Option("--explain",
                                          help="Add the phrases behind each tag.")] = False,
    threshold: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="One threshold for every tag instead of the tuned ones.")] = None,
    no_split: Annotated[bool, typer.Option("--no-split",
                                           help="Do not split scraped pages into articles.")]
    = False,
    keyword_baseline: Annotated[bool, typer.Option(
        "--keyword-baseline", help="Tag with the transparent keyword dictionary instead.")] = False,
    taxonomy: TaxonomyOption = None,
    jobs: JobsOption = 1,
):
    """Tag articles and print one row per article."""
    from riskcls.inputs import iter_documents
    from riskcls.readers import Problem

    fmt = output_format or ("table" if sys.stdout.isatty() else "jsonl")
    if fmt not in ("table", "jsonl", "csv"):
        _err(f"error: unknown --format {fmt!r}; use table, jsonl or csv")
        raise typer.Exit(2)
    problems: list[Problem] = []

    def good_documents():
        for item in iter_documents(inputs or ["-"], split_pages=not no_split):
            if isinstance(item, Problem):
                problems.append(item)
                _err(f"error: {item}")
            else:
                yield item

    with user_errors():
        if keyword_baseline:
            from riskcls.tagging import keyword_rows
            from riskcls.taxonomy import load_taxonomy

            rows = keyword_rows(good_documents(), load_taxonomy(taxonomy))
        else:
            from riskcls.tagging import iter_tagged, load_model

            tagger = load_model(model)
            rows = iter_tagged(good_documents(), tagger, threshold=threshold, explain=explain,
                               jobs=jobs)
        count = _write_rows(rows, fmt, explain)
    if problems:
        _err(f"{len(problems)} input(s) could not be tagged; {count} article(s) tagged")
        raise typer.Exit(EXIT_REJECTED)


def _write_rows(rows, fmt: str, explain: bool) -> int:
    count = 0
    if fmt == "jsonl":
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        sys.stdout.flush()
        return count
    if fmt == "csv":
        writer = None
        for row in rows:
            if writer is None:
                fields = ["id", "title", "source", "tags", *row["scores"].keys()]
                if explain:
                    fields.append("evidence")
                writer = csv.DictWriter(sys.stdout, fieldnames=fields)
                writer.writeheader()
            flat = {"id": row["id"], "title": row["title"], "source": row["source"],
                    "tags": ";".join(row["tags"]), **row["scores"]}
            if explain:
                flat["evidence"] = json.dumps(row.get("evidence", {}), ensure_ascii=False)
            writer.writerow(flat)
            count += 1
        return count
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=True)
    table.add_column("id", overflow="fold", max_width=28)
    table.add_column("title", overflow="fold", max_width=48)
    table.add_column("tags (score)", overflow="fold")
    if explain:
        table.add_column("evidence", overflow="fold", max_width=50)
    for row in rows:
        tags = "\n".join(f"{t} ({row['scores'][t]:.2f})" for t in row["tags"]) or "-"
        cells = [row["id"], row["title"] or "-", tags]
        if explain:
            cells.append("\n".join(f"{t}: {', '.join(p)}" for t, p in row["evidence"].items())
                         or "-")
        table.add_row(*cells)
        count += 1
    Console(width=max(120, Console().width)).print(table)
    return count


@app.command("evaluate")
def evaluate_command(
    data: Annotated[list[str], typer.Option("--data", help="Labelled data (repeatable).")],
    model: ModelOption = DEFAULT_MODEL,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the figures as JSON.")]
    = None,
    report_dir: Annotated[Path | None, typer.Option("--report", help="Write report.md and plots "
                                                                     "to this folder.")] = None,
    threshold: Annotated[float | None, typer.Option(min=0.0, max=1.0)] = None,
    slice_by: Annotated[str | None, typer.Option("--slice-by",
                                                 help="A field to report metrics per value of.")]
    = None,
    taxonomy: TaxonomyOption = None,
):
    """Tag labelled data with the model and report per-tag metrics beside the baselines."""
    from riskcls.evaluate import evaluate, write_json, write_report
    from riskcls.tagging import load_model
    from riskcls.train import data_fingerprint

    with user_errors():
        tagger = load_model(model)
        tax = _taxonomy_for_model(tagger, taxonomy)
        from riskcls.data import load_labelled

        dataset = load_labelled(data, tax)
        trained_on = tagger.bundle_["manifest"]["training"]["data_fingerprint"]
        on_training = trained_on == data_fingerprint(dataset)
        try:
            report = evaluate(tagger, dataset, tax, threshold=threshold, slice_by=slice_by,
                              on_training_data=on_training)
        except KeyError as exc:
            raise RiskclsError(exc.args[0]) from None
    tag_ids = [str(c) for c in tagger.classes_]
    if on_training:
        typer.echo("NOTE: this is the model's own training data; the figures are optimistic "
                   "(use `riskcls cv` for an honest estimate).\n")
    _print_metrics_table(report, tag_ids)
    if json_out:
        write_json(report, json_out)
        typer.echo(f"wrote {json_out}")
    if report_dir:
        path = write_report(report, report_dir, tag_ids)
        typer.echo(f"wrote {path} and plots")


def _taxonomy_for_model(tagger, taxonomy_path):
    """The taxonomy to read labels with: the given file, else the shipped one if it matches the
    model, else one made from the model's own tag ids."""
    from riskcls.taxonomy import Tag, Taxonomy, load_taxonomy

    if taxonomy_path is not None:
        return load_taxonomy(taxonomy_path)
    ids = [str(c) for c in tagger.classes_]
    try:
        shipped = load_taxonomy()
    except RiskclsError:
        shipped = None
    if shipped is not None and shipped.ids == ids:
        return shipped
    return Taxonomy(tags=tuple(Tag(id=i, name=i, definition=i) for i in ids))


def _print_metrics_table(report: dict, tag_ids: list[str]) -> None:
    keyword = report["baselines"]["keyword"]["labels"]
    typer.echo(f"{report['n_docs']} documents; {report['note']}")
    typer.echo(f"  {'tag':<24}{'P':>7}{'R':>7}{'F1':>7}{'AP':>7}{'supp':>6}{'thr':>6}"
               f"{'kwF1':>7}")
    for tag in tag_ids:
        m = report["labels"][tag]
        ap = m["average_precision"]
        typer.echo(f"  {tag:<24}{m['precision']:>7.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}"
                   f"{(ap if ap is not None else float('nan')):>7.3f}{m['support']:>6}"
                   f"{m['threshold']:>6.2f}{keyword[tag]['f1']:>7.3f}")
    for average in ("micro", "macro", "weighted"):
        m = report[average]
        kw = report["baselines"]["keyword"][average]
        typer.echo(f"  {average:<24}{m['precision']:>7.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}"
                   f"{'':>19}{kw['f1']:>7.3f}")
    typer.echo(f"  samples F1 {report['samples_f1']:.3f}, Hamming loss "
               f"{report['hamming_loss']:.4f}, subset accuracy {report['subset_accuracy']:.3f}")
    if report.get("slices"):
        _print_slices(report["slices"], "slices")


def _print_slices(slices: dict, heading: str) -> None:
    typer.echo(f"  {heading}:")
    for value, s in slices.items():
        typer.echo(f"    {value:<22} docs {s['n_docs']:>5}  micro F1 {s['micro']['f1']:.3f}  "
                   f"false-positive tags {s['false_positive_tags']}  missed tags "
                   f"{s['false_negative_tags']}  exact match {s['exact_match']:.3f}")


@app.command("cv")
def cv_command(
    data: Annotated[list[str] | None, typer.Option("--data", help="Labelled data (repeatable).")]
    = None,
    folds: Annotated[int, typer.Option(min=2, max=20)] = 5,
    seed: int = 0,
    taxonomy: TaxonomyOption = None,
    slice_by: Annotated[str | None, typer.Option("--slice-by")] = None,
    json_out: Annotated[Path | None, typer.Option("--json")] = None,
):
    """Cross-validate the whole training procedure and print per-tag mean ± std."""
    from riskcls.data import load_labelled
    from riskcls.evaluate import cross_validate, write_json
    from riskcls.taxonomy import load_taxonomy

    with user_errors():
        tax = load_taxonomy(taxonomy)
        dataset = load_labelled(data or [str(DEFAULT_CORPUS)], tax)
        try:
            summary = cross_validate(dataset, tax.ids, folds=folds, seed=seed, slice_by=slice_by,
                                     params={"n_jobs": -1}, taxonomy=tax)
        except KeyError as exc:
            raise RiskclsError(exc.args[0]) from None
    typer.echo(f"{folds}-fold multi-label stratified CV, {summary['n_docs']} documents, seed {seed}")
    keyword = summary["baselines"]["keyword"]
    typer.echo(f"  {'tag':<24}{'precision':>16}{'recall':>16}{'F1':>16}{'support':>9}"
               f"{'keyword F1':>12}")
    for tag, m in summary["labels"].items():
        typer.echo(f"  {tag:<24}" + "".join(
            f"{m[k]['mean']:>9.3f} ±{m[k]['std']:.3f}" for k in ("precision", "recall", "f1"))
            + f"{m['support']:>9}{keyword['labels'][tag]['f1']:>12.3f}")
    for average in ("micro", "macro", "weighted"):
        m = summary[average]
        typer.echo(f"  {average:<24}" + "".join(
            f"{m[k]['mean']:>9.3f} ±{m[k]['std']:.3f}" for k in ("precision", "recall", "f1"))
            + f"{'':>9}{keyword[average]['f1']:>12.3f}")
    if summary.get("slices"):
        _print_slices(summary["slices"], "slices (pooled out-of-fold)")
    if json_out:
        write_json(summary, json_out)
        typer.echo(f"wrote {json_out}")


@app.command("batch")
def batch_command(
    output: Annotated[Path, typer.Option(
        "--output", help="Output folder for tags-*.jsonl, errors-*.jsonl and runs/*.json.",
        file_okay=False, show_default=False)],
    input_paths: Annotated[list[str] | None, typer.Option(
        "--input", help="File, folder (recursive) or glob pattern; repeatable. Extra arguments "
                        "after the options are inputs too.")] = None,
    extra_inputs: Annotated[list[str] | None, typer.Argument(
        help="More inputs (so `--input a b c` works).", show_default=False)] = None,
    model: ModelOption = DEFAULT_MODEL,
    state: Annotated[Path | None, typer.Option(
        "--state", help="State folder with the ledger and lock (default: OUTPUT/.state).",
        file_okay=False)] = None,
    retag: Annotated[bool, typer.Option(
        "--retag", help="Tag everything again, as a new pass of the model, into new files (a "
                        "plain re-run completes an interrupted --retag run).")] = False,
    max_bytes: Annotated[int, typer.Option(
        "--max-bytes", min=1, help="Reject files (and records) larger than this.")] = 20_000_000,
    chunk_size: Annotated[int, typer.Option(
        "--chunk-size", min=1, help="Documents per chunk (and per tags file).")] = 1000,
    log_json: Annotated[bool, typer.Option(
        "--log-json", help="Log JSON lines instead of logfmt lines (when not on a terminal).")]
    = False,
    jobs: JobsOption = 1,
):
    """Tag every new document under the inputs into OUTPUT, exactly once per model.

    Reads what `predict` reads: text, Markdown, HTML, scraped pages (split into
    articles), JSONL/CSV/Parquet records, each optionally gzipped.

    A ledger in --state remembers what each model has tagged: a re-run (from
    cron, say) tags only new documents, and after a crash or kill the next run
    completes the work. Rejected inputs go to errors-*.jsonl, never stop the run.

    Exit codes:
      0   all done
      3   done, but some inputs were newly rejected (see errors-*.jsonl)
      75  another run holds the lock on the state: nothing done, try later
      1   fatal error (no model, unusable output or state folder)
      2   bad command line
    """
    import signal

    from riskcls.batch import EXIT_LOCKED, BatchLocked, BatchLog, run_batch

    inputs = [*(input_paths or []), *(extra_inputs or [])]
    if not inputs:
        _err("error: give at least one --input file, folder or pattern")
        raise typer.Exit(2)
    mode = "json" if log_json else ("rich" if sys.stderr.isatty() else "plain")

    def terminate(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        with user_errors():
            try:
                summary = run_batch(inputs, output, model=model, state=state, retag=retag,
                                    max_bytes=max_bytes, chunk_size=chunk_size,
                                    log=BatchLog(mode), jobs=jobs)
            except BatchLocked as exc:
                _err(f"error: {exc}")
                raise typer.Exit(EXIT_LOCKED) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    raise typer.Exit(summary.exit_code)


def main() -> None:
    app()
