"""Reading export files: encodings, CSV records with their physical lines, JSON."""

import codecs
import gzip

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_adapters_properties import CSV_FORMATS, SETTINGS, csv_file, plans

from cxpulse.adapters import AdapterError
from cxpulse.adapters.textfile import (
    after_lines,
    line_breaks,
    load_json,
    newline_counts,
    parse_delimited,
    quote_lines,
    read_delimited,
    read_utf8,
)


def table(data: bytes, **kwargs):
    return parse_delimited(data, "f.csv", "a test CSV", **kwargs)


def test_records_carry_the_lines_they_span():
    got = table(b'a,b\n1,"two\nlines"\n2,x\n')
    assert got.records.to_dict("list") == {"a": ["1", "2"], "b": ["two\nlines", "x"]}
    assert got.lines.to_dict("list") == {"line": [2, 4], "line_end": [3, 4]}


def test_records_that_do_not_fit_the_header_are_rejects_at_their_line():
    got = table(b'a,b,c\n1,"x\ny",3\n4,5\n5,6,7,8\n6,7,8\n')
    assert got.records["a"].tolist() == ["1", "6"]
    assert got.lines["line"].tolist() == [2, 6]
    assert got.rejects.to_dict("list") == {
        "line": [4, 5],
        "raw": ["4,5", "5,6,7,8"],
        "reason": ["expected 3 fields, got 2", "expected 3 fields, got 4"],
    }


def test_an_unterminated_quote_swallows_the_rest_into_one_reject():
    got = table(b'a,b,c\n1,2,3\n3,"open,x\n4,5,6\n')
    assert got.records["a"].tolist() == ["1"]
    assert got.rejects.to_dict("list") == {
        "line": [3],
        "raw": ['3,"open,x\n4,5,6'],
        "reason": ["expected 3 fields, got 2"],
    }


def test_bare_carriage_return_is_a_line_break_in_the_field_not_a_new_record():
    got = table(b"a,b\r\n1,x\ry\r\n2,z\n3\n")
    assert got.records["b"].tolist() == ["x\ny", "z"]
    assert got.lines["line"].tolist() == [2, 3]
    assert got.rejects["line"].tolist() == [4]
    assert got.quote(2, 2) == "1,x\ry"


def test_blank_lines_are_skipped_and_nul_bytes_and_empty_records_set_a_record_aside():
    got = table(b"a,b\n\n1,2\n3,x\x00y\n,\n4,5\n")
    assert got.records["a"].tolist() == ["1", "4"]
    assert got.lines["line"].tolist() == [3, 6]
    assert got.rejects.to_dict("list") == {
        "line": [4, 5],
        "raw": ["3,x\\x00y", ","],
        "reason": ["record contains NUL bytes", "record is empty: every field is blank"],
    }


def test_a_field_bigger_than_a_parse_block_is_read_whole():
    big = b"x" * 5_000_000
    got = table(b"a,b\n1," + big + b"\n2,y\n")
    assert got.records["b"].str.len().tolist() == [5_000_000, 1]
    assert got.lines["line"].tolist() == [2, 3]


def test_newline_counts_are_per_value_across_chunks_and_slices():
    column = pa.chunked_array(
        [
            pa.array(["a\n\n", "b\n", "", "\n"])[1:],
            pa.array([], pa.string()),
            pa.array(["x\ny\n", "q"]),
        ]
    )
    assert newline_counts(column).tolist() == [1, 0, 1, 2, 0]


def test_a_one_column_header_names_the_delimiter_it_looks_like():
    with pytest.raises(AdapterError, match=r"f.csv: .*1 column.*separated by ';'"):
        table(b"a;b;c\n1;2;3\n")


def test_repeated_column_names_are_refused():
    with pytest.raises(AdapterError, match=r"repeated column name\(s\) \['a'\]"):
        table(b"a,b,a\n1,2,3\n")


def test_header_only_gives_no_records():
    got = table(b"a,b\n")
    assert got.records.empty and got.rejects.empty


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF8 + "a,é\n".encode(), None),
        ("a,é\n".encode("utf-16"), None),
        ("a,é\n".encode("utf-32"), None),
        ("a,é\n".encode("cp1252"), "cp1252"),
    ],
    ids=["utf-8 BOM", "utf-16 BOM", "utf-32 BOM", "declared cp1252"],
)
def test_text_becomes_utf8_without_a_byte_order_mark(tmp_path, data, encoding):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    assert read_utf8(path, encoding, "x") == "a,é\n".encode()


def test_undeclared_cp1252_names_the_line_and_what_to_declare(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,ok\n2,caf\xe9\n")
    with pytest.raises(
        AdapterError, match=r"f.csv: not UTF-8 text \(byte 0xe9 at line 3\).*encoding: cp1252"
    ):
        read_utf8(path, None, "a CSV")


def test_compressed_and_empty_files_are_refused(tmp_path):
    zipped, empty = tmp_path / "z.csv", tmp_path / "e.csv"
    zipped.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    empty.write_bytes(b"  \n")
    with pytest.raises(AdapterError, match="z.csv: gzip-compressed data, not a CSV"):
        read_utf8(zipped, None, "a CSV")
    with pytest.raises(AdapterError, match="e.csv: empty file; expected a CSV"):
        read_utf8(empty, None, "a CSV")


def test_json_lines_are_one_document_per_line():
    assert load_json(b'{"a": 1}\n\n{"a": 2}\n', "f", "x") == [{"a": 1}, {"a": 2}]


def test_truncated_json_names_the_place_it_stops():
    with pytest.raises(
        AdapterError, match=r"f: not valid JSON \(.* line 1, column 12; the file looks truncated\)"
    ):
        load_json(b'{"data": [{"', "f", "x")


@SETTINGS
@given(
    name=st.sampled_from(sorted(CSV_FORMATS)),
    plan=st.data(),
    size=st.integers(1, 300),
    crlf=st.booleans(),
)
def test_a_file_read_in_chunks_gives_the_records_lines_and_rejects_of_one_read(
    tmp_path, name, plan, size, crlf
):
    """Chunks cut anywhere (records straddle them: quoted line breaks, bare carriage
    returns, unclosed quotes) give what parsing the whole file at once gives."""
    fmt = CSV_FORMATS[name]
    last = ("unclosed quote",) if fmt.delimiter == "," else ()
    content = csv_file(fmt, plan.draw(plans(fmt.kinds, last))).content
    if crlf:
        content = content.replace(b"\n", b"\r\n").replace(b"x", b"\rx")
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    whole = parse_delimited(content, str(path), "a test CSV", fmt.delimiter)
    chunked = read_delimited(path, None, "a test CSV", fmt.delimiter, size=size)
    assert chunked.records.reset_index(drop=True).equals(whole.records.reset_index(drop=True))
    assert chunked.lines.reset_index(drop=True).equals(whole.lines.reset_index(drop=True))
    assert chunked.rejects.equals(whole.rejects)
    spans = list(whole.lines.itertuples(index=False))
    assert [chunked.quote(a, b) for a, b in spans] == [whole.quote(a, b) for a, b in spans]
    assert quote_lines(path, None, "a test CSV", spans) == [whole.quote(a, b) for a, b in spans]


@pytest.mark.parametrize("lines_after", [0, 1, 3, 200])
def test_after_lines_is_the_offset_past_the_nth_line_break(lines_after):
    data = b"".join(b"line %d\n" % i for i in range(300 + lines_after)) + b"cut off"
    count = 300
    expected = len(b"".join(b"line %d\n" % i for i in range(count)))
    assert after_lines(data, count) == expected
    assert data[after_lines(data, count) :].startswith(b"line 300\n" if lines_after else b"cut")


@pytest.mark.parametrize("data", [b"", b"a", b"\n", b"a\nb\r\n\n", b"\n" * 1000 + b"x"])
def test_line_breaks_count_each_newline(data):
    assert line_breaks(data) == data.count(b"\n")
