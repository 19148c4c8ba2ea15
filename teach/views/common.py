"""Helpers shared by the instructor pages."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.http import Http404


def add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def uuid_or_404(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise Http404("Not a valid identifier.") from None
