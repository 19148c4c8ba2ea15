"""Operations (docs/scaling.md, "Operations"): a request id that crosses HAProxy, the web node
and Celery tasks, in every log line; and the Prometheus metrics endpoint.

The request id is HAProxy's X-Request-ID (its `unique-id-header`), or one made here when a
request arrives without it. It lives in a context variable for the request; a task queued
during the request carries it in a message header, and the worker sets it again while the task
runs, so one grep finds the click, the save and the analytics task it queued.
"""

from __future__ import annotations

import contextvars
import hmac
import logging
import re
import time
import uuid

from celery import signals
from django.conf import settings
from django.db.models import Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
HEADER = "X-Request-ID"
# An id from outside is kept only if it looks like one; anything else is replaced.
_VALID = re.compile(r"^[A-Za-z0-9._:_-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = incoming if _VALID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[HEADER] = rid
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


@signals.before_task_publish.connect
def _carry_request_id(headers=None, **kwargs) -> None:
    if headers is not None and request_id.get() != "-":
        headers.setdefault("request_id", request_id.get())


_task_tokens: dict[str, contextvars.Token] = {}


@signals.task_prerun.connect
def _restore_request_id(task_id=None, task=None, **kwargs) -> None:
    rid = getattr(task.request, "request_id", None) if task is not None else None
    if rid:
        _task_tokens[task_id] = request_id.set(rid)


@signals.task_postrun.connect
def _forget_request_id(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        request_id.reset(token)


# --- metrics ---------------------------------------------------------------------------------

# The two request series docs/scaling.md names, under django-prometheus' names so dashboards
# keep working. Its middleware pair kept 19 series per request and cost about a fifth of a clock
# poll's CPU (docs/benchmarks.md, "Middleware"); the answer save, the visit and the clock poll
# are most of a sitting cohort's requests.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 25.0)
REQUEST_LATENCY = Histogram(
    "django_http_requests_latency_seconds_by_view_method",
    "Request processing time by view and method, middleware included.",
    ["view", "method"],
    buckets=LATENCY_BUCKETS,
)
RESPONSES = Counter(
    "django_http_responses_total_by_status_view_method",
    "Responses by status, view and method.",
    ["status", "view", "method"],
)


class RequestMetricsMiddleware:
    """First in the stack, so the latency covers every other middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None else "<unresolved>"
        method = request.method or ""
        REQUEST_LATENCY.labels(view, method).observe(time.perf_counter() - started)
        RESPONSES.labels(str(response.status_code), view, method).inc()
        return response


class ServiceCollector:
    """Read at scrape time: the Celery queue's depth and the analytics lag."""

    def collect(self):
        depth = GaugeMetricFamily(
            "mockboard_celery_queue_depth", "Tasks waiting in the Celery queue", labels=["queue"]
        )
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        try:
            import redis

            client = redis.Redis.from_url(
                settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1
            )
            depth.add_metric([queue], client.llen(queue))
        except Exception:  # a scrape must not fail because Redis is down; the gap shows it
            logging.getLogger(__name__).warning("metrics: queue depth unavailable")
        yield depth
        lag = GaugeMetricFamily(
            "mockboard_analytics_lag_seconds",
            "Age of the oldest closed block whose analytics are not done (0 when none)",
        )
        from exams.models import AttemptBlock

        oldest = (
            AttemptBlock.objects.filter(state=AttemptBlock.State.CLOSED)
            .filter(analytics_state__in=["pending", "claimed"])
            .aggregate(oldest=Min("closed_at"))["oldest"]
        )
        lag.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield lag


_services = CollectorRegistry(auto_describe=False)
_services.register(ServiceCollector())


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics: request latency and outcomes by view (an answer
    save is view "exams:save", its outcome the status), plus the queue depth and analytics lag.

    Only with `Authorization: Bearer <METRICS_TOKEN>`; with no token set, the endpoint does not
    exist (404), so it never leaks by default."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        raise Http404("No such page.")
    body = generate_latest(REGISTRY) + generate_latest(_services)
    return HttpResponse(body, content_type="text/plain; version=0.0.4; charset=utf-8")
