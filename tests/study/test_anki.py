"""The exported deck, opened with Anki's own engine (the `anki` package from PyPI)."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from datetime import timedelta

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from django.core.files.base import ContentFile

from questions.models import Media, Tag
from study import anki, cards
from study.models import Card

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def collection(tmp_path):
    col = Collection(str(tmp_path / "collection.anki2"))
    yield col
    col.close()


def import_into(col: Collection, data: bytes, path) -> None:
    path.write_bytes(data)
    col.import_anki_package(
        ImportAnkiPackageRequest(
            package_path=str(path), options=ImportAnkiPackageOptions(merge_notetypes=True)
        )
    )


def _notes(col):
    return {n["MockboardId"]: n for n in (col.get_note(i) for i in col.find_notes(""))}


@pytest.fixture
def carded(examinee, finished, t0):
    cards.cards_collect(user=examinee, now=t0 + timedelta(hours=1))
    missed = Card.objects.get(
        user=examinee, question=finished.responses.get(block__number=1, position=1).question
    )
    question = missed.question
    version = question.current_version
    media = Media(
        bank=question.bank, original_name="ecg.png", content_type="image/png", sha256="1" * 64
    )
    media.file.save("ecg.png", ContentFile(PNG), save=True)
    version.media.add(media)
    version.stem_html += f'<img src="/questions/media/{media.uuid}/" alt="ECG">'
    version.save(update_fields=["stem_html"])
    topic, _ = Tag.objects.get_or_create(
        kind=Tag.Kind.TOPIC, slug="atrial-fibrillation", bank=None, defaults={"name": "AF"}
    )
    question.tags.add(topic)
    return missed, media


def test_the_deck_opens_in_anki_with_fields_tags_and_media(
    examinee, carded, collection, tmp_path, t0
):
    missed, media = carded
    data = anki.anki_package(user=examinee, now=t0 + timedelta(hours=2))
    import_into(collection, data, tmp_path / "a.apkg")
    notes = _notes(collection)
    assert len(notes) == 4
    note = notes[str(missed.question.uuid)]
    version = missed.question.current_version
    assert anki.media_filename(media) in note["Question"]
    assert "/questions/media/" not in note["Question"]
    assert note["Answer"].startswith(f"{version.key_letter}. ")
    assert "SECRET-EXPLANATION" in note["Explanation"]
    assert "Objective" in note["Objective"]
    assert note["Options"].count("<li>") == 5
    discipline = missed.question.tags.get(kind=Tag.Kind.DISCIPLINE).slug
    system = missed.question.tags.get(kind=Tag.Kind.SYSTEM).slug
    assert sorted(t.lower() for t in note.tags) == sorted(
        [
            f"mockboard::discipline::{discipline}",
            f"mockboard::system::{system}",
            "mockboard::topic::atrial-fibrillation",
        ]
    )
    stored = collection.media.dir()
    assert (tmp_path / stored / anki.media_filename(media)).read_bytes() == PNG


def test_a_re_export_updates_the_same_notes_instead_of_duplicating(
    examinee, carded, collection, tmp_path, t0
):
    missed, _ = carded
    import_into(collection, anki.anki_package(user=examinee, now=t0), tmp_path / "1.apkg")
    version = missed.question.current_version
    version.objective_html = "<p>Rate control first.</p>"
    version.save(update_fields=["objective_html"])
    import_into(
        collection,
        anki.anki_package(user=examinee, now=t0 + timedelta(days=1)),
        tmp_path / "2.apkg",
    )
    notes = _notes(collection)
    assert len(notes) == 4 and len(collection.find_notes("")) == 4
    assert notes[str(missed.question.uuid)]["Objective"] == "<p>Rate control first.</p>"


def test_only_the_chosen_cards_are_exported(examinee, carded, collection, tmp_path, t0):
    missed, _ = carded
    data = anki.anki_package(user=examinee, now=t0, card_uuids=[missed.uuid])
    import_into(collection, data, tmp_path / "a.apkg")
    assert list(_notes(collection)) == [str(missed.question.uuid)]


def test_a_card_in_an_open_block_elsewhere_is_not_exported(
    examinee, carded, open_block_elsewhere, collection, tmp_path, t0
):
    missed, _ = carded
    now = t0 + timedelta(hours=3)
    open_block_elsewhere(now)
    data = anki.anki_package(user=examinee, now=now + timedelta(minutes=1))
    import_into(collection, data, tmp_path / "a.apkg")
    notes = _notes(collection)
    assert len(notes) == 3 and str(missed.question.uuid) not in notes
    # Asking for it by name does not get it either.
    data = anki.anki_package(
        user=examinee, now=now + timedelta(minutes=1), card_uuids=[missed.uuid]
    )
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        (tmp_path / "only.anki2").write_bytes(z.read("collection.anki2"))
    with sqlite3.connect(tmp_path / "only.anki2") as db:
        assert db.execute("select count(*) from notes").fetchone() == (0,)
