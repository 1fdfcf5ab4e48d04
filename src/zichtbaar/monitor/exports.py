"""Monitor tables as files: CSV, XLSX and JSON of a ``publish.Table``, and the audit entry.

Only a ``publish.Table`` can be written here, so every exported number has passed disclosure
control; this module formats, it never counts.

CSV, two dialects, both UTF-8 *with* a byte-order mark (without it, Excel on Windows reads
UTF-8 as cp1252 and "≤", "ë" and "·" turn into garbage; pandas, R and LibreOffice skip it):

- ``nl`` for the platform's own tables: ``;`` between fields and a decimal comma, because
  that is what Excel in a Dutch locale opens into columns with a double click (its list
  separator is ``;`` and it would read ``7.7`` as a date or text), and what CBS StatLine's own
  CSV downloads use. Title, legend, notes, rule version and the "as published on" date
  follow the table after an empty line; internal tables start with the "not for
  publication" banner.
- ``intl`` for the international layouts (SDG 16.2.2, Eurostat crim_thb, UNODC GLOTIP):
  ``,`` and a decimal point, one header line and one line per record, nothing else, because
  the offices that take these files load them by program (SDMX-CSV style). The legend and
  notes travel in the XLSX and JSON forms of the same table; the ``flag`` column carries
  Eurostat's ``c`` (confidential) on every record with a suppressed cell.

Labels are written as text that no spreadsheet executes: a CSV field that starts with
``= + - @``, a tab or a carriage return gets a leading apostrophe (``core.exports.csv_cell``),
and an XLSX cell is stored as a string, never a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import IO, Any, Literal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zichtbaar.audit.events import AuditAction, register_events
from zichtbaar.audit.record import record
from zichtbaar.core.exports import csv_cell

from .publish import KEY_SEP, SHAPE_DIMENSIONS, Cell, Table

Dialect = Literal["nl", "intl"]
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FLAG_CONFIDENTIAL = "c"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportAuditEvent(models.TextChoices):
    """Registered from this module (``register_events`` accepts a name registered again with
    the same action), so the monitor's own events module stays untouched."""

    TABLE_EXPORTED = "monitor_table_exported", gettext_lazy("Monitor table exported")


register_events({ExportAuditEvent.TABLE_EXPORTED: AuditAction.EXPORT})


def banner() -> str:
    """"Niet voor publicatie" in Dutch (the catalogue translates it)."""
    return _("NOT FOR PUBLICATION: exact numbers of your own organisation, without "
             "disclosure control")


def is_shape(table: Table) -> bool:
    return table.key in SHAPE_DIMENSIONS


def dialect_for(table: Table) -> Dialect:
    return "intl" if is_shape(table) else "nl"


def _number(cell: Cell) -> int | float | None:
    if not cell.shown or cell.value is None:
        return None
    return int(cell.value) if float(cell.value).is_integer() else cell.value


def _flag(cells: Sequence[Cell]) -> str:
    return FLAG_CONFIDENTIAL if any(c.status in ("primary", "secondary", "withheld")
                                    for c in cells) else ""


def header(table: Table) -> list[str]:
    """Column names: the layout's codes for a standard shape, readable labels otherwise."""
    if is_shape(table):
        return [*SHAPE_DIMENSIONS[table.key], *table.col_keys, "flag"]
    return [table.row_header, *table.col_labels]


def records(table: Table) -> list[tuple[list[str], list[Cell], str]]:
    """(leading text fields, cells, flag) per line: the dimension codes of a shape record,
    or the row label of a plain table."""
    out = []
    for key, label, cells in zip(table.row_keys or table.row_labels, table.row_labels,
                                 table.cells, strict=True):
        lead = key.split(KEY_SEP) if is_shape(table) else [label]
        out.append((lead, list(cells), _flag(cells)))
    return out


def meta_lines(table: Table) -> list[str]:
    """Legend, notes and the facts that make a table reproducible, in the reader's language."""
    lines = [*table.legend(), *table.notes]
    lines.append(_("Disclosure rules: %(v)s") % {"v": table.rule_version})
    lines.append(_("As published on: %(d)s") % {
        "d": (table.as_of or timezone.localdate()).isoformat()})
    lines.append(_("Made on: %(d)s") % {"d": timezone.localtime().strftime("%Y-%m-%d %H:%M")})
    return lines


def _text(value: str) -> str:
    return str(csv_cell(value))


def _csv_value(cell: Cell, dialect: Dialect) -> str:
    number = _number(cell)
    if number is None:
        return cell.text  # "<5", "x", "." — never a number that was hidden
    text = cell.text if cell.text else str(number)
    return text.replace(".", ",") if dialect == "nl" else text


def write_csv(table: Table, stream: IO[str], *, dialect: Dialect | None = None) -> int:
    """Write ``table``; returns the number of data lines. The caller adds the BOM by opening
    the stream as ``utf-8-sig`` (``csv_bytes`` does)."""
    dialect = dialect or dialect_for(table)
    writer = csv.writer(stream, delimiter=";" if dialect == "nl" else ",",
                        lineterminator="\r\n")
    if dialect == "nl":
        if table.internal:
            writer.writerow([_text(banner())])
        writer.writerow([_text(table.title)])
        writer.writerow([])
    writer.writerow([_text(h) for h in header(table)])
    lines = 0
    for lead, cells, flag in records(table):
        row = [_text(t) for t in lead] + [_csv_value(c, dialect) for c in cells]
        writer.writerow([*row, flag] if is_shape(table) else row)
        lines += 1
    if dialect == "nl":
        writer.writerow([])
        for line in meta_lines(table):
            writer.writerow([_text(line)])
    return lines


def csv_bytes(table: Table, *, dialect: Dialect | None = None) -> bytes:
    buffer = io.StringIO()
    write_csv(table, buffer, dialect=dialect)
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_text(sheet: Any, row: int, column: int, value: str, **style: Any) -> Any:
    """A text cell that stays text: openpyxl turns a string starting with "=" into a
    formula unless the type is forced; a leading +, - or @ is quoted the same way."""
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    cell.data_type = "s"
    if value.startswith(_FORMULA_START):
        cell.quotePrefix = True
    for name, spec in style.items():
        setattr(cell, name, spec)
    return cell


def xlsx_bytes(table: Table) -> bytes:
    """One sheet: banner (internal), title, the table with numbers as numbers and hidden
    cells as their sign, then legend, notes, rule version and dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = _("Table")[:31]
    bold = Font(bold=True)
    row = 1
    if table.internal:
        _xlsx_text(sheet, row, 1, banner(), font=Font(bold=True, color="9C0006"),
                   fill=PatternFill("solid", fgColor="FFC7CE"))
        row += 1
    _xlsx_text(sheet, row, 1, table.title, font=Font(bold=True, size=13))
    row += 2
    for j, name in enumerate(header(table), start=1):
        _xlsx_text(sheet, row, j, name, font=bold)
    sheet.freeze_panes = sheet.cell(row=row + 1, column=1)
    for lead, cells, flag in records(table):
        row += 1
        column = 1
        for text in lead:
            _xlsx_text(sheet, row, column, text)
            column += 1
        for cell in cells:
            number = _number(cell)
            if number is None:
                _xlsx_text(sheet, row, column, cell.text)
            else:
                sheet.cell(row=row, column=column, value=number)
            column += 1
        if is_shape(table):
            _xlsx_text(sheet, row, column, flag)
    row += 1
    for line in meta_lines(table):
        row += 1
        _xlsx_text(sheet, row, 1, line)
    sheet.column_dimensions["A"].width = 28
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def table_json(table: Table) -> dict[str, Any]:
    """The API's form of a table: every cell with its printed text, its number only when it
    may be shown, and its status."""
    def cell(c: Cell) -> dict[str, Any]:
        return {"text": c.text, "value": _number(c), "status": c.status,
                "lower": c.lower if c.shown else None, "upper": c.upper if c.shown else None}

    shape = is_shape(table)
    return {
        "key": table.key, "title": table.title, "unit": table.unit,
        "audience": table.audience, "disclosure_class": table.disclosure_class,
        "rule_version": table.rule_version, "threshold": table.threshold,
        "as_of": (table.as_of or timezone.localdate()).isoformat(),
        "dimensions": list(SHAPE_DIMENSIONS[table.key]) if shape else [table.row_header],
        "columns": [{"key": k, "label": label} for k, label in
                    zip(table.col_keys or table.col_labels, table.col_labels, strict=True)],
        "rows": [{"key": key, "label": label,
                  **({"codes": dict(zip(SHAPE_DIMENSIONS[table.key], key.split(KEY_SEP),
                                        strict=True))} if shape else {}),
                  "cells": [cell(c) for c in cells]}
                 for key, label, cells in zip(table.row_keys or table.row_labels,
                                              table.row_labels, table.cells, strict=True)],
        "legend": table.legend(), "notes": list(table.notes),
    }


def filename(table: Table, fmt: str, years: tuple[int, int] | None = None) -> str:
    span = f"-{years[0]}-{years[1]}" if years else ""
    internal = "-intern" if table.internal else ""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in table.key)
    return f"zichtbaar-{safe}{internal}{span}.{fmt}"


def export_recorded(*, actor: Any, table: Table, fmt: str, via: str,
                    years: tuple[int, int] | None = None, on: dt.date | None = None) -> None:
    """Every table that leaves as a file or through the API leaves a trace: what, in which
    form, for whom (audience) and under which rules; never the numbers themselves."""
    record(ExportAuditEvent.TABLE_EXPORTED, actor=actor, object_type="monitor_table",
           object_id=table.key, organisation_id=getattr(actor, "organisation_id", None),
           detail={"format": fmt, "via": via, "audience": table.audience,
                   "rule_version": table.rule_version, "rows": len(table.row_labels),
                   "years": list(years) if years else None,
                   "as_of": on.isoformat() if on else None})
