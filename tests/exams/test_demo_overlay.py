"""The MedQA overlay (questions/demo/medqa_explanations.jsonl), read as files: no database.

Every shipped MedQA question must teach: an explanation, one explanation per option and an
educational objective, written and then reread (the second pass) against the item.
"""

from __future__ import annotations

import pytest

from exams.demo import DEMO_DIR, MEDQA_FILE, OVERLAY_FILE, _jsonl, medqa_overlaid

LETTERS = "ABCDE"


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return _jsonl(DEMO_DIR / MEDQA_FILE)


@pytest.fixture(scope="module")
def overlay() -> list[dict]:
    return _jsonl(DEMO_DIR / OVERLAY_FILE)


def test_every_medqa_question_has_one_overlay_record(items, overlay):
    assert [r["external_id"] for r in overlay] == [i["external_id"] for i in items]


def test_every_record_explains_each_option_the_key_and_the_objective(items, overlay):
    for item, rec in zip(items, overlay, strict=True):
        where = item["external_id"]
        assert len(rec["option_explanations"]) == len(item["options"]), where
        assert all(x.strip() for x in rec["option_explanations"]), where
        key = LETTERS.index(item["key"])
        assert rec["option_explanations"][key].startswith("Correct"), where
        others = [x for i, x in enumerate(rec["option_explanations"]) if i != key]
        assert not any(x.startswith("Correct") for x in others), where
        assert rec["explanation"].startswith("<p>") and len(rec["explanation"]) > 80, where
        assert rec["objective"].startswith("<p>") and len(rec["objective"]) > 30, where


def test_every_record_was_reread_in_the_second_pass(overlay):
    assert [r["external_id"] for r in overlay if r["second_pass"] is not True] == []


def test_a_questioned_key_or_missing_material_always_says_why(overlay):
    for rec in overlay:
        if rec["key_check"] == "questioned" or rec["refers_to_missing"]:
            assert len(rec["key_note"]) > 20, rec["external_id"]
        else:
            assert rec["key_check"] == "agree", rec["external_id"]


def test_typo_fixes_apply_and_keep_the_original_text_in_the_medqa_file(items, overlay):
    fixed = medqa_overlaid(items=items, overlay=overlay)
    by_id = {line["external_id"]: line for line in fixed.lines}
    seen = 0
    for item, rec in zip(items, overlay, strict=True):
        for fix in rec["text_fixes"]:
            seen += 1
            field = fix["field"]
            before = item["stem"] if field == "stem" else item["options"][LETTERS.index(field[7:])]
            after = by_id[item["external_id"]]
            after = (
                after["stem"]
                if field == "stem"
                else after["options"][LETTERS.index(field[7:])]["text"]
            )
            assert fix["from"] in before and fix["to"] in after
    assert seen > 0


def test_the_overlay_refuses_a_question_it_does_not_explain(items, overlay):
    with pytest.raises(ValueError, match="no explanation for"):
        medqa_overlaid(items=items, overlay=overlay[1:])


def test_typos_named_in_the_issue_are_fixed(items, overlay):
    text = " ".join(
        line["stem"] + " ".join(o["text"] for o in line["options"])
        for line in medqa_overlaid(items=items, overlay=overlay).lines
    )
    for typo in ("Pneumocystic ", "hypogylcemia", "Micropthlamia"):
        assert typo not in text
