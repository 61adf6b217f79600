"""Tag documents with a loaded model: scores per tag, the tags that pass, and optional evidence.
Documents are tagged in chunks so any number can stream through with flat memory."""

from __future__ import annotations

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


def iter_tagged(documents: Iterable, model=None, *, threshold: float | None = None,
                explain: bool = False, top: int = 5, chunk_size: int = DEFAULT_CHUNK
                ) -> Iterator[dict]:
    """Tag a stream of documents lazily, one chunk at a time; yields one row per document."""
    model = model if model is not None else load_model()
    iterator = iter(documents)
    offset = 0
    while True:
        chunk = [as_document(item, offset + i) for i, item in enumerate(islice(iterator, chunk_size))]
        if not chunk:
            return
        offset += len(chunk)
        yield from tag_chunk(chunk, model, threshold=threshold, explain=explain, top=top)


def tag_chunk(chunk: list[Document], model, *, threshold: float | None = None,
              explain: bool = False, top: int = 5) -> list[dict]:
    """Rows for one chunk of documents, vectorised in a single pass through the model."""
    texts = [compose(doc.title, doc.text) for doc in chunk]
    if explain:
        probs, evidence = model.predict_with_evidence(texts, threshold=threshold, top=top)
    else:
        probs, evidence = model.predict_proba(texts), None
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
        explain: bool = False, top: int = 5) -> list[dict]:
    """Tag documents (strings, dicts with text/title/id, or Documents) and return one row each:
    {"id", "title", "source", "tags", "scores", ["evidence"]}."""
    if isinstance(documents, (str, dict, Document)):
        documents = [documents]
    return list(iter_tagged(documents, model, threshold=threshold, explain=explain, top=top))


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
