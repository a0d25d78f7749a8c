"""Every report as a table for a spreadsheet: CSV (UTF-8 with a BOM, so Excel reads å, ä, ö)
and XLSX (XlsxWriter, in memory)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import xlsxwriter
from flask import Response

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(headers: Sequence[str], rows: Sequence[Sequence[Any]], sheet: str) -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    worksheet.write_row(0, 0, headers, bold)
    for number, row in enumerate(rows, start=1):
        worksheet.write_row(number, 0, row)
    worksheet.freeze_panes(1, 0)
    workbook.close()
    return out.getvalue()


def download(kind: str, name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> Response:
    """The table as a file to download; ``kind`` is "csv" or "xlsx"."""
    if kind == "xlsx":
        body, mimetype = to_xlsx(headers, rows, name), XLSX_TYPE
    else:
        body, mimetype = to_csv(headers, rows), CSV_TYPE
    # content_type, not mimetype: Werkzeug would add "; charset=utf-8" to the CSV's once more.
    return Response(body, content_type=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'})
