"""Text features for RiskTagger: TF-IDF of the whole article and of each of its paragraphs, plus a
separately weighted block for the headline and lead, all from one tokenising pass over the text.

Tagging speed is bounded by how fast text becomes word ids, so no per-word Python work is done:
ASCII text is lower-cased, and every character that is not a letter or digit made a space, by one
`bytes.translate`; text with accents, typographic quotes or dashes is NFKD-normalised and folded
to ASCII first (accents dropped, other marks made separators); only text with letters outside the
Latin alphabet goes through a Unicode regular expression with the same rule. The words of a whole
batch are then hashed in numpy (a 64-bit polynomial hash of their bytes) and looked up in a
vectorised hash table of the vocabulary's hashes; word pairs are counted as integer pairs.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

PARAGRAPH_MIN_WORDS = 12
NEWLINE = -2
_NEWLINE_TOKEN = b"\x01"
_ALNUM = b"abcdefghijklmnopqrstuvwxyz0123456789"
_ASCII_TABLE = bytes(
    c + 32 if 65 <= c <= 90 else c if c in _ALNUM or c == 10 else 32 for c in range(256))
_UNICODE_TOKEN = re.compile(r"[^\W_]+|\n")


def tokens(text: str) -> list[bytes]:
    """The words riskcls reads in a text: lower-cased runs of letters and digits, accents stripped,
    as UTF-8 bytes; each line break becomes a separate marker token (paragraphs are found from
    them)."""
    return _token_bytes(text).replace(b"\n", b" " + _NEWLINE_TOKEN + b" ").split()


def _token_bytes(text: str) -> bytes:
    """The text as bytes in which every run of bytes above the space is a word (lower-cased,
    accents stripped) and everything else is a space, but for the line breaks."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_TABLE)
    text = unicodedata.normalize("NFKD", text)
    try:
        return text.encode("ascii", _FOLD).translate(_ASCII_TABLE)
    except _NonLatinLetter:
        text = "".join(c for c in text if not unicodedata.combining(c))
        return " ".join(_UNICODE_TOKEN.findall(text.lower())).encode("utf-8")


class _NonLatinLetter(Exception):
    """A letter or digit that stays outside ASCII once accents are stripped (Cyrillic, ß...)."""


def _fold_to_ascii(error: UnicodeEncodeError) -> tuple[str, int]:
    """Encoding error handler for NFKD text: drops combining accents, turns other non-ASCII
    characters that cannot be part of a word (typographic quotes and dashes, symbols, odd spaces)
    into separators, and gives up on letters and digits. Called once per run of non-ASCII
    characters, so mostly-English text keeps the fast ASCII path."""
    replacement = []
    for char in error.object[error.start:error.end]:
        if unicodedata.combining(char):
            continue
        if char.isalnum():
            raise _NonLatinLetter
        replacement.append(" ")
    return "".join(replacement), error.end


_FOLD = "riskcls.fold_to_ascii"
codecs.register_error(_FOLD, _fold_to_ascii)


class _Words:
    """The words of a batch of texts: each word's hash, where it starts and ends in the batch's
    bytes, and each line break's position. Hashes are computed a slice of bytes at a time, so
    memory stays bounded whatever the batch's size."""

    def __init__(self, texts: list[str]):
        pieces = [_token_bytes(text) for text in texts]
        self.data = b" ".join(pieces)
        self.doc_starts = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces)) + 1,
                  out=self.doc_starts[1:])
        starts, ends, hashes = [], [], []
        for begin, end in _slices(self.data, _SLICE_BYTES):
            first, last, hashed = _hash_words(np.frombuffer(self.data, np.uint8, end - begin, begin))
            starts.append(first + begin)
            ends.append(last + begin)
            hashes.append(hashed)
        self.starts = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
        self.ends = np.concatenate(ends) if ends else np.zeros(0, dtype=np.int64)
        self.hashes = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.int64)
        self.newlines = np.flatnonzero(np.frombuffer(self.data, np.uint8) == 10)

    def word(self, index: int) -> str:
        return self.data[self.starts[index]:self.ends[index]].decode("utf-8")


_SLICE_BYTES = 1 << 18
_HASH_BASE = 0x100000001B3
_powers_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _slices(data: bytes, size: int):
    """(begin, end) byte ranges of about `size` that never cut a word: each ends at the first space
    from `size` on (spaces also part the batch's texts), or at a line break if no space follows."""
    begin = 0
    while begin < len(data):
        end = begin + size
        if end >= len(data):
            end = len(data)
        else:
            cut = data.find(b" ", end)
            if cut < 0:
                cut = data.find(b"\n", end)
            end = cut if cut >= 0 else len(data)
        yield begin, end
        begin = end


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The hash base's powers 0..n-1 and its inverse's, modulo 2**64 (numpy's uint64 wraps).
    Kept as one pair, so a thread never sees one array grown and the other not."""
    cached = _powers_cache.get("powers")
    if cached is None or len(cached[0]) < n:
        size = max(n, 1 << 16)
        pair = []
        for base in (_HASH_BASE, pow(_HASH_BASE, -1, 1 << 64)):
            powers = np.full(size, base, dtype=np.uint64)
            powers[0] = 1
            pair.append(np.cumprod(powers, dtype=np.uint64))
        cached = _powers_cache["powers"] = (pair[0], pair[1])
    return cached[0][:n], cached[1][:n]


def _hash_words(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end and 64-bit hash of every word (run of bytes above the space) in `data`: the
    polynomial sum of byte x base**offset, with -1 (the hash tables' empty mark) made -2."""
    in_word = (data > 32).view(np.int8)
    edges = np.diff(in_word, prepend=np.int8(0), append=np.int8(0))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    up, down = _powers(len(data))
    prefix = np.zeros(len(data) + 1, dtype=np.uint64)
    np.cumsum(data * up, out=prefix[1:])
    hashes = ((prefix[ends] - prefix[starts]) * down[starts]).view(np.int64)
    hashes[hashes == -1] = -2
    return starts, ends, hashes


class _Encoded:
    """A batch of texts as one stream of word ids (-1 for words outside the vocabulary) with, for
    each token, its document, its paragraph and its position in the document; and where each
    document's paragraphs start."""

    def __init__(self, words: _Words, word_ids: np.ndarray, min_words: int):
        n_docs = len(words.doc_starts) - 1
        item_starts = np.concatenate([words.starts, words.newlines])
        is_newline = np.concatenate([np.zeros(len(words.starts), dtype=bool),
                                     np.ones(len(words.newlines), dtype=bool)])
        order = np.argsort(item_starts, kind="stable")
        is_newline = is_newline[order]
        ids = np.concatenate([word_ids, np.full(len(words.newlines), NEWLINE, dtype=np.int64)]
                             )[order]
        doc = np.searchsorted(words.doc_starts, item_starts[order], side="right") - 1
        line_start = np.empty(len(ids), dtype=bool)
        if len(ids):
            line_start[0] = True
            line_start[1:] = is_newline[:-1] | (doc[1:] != doc[:-1])
        line_of = np.cumsum(line_start) - 1
        words_mask = ~is_newline
        words_per_line = np.bincount(line_of[words_mask], minlength=int(line_start.sum()))
        paragraph_of_line, self.starts, self.n_paragraphs = _paragraphs(
            doc[line_start], words_per_line, n_docs, min_words)
        self.n_docs = n_docs
        self.ids = ids[words_mask]
        self.doc = doc[words_mask]
        self.paragraph = paragraph_of_line[line_of[words_mask]]
        first = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.doc, minlength=n_docs), out=first[1:])
        self.position = np.arange(len(self.ids), dtype=np.int64) - first[self.doc]


def _paragraphs(line_doc: np.ndarray, words_per_line: np.ndarray, n_docs: int, min_words: int
                ) -> tuple[np.ndarray, np.ndarray, int]:
    """Paragraph number of each line, each document's first paragraph and the number of paragraphs.
    Lines shorter than `min_words` (headlines, datelines) join the paragraph after them, so the
    first paragraph is the headline with the lead; a short last line joins the paragraph before
    it. Every document has at least one paragraph, even an empty one."""
    counts = words_per_line.tolist()
    bounds = np.searchsorted(line_doc, np.arange(n_docs + 1)).tolist()
    paragraph_of_line = [0] * len(counts)
    starts = [0] * n_docs
    number = 0
    for d in range(n_docs):
        starts[d] = number
        pending, produced, first, end = 0, False, bounds[d], bounds[d + 1]
        for line in range(first, end):
            pending += counts[line]
            if pending >= min_words:
                paragraph_of_line[first:line + 1] = [number] * (line + 1 - first)
                number += 1
                produced = True
                pending, first = 0, line + 1
        if first < end:
            paragraph_of_line[first:end] = [number - 1 if produced else number] * (end - first)
        if not produced:
            number += 1
    return (np.array(paragraph_of_line, dtype=np.int64), np.array(starts, dtype=np.int64),
            number)


class _PairTable:
    """Integer keys (word hashes, word pairs) -> their positions, as an open-addressing hash table
    probed with vectorised numpy steps: looking up every word or word pair of a batch this way is
    several times faster than a binary search over the sorted keys. No key may be -1."""

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, keys: np.ndarray):
        self.bits = max(4, int(np.ceil(np.log2(2 * len(keys) + 1))))
        self.keys = np.full(1 << self.bits, -1, dtype=np.int64)
        self.values = np.full(1 << self.bits, -1, dtype=np.int64)
        mask = (1 << self.bits) - 1
        pending = np.arange(len(keys))
        slot = self._slots(keys)
        while len(pending):
            free = self.keys[slot[pending]] == -1
            _, first = np.unique(slot[pending[free]], return_index=True)
            placed = pending[free][first]
            self.keys[slot[placed]] = keys[placed]
            self.values[slot[placed]] = placed
            pending = pending[self.keys[slot[pending]] != keys[pending]]
            slot[pending] = (slot[pending] + 1) & mask

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        hashed = keys.astype(np.uint64) * self._MULTIPLIER
        return (hashed >> np.uint64(64 - self.bits)).astype(np.int64)

    def positions(self, queries: np.ndarray) -> np.ndarray:
        """Each query's position among the keys, -1 where it is not one."""
        found = np.full(len(queries), -1, dtype=np.int64)
        mask = (1 << self.bits) - 1
        pending = np.arange(len(queries))
        slot = self._slots(queries)
        while len(pending):
            stored = self.keys[slot]
            hit = stored == queries[pending]
            found[pending[hit]] = self.values[slot[hit]]
            go_on = ~hit & (stored != -1)
            pending, slot = pending[go_on], (slot[go_on] + 1) & mask
        return found


class _NgramBlock:
    """One vocabulary of word 1-2-grams over a word table, with its IDF weights. Bigrams are kept
    as sorted integer keys (first word x table size + second word)."""

    def __init__(self, unigrams: np.ndarray, bigram_first: np.ndarray, bigram_second: np.ndarray,
                 idf: np.ndarray, n_words: int):
        keys = bigram_first * n_words + bigram_second
        order = np.argsort(keys)
        self.unigrams = unigrams
        self.bigram_keys = keys[order]
        self.n_words = n_words
        self.idf = np.concatenate([idf[:len(unigrams)], idf[len(unigrams):][order]]
                                  ).astype(np.float32)
        self.column_of_word = np.full(n_words + 1, -1, dtype=np.int64)
        self.column_of_word[unigrams] = np.arange(len(unigrams))
        self.bigram_table = _PairTable(self.bigram_keys)

    @classmethod
    def learn(cls, stream: tuple, n_words: int, n_docs: int, min_df: int, max_df: float
              ) -> _NgramBlock:
        """The terms of a token stream whose document frequency is within [min_df, max_df x
        documents] (all terms seen, if that leaves none)."""
        ids, doc, pair = stream
        known = ids >= 0
        unigrams, unigram_df = _document_frequency(ids[known], doc[known])
        bigrams, bigram_df = _document_frequency(ids[:-1][pair] * n_words + ids[1:][pair],
                                                 doc[1:][pair])
        df = np.concatenate([unigram_df, bigram_df])
        keep = (df >= min_df) & (df <= max(max_df * n_docs, min_df))
        if not keep.any():
            keep = df > 0
        keep_uni, keep_bi = keep[:len(unigrams)], keep[len(unigrams):]
        idf = np.log((1 + n_docs) / (1 + df[keep])) + 1
        return cls(unigrams[keep_uni], bigrams[keep_bi] // n_words, bigrams[keep_bi] % n_words,
                   idf, n_words)

    def words_used(self) -> np.ndarray:
        return np.concatenate([self.unigrams, self.bigram_keys // self.n_words,
                               self.bigram_keys % self.n_words])

    def renumbered(self, renumber: np.ndarray, n_words: int) -> _NgramBlock:
        """The same block over a smaller word table (old word id -> new via `renumber`)."""
        first, second = np.divmod(self.bigram_keys, self.n_words)
        return _NgramBlock(renumber[self.unigrams], renumber[first], renumber[second], self.idf,
                           n_words)

    @property
    def n_columns(self) -> int:
        return len(self.unigrams) + len(self.bigram_keys)

    def columns(self, ids: np.ndarray, pair: np.ndarray) -> np.ndarray:
        """Columns of the tokens' unigrams, then of the bigrams of the consecutive tokens flagged
        in `pair` (-1: not in the vocabulary)."""
        bigram = self.bigram_table.positions(ids[:-1][pair] * self.n_words + ids[1:][pair])
        return np.concatenate([self.column_of_word[ids],
                               np.where(bigram >= 0, bigram + len(self.unigrams), -1)])

    def names(self, words: list[str]) -> list[str]:
        first, second = np.divmod(self.bigram_keys, self.n_words)
        return [words[w] for w in self.unigrams] + [f"{words[a]} {words[b]}"
                                                    for a, b in zip(first, second)]


def _tfidf(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int], idf: np.ndarray,
           lead_start: int | None = None, lead_weight: float = 1.0) -> sparse.csr_matrix:
    """Sublinear TF-IDF of terms counted per row (one entry per occurrence; column -1 is skipped),
    each row scaled to unit length — or, with `lead_start`, the row's columns before it to unit
    length and those from it on to length `lead_weight`."""
    keep = columns >= 0
    # built column-major, then converted: two linear passes leave each row's columns sorted (so a
    # row's lead part comes last), which is faster than sorting every row
    matrix = sparse.csc_matrix((np.ones(int(keep.sum()), dtype=np.float32),
                                (rows[keep], columns[keep])), shape=shape).tocsr()
    matrix.sum_duplicates()
    data = matrix.data
    np.log(data, out=data)
    data += 1
    data *= idf[matrix.indices]
    starts = matrix.indptr[:-1]
    weights = np.ones(shape[0], dtype=np.float32)
    if lead_start is not None:
        article_entries = _segment_sums(matrix.indices < lead_start, starts)
        starts = np.column_stack([starts, starts + article_entries]).ravel()
        weights = np.column_stack([weights, np.full(shape[0], lead_weight, np.float32)]).ravel()
    norms = np.sqrt(_segment_sums(data * data, starts))
    scale = np.divide(weights, norms, out=np.zeros_like(norms), where=norms > 0)
    data *= np.repeat(scale, np.diff(np.append(starts, len(data))))
    return matrix


def _segment_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of `values` over the segments that begin at `starts` (non-decreasing; the last runs
    to the end); empty segments sum to 0."""
    if not len(values):
        return np.zeros(len(starts), dtype=values.dtype if values.dtype != bool else np.int64)
    values = values.astype(np.int64) if values.dtype == bool else values
    sums = np.add.reduceat(values, np.minimum(starts, len(values) - 1))
    sums[np.diff(np.append(starts, len(values))) == 0] = 0
    return sums


def _pairs(ids: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Consecutive tokens of the same group (paragraph or document) that are both known words."""
    return (group[1:] == group[:-1]) & (ids[1:] >= 0) & (ids[:-1] >= 0)


def _document_frequency(keys: np.ndarray, doc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys and the number of documents each occurs in."""
    order = np.lexsort((doc, keys))
    keys, doc = keys[order], doc[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = (keys[1:] != keys[:-1]) | (doc[1:] != doc[:-1])
    return np.unique(keys[first], return_counts=True)


class TextFeatures:
    """Fitted feature blocks. `transform` returns the article matrix, the paragraph matrix and the
    paragraph start of each article; both matrices share one column space (the lead block's columns
    are empty in the paragraph matrix).

    Word 1-2-grams, counted within a paragraph for the article and paragraph blocks and within the
    first `lead_words` tokens for the lead block; a term is kept when it occurs in at least `min_df`
    and at most `max_df` x documents training articles."""

    def __init__(self, *, lead_words: int = 60, lead_weight: float = 0.5, min_df: int = 2,
                 max_df: float = 0.9, min_paragraph_words: int = PARAGRAPH_MIN_WORDS):
        self.lead_words = lead_words
        self.lead_weight = lead_weight
        self.min_df = min_df
        self.max_df = max_df
        self.min_paragraph_words = min_paragraph_words

    def fit_transform(self, texts: list[str]):
        words = _Words(texts)
        hashes, first, word_ids = np.unique(words.hashes, return_index=True, return_inverse=True)
        encoded = _Encoded(words, word_ids.reshape(-1), self.min_paragraph_words)
        n_words, n_docs = len(hashes), len(texts)
        blocks = [_NgramBlock.learn(self._article_stream(encoded), n_words, n_docs, self.min_df,
                                    self.max_df)]
        if self.lead_weight:
            blocks.append(_NgramBlock.learn(self._lead_stream(encoded), n_words, n_docs,
                                            self.min_df, 1.0))
        used = np.unique(np.concatenate([block.words_used() for block in blocks]))
        renumber = np.full(n_words, -1, dtype=np.int64)
        renumber[used] = np.arange(len(used))
        self.blocks_ = [block.renumbered(renumber, len(used)) for block in blocks]
        self.word_table_ = _PairTable(hashes[used])
        self.words_ = [words.word(index) for index in first[used]]
        self.idf_ = np.concatenate([block.idf for block in self.blocks_])
        encoded.ids = renumber[encoded.ids]
        return self._matrices(encoded)

    @staticmethod
    def _article_stream(encoded: _Encoded) -> tuple:
        return encoded.ids, encoded.doc, _pairs(encoded.ids, encoded.paragraph)

    def _lead_stream(self, encoded: _Encoded) -> tuple:
        in_lead = encoded.position < self.lead_words
        ids, doc = encoded.ids[in_lead], encoded.doc[in_lead]
        return ids, doc, _pairs(ids, doc)

    def transform(self, texts: list[str]):
        words = _Words(texts)
        return self._matrices(_Encoded(words, self.word_table_.positions(words.hashes),
                                       self.min_paragraph_words))

    def _matrices(self, encoded: _Encoded):
        article = self.blocks_[0]
        ids, doc, pair = self._article_stream(encoded)
        columns = article.columns(ids, pair)
        n_columns = sum(block.n_columns for block in self.blocks_)
        paragraph_rows = np.concatenate([encoded.paragraph, encoded.paragraph[1:][pair]])
        paragraphs = _tfidf(paragraph_rows, columns, (encoded.n_paragraphs, n_columns),
                            self.idf_)
        doc_rows = [doc, doc[1:][pair]]
        if self.lead_weight:
            ids, lead_doc, pair = self._lead_stream(encoded)
            lead_columns = self.blocks_[1].columns(ids, pair)
            columns = np.concatenate([columns, np.where(lead_columns >= 0,
                                                        lead_columns + article.n_columns, -1)])
            doc_rows += [lead_doc, lead_doc[1:][pair]]
        articles = _tfidf(np.concatenate(doc_rows), columns, (encoded.n_docs, n_columns),
                          self.idf_, article.n_columns if self.lead_weight else None,
                          self.lead_weight)
        return articles, paragraphs, encoded.starts

    def phrase_names(self) -> np.ndarray:
        """One entry per column: its word n-gram."""
        return np.array([name for block in self.blocks_ for name in block.names(self.words_)],
                        dtype=object)

    def phrase_index(self) -> tuple[np.ndarray, list[str]]:
        """For each column the id of its readable word n-gram (-1 for n-grams that start or end with
        a stop word or are a single character), and the phrases by id; a phrase in both the article
        and the lead block has one id. Computed once, then kept."""
        if getattr(self, "phrase_index_", None) is None:
            ids: dict[str, int] = {}
            column_ids = [ids.setdefault(name, len(ids)) if _readable(name) else -1
                          for name in self.phrase_names()]
            self.phrase_index_ = (np.array(column_ids, dtype=np.int64), list(ids))
        return self.phrase_index_


def _readable(phrase: str) -> bool:
    words = phrase.split()
    return (bool(words) and words[0] not in ENGLISH_STOP_WORDS
            and words[-1] not in ENGLISH_STOP_WORDS and len(phrase) > 1)
