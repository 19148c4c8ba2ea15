"""The yardstick for the save benchmark: one UPDATE of one row behind login and CSRF.

It runs through the same middleware stack (session lookup, CSRF check, user fetch) as the
real save view, so the ratio save/bare is what the exam engine itself costs.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.http import require_POST

from exams.models import Attempt


@require_POST
@login_required
def bare_update(request: HttpRequest, uuid) -> JsonResponse:
    updated = Attempt.objects.filter(uuid=uuid, user=request.user).update(
        last_activity_at=timezone.now()
    )
    return JsonResponse({"ok": bool(updated)}, status=200 if updated else 404)


urlpatterns = [
    path("bench/bare/<uuid:uuid>/", bare_update, name="bench_bare"),
    path("", include("config.urls")),
]
