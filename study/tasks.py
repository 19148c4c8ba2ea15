"""Celery tasks of the study app. Each one calls one service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from study import plan


@shared_task
def replan_missed_days() -> int:
    """Daily: re-plan every study plan with a missed day (idempotent: a plan re-planned today
    has no missed day left since its build)."""
    return plan.plans_replan_missed(now=timezone.now())
