"""axe-core in the browser tests: `assert_no_axe_violations(page, "item, struck")` fails with
every rule axe breaks on the page as it is now, at any impact.

axe-core comes inside the axe-playwright-python wheel (no download at run time); it is injected
with Playwright's evaluate, which the page's CSP does not govern.
"""

from __future__ import annotations

from functools import cache


@cache
def _axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


# axe-core's experimental rules are off by default; these are the ones that can fail a page
# (label-content-name-mismatch is WCAG 2.5.3, "label in name"). hidden-content only lists items
# for a human to review.
EXPERIMENTAL_RULES = (
    "css-orientation-lock",
    "focus-order-semantics",
    "label-content-name-mismatch",
    "p-as-heading",
    "table-fake-caption",
    "td-has-header",
)
OPTIONS = {
    "resultTypes": ["violations"],
    "rules": {rule: {"enabled": True} for rule in EXPERIMENTAL_RULES},
}


def axe_violations(page) -> list[dict]:
    return _axe().run(page, options=OPTIONS).response["violations"]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:6]:
            lines.append(
                f"    {' '.join(map(str, node['target']))}: {node['failureSummary'][:200]!r}"
            )
    return "\n".join(lines)


def assert_no_axe_violations(page, context_name: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core on {context_name} ({page.url}):\n{describe(violations)}"
