"""Key fixes rescore: scope first, then an audited change, scores and analytics rebuilt."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from analytics import rescore, selectors, tasks
from analytics.models import BlockPerformance, ItemStatistic, KeyChange
from exams.models import Response
from tests.analytics.conftest import compute_block_and_items


@pytest.fixture
def miskeyed(build, t0, examinee, other_examinee, django_user_model):
    """Key A, but B is right: Ada chose A, Ben chose B, Cy omitted; a second item as ballast."""
    cy = django_user_model.objects.create_user(username="cy", password="x", role="examinee")
    v = build.question(key=0, tags=("system:renal",))
    other = build.question(key=2, tags=("system:renal",))
    blocks = {}
    for user, choice in ((examinee, 0), (other_examinee, 1), (cy, None)):
        block = build.closed_block(user=user, answers=[(v, choice), (other, 2)])
        compute_block_and_items(block=block, now=t0)
        blocks[user.username] = block
    return v, blocks


def _score(block):
    return selectors.score_report(attempt=block.attempt)


@pytest.mark.django_db
def test_scope_counts_the_responses_and_attempts_whose_score_changes(miskeyed):
    v, _ = miskeyed
    scope = rescore.key_change_scope(question=v.question, key_index=1, is_voided=False)
    assert (scope.responses, scope.changed, scope.attempts, scope.all_attempts) == (3, 2, 2, 3)
    # The scope writes nothing.
    assert v.question.versions.count() == 1 and not KeyChange.objects.exists()


@pytest.mark.django_db
def test_a_key_fix_rescores_attempts_and_rebuilds_their_analytics(miskeyed, instructor, t0):
    v, blocks = miskeyed
    assert _score(blocks["ada"]).correct == 2 and _score(blocks["ben"]).correct == 1

    change = rescore.key_change_apply(
        question=v.question,
        key_index=1,
        is_voided=False,
        based_on=v,
        actor=instructor,
        now=t0 + timedelta(days=1),
        reason="B is right",
    )

    # Audited: who, when, what, and exactly which responses moved.
    assert (change.actor, change.kind, change.old_key_letter, change.new_key_letter) == (
        instructor,
        KeyChange.Kind.KEY,
        "A",
        "B",
    )
    assert change.created_at == t0 + timedelta(days=1) and change.changed_count == 2
    assert sorted(change.response_ids) == sorted(
        Response.objects.filter(question=v.question).values_list("id", flat=True)
    )
    assert {a.user.username for a in change.attempts.all()} == {"ada", "ben"}
    new = change.to_version
    assert (new.number, new.key_index, new.stem_html, new.options) == (2, 1, v.stem_html, v.options)
    assert Response.objects.filter(question=v.question, version=new).count() == 3
    # Scores read the new key at once.
    assert _score(blocks["ada"]).correct == 1 and _score(blocks["ben"]).correct == 2

    assert tasks.rescore_key_change(change.pk) == "done"
    change.refresh_from_db()
    assert (change.status, change.progress, change.total) == ("done", 4, 4)
    renal = BlockPerformance.objects.get(block=blocks["ben"], tag__slug="renal")
    assert (renal.correct, renal.total) == (2, 2)
    stat = ItemStatistic.objects.get(version=new)
    assert (stat.responses, stat.correct) == (3, 1)
    assert not ItemStatistic.objects.filter(version=v).exists()
    # A redelivered task finds the work done.
    assert tasks.rescore_key_change(change.pk) == "skipped"


@pytest.mark.django_db
def test_confirming_the_same_fix_twice_changes_nothing_more(miskeyed, instructor, t0):
    v, _ = miskeyed
    kwargs = {
        "question": v.question,
        "key_index": 1,
        "is_voided": False,
        "based_on": v,
        "actor": instructor,
    }
    first = rescore.key_change_apply(**kwargs, now=t0)
    second = rescore.key_change_apply(**kwargs, now=t0 + timedelta(minutes=1))
    assert second.pk == first.pk
    assert v.question.versions.count() == 2 and KeyChange.objects.count() == 1
    # A different fix on the stale version is refused: the scope shown is no longer true.
    with pytest.raises(ValidationError):
        rescore.key_change_apply(**{**kwargs, "key_index": 2}, now=t0)


@pytest.mark.django_db
def test_a_voided_item_is_credited_to_everyone_shown_it(miskeyed, instructor, t0):
    v, blocks = miskeyed
    change = rescore.key_change_apply(
        question=v.question, key_index=0, is_voided=True, based_on=v, actor=instructor, now=t0
    )
    assert change.kind == KeyChange.Kind.VOID and change.changed_count == 2
    assert [_score(blocks[u]).correct for u in ("ada", "ben", "cy")] == [2, 2, 2]
    tasks.rescore_key_change(change.pk)
    stat = ItemStatistic.objects.get(version=change.to_version)
    assert (stat.responses, stat.correct) == (3, 3)


@pytest.mark.django_db
def test_only_responses_that_saw_the_same_options_are_rescored(miskeyed, instructor, t0):
    from questions import services as qservices

    v, _ = miskeyed
    # An edit that reorders the options: responses to version 1 saw other options.
    edited = qservices.question_edit(
        question=v.question, now=t0, options=list(reversed(v.options)), key_index=4
    )
    scope = rescore.key_change_scope(question=v.question, key_index=3, is_voided=False)
    assert (scope.responses, scope.skipped) == (0, 3)
    change = rescore.key_change_apply(
        question=v.question, key_index=3, is_voided=False, based_on=edited, actor=instructor, now=t0
    )
    assert change.response_ids == [] and Response.objects.filter(version=v).count() == 3


@pytest.mark.django_db
def test_the_score_report_of_an_affected_examinee_notes_the_change(
    miskeyed, instructor, examinee, client, t0
):
    v, blocks = miskeyed
    url = reverse("analytics:score_report", args=[blocks["ada"].attempt.uuid])
    client.force_login(examinee)
    assert "Rescored items" not in client.get(url).content.decode()
    rescore.key_change_apply(
        question=v.question, key_index=1, is_voided=False, based_on=v, actor=instructor, now=t0
    )
    page = client.get(url).content.decode()
    assert "Rescored items" in page and "Block 1, item 1: the answer key was corrected" in page


@pytest.mark.django_db
def test_the_instructor_sees_the_scope_before_confirming(miskeyed, instructor_client, instructor):
    v, _ = miskeyed
    v.question.bank.owners.add(instructor)
    url = reverse("teach:key_fix", args=[v.question.uuid])
    page = instructor_client.get(url, {"choice": "B"}).content.decode()
    assert "This changes <strong>2</strong> responses in <strong>2</strong> attempts." in page
    assert not KeyChange.objects.exists()
    response = instructor_client.post(url, {"choice": "B", "based_on": v.pk, "reason": "typo"})
    change = KeyChange.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "teach:key_change", args=[change.uuid]
    )
    assert change.reason == "typo"
    # htmx polls the job row for its progress.
    fragment = instructor_client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert b'id="rescore-progress"' in fragment.content and b"<html" not in fragment.content


@pytest.mark.django_db
def test_the_current_key_is_not_offered_as_a_fix(miskeyed, instructor_client, instructor):
    v, _ = miskeyed
    v.question.bank.owners.add(instructor)
    page = instructor_client.get(
        reverse("teach:key_fix", args=[v.question.uuid]), {"choice": "A"}
    ).content.decode()
    assert "already how this question is scored" in page and "Confirm the rescore" not in page


@pytest.mark.django_db
def test_other_instructors_cannot_see_or_rescore(miskeyed, other_instructor, client, instructor):
    v, _ = miskeyed
    v.question.bank.owners.add(instructor)
    client.force_login(other_instructor)
    url = reverse("teach:key_fix", args=[v.question.uuid])
    assert client.get(url, {"choice": "B"}).status_code == 404
    assert client.post(url, {"choice": "B", "based_on": v.pk}).status_code == 404
    assert not KeyChange.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_rebuilds_the_analytics_after_a_confirmed_fix(
    miskeyed, instructor, t0, celery_worker_process
):
    v, blocks = miskeyed
    change = rescore.key_change_apply(
        question=v.question, key_index=1, is_voided=False, based_on=v, actor=instructor, now=t0
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        change.refresh_from_db()
        if change.status == "done":
            break
        time.sleep(0.2)
    assert change.status == "done"
    assert ItemStatistic.objects.get(version=change.to_version).correct == 1
    renal = BlockPerformance.objects.get(block=blocks["ada"], tag__slug="renal")
    assert (renal.correct, renal.total) == (1, 2)
