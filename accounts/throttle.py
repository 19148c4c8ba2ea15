"""Sign-in throttling on top of django-axes: who the client is, and when they are locked out.

Axes counts failures per address and per (username, address) (settings.AXES_LOCKOUT_PARAMETERS).
Both keys hold the address, so wrong passwords typed elsewhere never lock the real user out.
"""

from __future__ import annotations

import ipaddress

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def client_ip(request) -> str | None:
    """The address the outermost of our TRUSTED_PROXY_COUNT proxies saw (AXES_CLIENT_IP_CALLABLE).

    Each proxy appends the address it received the request from to X-Forwarded-For, so only the
    last TRUSTED_PROXY_COUNT entries are ours; anything to their left the client wrote itself.
    With no trusted proxy the header is ignored. django-ipware would do this, but axes only
    uses it when installed, and this is the one rule we need.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count == 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(hops) < count:
        return remote  # the request did not come through all our proxies
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote


def _failures(attempts) -> int:
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler with a second, higher limit for the address alone.

    A class behind one NAT address shares it: a few typos must not lock everyone out, so the
    address locks only at LOGIN_ADDRESS_FAILURE_LIMIT, and (username, address) at
    AXES_FAILURE_LIMIT.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        # In the order of settings.AXES_LOCKOUT_PARAMETERS.
        by_address, by_pair = self.get_user_attempts(request, credentials)
        pair = _failures(by_pair)
        if _failures(by_address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(pair, get_failure_limit(request, credentials))
        return pair

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        # A success clears only that username's failures: signing in to one's own account must
        # not wipe the address's count of guesses at other accounts.
        count, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        ).delete()
        return count
