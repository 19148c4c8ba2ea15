"""The bundled demo content: the outline vocabulary, the data files and the lab table.

These read the committed files directly, so they run without the importer or the database
(except the tag seeding test).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from questions import outline
from questions.models import Tag

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "questions" / "demo"
ORIGINAL = DEMO / "original.jsonl"
MEDQA = DEMO / "medqa_step2ck.jsonl"
OVERRIDES = DEMO / "medqa_tag_overrides.json"
LAB_VALUES = ROOT / "exams" / "data" / "lab_values.json"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

OUTLINE_SYSTEMS_18 = {
    "human-development", "immune", "blood-lymphoreticular", "behavioral-health",
    "nervous-special-senses", "skin-subcutaneous", "musculoskeletal", "cardiovascular",
    "respiratory", "gastrointestinal", "renal-urinary", "pregnancy-childbirth-puerperium",
    "female-reproductive-breast", "male-reproductive", "endocrine", "multisystem",
    "biostatistics-epidemiology", "social-sciences",
}  # fmt: skip


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def originals() -> list[dict]:
    return _lines(ORIGINAL)


@pytest.fixture(scope="module")
def medqa() -> list[dict]:
    return _lines(MEDQA)


# --- outline -------------------------------------------------------------------------------


def test_outline_has_five_disciplines_and_the_eighteen_system_categories():
    assert {e.slug for e in outline.DISCIPLINES} == {
        "medicine", "surgery", "pediatrics", "obstetrics-gynecology", "psychiatry",
    }  # fmt: skip
    assert {e.slug for e in outline.SYSTEMS} == OUTLINE_SYSTEMS_18
    assert len(outline.SYSTEMS) == 18


def test_discipline_weights_are_the_midpoints_of_the_current_ranges():
    assert outline.STEP2CK_DISCIPLINE_WEIGHTS == {
        "medicine": 60, "surgery": 25, "pediatrics": 22,
        "obstetrics-gynecology": 15, "psychiatry": 12.5,
    }  # fmt: skip


def test_system_weights_spread_each_spec_group_midpoint_over_its_members():
    weights = outline.STEP2CK_SYSTEM_WEIGHTS
    assert set(weights) == OUTLINE_SYSTEMS_18
    assert weights["cardiovascular"] == 9
    assert weights["skin-subcutaneous"] == weights["musculoskeletal"] == 4.5
    reproductive = ["renal-urinary", "female-reproductive-breast", "male-reproductive"]
    assert sum(weights[s] for s in reproductive) == pytest.approx(10, abs=0.01)
    group_midpoints = sum((lo + hi) / 2 for _, (lo, hi) in outline.SPEC_GROUPS.values())
    assert sum(weights.values()) == pytest.approx(group_midpoints, abs=0.01)


def test_every_system_names_a_spec_group_of_the_specification_table():
    for entry in outline.SYSTEMS:
        assert entry.spec_group in outline.SPEC_GROUPS
        assert entry.weight_range == outline.SPEC_GROUPS[entry.spec_group][1]


@pytest.mark.django_db
def test_outline_tags_seed_is_idempotent_and_shared_across_banks():
    first = outline_count = outline.outline_tags_seed()
    assert first == len(outline.DISCIPLINES) + len(outline.SYSTEMS) + 1 + len(outline.TASKS)
    assert outline.outline_tags_seed() == 0
    assert Tag.objects.filter(bank__isnull=True).count() == outline_count
    assert Tag.objects.get(kind="system", slug="renal-urinary").name == "Renal & Urinary System"


# --- question files ------------------------------------------------------------------------


def _check_tags(q: dict) -> None:
    tags = q["tags"]
    assert set(tags) == {"discipline", "system", "task"}, q["external_id"]
    assert [len(tags[k]) for k in ("discipline", "system", "task")] == [1, 1, 1]
    assert tags["discipline"][0] in outline.DISCIPLINE_SLUGS
    assert tags["system"][0] in OUTLINE_SYSTEMS_18
    assert tags["task"][0] in outline.TASK_SLUGS


def _check_shape(q: dict) -> None:
    assert q["external_id"] and q["stem"].startswith("<p>")
    assert 0 <= LETTERS.index(q["key"]) < len(q["options"])


def test_medqa_file_has_every_step2_and_3_question_once(medqa):
    source = Path("/work/shared/data/medqa/us_5options_test.jsonl")
    ids = [q["external_id"] for q in medqa]
    assert len(ids) == 594 == len(set(ids))
    assert all(re.fullmatch(r"medqa-us-test-\d+", i) for i in ids)
    if source.exists():  # the source data is not shipped; check against it where present
        rows = [json.loads(line) for line in source.open(encoding="utf-8")]
        expected = {f"medqa-us-test-{i}" for i, r in enumerate(rows) if r["meta_info"] == "step2&3"}
        assert set(ids) == expected
        for q in medqa[:50]:
            row = rows[int(q["external_id"].rsplit("-", 1)[1])]
            assert q["options"][LETTERS.index(q["key"])] == row["answer"]


def test_medqa_questions_have_one_outline_tag_of_each_kind_and_attribution(medqa):
    for q in medqa:
        _check_shape(q)
        _check_tags(q)
        assert len(q["options"]) == 5
        assert q["source"] == "MedQA (Jin et al. 2021), US test split"
        assert q["licence"] == "MIT"


def test_medqa_stems_escape_html_from_the_source_text(medqa):
    for q in medqa:
        text = re.sub(r"</?p>", "", q["stem"])
        assert "<" not in text and ">" not in text, q["external_id"]


def test_medqa_tag_distribution_follows_the_outline_shape(medqa):
    disciplines = Counter(q["tags"]["discipline"][0] for q in medqa)
    assert disciplines.most_common(1)[0][0] == "medicine"
    assert all(disciplines[d] > 0 for d in outline.DISCIPLINE_SLUGS)
    systems = Counter(q["tags"]["system"][0] for q in medqa)
    assert len(systems) == 18
    # No one system swallows the bank.
    assert max(systems.values()) < 0.2 * len(medqa)


def test_tag_overrides_name_only_existing_questions_and_outline_slugs(medqa):
    overrides = json.loads(OVERRIDES.read_text(encoding="utf-8"))
    reviewed = overrides.pop("_reviewed")
    overrides.pop("_comment")
    ids = {q["external_id"] for q in medqa}
    by_id = {q["external_id"]: q for q in medqa}
    assert len(reviewed) >= 100 and set(reviewed) <= ids
    valid = {
        "discipline": outline.DISCIPLINE_SLUGS,
        "system": OUTLINE_SYSTEMS_18,
        "task": outline.TASK_SLUGS,
    }
    for external_id, tags in overrides.items():
        assert external_id in reviewed
        for kind, slug in tags.items():
            assert slug in valid[kind]
            assert by_id[external_id]["tags"][kind] == [slug]


def test_there_are_at_least_forty_original_questions_with_full_teaching_text(originals):
    assert len(originals) >= 40
    for q in originals:
        _check_shape(q)
        _check_tags(q)
        assert q["source"] == "Mockboard demo content (original)"
        assert q["licence"] == "CC BY 4.0"
        assert len(q["options"]) == 5
        assert len(re.sub(r"<[^>]+>", "", q["explanation"])) > 150, q["external_id"]
        assert len(re.sub(r"<[^>]+>", "", q["objective"])) > 30, q["external_id"]
        for option in q["options"]:
            assert option["text"] and len(option["explanation"]) > 40, q["external_id"]
        keyed = q["options"][LETTERS.index(q["key"])]
        assert keyed["explanation"].startswith("Correct.")
        assert sum(o["explanation"].startswith("Correct") for o in q["options"]) == 1


def test_original_keys_are_not_all_in_one_position(originals):
    positions = Counter(q["key"] for q in originals)
    assert len(positions) == 5
    assert max(positions.values()) < len(originals) / 2


def test_originals_cover_every_discipline_and_most_systems(originals):
    assert {q["tags"]["discipline"][0] for q in originals} == outline.DISCIPLINE_SLUGS
    assert len({q["tags"]["system"][0] for q in originals}) >= 16
    disciplines = Counter(q["tags"]["discipline"][0] for q in originals)
    assert disciplines.most_common(1)[0][0] == "medicine"


def test_originals_include_a_sequential_set_and_an_abstract_set(originals):
    sets: dict[str, list[dict]] = {}
    for q in originals:
        if "item_set" in q:
            sets.setdefault(q["item_set"]["id"], []).append(q["item_set"])
    kinds = {members[0]["kind"] for members in sets.values()}
    assert {"sequential", "abstract"} <= kinds
    for members in sets.values():
        assert 2 <= len(members) <= 3
        assert sorted(m["position"] for m in members) == list(range(1, len(members) + 1))
        assert len({(m["kind"], m["stimulus"]) for m in members}) == 1


def test_some_original_stems_show_labs_in_a_table(originals):
    assert sum("<table>" in q["stem"] for q in originals) >= 5


# --- lab values ----------------------------------------------------------------------------


def test_lab_values_have_sections_of_rows_with_unique_keys():
    data = json.loads(LAB_VALUES.read_text(encoding="utf-8"))
    rows = [row for section in data["sections"] for row in section["rows"]]
    keys = [row["key"] for row in rows]
    assert len(keys) == len(set(keys)) >= 100
    assert {"id", "title", "rows", "notes"} <= set(data["sections"][0])
    for row in rows:
        assert row["test"] and row["conventional"] and row["si"]
    by_key = {row["key"]: row for row in rows}
    assert by_key["na"]["conventional"] == "136–146 mEq/L"
    assert by_key["hgb_f"]["si"] == "120–160 g/L"
    assert by_key["tsh"]["conventional"] == "0.4–4.0 µU/mL"
