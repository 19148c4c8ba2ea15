"""The refusals of the exam engine: each says, in words the examinee reads, why."""

from __future__ import annotations


class ExamError(Exception):
    """A refusal the examinee should read; the message says why."""

    code = "refused"


class BlockClosed(ExamError):
    code = "closed"


class ItemLocked(ExamError):
    code = "locked"


class NotAllowed(ExamError):
    code = "not_allowed"


class NotFound(ExamError):
    """No attempt with that id belongs to this user (the view answers 404)."""

    code = "not_found"
