import os

from riskcls.inputs import Document, iter_documents
from riskcls.readers import Problem
from tests.test_pages import AGGREGATOR

ARTICLE = ("Ports busy\n\nThe port authority said on Tuesday that container traffic rose by a fifth "
           "in the third quarter.")


def split(items):
    docs = [x for x in items if isinstance(x, Document)]
    problems = [x for x in items if isinstance(x, Problem)]
    return docs, problems


def test_folder_of_every_kind_with_bad_inputs_reported(tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    (tmp_path / "page.md").write_text(AGGREGATOR)
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02\x03")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "recs.jsonl").write_text('{"id": "r1", "text": "Tariffs rose."}\n'
                                         '{"id": "r2", "text": ""}\nnot json\n')
    (tmp_path / "rows.csv").write_text("id,title,text\nc1,T,Body text here\nc2,T2,\n")
    (tmp_path / ".hidden.txt").write_text(ARTICLE)
    docs, problems = split(list(iter_documents([str(tmp_path)])))
    ids = [d.id for d in docs]
    assert ids == ["a.txt", "page.md#1", "page.md#2", "page.md#3", "r1", "c1"]
    assert docs[1].title == "Container traffic jumps at the port"
    assert docs[4].source.endswith("recs.jsonl:1")
    reasons = sorted((os.path.basename(p.source), p.line, p.message.split(" ")[0]) for p in problems)
    assert reasons == [("binary.txt", None, "binary"), ("empty.txt", None, "empty:"),
                       ("notes.pdf", None, "unsupported"), ("recs.jsonl", 2, "record"),
                       ("recs.jsonl", 3, "malformed"), ("rows.csv", 3, "record")]


def test_no_split_keeps_a_page_whole(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(AGGREGATOR)
    docs, _ = split(list(iter_documents([str(page)], split_pages=False)))
    assert len(docs) == 1 and "Related Articles" in docs[0].text


def test_glob_stdin_missing_and_max_bytes(tmp_path):
    (tmp_path / "x1.txt").write_text(ARTICLE)
    (tmp_path / "x2.txt").write_text(ARTICLE + " More." * 50)
    docs, problems = split(list(iter_documents([str(tmp_path / "x*.txt"), str(tmp_path / "nope"),
                                                str(tmp_path / "zz*.txt")], max_bytes=200)))
    assert [d.id for d in docs] == ["x1.txt"]
    assert {p.message.split(" ")[0] for p in problems} == {"file", "no", "pattern"}

    class FakeStdin:
        def read(self):
            return ARTICLE.encode()

    docs, _ = split(list(iter_documents(["-"], stdin=FakeStdin())))
    assert docs[0].id == "stdin" and docs[0].title == "Ports busy"


def test_symlink_loop_is_reported_not_followed_forever(tmp_path):
    (tmp_path / "a.txt").write_text(ARTICLE)
    os.symlink(tmp_path, tmp_path / "loop")
    docs, problems = split(list(iter_documents([str(tmp_path)])))
    assert [d.id for d in docs] == ["a.txt"]
    assert any("symlink loop" in p.message for p in problems)


def test_unreadable_file_is_reported(tmp_path, monkeypatch):
    target = tmp_path / "locked.txt"
    target.write_text(ARTICLE)
    import riskcls.readers as readers

    real_open = open

    def deny(path, *args, **kwargs):
        if str(path) == str(target):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(readers, "open", deny, raising=False)
    docs, problems = split(list(iter_documents([str(target)])))
    assert docs == [] and "Permission denied" in problems[0].message


def test_records_with_body_or_content_and_headline_fields(tmp_path):
    path = tmp_path / "other.jsonl"
    path.write_text('{"id": "b1", "headline": "Ports busy", "body": "Traffic rose."}\n'
                    '{"id": "b2", "content": "Second story."}\n{"id": "b3", "summary": "x"}\n')
    docs, problems = split(list(iter_documents([str(path)])))
    assert [(d.id, d.title, d.text) for d in docs] == [("b1", "Ports busy", "Traffic rose."),
                                                      ("b2", "", "Second story.")]
    assert problems[0].line == 3 and "no 'text'" in problems[0].message


def test_ids_of_files_in_sub_folders_are_their_relative_paths(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "story.txt").write_text(ARTICLE)
    docs, _ = split(list(iter_documents([str(tmp_path)])))
    assert [d.id for d in docs] == ["a/story.txt", "b/story.txt"]
    docs, _ = split(list(iter_documents([str(tmp_path / "a" / "story.txt")])))
    assert [d.id for d in docs] == ["story.txt"]
