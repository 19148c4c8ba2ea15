"""The upload preview page: what will change, pictures, and the column-mapping step."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from questions.importing import ImportFile
from questions.models import Bank, ImportJob, Question
from questions.services import questions_import
from questions.tasks import run_import_job

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
# Headers no alias knows: the mapping step names them.
CSV_ODD = (
    b"Scenario,A,B,C,Right one,Notes\n"
    b"Which drug is monitored by aPTT?,Heparin,Warfarin,Aspirin,A,check\n"
)


def q(external_id: str, **extra) -> dict:
    return {
        "external_id": external_id,
        "stem": "Which drug is monitored by aPTT?",
        "options": ["Heparin", "Warfarin", "Aspirin"],
        "key": "A",
        "explanation": "aPTT tracks heparin.",
        **extra,
    }


def jsonl(*questions: dict) -> bytes:
    return "\n".join(json.dumps(x) for x in questions).encode()


def upload(client, bank, data: bytes, *, name: str = "q.jsonl", fmt: str = "auto"):
    return client.post(
        reverse("teach:upload", args=[bank.uuid]),
        {"files": SimpleUploadedFile(name, data), "format": fmt},
    )


def map_columns(client, bank, token: str, choices: list[str]):
    data = {"token": token, **{f"column_{i}": c for i, c in enumerate(choices)}}
    return client.post(reverse("teach:upload_map", args=[bank.uuid]), data)


def test_preview_shows_counts_and_the_fields_that_change_before_anything_is_written(
    instructor_client, bank
):
    questions_import(
        bank=bank, files=[ImportFile("a.jsonl", jsonl(q("Q1"), q("Q2")))], now=timezone.now()
    )
    data = jsonl(q("Q1"), q("Q2", stem="Which drug is monitored by INR?"), q("Q3"))
    response = upload(instructor_client, bank, data)
    preview = response.context["preview"]
    assert (preview.new, preview.changed, preview.unchanged) == (1, 1, 1)
    html = response.content.decode()
    assert "1 new, 1 changed, 1 unchanged" in html
    assert '<section class="card" aria-labelledby="changes-h" id="changes">' in html
    assert "<del>aPTT?</del> <ins>INR?</ins>" in html
    assert 'id="cleared-warning"' not in html
    assert Question.objects.filter(bank=bank).count() == 2


def test_preview_warns_when_a_field_would_be_cleared(instructor_client, bank):
    questions_import(bank=bank, files=[ImportFile("a.jsonl", jsonl(q("Q1")))], now=timezone.now())
    response = upload(instructor_client, bank, jsonl(q("Q1", explanation="")))
    html = response.content.decode()
    assert 'id="cleared-warning"' in html
    assert "1 changed question would have a field cleared" in html
    assert '<span class="badge bad">cleared</span>' in html


def test_preview_shows_pictures_from_the_upload_as_data_uris(instructor_client, bank):
    src = "data:image/png;base64," + base64.b64encode(PNG).decode()
    response = upload(instructor_client, bank, jsonl(q("Q1", stem=f'<img src="{src}" alt="ECG">')))
    assert response.context["can_import"]
    assert f'<img src="{src}" alt="ECG">' in response.content.decode()
    assert 'src="media:' not in response.content.decode()


def test_unknown_headers_get_a_mapping_step_that_is_remembered_for_the_bank(
    instructor_client, bank
):
    first = upload(instructor_client, bank, CSV_ODD, name="odd.csv")
    assert not first.context["can_import"] and "confirm_form" not in first.context
    form = first.context["map_form"]
    assert form.headers == ["Scenario", "Right one", "Notes"]
    assert b'id="column-map"' in first.content
    token = form.initial["token"]

    mapped = map_columns(instructor_client, bank, token, ["stem", "key", ""])
    assert mapped.context["can_import"], mapped.context["problems"]
    assert mapped.context["preview"].new == 1
    bank.refresh_from_db()
    assert bank.column_map == {"Scenario": "stem", "Right one": "key", "Notes": ""}

    # The job reads the files with the mapping the preview used.
    confirm = instructor_client.post(
        reverse("teach:upload_confirm", args=[bank.uuid]),
        {"token": mapped.context["confirm_form"].initial["token"]},
    )
    assert confirm.status_code == 302
    job = ImportJob.objects.get()
    assert job.column_map == bank.column_map
    assert run_import_job(job.id) == "done"
    assert Question.objects.get(bank=bank).current_version.stem_html == (
        "Which drug is monitored by aPTT?"
    )

    # The next file of that layout needs no mapping.
    again = upload(instructor_client, bank, CSV_ODD, name="odd-2.csv")
    assert again.context["can_import"] and "map_form" not in again.context
    assert again.context["preview"].unchanged == 1


def test_two_headers_mapped_to_one_column_are_refused_and_nothing_is_remembered(
    instructor_client, bank
):
    first = upload(instructor_client, bank, CSV_ODD, name="odd.csv")
    token = first.context["map_form"].initial["token"]
    response = map_columns(instructor_client, bank, token, ["stem", "stem", ""])
    assert response.status_code == 200
    assert response.context["map_form"].errors
    assert b"is already mapped to this column" in response.content
    bank.refresh_from_db()
    assert bank.column_map == {}


def test_mapping_step_refuses_a_token_of_another_bank(instructor_client, bank, instructor):
    other = Bank.objects.create(slug="other", name="Other")
    other.owners.add(instructor)
    first = upload(instructor_client, bank, CSV_ODD, name="odd.csv")
    token = first.context["map_form"].initial["token"]
    response = map_columns(instructor_client, other, token, ["stem", "key", ""])
    assert response.status_code == 302
    assert response["Location"] == reverse("teach:upload", args=[other.uuid])
    other.refresh_from_db()
    assert other.column_map == {}


def test_another_instructor_cannot_map_columns_of_my_upload(
    instructor_client, bank, client, other_instructor
):
    first = upload(instructor_client, bank, CSV_ODD, name="odd.csv")
    token = first.context["map_form"].initial["token"]
    client.force_login(other_instructor)
    assert map_columns(client, bank, token, ["stem", "key", ""]).status_code == 404
    bank.refresh_from_db()
    assert bank.column_map == {}
