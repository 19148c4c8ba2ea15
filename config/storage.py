"""Static files in production: whitenoise's compressed, hashed-name manifest storage, with
Django's rewriting of ES module imports turned on.

The exam's front end is native ES modules (static/js/exam/) that import each other by relative
path (`import { Queue } from "./queue.js";`). Served under hashed names, those imports would
still ask for the unhashed files, which whitenoise serves without the long cache lifetime and
which can be stale after a deploy. With `support_js_module_import_aggregation`, collectstatic
rewrites each import to the imported file's hashed name (`"./queue.1a2b3c4d5e6f.js"`), so a
changed module changes the hash of every module that imports it, up to main.js.

Only our own modules are rewritten: Django's switch for this (`support_js_module_import_
aggregation`) applies to every collected .js file, and third-party files with imports it cannot
resolve (django-htmx's extensions import "../htmx", which it does not ship) would make
collectstatic fail. Django's rewriting only recognises statements that end in a semicolon, and
the import graph must have no cycle (a cycle never settles on a hash);
tests/e2e/test_static_modules.py collects the files with this storage and loads them in a
browser.
"""

from django.contrib.staticfiles.storage import HashedFilesMixin
from whitenoise.storage import CompressedManifestStaticFilesStorage

ES_MODULES = "js/exam/*.js"


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    # Django's own import/export patterns (the ones its switch adds), for our modules only.
    patterns = CompressedManifestStaticFilesStorage.patterns + (
        (ES_MODULES, HashedFilesMixin._js_module_import_aggregation_patterns[1]),
    )
