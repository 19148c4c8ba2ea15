from celery import shared_task
from django.utils import timezone

from exams import clock


@shared_task(acks_late=True, ignore_result=True)
def close_expired_blocks() -> int:
    """Beat sweep: blocks whose examinee vanished still close on time."""
    return clock.close_expired_blocks(now=timezone.now())
