"""Import and export 10,000 questions; prints a markdown table of wall time and peak RSS.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mockboard SECRET_KEY=dev HTTPS=0 \\
        .venv/bin/python bench/import_bench.py [--count 10000] [--only xlsx]

`--only xlsx` times the same questions as one .xlsx sheet (questions/formats/workbook.py).

Writes into a fresh bank (bench-<timestamp>) and deletes it afterwards. Goal: each step <= 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SYSTEMS = ["cardiovascular", "respiratory", "renal", "endocrine", "nervous-system"]


def generate(path: Path, count: int) -> int:
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            question = {
                "external_id": f"bench-{i:05d}",
                "stem": (
                    f"<p>A {20 + i % 60}-year-old patient presents with finding number {i}. "
                    "Vital signs are shown in the table.</p><table><tr><th>HR</th><th>BP</th></tr>"
                    f"<tr><td>{60 + i % 50}</td><td>{100 + i % 60}/70</td></tr></table>"
                    "<p>Which of the following is the most appropriate next step?</p>"
                ),
                "options": [
                    {
                        "text": f"Option {c} for case {i}",
                        "explanation": f"Why {c} is {'right' if c == 'B' else 'wrong'}.",
                    }
                    for c in "ABCDE"
                ],
                "key": "B",
                "explanation": f"<p>Explanation for case {i}, with H<sub>2</sub>O and Ca<sup>2+</sup>.</p>",
                "objective": "Choose the next step.",
                "tags": {
                    "discipline": ["medicine"],
                    "system": [SYSTEMS[i % 5]],
                    "topic": [f"topic-{i % 40}"],
                },
                "difficulty": round((i % 100) / 100, 2),
                "source": "bench",
                "licence": "CC0",
            }
            out.write(json.dumps(question) + "\n")
    return path.stat().st_size


def generate_xlsx(source: Path, path: Path) -> int:
    """The JSONL questions as a spreadsheet a person would keep: one row per question."""
    from openpyxl import Workbook

    letters = "abcde"
    header = ["external_id", "stem", *(f"option_{c}" for c in letters)]
    header += [f"explanation_{c}" for c in letters]
    header += ["key", "explanation", "objective", "discipline", "system", "topic"]
    header += ["difficulty", "source", "licence"]
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    with source.open(encoding="utf-8") as lines:
        for line in lines:
            q = json.loads(line)
            options = q["options"]
            sheet.append(
                [q["external_id"], q["stem"]]
                + [o["text"] for o in options]
                + [o["explanation"] for o in options]
                + [q["key"], q["explanation"], q["objective"]]
                + ["; ".join(q["tags"][k]) for k in ("discipline", "system", "topic")]
                + [q["difficulty"], q["source"], q["licence"]]
            )
    book.save(path)
    return path.stat().st_size


def bench_xlsx(source: Path, tmp: str, rows: list) -> None:
    from django.utils import timezone

    from questions.importing import ImportFile
    from questions.services import bank_create, questions_import

    sheet = Path(tmp) / "bench.xlsx"
    started = time.perf_counter()
    size = generate_xlsx(source, sheet)
    rows.append(
        ("generate .xlsx", time.perf_counter() - started, peak_mib(), f"{size / 1e6:.1f} MB")
    )
    bank = bank_create(slug=f"bench-{int(time.time())}", name="Benchmark", owner=None)
    try:
        for step in ("import .xlsx (new)", "re-import .xlsx (unchanged)"):
            started = time.perf_counter()
            summary = questions_import(
                bank=bank, files=[ImportFile(sheet.name, path=str(sheet))], now=timezone.now()
            )
            rows.append((step, time.perf_counter() - started, peak_mib(), str(summary)))
    finally:
        bank.delete()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--only", choices=["xlsx"], help="time only this format's import")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("set DATABASE_URL to a PostgreSQL database (the benchmark measures the real one)")

    import django

    django.setup()
    from django.utils import timezone

    from questions.importing import ImportFile
    from questions.services import bank_create, questions_export, questions_import

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "bench.jsonl"
        started = time.perf_counter()
        size = generate(source, args.count)
        rows.append(
            ("generate JSONL", time.perf_counter() - started, peak_mib(), f"{size / 1e6:.1f} MB")
        )
        if args.only == "xlsx":
            bench_xlsx(source, tmp, rows)
            print_table(args.count, rows)
            return

        bank = bank_create(slug=f"bench-{int(time.time())}", name="Benchmark", owner=None)
        try:
            data = source.read_bytes()
            started = time.perf_counter()
            summary = questions_import(
                bank=bank, files=[ImportFile(source.name, data)], now=timezone.now()
            )
            rows.append(("import (new)", time.perf_counter() - started, peak_mib(), str(summary)))
            del data

            started = time.perf_counter()
            summary = questions_import(
                bank=bank, files=[ImportFile(source.name, source.read_bytes())], now=timezone.now()
            )
            rows.append(
                ("re-import (unchanged)", time.perf_counter() - started, peak_mib(), str(summary))
            )

            target = Path(tmp) / "export.json"
            started = time.perf_counter()
            with target.open("w", encoding="utf-8") as out:
                count = questions_export(bank=bank, format="json", out=out)
            rows.append(
                (
                    "export JSON",
                    time.perf_counter() - started,
                    peak_mib(),
                    f"{count} questions, {target.stat().st_size / 1e6:.1f} MB",
                )
            )
        finally:
            bank.delete()

    print_table(args.count, rows)


def print_table(count: int, rows: list) -> None:
    print(f"| step ({count} questions) | wall time (s) | peak RSS so far (MiB) | result |")
    print("| --- | ---: | ---: | --- |")
    for name, seconds, rss, note in rows:
        print(f"| {name} | {seconds:.2f} | {rss:.0f} | {note} |")


if __name__ == "__main__":
    main()
