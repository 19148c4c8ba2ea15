"""Time zones: everything is stored in UTC; each user reads and enters times in their zone.

An instructor's zone (or a cohort's own) is where assignment windows are entered and shown;
an examinee sees their deadlines in theirs. zoneinfo does the daylight-saving arithmetic, and
Django's form fields refuse a wall time that does not exist or is ambiguous in the zone.
"""

from __future__ import annotations

import functools
import zoneinfo
from functools import lru_cache

from django.utils import timezone

from exams.models import Cohort, TimeZonePreference

COOKIE = "tz"


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_zone(name: str) -> bool:
    return bool(name) and name in zone_names()


SESSION_KEY = "time_zone"


def user_zone_name(user, *, browser: str = "", session=None) -> str:
    """The user's chosen zone, else the one their browser reported, else UTC.

    With a session, the answer is kept in it, so only a session's first page reads the row
    (time_zone_set writes it back when the user changes zone).
    """
    if session is not None:
        cached = session.get(SESSION_KEY)
        if cached and is_zone(cached):
            return cached
        name = user_zone_name(user, browser=browser)
        session[SESSION_KEY] = name
        return name
    if user is not None and user.is_authenticated:
        pref = TimeZonePreference.objects.filter(user=user).values_list("time_zone", flat=True)
        chosen = pref.first()
        if chosen and is_zone(chosen):
            return chosen
    if is_zone(browser):
        return browser
    return "UTC"


def cohort_zone(cohort: Cohort, user, *, browser: str = "") -> zoneinfo.ZoneInfo:
    """The zone a cohort's windows are entered and shown in: its own, else its owner's."""
    if is_zone(cohort.time_zone):
        return zoneinfo.ZoneInfo(cohort.time_zone)
    return zoneinfo.ZoneInfo(user_zone_name(user, browser=browser))


def time_zone_set(*, user, time_zone: str, session=None) -> TimeZonePreference:
    from django.core.exceptions import ValidationError

    if not is_zone(time_zone):
        raise ValidationError({"time_zone": f"“{time_zone}” is not a time zone name."})
    pref, _ = TimeZonePreference.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone}
    )
    if session is not None:
        session[SESSION_KEY] = time_zone
    return pref


def in_user_zone(view):
    """Run a view in the signed-in user's zone, so its pages show and its forms read local
    times. A decorator rather than middleware: the exam engine's hot paths show no times and
    must not pay for the lookup."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        name = user_zone_name(
            request.user,
            browser=request.COOKIES.get(COOKIE, ""),
            session=getattr(request, "session", None),
        )
        request.time_zone_name = name
        with timezone.override(zoneinfo.ZoneInfo(name)):
            return view(request, *args, **kwargs)

    return wrapper
