"""The per-version fragment cache of an item's answer options (exams/fragments.py).

The cached markup must equal what the template rendered before the cache, for every state an
examinee can be in; it must follow a new version at once; and the shared part must never hold
a key, an explanation or a tutor mark.
"""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from exams import answers, attempts, clock, fragments
from exams.models import Response
from questions.models import QuestionVersion
from questions.services import question_draft, question_save

pytestmark = pytest.mark.django_db

# The options loop as _item_partial.html wrote it before the cache (commit 50aa586): the
# reference the cached path must reproduce, state for state.
REFERENCE = Template(
    """{% for o in item.options %}
<div class="option{% if o.index in response.struck %} is-struck{% endif %}{% if tutor and o.index == tutor.key_index %} is-key{% endif %}{% if tutor and o.index == response.choice and o.index != tutor.key_index %} is-wrong{% endif %}" data-index="{{ o.index }}" data-letter="{{ o.letter }}">
<input type="radio" name="choice" id="opt-{{ o.index }}" value="{{ o.index }}"{% if response.choice == o.index %} checked{% endif %}>
<label for="opt-{{ o.index }}"><span class="opt-letter">{{ o.letter }}.</span> <span class="opt-text">{{ o.html|safe }}</span><span class="sr-only struck-note">{% if o.index in response.struck %} (struck out){% endif %}</span></label>
<button type="button" class="strike-btn" data-action="strike" data-index="{{ o.index }}" aria-pressed="{% if o.index in response.struck %}true{% else %}false{% endif %}" aria-label="Strike out option {{ o.letter }}" title="Strike out (S, or right-click the option)"><span class="strike-glyph">S</span></button>
</div>
{% endfor %}"""
)


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


def reference(version: QuestionVersion, *, choice, struck, key_index) -> str:
    options = [
        {"index": i, "letter": chr(65 + i), "html": o.get("text", "")}
        for i, o in enumerate(version.options)
    ]
    tutor = {"key_index": key_index} if key_index is not None else None
    ctx = {"item": {"options": options}, "response": {"choice": choice, "struck": struck}}
    return squeeze(REFERENCE.render(Context({**ctx, "tutor": tutor})))


def started(user, exam, now):
    return clock.block_start(attempt=attempts.attempt_start(user=user, exam=exam, now=now), now=now)


@pytest.fixture
def version(bank) -> QuestionVersion:
    fragments.store.clear()
    return bank.questions.order_by("external_id").first().current_version


@pytest.mark.parametrize(
    ("choice", "struck", "key_index"),
    [
        (None, [], None),
        (2, [], None),
        (None, [0, 3], None),
        (1, [1, 4], None),
        (3, [0], 3),  # tutor: right
        (2, [4], 0),  # tutor: wrong, key elsewhere
        (None, [], 1),  # tutor: omitted
    ],
)
def test_cached_options_equal_the_templates_own_render_in_every_state(
    version, choice, struck, key_index
):
    first = fragments.options_html(
        version=version, choice=choice, struck=struck, key_index=key_index
    )
    again = fragments.options_html(
        version=version, choice=choice, struck=struck, key_index=key_index
    )
    expected = reference(version, choice=choice, struck=struck, key_index=key_index)
    assert squeeze(first) == expected
    assert squeeze(again) == expected  # the second comes from the store
    assert fragments.store.hits >= 1


def test_the_shared_fragment_holds_no_key_explanation_or_mark(version):
    # Render the tutor's view first: its marks must not stay behind in what others get.
    fragments.options_html(version=version, choice=1, struck=[2], key_index=version.key_index)
    shared = "".join(fragments.options_fragment(version).parts)
    assert "is-key" not in shared and "is-wrong" not in shared and "is-struck" not in shared
    assert " checked" not in shared
    for o in version.options:
        assert o["explanation"] not in shared
    assert "SECRET-EXPLANATION" not in shared
    plain = fragments.options_html(version=version, choice=None, struck=[])
    assert "is-key" not in plain and "is-wrong" not in plain


def test_a_nul_in_an_option_cannot_break_the_slots(version):
    version.options = [{"text": "bad\x00text"}, {"text": "fine"}]
    html = fragments.options_html(version=version, choice=0, struck=[1])
    assert "bad\ufffdtext" in html and "\x00" not in html
    assert 'value="0" checked' in html and "is-struck" in html


def test_a_rewritten_row_with_a_new_hash_is_rendered_again(version):
    before = fragments.options_html(version=version, choice=None, struck=[])
    version.options = [{**o, "text": f"Rewritten {i}"} for i, o in enumerate(version.options)]
    version.content_hash = "0" * 64
    after = fragments.options_html(version=version, choice=None, struck=[])
    assert "Rewritten 0" in after and "Rewritten 0" not in before


def test_an_edited_question_shows_its_new_version_on_the_item_page_and_in_the_bundle(
    client, examinee, other_examinee, sequential_exam
):
    fragments.store.clear()
    now = timezone.now()
    first = started(examinee, sequential_exam, now)
    r1 = Response.objects.select_related("question", "version").get(
        block__attempt=first, block__number=1, position=1
    )
    client.force_login(examinee)
    old_text = r1.version.options[0]["text"]
    assert old_text in client.get(reverse("exams:item", args=[first.uuid, 1])).content.decode()
    # The instructor edits the question: a new version with new text, while the cache holds v1.
    draft = question_draft(question=r1.question)
    draft.options[0]["text"] = "Edited option text"
    new_version = question_save(question=r1.question, draft=draft, now=now)
    # A fixed form: an attempt started after the edit is shown the new version at position 1.
    other = started(other_examinee, sequential_exam, now)
    r2 = Response.objects.get(block__attempt=other, block__number=1, position=1)
    assert r2.version_id == new_version.pk
    client.force_login(other_examinee)
    page = client.get(reverse("exams:item", args=[other.uuid, 1])).content.decode()
    assert "Edited option text" in page and old_text not in page
    bundle = client.get(reverse("exams:block_items", args=[other.uuid])).content.decode()
    assert "Edited option text" in bundle.split('data-screen="item"')[1]
    # The first examinee still sees the version they were shown.
    client.force_login(examinee)
    page = client.get(reverse("exams:item", args=[first.uuid, 1])).content.decode()
    assert old_text in page and "Edited option text" not in page


def test_item_page_and_bundle_carry_the_examinees_own_choice_and_strikes(
    client, examinee, other_examinee, sequential_exam
):
    fragments.store.clear()
    now = timezone.now()
    mine = started(examinee, sequential_exam, now)
    answers.answer_save(
        attempt_uuid=mine.uuid, user_id=examinee.pk, position=1, seq=1, choice=3, now=now
    )
    Response.objects.filter(block__attempt=mine, block__number=1, position=1).update(struck=[0, 2])
    client.force_login(examinee)
    page = client.get(reverse("exams:item", args=[mine.uuid, 1])).content.decode()
    assert 'id="opt-3" value="3" checked' in page
    assert page.count("option is-struck") == 2 and 'aria-pressed="true"' in page
    bundle = client.get(reverse("exams:block_items", args=[mine.uuid])).content.decode()
    assert 'id="opt-3" value="3" checked' in bundle.split('data-screen="item"')[1]
    # Another examinee shown the same version (a fixed form) gets none of it.
    theirs = started(other_examinee, sequential_exam, now)
    row = Response.objects.get(block__attempt=theirs, block__number=1, position=1)
    assert (
        row.version_id
        == Response.objects.get(block__attempt=mine, block__number=1, position=1).version_id
    )
    client.force_login(other_examinee)
    page = client.get(reverse("exams:item", args=[theirs.uuid, 1])).content.decode()
    assert " checked" not in page.split('id="answer-form"')[1].split("</fieldset>")[0]
    assert "is-struck" not in page and 'aria-pressed="true"' not in page
