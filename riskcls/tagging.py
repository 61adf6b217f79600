"""Tag documents with a loaded model: scores per tag, the tags that pass, and optional evidence.
Documents are tagged in chunks so any number can stream through with flat memory."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np

from riskcls.bundle import load_bundle
from riskcls.data import compose, content_id
from riskcls.inputs import Document
from riskcls.paths import DEFAULT_MODEL

DEFAULT_CHUNK = 512
_loaded: dict[str, object] = {}


def load_model(path: str | Path = DEFAULT_MODEL):
    """A verified, fitted RiskTagger from a bundle folder (cached per path for this process)."""
    key = str(Path(path).resolve())
    if key not in _loaded:
        _loaded[key] = load_bundle(path)
    return _loaded[key]


def as_document(item, index: int = 0) -> Document:
    """A Document from a string, a mapping with text/title/id, or a Document."""
    if isinstance(item, Document):
        return item
    if isinstance(item, str):
        return Document(id=content_id(item) if item.strip() else f"doc-{index}", text=item)
    if isinstance(item, dict):
        text = str(item.get("text") or "")
        return Document(id=str(item.get("id") or content_id(text)), text=text,
                        title=str(item.get("title") or ""), source=str(item.get("source") or ""))
    raise TypeError(f"cannot tag a {type(item).__name__}; pass strings, dicts or Documents")


def resolve_jobs(jobs: int) -> int:
    """Worker processes for `jobs`: itself when positive; -1 all cores, -2 all but one... (as in
    joblib); never fewer than one."""
    cores = os.cpu_count() or 1
    return max(1, jobs if jobs > 0 else cores + 1 + jobs)


_WORKER_MODEL = None


def _set_worker_model(model) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = model
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


def _score(model, texts: list[str], threshold: float | None, explain: bool, top: int):
    if explain:
        return model.predict_with_evidence(texts, threshold=threshold, top=top)
    return model.predict_proba(texts), None


def _score_in_worker(task):
    return _score(_WORKER_MODEL, *task)


class TaggingPool:
    """Worker processes that each hold the model and score a share of every chunk, so tagging uses
    several cores. On Linux the workers are forked after the model is loaded, so it is neither
    copied nor pickled; elsewhere it is pickled to each worker once. Use as a context manager."""

    def __init__(self, model, jobs: int = -1):
        self.model = model
        self.jobs = resolve_jobs(jobs)
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self._pool = multiprocessing.get_context(method).Pool(
            self.jobs, initializer=_set_worker_model, initargs=(model,))

    def score(self, texts: list[str], threshold: float | None = None, explain: bool = False,
              top: int = 5):
        """Probabilities (documents x tags) and, with explain, evidence — as the model gives
        them, computed in `jobs` parts."""
        size = -(-len(texts) // self.jobs)
        parts = [texts[i:i + size] for i in range(0, len(texts), size)] or [texts]
        results = self._pool.map(_score_in_worker,
                                 [(part, threshold, explain, top) for part in parts])
        probs = np.vstack([p for p, _ in results])
        evidence = [e for _, part in results for e in part] if explain else None
        return probs, evidence

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.score(texts)[0]

    def close(self) -> None:
        self._pool.close()
        self._pool.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            self._pool.terminate()
        self.close()


def iter_tagged(documents: Iterable, model=None, *, threshold: float | None = None,
                explain: bool = False, top: int = 5, chunk_size: int = DEFAULT_CHUNK,
                jobs: int = 1) -> Iterator[dict]:
    """Tag a stream of documents lazily, one chunk at a time; yields one row per document.
    `jobs` > 1 (or -1: all cores) scores each chunk in that many worker processes, each taking
    `chunk_size` documents of it (smaller shares spend too much on handing texts over)."""
    model = model if model is not None else load_model()
    iterator = iter(documents)
    pool = TaggingPool(model, jobs) if resolve_jobs(jobs) > 1 else None
    chunk_size *= pool.jobs if pool is not None else 1
    with pool if pool is not None else contextlib.nullcontext():
        offset = 0
        while True:
            chunk = [as_document(item, offset + i)
                     for i, item in enumerate(islice(iterator, chunk_size))]
            if not chunk:
                return
            offset += len(chunk)
            yield from tag_chunk(chunk, model, threshold=threshold, explain=explain, top=top,
                                 pool=pool)


def tag_chunk(chunk: list[Document], model, *, threshold: float | None = None,
              explain: bool = False, top: int = 5, pool: TaggingPool | None = None
              ) -> list[dict]:
    """Rows for one chunk of documents, vectorised in a single pass through the model (or split
    across the workers of `pool`)."""
    texts = [compose(doc.title, doc.text) for doc in chunk]
    if pool is not None:
        probs, evidence = pool.score(texts, threshold, explain, top)
    else:
        probs, evidence = _score(model, texts, threshold, explain, top)
    cut = model.thresholds_ if threshold is None else np.full(len(model.classes_), threshold)
    passed = probs >= cut
    names = [str(c) for c in model.classes_]
    rounded = np.round(probs, 4).tolist()
    rows = []
    for i, doc in enumerate(chunk):
        given = np.flatnonzero(passed[i])
        tags = [names[j] for j in given[np.argsort(-probs[i, given], kind="stable")]]
        row = {"id": doc.id, "title": doc.title, "source": doc.source, "tags": tags,
               "scores": dict(zip(names, rounded[i]))}
        if evidence is not None:
            row["evidence"] = {tag: [phrase for phrase, _ in evidence[i][tag]] for tag in tags}
        rows.append(row)
    return rows


def tag(documents: Iterable, model=None, *, threshold: float | None = None,
        explain: bool = False, top: int = 5, jobs: int = 1) -> list[dict]:
    """Tag documents (strings, dicts with text/title/id, or Documents) and return one row each:
    {"id", "title", "source", "tags", "scores", ["evidence"]}."""
    if isinstance(documents, (str, dict, Document)):
        documents = [documents]
    return list(iter_tagged(documents, model, threshold=threshold, explain=explain, top=top,
                            jobs=jobs))


def keyword_rows(documents: Iterable, taxonomy) -> Iterator[dict]:
    """Rows in the same shape as `tag`, from the keyword baseline; evidence is the matched phrases."""
    from riskcls.baselines import KeywordTagger

    keyword = KeywordTagger(taxonomy=taxonomy).fit()
    names = [str(c) for c in keyword.classes_]
    for index, item in enumerate(documents):
        doc = as_document(item, index)
        text = compose(doc.title, doc.text)
        found = keyword.matches(text)
        probs = keyword.proba_from_hits([len(phrases) for phrases in found])
        tags = [names[j] for j in np.argsort(-probs, kind="stable")
                if probs[j] >= keyword.thresholds_[j]]
        yield {"id": doc.id, "title": doc.title, "source": doc.source, "tags": tags,
               "scores": {names[j]: round(float(probs[j]), 4) for j in range(len(names))},
               "evidence": {tag: sorted(set(found[names.index(tag)])) for tag in tags}}
