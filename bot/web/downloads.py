"""Files the web server hands out (the staff search's CSV, the insights' CSV and JSON): safe cells, one header."""

from __future__ import annotations

from aiohttp import web


def spreadsheet_safe(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (a directory name could start with "=").

    >>> spreadsheet_safe("=HYPERLINK(1)"), spreadsheet_safe(None), spreadsheet_safe(12)
    ("'=HYPERLINK(1)", '', '12')
    """
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def download(text: str, filename: str, content_type: str) -> web.Response:
    """`text` as an attachment named `filename`, never cached."""
    return web.Response(text=text, content_type=content_type, charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                 "Cache-Control": "no-store"})
