"""Browser end-to-end tests: Playwright (sync API) driving Debian's Chromium against
pytest-django's live server.

Playwright's sync API runs an event loop in the test thread, which makes Django's ORM refuse to
run there ("async context") unless told that this is safe. It is: the ORM calls in these tests
happen between browser steps, never concurrently with them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

STEMS = [
    "A 54-year-old man comes to the emergency department because of crushing substernal chest "
    "pain for 2 hours. His pulse is 104/min and blood pressure is 150/90 mm Hg. An ECG shows "
    "ST-segment elevation in leads II, III and aVF. Which of the following is the most "
    "appropriate next step in management?",
    "A 23-year-old woman has had fatigue and cold intolerance for 3 months. Her TSH is elevated "
    "and free T4 is decreased. Which of the following is the most likely cause?",
    "A 6-year-old boy has periorbital oedema after a sore throat 2 weeks ago. Urinalysis shows "
    "red blood cell casts. Which of the following is the most likely diagnosis?",
    "A 31-year-old woman at 34 weeks' gestation has headache and a blood pressure of 162/112 "
    "mm Hg. Which of the following is the most appropriate next step?",
    "A 68-year-old man has progressive dyspnoea and dry cough. He worked in a shipyard for "
    "30 years. Which of the following findings is most likely on chest imaging?",
    "A 45-year-old woman has right upper quadrant pain after fatty meals and a positive "
    "Murphy sign. Which of the following is the most appropriate initial imaging study?",
]
OPTIONS = [
    [
        "Aspirin and percutaneous coronary intervention",
        "Oral metoprolol only",
        "CT angiography of the chest",
        "Exercise stress test",
        "Discharge with follow-up",
    ],
    [
        "Hashimoto thyroiditis",
        "Graves disease",
        "Pituitary adenoma",
        "Subacute thyroiditis",
        "Iodine excess",
    ],
    [
        "Post-streptococcal glomerulonephritis",
        "Minimal change disease",
        "IgA nephropathy",
        "Alport syndrome",
        "Haemolytic uraemic syndrome",
    ],
    [
        "Magnesium sulfate and antihypertensives",
        "Observation",
        "Oral nifedipine at home",
        "Bed rest only",
        "Diuretics",
    ],
    [
        "Pleural plaques",
        "Upper-lobe cavitation",
        "Hilar eggshell calcification",
        "Kerley B lines only",
        "Normal findings",
    ],
    ["Ultrasonography", "HIDA scan", "CT of the abdomen", "MRCP", "ERCP"],
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 820}, locale="en-US")
    context.set_default_timeout(15000)
    # CSP forbids inline script and style: any violation on an exam page is a bug in a template
    # or a script. (Other apps' pages are checked by their own tests.)
    context.csp_errors = []

    def on_console(msg) -> None:
        url = msg.page.url if msg.page else ""
        if urlsplit(url).path.startswith("/exams/") and (
            "Content Security Policy" in msg.text or "Refused to" in msg.text
        ):
            context.csp_errors.append(f"{url} {msg.location.get('url')}: {msg.text[:120]}")

    context.on("console", on_console)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, full_page: bool = False) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return take


@pytest.fixture
def login(live_server):
    from tests.conftest import PASSWORD

    def do(page, username: str) -> None:
        page.goto(f"{live_server.url}/accounts/login/?next=/exams/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/exams/")

    return do


def _question(bank, n: int, *, discipline, system):
    from questions.models import Question, QuestionVersion

    q = Question.objects.create(bank=bank, external_id=f"{bank.slug}-{n}")
    v = QuestionVersion.objects.create(
        question=q,
        number=1,
        stem_html=f"<p>{STEMS[n]}</p>",
        options=[
            {"text": text, "explanation": f"<p>SECRET-WHY-{n}-{i}</p>"}
            for i, text in enumerate(OPTIONS[n])
        ],
        key_index=0,
        explanation_html=f"<p>SECRET-EXPLANATION-{n}</p>",
        objective_html=f"<p>SECRET-OBJECTIVE-{n}</p>",
        content_hash=hashlib.sha256(f"{bank.slug}-{n}".encode()).hexdigest(),
    )
    q.current_version = v
    q.save(update_fields=["current_version"])
    q.tags.add(discipline, system)
    return q


@pytest.fixture
def make_exam(instructor):
    """A fixed-form exam on the six questions above, built with the ORM.

    `sequential` lists positions (in block 1) that form one sequential item set.
    """
    from exams.models import Blueprint, Exam, FixedItem
    from questions.models import Bank, ItemSet, Tag

    def build(
        *,
        title: str,
        slug: str,
        blocks: int,
        items: int,
        minutes: int,
        break_minutes: int = 1,
        tutorial_minutes: int = 0,
        mode: str = Exam.Mode.TIMED,
        sequential: tuple[int, ...] = (),
    ) -> Exam:
        # Public exams only: their bank is practice material (the practice builder test).
        bank = Bank.objects.create(
            slug=f"{slug}-bank", name=f"{title} bank", is_open_for_practice=True
        )
        bank.owners.add(instructor)
        tags = {}
        for kind, tag_slug, name in (
            (Tag.Kind.DISCIPLINE, "medicine", "Medicine"),
            (Tag.Kind.DISCIPLINE, "surgery", "Surgery"),
            (Tag.Kind.SYSTEM, "cardiovascular", "Cardiovascular"),
            (Tag.Kind.SYSTEM, "endocrine", "Endocrine"),
        ):
            tags[tag_slug] = Tag.objects.get_or_create(
                kind=kind, slug=tag_slug, bank=None, defaults={"name": name}
            )[0]
        blueprint = Blueprint.objects.create(
            slug=slug,
            name=title,
            block_count=blocks,
            items_per_block=items,
            block_minutes=minutes,
            break_minutes=break_minutes,
            tutorial_minutes=tutorial_minutes,
        )
        exam = Exam.objects.create(
            title=title,
            description=f"{blocks} block(s) of {items} items, {minutes} min each (browser tests).",
            owner=instructor,
            blueprint=blueprint,
            is_public=True,
            mode=mode,
            assembly=Exam.Assembly.FIXED,
        )
        exam.banks.add(bank)
        item_set = None
        if sequential:
            item_set = ItemSet.objects.create(
                bank=bank,
                kind=ItemSet.Kind.SEQUENTIAL,
                external_id=f"{slug}-set",
                stimulus_html="<p>The same patient is followed over the next questions.</p>",
            )
        for n in range(blocks * items):
            q = _question(
                bank,
                n,
                discipline=tags["medicine" if n % 2 else "surgery"],
                system=tags["cardiovascular" if n < 3 else "endocrine"],
            )
            block, position = n // items + 1, n % items + 1
            if block == 1 and position in sequential:
                q.item_set = item_set
                q.set_position = sequential.index(position) + 1
                q.save(update_fields=["item_set", "set_position"])
            FixedItem.objects.create(exam=exam, block_number=block, position=position, question=q)
        return exam

    return build


@pytest.fixture
def short_exam(make_exam):
    """A timed exam: 2 blocks x 3 items x 1 minute, a 1-minute break, no tutorial."""
    return make_exam(title="E2E short mock", slug="e2e-2x3", blocks=2, items=3, minutes=1)
