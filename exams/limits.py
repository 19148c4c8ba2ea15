"""Limits on what one examinee's browser may send the exam engine (docs/security.md).

- `rate_limited`: saves and visits per attempt, counted in the shared Redis so every worker
  and node sees the same budget. One pipelined round trip (INCR + EXPIRE on a per-second key).
  It fails open: if Redis is unreachable the request goes through (an answer must never be
  lost to a Redis outage), and this process stops asking Redis for a few seconds so an outage
  costs no timeouts on the hot path.
- `ExamRequestMiddleware`: on every exams: URL, a body declared larger than
  EXAM_MAX_BODY_BYTES is refused (413) before anything reads it, and every answer is marked
  `Cache-Control: no-store` (items, the clock, the bundle and saves are private and
  time-dependent: no browser, proxy or back/forward cache may keep them).
"""

from __future__ import annotations

import functools
import logging
import time

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

log = logging.getLogger(__name__)

WINDOW_SECONDS = 1
# After a Redis error this process lets everything through for this long before asking again.
OUTAGE_BACKOFF_SECONDS = 5.0


class RateLimiter:
    """A fixed one-second window per attempt (and user: another account's requests for the
    same id cannot spend it), in Redis."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(
            url, socket_connect_timeout=0.2, socket_timeout=0.2, health_check_interval=30
        )
        self.down_until = 0.0

    def allow(self, *, attempt_uuid, user_id: int, limit: int | None = None) -> bool:
        limit = settings.EXAM_RATE_LIMIT_PER_SECOND if limit is None else limit
        if limit <= 0 or time.monotonic() < self.down_until:
            return True
        key = f"mb:rl:{attempt_uuid}:{user_id}:{int(time.time()) // WINDOW_SECONDS}"
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS + 1)
            count, _ = pipe.execute()
        except redis.RedisError as exc:
            log.warning("rate limiter: Redis unreachable (%s); letting requests through", exc)
            self.down_until = time.monotonic() + OUTAGE_BACKOFF_SECONDS
            return True
        return count <= limit


@functools.cache
def _limiter(url: str) -> RateLimiter:
    return RateLimiter(url)


def rate_limited(view):
    """Answer 429 (Retry-After) when this attempt has sent more than its budget this second.

    Put it under `login_required`: the budget is keyed by the attempt id and the user."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, uuid, *args, **kwargs):
        url = settings.EXAM_RATE_LIMIT_REDIS_URL
        if url and not _limiter(url).allow(attempt_uuid=uuid, user_id=request.user.pk):
            response = JsonResponse(
                {
                    "ok": False,
                    "error": "rate_limited",
                    "message": "Too many requests from this exam session; "
                    f"at most {settings.EXAM_RATE_LIMIT_PER_SECOND} a second. Try again shortly.",
                },
                status=429,
            )
            response["Retry-After"] = str(WINDOW_SECONDS)
            return response
        return view(request, uuid, *args, **kwargs)

    return wrapper


class ExamRequestMiddleware:
    """Sits before CsrfViewMiddleware, which reads a POST body to look for its token."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _is_exam_url(request):
            add_never_cache_headers(response)
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not _is_exam_url(request):
            return None
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        cap = settings.EXAM_MAX_BODY_BYTES
        if declared > cap:
            return JsonResponse(
                {
                    "ok": False,
                    "error": "too_large",
                    "message": f"A request to the exam engine may carry at most {cap} bytes; "
                    f"this one declares {declared} bytes.",
                },
                status=413,
            )
        return None


def _is_exam_url(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.namespace == "exams"
