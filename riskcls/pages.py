"""Split a scraped news page (several articles plus page furniture) into its articles.

Scraped pages interleave articles with furniture: outlet names, "2 hours ago" lines, "- Reuters"
bylines, "Related Articles", "Comments", sharing and sign-up prompts. Furniture lines separate the
articles; each block between them is an article whose first short line is its headline, and a block
with no headline (text after an "Advertisement" line or a share bar) continues the article before
it. A text with no furniture is one article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_ARTICLE_WORDS = 8
MAX_HEADLINE_WORDS = 25
MAX_OUTLET_WORDS = 5

_TIME_AGO = re.compile(
    r"^(?:(?:updated|published|posted)\s*:?\s*)?"
    r"(?:(?:an?|\d+)\s+(?:sec(?:ond)?|min(?:ute)?|hr|hour|day|week|month|year)s?\s+ago"
    r"|just now|yesterday|today)\.?$",
    re.I,
)
_DATE_ONLY = re.compile(
    r"^(?:(?:updated|published|posted)\s*:?\s*)?(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+\d{4}"
    r"|\d{1,2}\s+[A-Z][a-z]{2,8}\.?\s+\d{4})(?:\s*(?:at\s*)?\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?"
    r"(?:\s*[A-Z]{2,4})?)?$",
    re.I,
)
_BULLET_SOURCE = re.compile(r"^[-–—•·|]\s*\S.{0,60}$")
_BYLINE = re.compile(r"^by\s+[A-Z][\w.'-]*(?:\s+(?:and\s+)?[A-Z][\w.'-]*){0,5}$", re.I)
_UI_PHRASES = re.compile(
    r"^(?:related(?: articles| stories| news| coverage)?|more (?:from|on|stories|news)\b.*|"
    r"comments?(?: \(\d+\))?|no comments yet\W*|be the first to comment\W*|leave a comment|"
    r"try our ai features|explore what .{1,40} can do for you\W*|advertisement|sponsored|"
    r"share(?: this(?: article| story)?)?|share on \w+|read more\W*|continue reading\W*|"
    r"sign up\b.*|subscribe\b.*|newsletter\b.*|most (?:read|popular|viewed)|trending(?: now)?|"
    r"recommended(?: for you)?|see also|you may also like|follow us\b.*|click here\b.*|"
    r"opens new tab|loading\W*|skip to (?:main )?content|back to top|top stories|"
    r"log ?in|register|menu|search|home|listen to this article|save|print|email|add to myft|"
    r"read next|\d+\s+min(?:ute)?s?\s+read|(?:photo(?:graph)?|image|picture|credit)s?\s*:.{0,80})$",
    re.I,
)


@dataclass(frozen=True)
class Article:
    """One article cut from a page."""

    title: str
    text: str


def is_furniture(line: str) -> bool:
    """Whether a whole line is page furniture rather than article text."""
    stripped = line.strip().strip("#*>").strip()
    if not stripped:
        return False
    return bool(_TIME_AGO.match(stripped) or _DATE_ONLY.match(stripped)
                or _UI_PHRASES.match(stripped) or _BULLET_SOURCE.match(stripped)
                or _BYLINE.match(stripped))


def _looks_like_outlet(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= MAX_OUTLET_WORDS and not re.search(r"[.!?,:;]$", line.strip())


def _furniture_mask(lines: list[str]) -> list[bool]:
    """Which lines are furniture; an outlet name counts when the next non-blank line is furniture
    of the time or source kind ("The Guardian" above "an hour ago")."""
    mask = [is_furniture(line) for line in lines]
    for i, line in enumerate(lines):
        if mask[i] or not _looks_like_outlet(line):
            continue
        following = next((j for j in range(i + 1, len(lines)) if lines[j].strip()), None)
        if following is not None and mask[following]:
            nxt = lines[following].strip()
            if _TIME_AGO.match(nxt) or _DATE_ONLY.match(nxt) or _BULLET_SOURCE.match(nxt):
                mask[i] = True
    return mask


def _headline_and_body(block: list[str]) -> Article:
    content = [line.strip() for line in block]
    while content and not content[0]:
        content.pop(0)
    first = content[0] if content else ""
    rest = "\n".join(content[1:]).strip()
    if rest and _is_headline(first):
        return Article(title=first.lstrip("#").strip(), text=_tidy(rest))
    return Article(title="", text=_tidy("\n".join(content)))


def _is_headline(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= MAX_HEADLINE_WORDS and not line.rstrip().endswith((".", ":", ";", ","))


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def split_page(text: str) -> list[Article]:
    """The articles of a page; a text without page furniture comes back as one article."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    mask = _furniture_mask(lines)
    if not any(mask):
        article = _headline_and_body(lines)
        return [article] if article.text or article.title else []
    blocks: list[list[str]] = [[]]
    for line, furniture in zip(lines, mask):
        if furniture:
            if blocks[-1]:
                blocks.append([])
        else:
            blocks[-1].append(line)
    articles = []
    pending_title = ""
    for block in blocks:
        content = [line.strip() for line in block if line.strip()]
        if len(content) == 1 and _is_headline(content[0]) and \
                len(content[0].split()) < MIN_ARTICLE_WORDS * 2:
            pending_title = content[0].lstrip("#").strip()
            continue
        if sum(len(line.split()) for line in content) < MIN_ARTICLE_WORDS:
            pending_title = ""
            continue
        article = _headline_and_body(block)
        if pending_title and not article.title:
            article = Article(title=pending_title, text=article.text)
        elif not article.title and articles and not pending_title:
            previous = articles[-1]
            articles[-1] = Article(previous.title, _tidy(f"{previous.text}\n\n{article.text}"))
            continue
        pending_title = ""
        articles.append(article)
    return articles
