"""Reuters-21578 (Distribution 1.0), ModApte split, read from ../shared at run time into riskcls
labelled records and a taxonomy generated from its TOPICS categories. Nothing is copied into the
project."""

from __future__ import annotations

import gzip
import html
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

REUTERS_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "reuters21578"
R10 = ("earn", "acq", "money-fx", "grain", "crude", "trade", "interest", "wheat", "ship", "corn")

_DOC = re.compile(r"<REUTERS(?P<attrs>[^>]*)>(?P<body>.*?)</REUTERS>", re.S)
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_TOPICS = re.compile(r"<TOPICS>(.*?)</TOPICS>", re.S)
_D = re.compile(r"<D>(.*?)</D>")
_TITLE = re.compile(r"<TITLE>(.*?)</TITLE>", re.S)
_DATE = re.compile(r"<DATE>\s*(\d+-\w+-\d+)\s+([\d:]+)")
_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.S)
_UNPROC = re.compile(r'<TEXT TYPE="UNPROC">(.*?)</TEXT>', re.S)
_CONTROL = re.compile(r"&#(?:1|2|3|5|22|27|30|31|127);")


def available(directory: Path = REUTERS_DIR) -> bool:
    return directory.is_dir() and any(directory.glob("reut2-*.sgm.gz"))


def _clean(text: str) -> str:
    return html.unescape(_CONTROL.sub(" ", text)).strip()


def _paragraphs(body: str) -> str:
    """Wire copy is hard-wrapped at about 70 characters and starts each paragraph with an indent:
    rejoin the lines of each paragraph and put one paragraph per line."""
    paragraphs = re.split(r"\n(?=\s{2,}\S)", body)
    return "\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _iso_date(day: str, clock: str) -> str:
    """('26-FEB-1987', '15:01:01') -> '1987-02-26T15:01:01', so that dates sort as strings."""
    return datetime.strptime(f"{day} {clock}", "%d-%b-%Y %H:%M:%S").isoformat()


def read_modapte(directory: Path = REUTERS_DIR) -> tuple[list[dict], list[dict]]:
    """All ModApte train and test documents (LEWISSPLIT TRAIN/TEST with TOPICS="YES"), each with
    its wire date."""
    train, test = [], []
    for path in sorted(directory.glob("reut2-*.sgm.gz")):
        raw = gzip.open(path, "rb").read().decode("latin-1")
        for match in _DOC.finditer(raw):
            attrs = dict(_ATTR.findall(match.group("attrs")))
            if attrs.get("TOPICS") != "YES" or attrs.get("LEWISSPLIT") not in ("TRAIN", "TEST"):
                continue
            body = match.group("body")
            topics_block = _TOPICS.search(body)
            topics = _D.findall(topics_block.group(1)) if topics_block else []
            title = _TITLE.search(body)
            # TYPE="UNPROC" documents (tables such as the Fed weekly reports) have no TITLE/BODY:
            # the whole TEXT element is the body
            text = _BODY.search(body) or _UNPROC.search(body)
            date = _DATE.search(body)
            record = {
                "id": f"reuters-{attrs['NEWID']}",
                "date": _iso_date(*date.groups()) if date else "",
                "title": _clean(title.group(1)) if title else "",
                "text": _paragraphs(_clean(text.group(1))) if text else "",
                "labels": topics,
            }
            (train if attrs["LEWISSPLIT"] == "TRAIN" else test).append(record)
    return train, test


def r90_r10(train: list[dict], test: list[dict]) -> dict[str, tuple[list[str], list, list]]:
    """The R90 and R10 category sets with their documents (ApteMod convention: documents with at
    least one category of the set; text falls back to the title when the body is empty)."""
    train_counts = Counter(t for r in train for t in r["labels"])
    test_counts = Counter(t for r in test for t in r["labels"])
    r90 = sorted(t for t in train_counts if test_counts.get(t))
    r10 = [t for t, _ in sorted(train_counts.items(), key=lambda kv: -kv[1]) if t in r90][:10]
    result = {}
    for name, categories in (("R90", r90), ("R10", sorted(r10))):
        keep = set(categories)

        def restrict(records, keep=keep):
            out = []
            for r in records:
                labels = [t for t in r["labels"] if t in keep]
                if labels:
                    out.append({**r, "labels": labels, "text": r["text"] or r["title"]})
            return out

        result[name] = (categories, restrict(train), restrict(test))
    return result
