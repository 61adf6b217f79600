import gzip

import pytest

from riskcls.readers import Problem, UnreadableText, decode_text, html_to_text, iter_records


def test_jsonl_lines_and_problems(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"text": "a"}\n\n[1, 2]\n{"text": \n{"text": "\xff\xfe bad"}\n{"text": "b"}\n')
    out = list(iter_records(path))
    assert out[0] == (1, {"text": "a"})
    assert isinstance(out[1], Problem) and out[1].line == 3 and "JSON object" in out[1].message
    assert out[2].line == 4 and "malformed JSON" in out[2].message
    assert out[3].line == 5 and "undecodable" in out[3].message
    assert out[4] == (6, {"text": "b"})


def test_csv_rows_with_line_numbers_and_bad_rows(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b'id,text\n1,"multi\nline"\n2,caf\xe9\n3,a,extra\n4,ok\n')
    out = list(iter_records(path))
    assert out[0] == (3, {"id": "1", "text": "multi\nline"})
    assert out[1].line == 4 and "undecodable" in out[1].message
    assert out[2].line == 5 and "more cells" in out[2].message
    assert out[3] == (6, {"id": "4", "text": "ok"})


def test_corrupt_gzip_and_parquet_are_problems(tmp_path):
    gz = tmp_path / "r.jsonl.gz"
    gz.write_bytes(gzip.compress(b'{"text": "a"}\n' * 100)[:40])
    assert any(isinstance(x, Problem) for x in iter_records(gz))
    parquet = tmp_path / "r.parquet"
    parquet.write_bytes(b"not parquet at all")
    [problem] = list(iter_records(parquet))
    assert "Parquet" in problem.message


def test_decode_text_handles_encodings_and_refuses_binary():
    assert decode_text("Zürich".encode()) == "Zürich"
    assert decode_text("\ufeffhello".encode("utf-8")) == "hello"
    assert decode_text("Größe".encode("utf-16")) == "Größe"
    latin = ("Les négociations ont échoué à Genève après une journée très tendue, "
             "a déclaré le délégué français.").encode("cp1252")
    assert "négociations" in decode_text(latin)
    with pytest.raises(UnreadableText, match="binary"):
        decode_text(b"\x00\x01\x02PNG")


def test_html_is_reduced_to_article_text():
    html = ("<html><head><title>Port traffic jumps</title></head><body><nav>Home | World</nav>"
            "<article><h1>Port traffic jumps</h1><p>The port authority said container traffic "
            "rose by a fifth in the third quarter, helped by new routes to West Africa.</p>"
            "<p>It was the best quarter since the harbour was expanded in 2019, officials said."
            "</p></article><footer>Copyright</footer></body></html>")
    text = html_to_text(html)
    assert text.startswith("Port traffic jumps")
    assert "container traffic" in text
    assert "Copyright" not in text


def test_overlong_jsonl_line_is_reported_and_skipped(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text('{"text": "a"}\n{"text": "' + "x" * 5000 + '"}\n{"text": "b"}\n')
    out = list(iter_records(path, max_line_bytes=100))
    assert out[0] == (1, {"text": "a"})
    assert isinstance(out[1], Problem) and out[1].line == 2 and "longer than" in out[1].message
    assert out[2] == (3, {"text": "b"})
