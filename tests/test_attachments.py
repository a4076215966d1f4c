"""Attachment text: every supported format generated here, and broken files recorded, not fatal."""

from __future__ import annotations

import io

import pytest

from crawler.attachments import AttachmentError, attachment_name, attachment_text, is_attachment_url

PARKS = ["东莞示例智造5G+工业互联网应用示范园区", "江门示例机电5G+工业互联网应用示范园区"]


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("第二批示范园区名单")
    table = document.add_table(rows=len(PARKS), cols=2)
    for row, park in zip(table.rows, PARKS):
        row.cells[0].text, row.cells[1].text = park, "东莞" if "东莞" in park else "江门"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", "园区名称", "城市"])
    for i, park in enumerate(PARKS, 1):
        sheet.append([i, park, None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_xls() -> bytes:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("名单")
    for r, park in enumerate(PARKS):
        sheet.write(r, 0, r + 1)
        sheet.write(r, 1, park)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_pdf() -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))  # built-in CID font: nothing downloaded
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.setFont("STSong-Light", 12)
    for i, park in enumerate(PARKS):
        page.drawString(50, 800 - 20 * i, park)
    page.save()
    return out.getvalue()


@pytest.mark.parametrize(
    ("maker", "url"),
    [(make_docx, "/a/名单.docx"), (make_xlsx, "/a/list.xlsx"), (make_xls, "/a/list.xls"),
     (make_pdf, "/a/list.pdf"), (make_docx, "/a/wps-export.wps")],
)
def test_every_format_gives_the_park_names(maker: object, url: str) -> None:
    text = attachment_text(maker(), "http://x.cn" + url)  # type: ignore[operator]
    for park in PARKS:
        assert park in text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty file"),
        (b"%PDF-1.4\n garbage that is not a pdf", "cannot read PDF file"),
        (b"PK\x03\x04 not really a zip", "corrupt ZIP container"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 600, "legacy binary Word/WPS document (.doc/.wps) is not supported"),
        (b"<html>login required</html>", "not a PDF, Word or Excel file"),
    ],
)
def test_unreadable_files_raise_attachment_error(body: bytes, message: str) -> None:
    with pytest.raises(AttachmentError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        attachment_text(body, "http://x.cn/a/file.doc")


def test_broken_xls_is_an_attachment_error() -> None:
    with pytest.raises(AttachmentError, match="cannot read XLS file"):
        attachment_text(b"\xd0\xcf\x11\xe0" + b"\x00" * 600, "http://x.cn/a/list.xls")


def test_attachment_urls_and_names() -> None:
    assert is_attachment_url("http://x.cn/att/P020210618.pdf")
    assert is_attachment_url("http://x.cn/att/list.XLSX?x=1")
    assert not is_attachment_url("http://x.cn/content/post_1.html")
    assert attachment_name("http://x.cn/att/%E5%90%8D%E5%8D%95.docx") == "名单.docx"
