"""Time zones: everything is stored in UTC; each user reads and enters times in their zone.

An instructor's zone (or a cohort's own) is where assignment windows are entered and shown;
an examinee sees their deadlines in theirs. zoneinfo does the daylight-saving arithmetic, and
Django's form fields refuse a wall time that does not exist or is ambiguous in the zone.
"""

from __future__ import annotations

import functools
import zoneinfo
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.utils import timezone

from exams.models import Cohort

COOKIE = "tz"


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_zone(name: str) -> bool:
    return bool(name) and name in zone_names()


def user_zone_name(user, *, browser: str = "") -> str:
    """The user's chosen zone, else the one their browser reported, else UTC.

    The choice is a column of the user row, which every signed-in request loads already, so
    showing times costs no query.
    """
    chosen = getattr(user, "time_zone", "") if user is not None else ""
    if user is not None and user.is_authenticated and is_zone(chosen):
        return chosen
    if is_zone(browser):
        return browser
    return "UTC"


def cohort_zone(cohort: Cohort, user, *, browser: str = "") -> zoneinfo.ZoneInfo:
    """The zone a cohort's windows are entered and shown in: its own, else its owner's."""
    if is_zone(cohort.time_zone):
        return zoneinfo.ZoneInfo(cohort.time_zone)
    return zoneinfo.ZoneInfo(user_zone_name(user, browser=browser))


def time_zone_set(*, user, time_zone: str) -> None:
    from django.core.exceptions import ValidationError

    if not is_zone(time_zone):
        raise ValidationError({"time_zone": f"“{time_zone}” is not a time zone name."})
    get_user_model().objects.filter(pk=user.pk).update(time_zone=time_zone)
    user.time_zone = time_zone


def in_user_zone(view):
    """Run a view in the signed-in user's zone, so its pages show and its forms read local
    times. A decorator rather than middleware: the exam engine's hot paths show no times and
    must not pay for the lookup."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        name = user_zone_name(request.user, browser=request.COOKIES.get(COOKIE, ""))
        request.time_zone_name = name
        with timezone.override(zoneinfo.ZoneInfo(name)):
            return view(request, *args, **kwargs)

    return wrapper
