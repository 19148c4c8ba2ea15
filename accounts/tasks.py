"""Mail is sent by the worker, never in a request: a slow SMTP server holds no page.

Each task takes an id and calls one service, whose claim on `sent_at` makes a redelivery send
nothing. A failure (the server down, a refused connection) releases the claim and retries."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.utils import timezone

from accounts import services

RETRY = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "max_retries": 8,
}


@shared_task(**RETRY)
def send_invitation(invitation_id: int) -> bool:
    return services.invitation_send(invitation_id=invitation_id, now=timezone.now())


@shared_task(**RETRY)
def send_password_reset(reset_id: int) -> bool:
    return services.password_reset_send(reset_id=reset_id, now=timezone.now())
