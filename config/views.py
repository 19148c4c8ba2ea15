from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config import health


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    database = health.database_state()
    broker = health.broker_state()
    # Asking for a worker needs a broker; skip the wait when it is known to be down.
    worker = health.worker_state() if broker["ok"] else {"ok": False, "workers": 0}
    status = 200 if database["ok"] else 503
    body = {
        "status": "ok" if all(x["ok"] for x in (database, broker, worker)) else "degraded",
        "database": database,
        "broker": broker,
        "worker": worker,
    }
    if not database["ok"]:
        body["status"] = "down"
    return JsonResponse(body, status=status)


@require_GET
@never_cache
def livez(request: HttpRequest) -> JsonResponse:
    """For load balancers, probed every second: this node answers and reaches its database.

    /healthz also asks the broker and pings the workers (up to a second); a balancer that
    probed that on every node every second would spend a web worker on it."""
    database = health.database_state()
    return JsonResponse(
        {"status": "ok" if database["ok"] else "down"}, status=200 if database["ok"] else 503
    )


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_instructor:
        return redirect("teach:instructor_home")
    return redirect("exams:examinee_home")
