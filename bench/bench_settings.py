"""Settings for `make bench`: production settings plus one bare view to compare the save with.

Everything else (DEBUG off, middleware, password hashers, Celery) is config.settings as
deployed; only the URL conf and persistent database connections differ.
"""

from config.settings import *  # noqa: F403
from config.settings import DATABASES

ROOT_URLCONF = "bench.bareview"
# Production keeps connections for 60 s; a benchmark must not measure reconnects either way.
DATABASES["default"]["CONN_MAX_AGE"] = 600
