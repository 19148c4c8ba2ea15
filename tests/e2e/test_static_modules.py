"""The exam's ES modules survive `collectstatic` with the production storage: every import is
rewritten to the imported module's hashed name, and the collected files load in a browser.

The rest of the suite serves the unhashed files (STATIC_NO_MANIFEST=1); production serves the
hashed ones, so this is the only test that sees what an examinee's browser gets in production.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.name for p in (ROOT / "static" / "js" / "exam").glob("*.js"))
IMPORT = re.compile(r"""\b(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']\s*;""", re.S)


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """collectstatic as production runs it: the settings' own storage (DEBUG off, no
    STATIC_NO_MANIFEST), into a fresh STATIC_ROOT. Returns (root, manifest paths)."""
    root = tmp_path_factory.mktemp("staticfiles")
    env = {k: v for k, v in os.environ.items() if k not in ("STATIC_NO_MANIFEST", "DEBUG")}
    env["STATIC_ROOT"] = str(root)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    paths = json.loads((root / "staticfiles.json").read_text())["paths"]
    return root, paths


def test_collectstatic_rewrites_every_module_import_to_the_hashed_name(collected):
    root, paths = collected
    assert MODULES, "static/js/exam/ holds the modules"
    for module in MODULES:
        hashed = paths[f"js/exam/{module}"]
        assert hashed != f"js/exam/{module}"
        text = (root / hashed).read_text()
        original = (ROOT / "static" / "js" / "exam" / module).read_text()
        imported = IMPORT.findall(text)
        assert len(imported) == len(IMPORT.findall(original)), module
        for url in imported:
            # Relative, and exactly the manifest's (final) name for the imported module.
            assert url.startswith("./"), (module, url)
            target = paths.get("js/exam/" + re.sub(r"\.[0-9a-f]{12}\.js$", ".js", url[2:]))
            assert target == "js/exam/" + url[2:], (module, url, target)


@pytest.mark.browser
def test_collected_modules_load_in_the_browser_under_hashed_names_only(collected, browser):
    """main.js, served under its hashed name, pulls in every module, each under its hashed
    name, and runs: the page's durations are formatted (format.js) and prefs are applied."""
    root, paths = collected
    hashed_names = set(paths.values())
    requested = []
    missing = []
    main = paths["js/exam/main.js"]
    html = (
        '<!doctype html><html><head><script type="module" '
        f'src="/static/{main}"></script></head>'
        '<body><span id="d" data-duration="125">125</span></body></html>'
    )

    def serve(route):
        path = route.request.url.split("://", 1)[1].split("/", 1)[1]
        if path == "page.html":
            route.fulfill(status=200, content_type="text/html", body=html)
            return
        name = path.removeprefix("static/")
        requested.append(name)
        file = root / name
        if name not in hashed_names or not file.is_file():
            missing.append(name)
            route.fulfill(status=404, body="")
            return
        kind = "text/javascript" if name.endswith(".js") else mimetypes.guess_type(name)[0]
        route.fulfill(status=200, content_type=kind, body=file.read_bytes())

    context = browser.new_context()
    try:
        page = context.new_page()
        page.route("http://static.test/**", serve)
        page.goto("http://static.test/page.html")
        page.wait_for_function("document.documentElement.classList.contains('js')", timeout=10000)
        assert page.text_content("#d") == "2:05"
    finally:
        context.close()
    assert not missing, f"requested without a hashed file: {missing}"
    assert sorted(requested) == sorted(paths[f"js/exam/{m}"] for m in MODULES)


def test_module_hashes_settle_when_files_are_listed_dependents_first(tmp_path):
    """collectstatic post-processes files in the order the filesystem lists them; in the worst
    order (every module before the modules it imports) each pass settles one level of the
    import graph, which is deeper than Django's default number of passes."""
    from django.core.files.storage import FileSystemStorage

    from config.storage import ManifestStaticFilesStorage

    source = FileSystemStorage(location=ROOT / "static")
    names = [f"js/exam/{m}" for m in MODULES]
    imports = {
        n: ["js/exam/" + u[2:] for u in IMPORT.findall((ROOT / "static" / n).read_text())]
        for n in names
    }
    order: list[str] = []

    def visit(name: str) -> None:
        if name not in order:
            for dep in imports[name]:
                visit(dep)
            order.append(name)

    for name in names:
        visit(name)
    storage = ManifestStaticFilesStorage(location=tmp_path)
    for name in names:
        with source.open(name) as f:
            storage.save(name, f)
    paths = {name: (storage, name) for name in reversed(order)}
    errors = [p for _, _, p in storage.post_process(paths) if isinstance(p, Exception)]
    assert errors == []
