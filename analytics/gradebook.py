"""The gradebook: for one exam (and optionally one cohort), a row per examinee with every
attempt's score and time used, and subject sub-scores of the latest attempt.

Every read is a fixed number of queries whatever the cohort's size: examinees, attempts with
their scores, and the sub-scores, each in one statement.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, Sum

from exams.models import Attempt, Cohort, Exam, Response
from questions.formats import spreadsheet
from questions.models import Tag


@dataclass
class AttemptCell:
    uuid: str
    started_at: object
    state: str
    correct: int
    total: int
    time_used_ms: int
    override_summary: str

    @property
    def is_finished(self) -> bool:
        return self.state == Attempt.State.FINISHED

    @property
    def percent(self) -> float | None:
        return round(100 * self.correct / self.total, 1) if self.total else None

    @property
    def minutes(self) -> float:
        return round(self.time_used_ms / 60000, 1)


@dataclass
class GradebookRow:
    user_id: int
    username: str
    name: str
    attempts: list[AttemptCell] = field(default_factory=list)
    # Subject (discipline) name -> (correct, total) in the latest attempt.
    subjects: dict[str, tuple[int, int]] = field(default_factory=dict)
    attempt_cells: list = field(default_factory=list)
    subject_cells: list = field(default_factory=list)

    def subject_percent(self, subject: str) -> float | None:
        correct, total = self.subjects.get(subject, (0, 0))
        return round(100 * correct / total, 1) if total else None


@dataclass
class Gradebook:
    exam: Exam
    cohort: Cohort | None
    rows: list[GradebookRow]
    attempt_columns: int
    subjects: list[str]


def examinees(*, exam: Exam, cohort: Cohort | None = None, text: str = ""):
    """The examinees of the gradebook, by username: a cohort's members, or everyone in a
    cohort the exam is assigned to and anyone else who sat it."""
    users = get_user_model().objects.all()
    if cohort is not None:
        users = users.filter(membership__cohort=cohort)
    else:
        ids = (
            get_user_model()
            .objects.filter(Q(membership__cohort__assignments__exam=exam) | Q(attempts__exam=exam))
            .values("pk")
        )
        users = users.filter(pk__in=ids)
    if text:
        users = users.filter(
            Q(username__icontains=text)
            | Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
        )
    return users.order_by("username")


def gradebook(*, exam: Exam, cohort: Cohort | None = None, users=None) -> Gradebook:
    """`users` narrows the rows (a page of them); otherwise every examinee of the scope."""
    if users is None:
        users = list(examinees(exam=exam, cohort=cohort))
    rows = {
        u.pk: GradebookRow(user_id=u.pk, username=u.username, name=u.get_full_name() or u.username)
        for u in users
    }
    attempts = (
        Attempt.objects.filter(exam=exam, user_id__in=list(rows))
        .annotate(
            total=Count("responses"),
            correct=Count(
                "responses",
                filter=Q(responses__choice=F("responses__version__key_index")),
            ),
            time_used_ms=Sum("responses__time_spent_ms"),
        )
        .order_by("user_id", "started_at")
    )
    latest: dict[int, int] = {}
    for a in attempts:
        rows[a.user_id].attempts.append(
            AttemptCell(
                uuid=str(a.uuid),
                started_at=a.started_at,
                state=a.state,
                correct=a.correct,
                total=a.total,
                time_used_ms=a.time_used_ms or 0,
                override_summary=a.override_summary,
            )
        )
        latest[a.user_id] = a.pk
    subjects: set[str] = set()
    if latest:
        per_subject = (
            Response.objects.filter(
                attempt_id__in=list(latest.values()),
                question__tags__kind=Tag.Kind.DISCIPLINE,
            )
            .values("attempt__user_id", "question__tags__name")
            .annotate(
                total=Count("pk"),
                correct=Count("pk", filter=Q(choice=F("version__key_index"))),
            )
        )
        for r in per_subject:
            name = r["question__tags__name"]
            subjects.add(name)
            rows[r["attempt__user_id"]].subjects[name] = (r["correct"], r["total"])
    ordered = [rows[u.pk] for u in users]
    columns = max((len(r.attempts) for r in ordered), default=0)
    subject_names = sorted(subjects)
    for row in ordered:
        # Padded for a template, which cannot index or call with arguments.
        row.attempt_cells = row.attempts + [None] * (columns - len(row.attempts))
        row.subject_cells = [
            (s, row.subject_percent(s), *row.subjects.get(s, (0, 0))) for s in subject_names
        ]
    return Gradebook(
        exam=exam,
        cohort=cohort,
        rows=ordered,
        attempt_columns=columns,
        subjects=subject_names,
    )


def table(book: Gradebook) -> tuple[list[str], list[list]]:
    """The gradebook as a header and plain rows, for CSV and XLSX."""
    header = ["Username", "Name"]
    for n in range(1, book.attempt_columns + 1):
        header += [
            f"Attempt {n} score %",
            f"Attempt {n} correct",
            f"Attempt {n} items",
            f"Attempt {n} minutes used",
            f"Attempt {n} state",
            f"Attempt {n} override",
        ]
    header += [f"{s} % (latest attempt)" for s in book.subjects]
    out = []
    for row in book.rows:
        line: list = [row.username, row.name]
        for n in range(book.attempt_columns):
            if n < len(row.attempts):
                c = row.attempts[n]
                line += [c.percent, c.correct, c.total, c.minutes, c.state, c.override_summary]
            else:
                line += [None] * 6
        line += [row.subject_percent(s) for s in book.subjects]
        out.append(line)
    return header, out


def to_csv(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = spreadsheet.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def to_xlsx(header: list[str], rows: list[list], *, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=re.sub(r"[\\/*?:\[\]]", " ", title)[:31] or "Sheet")

    def cell(value):
        if value is not None and not isinstance(value, (str, int, float)):
            value = str(value)  # a uuid, a decimal or a date: written as the CSV writes it
        c = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            # Text stays text: openpyxl would otherwise store "=…" as a formula to run.
            c.data_type = "s"
        return c

    sheet.append([cell(v) for v in header])
    for row in rows:
        sheet.append([cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FORMATS = ("csv", "xlsx")


def table_response(fmt: str, *, filename: str, header: list[str], rows, title: str):
    """An instructor table as a download: formula-safe CSV or XLSX (text stays text). The one
    writer for every table export; `filename` has no extension."""
    from django.http import HttpResponse

    rows = [list(row) for row in rows]
    if fmt == "xlsx":
        response = HttpResponse(to_xlsx(header, rows, title=title), content_type=XLSX_TYPE)
    else:
        fmt = "csv"
        response = HttpResponse(to_csv(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
