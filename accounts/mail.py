"""Rendering and sending one message through Django's email framework (EMAIL_* settings)."""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string


def send(*, to: str, template: str, context: dict) -> None:
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context)
    body = render_to_string(f"accounts/email/{template}.txt", context)
    send_mail(" ".join(subject.split()), body, None, [to], fail_silently=False)
