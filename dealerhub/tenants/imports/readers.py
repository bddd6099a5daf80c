"""Rows out of DMS exports without holding the file in memory: CSV (UTF-8 or the GBK/GB18030
of Chinese DMS exports) and XLSX, with headers in English or Chinese."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

SNIFF_BYTES = 1 << 20


class FileProblem(ValueError):
    """The file as a whole cannot be read; no row was applied."""


def header_key(name: Any) -> str:
    return str(name or "").strip().lower().replace(" ", "").replace("_", "").replace("-", "")


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the start of the file decodes as UTF-8, else GB18030
    (a superset of GBK and GB2312, what Chinese DMS exports use)."""
    with path.open("rb") as handle:
        sample = handle.read(SNIFF_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        raise FileProblem("the file is neither UTF-8 nor GBK text: is it really a CSV?") from None


class CsvRows:
    """(row number, {header: value}) for each data row; row 1 is the header."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.encoding = detect_encoding(path)
        self.total_bytes = path.stat().st_size
        self._binary: IO[bytes] | None = None

    @property
    def position(self) -> int:
        if self._binary is None:
            return 0
        return self.total_bytes if self._binary.closed else self._binary.tell()

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        with self.path.open("rb") as binary:
            self._binary = binary
            text = io.TextIOWrapper(binary, encoding=self.encoding, newline="")
            reader = csv.reader(text)
            try:
                header = next(reader, None)
                if not header:
                    raise FileProblem("the file is empty")
                for number, values in enumerate(reader, start=2):
                    if "".join(values).strip():
                        yield number, dict(zip(header, values, strict=False))
            except UnicodeDecodeError as error:
                raise FileProblem(f"the text is not valid {self.encoding} "
                                  f"(byte {error.start}): re-export the file as UTF-8") from None
            except csv.Error as error:
                raise FileProblem(f"not a readable CSV file: {error}") from None


class XlsxRows:
    """Rows of the first worksheet, read in streaming mode."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.total_bytes = path.stat().st_size
        self._rows_read = 0
        self._total_rows = 0
        try:
            self.workbook = load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
            raise FileProblem("this is not an Excel spreadsheet (.xlsx)") from None

    @property
    def position(self) -> int:
        if not self._total_rows:
            return 0
        return int(self.total_bytes * min(1.0, self._rows_read / self._total_rows))

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            sheet = self.workbook.worksheets[0]
            self._total_rows = sheet.max_row or 0
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if not header:
                raise FileProblem("the spreadsheet is empty")
            for number, values in enumerate(rows, start=2):
                self._rows_read = number
                if any(v not in (None, "") for v in values):
                    yield number, dict(zip(header, values, strict=False))
        except (zipfile.BadZipFile, KeyError) as error:
            raise FileProblem(f"the spreadsheet is damaged: {error}") from None
        finally:
            self.workbook.close()


def open_rows(path: Path, source: str) -> CsvRows | XlsxRows:
    if source == "xlsx":
        return XlsxRows(path)
    return CsvRows(path)
