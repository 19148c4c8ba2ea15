import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mockboard")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The request id crosses into tasks through these signal handlers (config/observability.py).
from config import observability  # noqa: E402, F401
