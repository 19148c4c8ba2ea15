"""Sequential item sets: the examinee sees and answers a set's items one at a time, in order.

Block 1 of `sequential_exam` is three single items, then a sequential set at 4, 5 and 6
(question numbers 800, 801, 802). An item of the set is *reached* once the examinee has moved
to it; it is *left* (its answer final) once they move away from it. Nothing the server sends
holds an item of the set not yet reached, and only the item on screen can be saved.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from exams import answers, attempts, clock
from exams.errors import ItemLocked
from exams.models import Response

pytestmark = pytest.mark.django_db

STEM = "Stem of question {}:"
SET_STEMS = {4: STEM.format(800), 5: STEM.format(801), 6: STEM.format(802)}


def _start(user, exam, now):
    attempt = attempts.attempt_start(user=user, exam=exam, now=now)
    attempt = clock.tutorial_end(attempt=attempt, now=now)
    return clock.block_start(attempt=attempt, now=now)


@pytest.fixture
def on_item_4(examinee, sequential_exam):
    """Block 1 open, the examinee on item 4 (the set's first), item 4 answered."""
    now = timezone.now()
    attempt = _start(examinee, sequential_exam, now)
    answers.item_visit(attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=4, now=now)
    answers.answer_save(
        attempt_uuid=attempt.uuid, user_id=attempt.user_id, position=4, seq=1, choice=0, now=now
    )
    return attempt


def _row(attempt, position):
    return Response.objects.get(attempt=attempt, block__number=1, position=position)


def _snapshot(attempt):
    return [
        (r.position, r.choice, r.is_marked, r.note, r.struck, r.field_seqs, r.is_locked)
        for r in Response.objects.filter(attempt=attempt, block__number=1).order_by("position")
    ]


def test_bundle_holds_only_the_reached_items_of_a_sequential_set(examinee_client, on_item_4):
    url = reverse("exams:block_items", args=[on_item_4.uuid])
    body = examinee_client.get(url).content.decode()
    assert SET_STEMS[4] in body
    assert SET_STEMS[5] not in body and SET_STEMS[6] not in body
    for n in (700, 701, 702):
        assert STEM.format(n) in body, "single items are still sent ahead"
    answers.item_visit(
        attempt_uuid=on_item_4.uuid, user_id=on_item_4.user_id, position=5, now=timezone.now()
    )
    body = examinee_client.get(url).content.decode()
    assert SET_STEMS[4] in body and SET_STEMS[5] in body
    assert SET_STEMS[6] not in body


def test_review_screen_shows_no_excerpt_of_an_unreached_set_item(examinee_client, on_item_4):
    body = examinee_client.get(reverse("exams:review_screen", args=[on_item_4.uuid]))
    text = body.content.decode()
    assert body.status_code == 200
    assert SET_STEMS[4] in text
    assert SET_STEMS[5] not in text and SET_STEMS[6] not in text


@pytest.mark.parametrize("position", [5, 6])
@pytest.mark.parametrize(
    "fields", [{"choice": 1}, {"is_marked": True}, {"note": "later"}, {"struck": [1]}]
)
def test_save_to_a_set_item_not_yet_reached_is_refused_and_changes_nothing(
    on_item_4, position, fields
):
    before = _snapshot(on_item_4)
    with pytest.raises(ItemLocked):
        answers.answer_save(
            attempt_uuid=on_item_4.uuid,
            user_id=on_item_4.user_id,
            position=position,
            seq=2,
            now=timezone.now(),
            **fields,
        )
    assert _snapshot(on_item_4) == before


def test_save_to_a_set_item_already_left_is_refused_and_changes_nothing(on_item_4):
    now = timezone.now()
    answers.item_visit(attempt_uuid=on_item_4.uuid, user_id=on_item_4.user_id, position=5, now=now)
    before = _snapshot(on_item_4)
    for seq, fields in enumerate(({"choice": 2}, {"is_marked": True}, {"note": "x"}), start=5):
        with pytest.raises(ItemLocked):
            answers.answer_save(
                attempt_uuid=on_item_4.uuid,
                user_id=on_item_4.user_id,
                position=4,
                seq=seq,
                now=now,
                **fields,
            )
    assert _snapshot(on_item_4) == before
    assert _row(on_item_4, 4).choice == 0


def test_an_unreached_item_cannot_be_answered_ahead_and_the_set_stays_in_order(on_item_4):
    """The finding: saves to 5 and 6 were accepted from item 4, and 4 could change after."""
    now = timezone.now()
    for position in (5, 6):
        with pytest.raises(ItemLocked):
            answers.answer_save(
                attempt_uuid=on_item_4.uuid,
                user_id=on_item_4.user_id,
                position=position,
                seq=3,
                choice=1,
                now=now,
            )
    # Still on 4: its answer may change until the examinee moves on.
    answers.answer_save(
        attempt_uuid=on_item_4.uuid, user_id=on_item_4.user_id, position=4, seq=4, choice=2, now=now
    )
    answers.item_visit(attempt_uuid=on_item_4.uuid, user_id=on_item_4.user_id, position=5, now=now)
    answers.answer_save(
        attempt_uuid=on_item_4.uuid, user_id=on_item_4.user_id, position=5, seq=5, choice=3, now=now
    )
    with pytest.raises(ItemLocked):
        answers.answer_save(
            attempt_uuid=on_item_4.uuid,
            user_id=on_item_4.user_id,
            position=4,
            seq=6,
            choice=3,
            now=now,
        )
    assert [_row(on_item_4, p).choice for p in (4, 5, 6)] == [2, 3, None]


def test_single_items_elsewhere_in_the_block_still_save_from_anywhere(on_item_4):
    result = answers.answer_save(
        attempt_uuid=on_item_4.uuid,
        user_id=on_item_4.user_id,
        position=2,
        seq=7,
        choice=1,
        now=timezone.now(),
    )
    assert result.applied == ["choice"]


def test_save_view_refuses_an_unreached_set_item_with_423(examinee_client, on_item_4):
    before = _snapshot(on_item_4)
    response = examinee_client.post(
        reverse("exams:save", args=[on_item_4.uuid, 6]),
        {"seq": 9, "choice": 1, "marked": "1"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 423
    assert response.json()["error"] == "locked"
    assert _snapshot(on_item_4) == before
