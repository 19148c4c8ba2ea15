"""``manage.py itemstats FILE.csv [--json]``: Moodle-style item analysis of a marks table.

The CSV has a header row; the first column is the attempt id and every other column is one
item, holding the mark as a fraction (0..1) of that item's maximum. Every item is worth one
mark, so test figures are in marks out of the number of items.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.psychometrics import flags, item_analysis

ITEM_FIELDS = (
    "id",
    "facility",
    "sd",
    "discrimination_index",
    "discriminative_efficiency",
    "effective_weight",
    "intended_weight",
)
TEST_FIELDS = (
    "attempts",
    "mean",
    "median",
    "sd",
    "skewness",
    "kurtosis",
    "alpha",
    "error_ratio",
    "standard_error",
)


def read_marks(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    """Parse the CSV into (attempt ids, item ids, marks); CommandError names FILE:LINE."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"{path}: is a directory, not a CSV file") from None
    except OSError as exc:
        raise CommandError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CommandError(
            f"{path}:{line}: not UTF-8 text (bad byte 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8 CSV"
        ) from None
    if not text.strip():
        raise CommandError(f"{path}:1: empty file; expected a header row")

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        while not header:
            header = next(reader)
        header_line = reader.line_num
        item_ids = [name.strip() for name in header[1:]]
        if not item_ids:
            raise CommandError(
                f"{path}:{header_line}: the header needs an attempt-id column and at least "
                "one item column"
            )
        for column, name in enumerate(item_ids, start=2):
            if not name:
                raise CommandError(f"{path}:{header_line}: column {column} has no item id")
        seen: dict[str, int] = {}
        for column, name in enumerate(item_ids, start=2):
            if name in seen:
                raise CommandError(
                    f"{path}:{header_line}: column {column}: item id {name!r} repeats "
                    f"column {seen[name]}"
                )
            seen[name] = column

        width = len(header)
        attempt_ids: list[str] = []
        lines: list[int] = []
        rows: list[list[float]] = []
        for row in reader:
            if not row:
                continue  # blank lines carry no attempt
            line = reader.line_num
            if len(row) != width:
                raise CommandError(
                    f"{path}:{line}: expected {width} columns like the header, found {len(row)}"
                )
            try:
                values = [float(cell) for cell in row[1:]]
            except ValueError:
                values = _values_or_error(path, line, row, item_ids)
            attempt_ids.append(row[0])
            lines.append(line)
            rows.append(values)
    except csv.Error as exc:
        raise CommandError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
    except StopIteration:
        raise CommandError(f"{path}:1: empty file; expected a header row") from None

    if not rows:
        raise CommandError(f"{path}:{header_line}: no attempt rows after the header")
    marks = np.array(rows, dtype=float)
    bad = ~np.isfinite(marks) | (marks < 0) | (marks > 1)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        cell = _cell_as_written(text, lines[r], c + 1)
        raise CommandError(
            f"{path}:{lines[r]}: column {c + 2} ({item_ids[c]}): "
            f"{cell} is outside 0..1 (marks are fractions of the item maximum)"
        )
    return attempt_ids, item_ids, marks


def _cell_as_written(text: str, line: int, index: int) -> str:
    """The cell as the file spells it; rows are re-read rather than kept, to save memory."""
    reader = csv.reader(io.StringIO(text, newline=""))
    for row in reader:
        if reader.line_num == line:
            return row[index].strip()
    return "?"


def _values_or_error(path: Path, line: int, row: list[str], item_ids: list[str]) -> list[float]:
    values = []
    for column, cell in enumerate(row[1:], start=2):
        try:
            values.append(float(cell))
        except ValueError:
            shown = cell if cell.strip() else "(empty)"
            raise CommandError(
                f"{path}:{line}: column {column} ({item_ids[column - 2]}): {shown!r} is not a "
                "number (use 0 for an omitted item)"
            ) from None
    return values


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}"


def _fixed(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def render_table(result: dict[str, Any], n_items: int) -> str:
    headers = ("item", "facility%", "sd%", "disc.index%", "disc.eff%", "eff.wt%", "int.wt%")
    body = [
        (
            item["id"],
            _pct(item["facility"]),
            _pct(item["sd"]),
            _pct(item["discrimination_index"]),
            _pct(item["discriminative_efficiency"]),
            _pct(item["effective_weight"]),
            _pct(item["intended_weight"]),
            ", ".join(flags(item)),
        )
        for item in result["items"]
    ]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(headers)]
    lines = [
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
        + "  flags"
    ]
    for row in body:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row[:-1], widths, strict=True))
        ]
        lines.append(("  ".join(cells) + "  " + row[-1]).rstrip())

    test = result["test"]
    summary = [
        ("attempts", str(test["attempts"])),
        ("mean", f"{_fixed(test['mean'])} / {n_items}"),
        ("median", f"{_fixed(test['median'])} / {n_items}"),
        ("standard deviation", _fixed(test["sd"])),
        ("skewness", _fixed(test["skewness"])),
        ("kurtosis (excess)", _fixed(test["kurtosis"])),
        ("Cronbach's alpha", _fixed(test["alpha"])),
        ("error ratio", _fixed(test["error_ratio"])),
        ("standard error", _fixed(test["standard_error"])),
    ]
    label = max(len(name) for name, _ in summary)
    lines.append("")
    lines.append("Test (marks; one mark per item)")
    lines.extend(f"  {name.ljust(label)}  {value}" for name, value in summary)
    return "\n".join(lines)


class Command(BaseCommand):
    # A file-in, report-out tool: it needs no URLconf or database, so it skips system checks
    # and keeps working while the rest of the project is mid-change.
    requires_system_checks: list[str] = []
    help = (
        "Moodle-style item analysis of a CSV of marks (header row; first column attempt id, "
        "then one column per item with the mark as a fraction 0..1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, metavar="FILE.csv")
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="print JSON (fractions, test figures in marks, null when undefined)",
        )

    def handle(self, *args: Any, file: Path, as_json: bool, **options: Any) -> None:
        _, item_ids, marks = read_marks(file)
        result = item_analysis(marks, item_ids=item_ids)
        if as_json:
            self.stdout.write(_as_json(result))
        else:
            self.stdout.write(render_table(result, len(item_ids)))


def _as_json(result: dict[str, Any]) -> str:
    payload = {
        "items": [{field: item[field] for field in ITEM_FIELDS} for item in result["items"]],
        "test": {field: result["test"][field] for field in TEST_FIELDS},
    }
    return json.dumps(payload, indent=2, allow_nan=False)
