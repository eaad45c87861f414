"""Generated payloads: valid files with the promised page counts and resolutions, deterministic."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

import pytest

from spark_tui.core.bench.payload_docs import make_document
from spark_tui.core.bench.payload_images import RESOLUTIONS, screenshot
from spark_tui.core.bench.payload_text import estimate_tokens, make_texts


def test_texts_are_distinct_deterministic_and_sized() -> None:
    texts = make_texts(50, 100, seed=3)
    assert len(set(texts)) == 50
    assert texts == make_texts(50, 100, seed=3) != make_texts(50, 100, seed=4)
    assert all(95 <= len(t.split()) <= 102 for t in texts)
    assert estimate_tokens("a" * 400) == 100


@pytest.mark.parametrize("resolution", list(RESOLUTIONS))
def test_screenshots_are_valid_pngs_at_their_resolution(resolution: str) -> None:
    data = screenshot(resolution, variant=1)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == RESOLUTIONS[resolution]
    raw = zlib.decompress(_idat(data))
    stride = 1 + 3 * width
    assert len(raw) == height * stride
    menu_row = 5 * (height // 540)  # through the menu bar's text
    assert len(set(raw[menu_row * stride + 1 : (menu_row + 1) * stride : 3])) > 1
    assert screenshot(resolution, 1) == data and screenshot(resolution, 2) != data


def _idat(png: bytes) -> bytes:
    at, chunks = 8, []
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        if kind == b"IDAT":
            chunks.append(png[at + 8 : at + 8 + length])
        at += 12 + length
    return b"".join(chunks)


def test_unknown_resolution() -> None:
    with pytest.raises(ValueError, match="expected one of 1080p, 1440p, 4k"):
        screenshot("8k")


def test_pdf_has_the_page_count_and_a_consistent_xref() -> None:
    doc = make_document("pdf", 5, seed=2)
    data = doc.data
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    assert doc.pages == 5 and b"/Count 5" in data
    assert len(re.findall(rb"/Type /Page\b", data)) == 5
    start = int(data.rsplit(b"startxref\n", 1)[1].split()[0])
    assert data[start:].startswith(b"xref")
    offsets = [int(line[:10]) for line in data[start:].split(b"\n")[3:] if re.fullmatch(rb"\d{10} 00000 n ", line)]
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(b"%d 0 obj" % number)


def test_html_and_docx_carry_the_pages() -> None:
    html = make_document("html", 3).data.decode()
    assert html.count("<section>") == 3 and html.count("<table>") == 3
    docx = make_document("docx", 4)
    with zipfile.ZipFile(io.BytesIO(docx.data)) as archive:
        assert {"[Content_Types].xml", "_rels/.rels", "word/document.xml"} <= set(archive.namelist())
        body = archive.read("word/document.xml").decode()
    assert body.count('w:type="page"') == 3 and body.count("<w:tbl>") == 4
    assert docx.content_type.endswith("wordprocessingml.document")


def test_bad_document_requests() -> None:
    with pytest.raises(ValueError, match="unknown document format 'xls'"):
        make_document("xls", 1)
    with pytest.raises(ValueError, match="at least 1 page"):
        make_document("pdf", 0)
