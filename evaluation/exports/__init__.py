"""Exports for the coordinator: reports, shifts, sign-ups, statistics and the payment basis, as
XLSX (one sheet per table) or CSV (UTF-8 with BOM, ``;`` between fields, decimal comma).

Texts (headers, sheet names, code labels) come from the caller as ``texts(key, **params)``, which
raises KeyError for a key it does not know (bot.i18n.t bound to a language): the core renders
no words of its own. Times are local wall time. Phone numbers and Telegram ids appear only with
``with_contacts``, which a coordinator alone may ask for; every export is audited.

This package's front door: ``build_export`` (``build.py``) makes the tables, one module per
export kind; ``render`` (``files.py``) writes them as a file, in which text typed by people
is never a live formula (``text_cells.py``, docs/security.md).
"""

from evaluation.exports.build import build_export, export_file
from evaluation.exports.files import (
    FORMATS,
    MEDIA_TYPES,
    filename,
    render,
    write_csv,
    write_xlsx,
)
from evaluation.exports.tables import KINDS, Cell, Column, ExportRequest, Kind, Table

__all__ = [
    "FORMATS",
    "KINDS",
    "MEDIA_TYPES",
    "Cell",
    "Column",
    "ExportRequest",
    "Kind",
    "Table",
    "build_export",
    "export_file",
    "filename",
    "render",
    "write_csv",
    "write_xlsx",
]
