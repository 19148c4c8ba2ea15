"""Export of a student's cards as an Anki package (.apkg), built with genanki.

Each note's GUID is derived from the question's UUID, so importing a later export updates the
notes already in the student's Anki collection instead of adding copies. Only cards whose key
exams/exposure.py lets the student see now are exported.
"""

from __future__ import annotations

import re
import tempfile
import zlib
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path, PurePath

import genanki

from questions.models import Media, Tag
from study.cards import visible_cards
from study.models import Card

# Fixed ids: Anki recognises the note type and the deck across exports by them.
MODEL_ID = 1_607_392_319
DECK_NAME = "Mockboard::Review"
ANKI_TAG_KINDS = (Tag.Kind.DISCIPLINE, Tag.Kind.SYSTEM, Tag.Kind.TOPIC)
FIELDS = ("Question", "Options", "Answer", "Explanation", "Objective", "Source", "MockboardId")

MODEL = genanki.Model(
    MODEL_ID,
    "Mockboard question",
    fields=[{"name": name} for name in FIELDS],
    templates=[
        {
            "name": "Question",
            "qfmt": "{{Question}}{{Options}}",
            "afmt": (
                "{{FrontSide}}<hr id=answer><p class=answer>{{Answer}}</p>{{Explanation}}"
                "{{#Objective}}<h4>Educational objective</h4>{{Objective}}{{/Objective}}"
                "{{#Source}}<p class=source>{{Source}}</p>{{/Source}}"
            ),
        }
    ],
    css=".card{font-family:system-ui,sans-serif;text-align:left}.answer{font-weight:bold}",
)


def deck_id_for(user) -> int:
    # One deck per student, the same on every export (Anki keys decks by id).
    return 1 << 30 | zlib.crc32(f"mockboard-deck-{user.pk}".encode())


def media_filename(media: Media) -> str:
    suffix = re.sub(r"[^a-z0-9.]", "", PurePath(media.original_name).suffix.lower())[:10]
    return f"mockboard-{media.uuid}{suffix}"


def _point_at_package_files(html: str, media: Iterable[Media]) -> str:
    """Our HTML links a file by a URL carrying its UUID; in Anki it is a bare file name."""
    for m in media:
        html = re.sub(rf'(src|href)="[^"]*{m.uuid}[^"]*"', rf'\1="{media_filename(m)}"', html)
    return html


def anki_tag(tag: Tag) -> str:
    return f"mockboard::{tag.kind}::{tag.slug}"


def _note(card: Card) -> tuple[genanki.Note, list[Media]]:
    question = card.question
    version = question.current_version
    media = list(version.media.all())
    options = "".join(f"<li>{o['text']}</li>" for o in version.options)
    key = version.options[version.key_index]
    why = "".join(
        f"<p><b>{chr(65 + i)}.</b> {o['explanation']}</p>"
        for i, o in enumerate(version.options)
        if o.get("explanation")
    )
    stem = version.stem_html
    if question.item_set is not None and question.item_set.stimulus_html:
        stem = question.item_set.stimulus_html + stem
    fields = [
        stem,
        f'<ol type="A">{options}</ol>',
        f"{version.key_letter}. {key['text']}",
        version.explanation_html + why,
        version.objective_html,
        " ".join(x for x in (version.source, version.licence) if x),
        str(question.uuid),
    ]
    tags = sorted(anki_tag(t) for t in question.tags.all() if t.kind in ANKI_TAG_KINDS)
    note = genanki.Note(
        model=MODEL,
        fields=[_point_at_package_files(f, media) for f in fields],
        tags=tags,
        guid=genanki.guid_for(str(question.uuid)),
    )
    return note, media


def anki_package(*, user, now: datetime, card_uuids: Iterable | None = None) -> bytes:
    """The .apkg of the student's chosen cards (all of them if none are chosen)."""
    cards = visible_cards(user=user, now=now).select_related(
        "question__current_version", "question__item_set"
    )
    chosen = list(card_uuids or [])
    if chosen:
        cards = cards.filter(uuid__in=chosen)
    cards = cards.prefetch_related("question__tags", "question__current_version__media")
    deck = genanki.Deck(deck_id_for(user), DECK_NAME)
    with tempfile.TemporaryDirectory(prefix="mockboard-apkg-") as tmp:
        folder = Path(tmp)
        files: dict[str, Path] = {}
        for card in cards.order_by("created_at", "id"):
            if card.question.current_version is None:
                continue
            note, media = _note(card)
            deck.add_note(note)
            for m in media:
                name = media_filename(m)
                if name not in files:
                    with m.file.open("rb") as source:
                        (folder / name).write_bytes(source.read())
                    files[name] = folder / name
        package = genanki.Package(deck, media_files=[str(p) for p in files.values()])
        out = folder / "deck.apkg"
        # genanki stamps notes with the wall clock; `now` keeps the export's own time ours.
        package.write_to_file(str(out), timestamp=now.timestamp())
        return out.read_bytes()
