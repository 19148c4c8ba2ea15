"""Static files in production: whitenoise's compressed, hashed-name manifest storage that also
rewrites the exam's ES module imports to hashed names.

The exam's front end is native ES modules (static/js/exam/) that import each other by relative
path (`import { Queue } from "./queue.js";`). Served under hashed names, those imports would
still ask for the unhashed files, which whitenoise serves without the long cache lifetime and
which can be stale after a deploy. Here collectstatic rewrites each import to the imported
file's hashed name (`"./queue.1a2b3c4d5e6f.js"`), so a changed module changes the hash of every
module that imports it, up to main.js.

The patterns are Django's own, the ones its `support_js_module_import_aggregation` switch adds,
but applied to our modules only: the switch covers every collected .js file, and third-party
files with imports it cannot resolve (django-htmx's extensions import "../htmx", which it does
not ship) make collectstatic fail. Django's rewriting only recognises statements that end in a
semicolon, and the import graph must have no cycle (a cycle never settles on a hash).
tests/e2e/test_static_modules.py collects the files with the production settings and loads them
in a browser.
"""

from django.contrib.staticfiles.storage import HashedFilesMixin
from whitenoise.storage import CompressedManifestStaticFilesStorage

ES_MODULES = "js/exam/*.js"


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    # Django's own import/export patterns (the ones its switch adds), for our modules only.
    patterns = CompressedManifestStaticFilesStorage.patterns + (
        (ES_MODULES, HashedFilesMixin._js_module_import_aggregation_patterns[1]),
    )
    # Each pass over the files settles at least one more level of the import graph, in the
    # worst case (the order files are listed in is the filesystem's): main.js sits 8 imports
    # deep, beyond Django's default of 5. A cycle still fails, as it should.
    max_post_process_passes = 20
