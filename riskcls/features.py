"""Text features for RiskTagger: TF-IDF of the whole article and of each of its paragraphs, from a
single tokenising pass (article counts are the sum of its paragraphs' counts), plus a separately
weighted block for the headline and lead."""

from __future__ import annotations

from itertools import repeat

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfTransformer

PARAGRAPH_MIN_WORDS = 12


def split_paragraphs(texts: list[str], min_words: int = PARAGRAPH_MIN_WORDS
                     ) -> tuple[list[str], np.ndarray]:
    """All paragraphs of all texts in order, and the index where each text's paragraphs start.
    Lines shorter than `min_words` (headlines, datelines) join the paragraph after them, so the
    first paragraph is the headline with the lead. Every text has at least one paragraph."""
    paragraphs: list[str] = []
    starts = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        starts[i] = len(paragraphs)
        pending = ""
        produced = 0
        for line in text.split("\n"):
            line = line.strip()
            if not line:
                continue
            pending = f"{pending} {line}" if pending else line
            if len(pending.split()) >= min_words:
                paragraphs.append(pending)
                pending = ""
                produced += 1
        if not produced:
            paragraphs.append(pending)
        elif pending:
            paragraphs[-1] = f"{paragraphs[-1]} {pending}"
    return paragraphs, starts


def lead_of(texts: list[str], n_words: int) -> list[str]:
    """The headline and opening words of each text: where a salient theme shows first."""
    return [" ".join(text.split()[:n_words]) for text in texts]


class TextFeatures:
    """Fitted feature blocks. `transform` returns the article matrix, the paragraph matrix and the
    paragraph start of each article; both matrices share one column space."""

    def __init__(self, *, word_ngram_range=(1, 2), char_ngram_range=None, lead_words=60,
                 lead_weight=0.5, min_df=2, max_df=0.9):
        self.word_ngram_range = tuple(word_ngram_range)
        self.char_ngram_range = tuple(char_ngram_range) if char_ngram_range else None
        self.lead_words = lead_words
        self.lead_weight = lead_weight
        self.min_df = min_df
        self.max_df = max_df

    def _counter(self, **kwargs) -> CountVectorizer:
        return CountVectorizer(strip_accents="unicode", dtype=np.float32, **kwargs)

    def fit_transform(self, texts: list[str]):
        paragraphs, starts = split_paragraphs(texts)
        owner = _owner_matrix(starts, len(paragraphs))
        self.blocks_ = [("word", self._counter(ngram_range=self.word_ngram_range))]
        if self.char_ngram_range:
            self.blocks_.append(("char", self._counter(analyzer="char_wb",
                                                       ngram_range=self.char_ngram_range)))
        self.idf_ = []
        doc_parts, paragraph_parts = [], []
        for _, counter in self.blocks_:
            paragraph_counts = counter.fit_transform(paragraphs)
            doc_counts = owner @ paragraph_counts
            keep = _frequent_columns(doc_counts, self.min_df, self.max_df)
            counter.vocabulary_ = {term: new for new, term in
                                   enumerate(counter.get_feature_names_out()[keep])}
            doc_counts, paragraph_counts = doc_counts[:, keep], paragraph_counts[:, keep]
            tfidf = TfidfTransformer(sublinear_tf=True).fit(doc_counts)
            self.idf_.append(tfidf)
            doc_parts.append(tfidf.transform(doc_counts))
            paragraph_parts.append(tfidf.transform(paragraph_counts))
        if self.lead_weight:
            self.lead_ = self._counter(ngram_range=self.word_ngram_range, min_df=1)
            lead_counts = self.lead_.fit_transform(lead_of(texts, self.lead_words))
            keep = _frequent_columns(lead_counts, self.min_df, 1.0)
            self.lead_.vocabulary_ = {term: new for new, term in
                                      enumerate(self.lead_.get_feature_names_out()[keep])}
            self.lead_idf_ = TfidfTransformer(sublinear_tf=True).fit(lead_counts[:, keep])
            self.lead_fast_ = _fast_counter("word", self.lead_)
        self.fast_ = [_fast_counter(block, counter) for block, counter in self.blocks_]
        return self._assemble(texts, doc_parts, paragraph_parts, starts, len(paragraphs))

    def transform(self, texts: list[str]):
        paragraphs, starts = split_paragraphs(texts)
        owner = _owner_matrix(starts, len(paragraphs))
        doc_parts, paragraph_parts = [], []
        for (_, counter), fast, tfidf in zip(self.blocks_, self.fast_, self.idf_):
            paragraph_counts = _counts(counter, fast, paragraphs)
            doc_parts.append(tfidf.transform(owner @ paragraph_counts))
            paragraph_parts.append(tfidf.transform(paragraph_counts))
        return self._assemble(texts, doc_parts, paragraph_parts, starts, len(paragraphs))

    def _assemble(self, texts, doc_parts, paragraph_parts, starts, n_paragraphs):
        if self.lead_weight:
            lead_counts = _counts(self.lead_, self.lead_fast_,
                                  lead_of(texts, self.lead_words))
            lead = self.lead_idf_.transform(lead_counts)
            doc_parts = [*doc_parts, lead * self.lead_weight]
            paragraph_parts = [*paragraph_parts,
                               sparse.csr_matrix((n_paragraphs, lead.shape[1]), dtype=np.float32)]
        return (sparse.hstack(doc_parts, format="csr", dtype=np.float32),
                sparse.hstack(paragraph_parts, format="csr", dtype=np.float32), starts)

    def phrase_names(self) -> np.ndarray:
        """One entry per column: the word n-gram for word and lead columns, '' for character ones."""
        names = []
        for block, counter in self.blocks_:
            vocabulary = counter.get_feature_names_out()
            names.append(vocabulary if block == "word"
                         else np.full(len(vocabulary), "", dtype=object))
        if self.lead_weight:
            names.append(self.lead_.get_feature_names_out())
        return np.concatenate(names).astype(object)

    def phrase_index(self) -> tuple[np.ndarray, list[str]]:
        """For each column the id of its readable word n-gram (-1 for character n-grams and
        n-grams that start or end with a stop word), and the phrases by id; a phrase in both the
        article and the lead block has one id. Computed once, then kept."""
        if getattr(self, "phrase_index_", None) is None:
            ids: dict[str, int] = {}
            column_ids = [ids.setdefault(name, len(ids)) if name and _readable(name) else -1
                          for name in self.phrase_names()]
            self.phrase_index_ = (np.array(column_ids, dtype=np.int64), list(ids))
        return self.phrase_index_


class TokenIdCounts:
    """Word 1-2-gram counts for a fitted CountVectorizer, without building n-gram strings: each token
    is looked up once in a table of the vocabulary's words, and bigrams are matched as integer pairs
    with a sorted-key search. Gives the same matrix as `counter.transform`, about twice as fast,
    which matters because counting is most of the tagging time."""

    def __init__(self, counter: CountVectorizer):
        if tuple(counter.ngram_range) not in ((1, 1), (1, 2)):
            raise ValueError("TokenIdCounts handles word 1-grams and 1-2-grams only")
        self.preprocess = counter.build_preprocessor()
        self.tokenize = counter.build_tokenizer()
        self.dtype = counter.dtype
        self.n_columns = len(counter.vocabulary_)
        words: dict[str, int] = {}
        unigram_columns: dict[int, int] = {}
        bigram_keys, bigram_columns = [], []
        for term, column in counter.vocabulary_.items():
            ids = [words.setdefault(word, len(words)) for word in term.split(" ")]
            if len(ids) == 1:
                unigram_columns[ids[0]] = column
            else:
                bigram_keys.append(ids)
                bigram_columns.append(column)
        self.words = words
        self.unigram = np.full(len(words) + 1, -1, dtype=np.int64)
        for word, column in unigram_columns.items():
            self.unigram[word] = column
        keys = np.array([a * len(words) + b for a, b in bigram_keys], dtype=np.int64)
        order = np.argsort(keys)
        self.keys = keys[order]
        self.key_columns = np.array(bigram_columns, dtype=np.int64)[order]

    def transform(self, documents: list[str]) -> sparse.csr_matrix:
        lookup, unknown = self.words.get, repeat(-1)
        flat: list[int] = []
        lengths = np.empty(len(documents), dtype=np.int64)
        for row, doc in enumerate(documents):
            before = len(flat)
            flat.extend(map(lookup, self.tokenize(self.preprocess(doc)), unknown))
            lengths[row] = len(flat) - before
        ids = np.fromiter(flat, dtype=np.int64, count=len(flat))
        rows = np.repeat(np.arange(len(documents)), lengths)
        unigram = self.unigram[ids]
        found = unigram >= 0
        all_rows, all_columns = [rows[found]], [unigram[found]]
        if len(self.keys):
            pair = (rows[1:] == rows[:-1]) & (ids[1:] >= 0) & (ids[:-1] >= 0)
            key = ids[:-1][pair] * len(self.words) + ids[1:][pair]
            at = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
            hit = self.keys[at] == key
            all_rows.append(rows[1:][pair][hit])
            all_columns.append(self.key_columns[at[hit]])
        all_rows, all_columns = np.concatenate(all_rows), np.concatenate(all_columns)
        matrix = sparse.csr_matrix((np.ones(len(all_columns), dtype=self.dtype),
                                    (all_rows, all_columns)),
                                   shape=(len(documents), self.n_columns))
        matrix.sum_duplicates()
        return matrix


def _counts(counter: CountVectorizer, fast: TokenIdCounts | None, documents: list[str]):
    return fast.transform(documents) if fast is not None else counter.transform(documents)


def _fast_counter(block: str, counter: CountVectorizer) -> TokenIdCounts | None:
    if block == "word" and tuple(counter.ngram_range) in ((1, 1), (1, 2)):
        return TokenIdCounts(counter)
    return None


def _readable(phrase: str) -> bool:
    words = phrase.split()
    return bool(words) and words[0] not in ENGLISH_STOP_WORDS and words[-1] not in ENGLISH_STOP_WORDS


def _owner_matrix(starts: np.ndarray, n_paragraphs: int) -> sparse.csr_matrix:
    """A documents x paragraphs 0/1 matrix: which paragraphs make up each document."""
    counts = np.diff(np.append(starts, n_paragraphs))
    rows = np.repeat(np.arange(len(starts)), counts)
    return sparse.csr_matrix((np.ones(n_paragraphs, dtype=np.float32),
                              (rows, np.arange(n_paragraphs))), shape=(len(starts), n_paragraphs))


def _frequent_columns(doc_counts, min_df: int, max_df: float) -> np.ndarray:
    """Columns whose document frequency is within [min_df, max_df x documents]."""
    df = np.asarray((doc_counts > 0).sum(axis=0)).ravel()
    ceiling = max_df * doc_counts.shape[0] if isinstance(max_df, float) else max_df
    keep = (df >= min_df) & (df <= max(ceiling, min_df))
    if not keep.any():
        keep = df > 0
    return np.flatnonzero(keep)
