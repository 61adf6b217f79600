from hypothesis import given, settings
from hypothesis import strategies as st

from riskcls.pages import is_furniture, split_page

BODY_A = ("The port authority said on Tuesday that container traffic rose by a fifth in the "
          "third quarter, helped by new routes to West Africa and a busier season for fruit.")
BODY_B = ("Lawmakers in the regional assembly voted to extend the school day by thirty minutes, "
          "a change teachers' unions said would need more funding than was promised.")
BODY_C = ("A small bakery in the old town has started selling bread made from an heirloom wheat "
          "that local farmers revived after decades, drawing queues every weekend morning.")

AGGREGATOR = f"""Container traffic jumps at the port
{BODY_A}
It was the best quarter since the harbour was expanded.

Comments
No comments yet...
Related Articles


Daily Courier
3 hours ago
- Daily Courier
Assembly backs a longer school day
{BODY_B}


Metro Wire
an hour ago
- Metro Wire
Heirloom wheat brings queues to a bakery
{BODY_C}
"""

NEWS_SITE = f"""Skip to content
Menu
Search
## Container traffic jumps at the port
By Ana Pereira
Published 2 hours ago
{BODY_A}
Share this article
Advertisement
## Assembly backs a longer school day
By Tom Hale and Rui Costa
Updated: 14 March 2025 at 10:32 GMT
{BODY_B}
Read more
You may also like
"""

DIGEST = f"""Morning digest
Sign up for our newsletter
Container traffic jumps at the port
{BODY_A}
Continue reading

Heirloom wheat brings queues to a bakery
{BODY_C}
Continue reading
Most read
"""


def test_aggregator_layout_splits_into_articles_and_drops_furniture():
    articles = split_page(AGGREGATOR)
    assert [a.title for a in articles] == ["Container traffic jumps at the port",
                                          "Assembly backs a longer school day",
                                          "Heirloom wheat brings queues to a bakery"]
    assert articles[0].text.startswith("The port authority")
    assert "best quarter" in articles[0].text
    joined = " ".join(a.text for a in articles)
    for furniture in ("Comments", "Related Articles", "hours ago", "Daily Courier", "- Metro"):
        assert furniture not in joined


def test_news_site_layout_with_bylines_and_markdown_headings():
    articles = split_page(NEWS_SITE)
    assert [a.title for a in articles] == ["Container traffic jumps at the port",
                                          "Assembly backs a longer school day"]
    assert articles[1].text == BODY_B


def test_digest_layout():
    articles = split_page(DIGEST)
    assert [a.title for a in articles] == ["Container traffic jumps at the port",
                                          "Heirloom wheat brings queues to a bakery"]


def test_a_plain_article_stays_whole_with_its_headline():
    text = f"Assembly backs a longer school day\n\n{BODY_B}\n\n{BODY_A}"
    [article] = split_page(text)
    assert article.title == "Assembly backs a longer school day"
    assert BODY_A in article.text and BODY_B in article.text


def test_article_without_headline_keeps_all_text():
    [article] = split_page(BODY_A)
    assert article.title == "" and article.text == BODY_A


def test_furniture_lines():
    for line in ("2 hours ago", "an hour ago", "- Reuters", "Related Articles", "Comments",
                 "No comments yet...", "Try Our AI Features", "Explore what Daily8 AI can do for you:",
                 "By Jane Doe", "Published 3 days ago", "Advertisement", "Listen to this article",
                 "4 min read", "Photograph: Anna Berg/Reuters", "Save"):
        assert is_furniture(line), line
    for line in (BODY_A, "Tariffs rise again", "Comments from the minister drew criticism."):
        assert not is_furniture(line), line


def test_empty_and_furniture_only_pages():
    assert split_page("") == []
    assert split_page("Comments\nRelated Articles\n2 hours ago\n") == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=2000))
def test_splitter_never_crashes_and_keeps_only_nonempty_articles(text):
    for article in split_page(text):
        assert article.text.strip() or article.title.strip()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["Comments", "2 hours ago", "- Reuters", "", "Reuters",
                                 "Headline about ports", BODY_A, BODY_B, "Related Articles",
                                 "By Someone", "\r", "   "]), max_size=40))
def test_splitter_on_shuffled_page_parts(lines):
    articles = split_page("\n".join(lines))
    body_count = sum(line in (BODY_A, BODY_B) for line in lines)
    assert len(articles) <= max(body_count, 1)
    for article in articles:
        assert "Comments" not in article.text.split("\n")
        assert "2 hours ago" not in article.text.split("\n")


def test_an_advert_or_share_bar_inside_an_article_does_not_split_it():
    page = (f"Container traffic jumps at the port\n{BODY_A}\nAdvertisement\n{BODY_B}\n"
            f"Share this article\n{BODY_C}\nRelated Articles\n\nMetro Wire\n2 hours ago\n"
            f"Heirloom wheat brings queues to a bakery\n{BODY_C}\n")
    articles = split_page(page)
    assert [a.title for a in articles] == ["Container traffic jumps at the port",
                                          "Heirloom wheat brings queues to a bakery"]
    assert BODY_A in articles[0].text and BODY_B in articles[0].text and BODY_C in articles[0].text
