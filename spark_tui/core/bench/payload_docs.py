"""Documents with a known page count for docling-serve: PDF, HTML and DOCX, written by hand.

Each page holds a heading, paragraphs and a small table, so a converter has layout to find.
PDF pages are real pages; HTML and DOCX carry explicit page breaks between the same pages.
"""

from __future__ import annotations

import io
import random
import zipfile
from dataclasses import dataclass
from html import escape as html_escape
from xml.sax.saxutils import escape as xml_escape

from spark_tui.core.bench.payload_text import WORDS, paragraph, sentence

DOCUMENT_FORMATS: dict[str, str] = {
    "pdf": "application/pdf",
    "html": "text/html",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class Page:
    heading: str
    paragraphs: tuple[str, ...]
    table: tuple[tuple[str, ...], ...]  # first row is the header


@dataclass(frozen=True)
class Document:
    filename: str
    content_type: str
    data: bytes
    pages: int


def page_contents(pages: int, seed: int = 0) -> list[Page]:
    rng = random.Random(f"spark-tui-doc-{seed}")
    result = []
    for number in range(1, pages + 1):
        heading = f"{number}. " + sentence(rng, rng.randint(3, 6)).rstrip(".")
        paragraphs = tuple(paragraph(rng, rng.randint(45, 70)) for _ in range(3))
        header = ("Item", "Quantity", "Unit price", "Total")
        rows = []
        for _ in range(4):
            qty, price = rng.randint(1, 40), rng.randint(5, 900)
            rows.append((rng.choice(WORDS).capitalize(), str(qty), f"{price}.00", f"{qty * price}.00"))
        result.append(Page(heading, paragraphs, (header, *rows)))
    return result


def make_document(kind: str, pages: int, seed: int = 0) -> Document:
    """A `kind` ("pdf", "html", "docx") document of exactly `pages` pages."""
    if pages < 1:
        raise ValueError(f"a document needs at least 1 page, got {pages}")
    builders = {"pdf": pdf_bytes, "html": html_bytes, "docx": docx_bytes}
    try:
        build = builders[kind.lower()]
    except KeyError:
        raise ValueError(f"unknown document format {kind!r}: expected one of {', '.join(builders)}") from None
    content = page_contents(pages, seed)
    name = f"spark-tui-bench-{seed}-{pages}p.{kind.lower()}"
    return Document(name, DOCUMENT_FORMATS[kind.lower()], build(content), pages)


# --- PDF ---------------------------------------------------------------------------------------


def _pdf_text(text: str) -> bytes:
    safe = text.encode("latin-1", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + safe + b")"


def _wrap(text: str, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def _pdf_page_stream(page: Page, number: int) -> bytes:
    ops = [b"BT /F2 16 Tf 72 740 Td " + _pdf_text(page.heading) + b" Tj ET"]
    y = 710
    for text in page.paragraphs:
        lines = _wrap(text, 88)
        ops.append(b"BT /F1 10 Tf 13 TL 72 %d Td" % y)
        ops.extend(_pdf_text(line) + b" Tj T*" for line in lines)
        ops.append(b"ET")
        y -= 13 * len(lines) + 12
    col = (72, 232, 342, 452)
    for r, row in enumerate(page.table):
        top = y - r * 18
        ops.append(b"0.5 w 72 %d 468 18 re S" % (top - 13))
        font = b"/F2" if r == 0 else b"/F1"
        for c, cell in enumerate(row):
            ops.append(b"BT %s 10 Tf %d %d Td %s Tj ET" % (font, col[c] + 4, top - 8, _pdf_text(cell)))
    ops.append(b"BT /F1 9 Tf 290 40 Td " + _pdf_text(f"Page {number}") + b" Tj ET")
    return b"\n".join(ops)


def pdf_bytes(pages: list[Page]) -> bytes:
    """A valid PDF 1.4: catalog, page tree, two standard fonts, one content stream per page."""
    objects: list[bytes] = []
    n = len(pages)
    page_ids = [5 + 2 * i for i in range(n)]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % p for p in page_ids) + b"] /Count %d >>" % n)
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    for i, page in enumerate(pages):
        stream = _pdf_page_stream(page, i + 1)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
            % (page_ids[i] + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


# --- HTML --------------------------------------------------------------------------------------


def html_bytes(pages: list[Page]) -> bytes:
    parts = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>spark-tui benchmark document</title>',
             "<style>section{page-break-after:always}table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}</style>",
             "</head><body>"]
    for page in pages:
        parts.append(f"<section><h2>{html_escape(page.heading)}</h2>")
        parts.extend(f"<p>{html_escape(text)}</p>" for text in page.paragraphs)
        header, *rows = page.table
        parts.append("<table><tr>" + "".join(f"<th>{html_escape(c)}</th>" for c in header) + "</tr>")
        parts.extend("<tr>" + "".join(f"<td>{html_escape(c)}</td>" for c in row) + "</tr>" for row in rows)
        parts.append("</table></section>")
    parts.append("</body></html>\n")
    return "\n".join(parts).encode("utf-8")


# --- DOCX --------------------------------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)


def _docx_paragraph(text: str, *, bold: bool = False, size: int | None = None, page_break: bool = False) -> str:
    props = ("<w:b/>" if bold else "") + (f'<w:sz w:val="{size}"/>' if size else "")
    run = f"<w:r>{f'<w:rPr>{props}</w:rPr>' if props else ''}<w:t xml:space=\"preserve\">{xml_escape(text)}</w:t></w:r>"
    if page_break:
        run = '<w:r><w:br w:type="page"/></w:r>' + run
    return f"<w:p>{run}</w:p>"


def docx_bytes(pages: list[Page]) -> bytes:
    body = []
    for i, page in enumerate(pages):
        body.append(_docx_paragraph(page.heading, bold=True, size=32, page_break=i > 0))
        body.extend(_docx_paragraph(text) for text in page.paragraphs)
        rows = "".join(
            "<w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{xml_escape(c)}</w:t></w:r></w:p></w:tc>" for c in row) + "</w:tr>"
            for row in page.table
        )
        borders = "".join(f'<w:{side} w:val="single" w:sz="4"/>' for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
        body.append(f"<w:tbl><w:tblPr><w:tblBorders>{borders}</w:tblBorders></w:tblPr>{rows}</w:tbl>")
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}"><w:body>'
        + "".join(body)
        + '<w:sectPr><w:pgSz w:w="12240" w:h="15840"/></w:sectPr></w:body></w:document>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", document)
    return out.getvalue()
