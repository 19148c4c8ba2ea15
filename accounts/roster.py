"""A list of invitees, pasted or uploaded as CSV: `name,email` per line (either order, a header
line optional, the name optional). Pure: every line is checked, and all the problems are
reported together, each naming its line, before anything is written."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MAX_ROWS = 500
MAX_NAME = 150
HEADER_WORDS = {"email", "e-mail", "mail", "email address", "name", "full name"}


@dataclass(frozen=True)
class Invitee:
    line: int
    email: str
    name: str


def decode_upload(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            "The file is not UTF-8 text: save it as “CSV UTF-8” and upload it again."
        ) from None


def _is_header(cells: list[str]) -> bool:
    lowered = {c.strip().lower() for c in cells if c.strip()}
    return bool(lowered) and lowered <= HEADER_WORDS and any("mail" in c for c in lowered)


def parse_invitees(text: str) -> list[Invitee]:
    """The invitees in `text`, or a ValidationError with one message per bad line."""
    errors: list[str] = []
    invitees: list[Invitee] = []
    first_line: dict[str, int] = {}
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(enumerate(csv.reader(io.StringIO(text), dialect), start=1))
    email_column: int | None = None
    for line, cells in rows:
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if email_column is None and not invitees and not errors and _is_header(cells):
            email_column = next(i for i, c in enumerate(cells) if "mail" in c.lower())
            continue
        if email_column is not None and email_column < len(cells):
            email = cells[email_column]
            others = [c for i, c in enumerate(cells) if i != email_column and c]
        else:
            filled = [c for c in cells if c]
            with_at = [c for c in filled if "@" in c]
            # No "@" anywhere: the last field is the would-be address, so the error names it.
            email = with_at[0] if with_at else (filled[-1] if len(filled) > 1 else "")
            others = [c for c in filled if c != email]
        if len(others) > 1:
            errors.append(f"Line {line}: expected a name and an email, found {len(cells)} fields.")
            continue
        name = others[0] if others else ""
        if not email:
            errors.append(f"Line {line}: no email address.")
            continue
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"Line {line}: “{email}” is not a valid email address.")
            continue
        if len(name) > MAX_NAME:
            errors.append(f"Line {line}: the name is longer than {MAX_NAME} characters.")
            continue
        email = email.lower()
        if email in first_line:
            errors.append(f"Line {line}: {email} is already on line {first_line[email]}.")
            continue
        first_line[email] = line
        invitees.append(Invitee(line=line, email=email, name=name))
    if not invitees and not errors:
        errors.append("No email addresses found: one “name, email” per line.")
    if len(invitees) > MAX_ROWS:
        errors.append(f"At most {MAX_ROWS} people at a time; this list has {len(invitees)}.")
    if errors:
        raise ValidationError(errors)
    return invitees
