"""Text of the files government notices attach (the list of parks is often only in there).

Each format goes through a maintained library: pypdf (PDF), python-docx (DOCX and WPS Writer
files saved as DOCX), openpyxl (XLSX), xlrd (legacy XLS, as WPS Spreadsheets exports). Legacy
binary Word ``.doc`` / ``.wps`` has no maintained pure-Python reader; such a file is recorded
as unsupported rather than guessed at. A file that cannot be parsed raises
:class:`AttachmentError` with a reason the crawl records; it never fails the notice.
"""

from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import unquote, urlsplit

#: Link targets treated as attachments (by extension in the URL path).
ATTACHMENT_RE = re.compile(r"\.(pdf|docx?|xlsx?|wps|et)$", re.I)
#: At most this many attachments are followed per notice.
MAX_ATTACHMENTS = 5
#: Text kept per attachment (a 300-page PDF is not a list of parks).
MAX_TEXT_CHARS = 200_000


class AttachmentError(Exception):
    """An attachment could not be read; the message says why."""


def is_attachment_url(url: str) -> bool:
    """True when the URL path ends in a supported attachment extension."""
    return bool(ATTACHMENT_RE.search(urlsplit(url).path))


def attachment_name(url: str) -> str:
    """The file name shown to readers (last path segment, percent-decoded)."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or url


def attachment_text(body: bytes, url: str, content_type: str = "") -> str:
    """Plain text of an attachment, sniffed by content (magic bytes) before extension."""
    if not body:
        raise AttachmentError("empty file")
    kind = _sniff(body, url, content_type)
    try:
        text = _READERS[kind](body)
    except AttachmentError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure is a bad file, not a crash
        raise AttachmentError(f"cannot read {kind.upper()} file: {type(exc).__name__}: {exc}") from None
    text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    if not text:
        raise AttachmentError(f"no text in {kind.upper()} file")
    return text[:MAX_TEXT_CHARS]


def _sniff(body: bytes, url: str, content_type: str) -> str:
    if body.startswith(b"%PDF"):
        return "pdf"
    if body.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(body)).namelist()
        except zipfile.BadZipFile:
            raise AttachmentError("corrupt ZIP container") from None
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        raise AttachmentError("ZIP file that is neither DOCX nor XLSX")
    if body.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: legacy .doc/.xls/.wps/.et
        ext = (ATTACHMENT_RE.search(urlsplit(url).path) or [None, ""])[1].lower()
        if ext in ("xls", "et") or "excel" in content_type:
            return "xls"
        raise AttachmentError("legacy binary Word/WPS document (.doc/.wps) is not supported")
    raise AttachmentError(f"not a PDF, Word or Excel file ({content_type or 'unknown type'})")


def _pdf(body: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(body))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _docx(body: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(body))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append("\t".join(cell.text for cell in row.cells))
    return "\n".join(lines)


def _xlsx(body: bytes) -> str:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    try:
        lines = [
            "\t".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        ]
    finally:
        book.close()
    return "\n".join(lines)


def _xls(body: bytes) -> str:
    import xlrd

    book = xlrd.open_workbook(file_contents=body)
    return "\n".join(
        "\t".join(str(v) for v in sheet.row_values(r))
        for sheet in book.sheets()
        for r in range(sheet.nrows)
    )


_READERS = {"pdf": _pdf, "docx": _docx, "xlsx": _xlsx, "xls": _xls}
