"""Issue #13, item 7: lists show plain text; search is full-text over what examinees read."""

from __future__ import annotations

import json

from django.template import Context, Template

from questions.importing import ImportFile
from questions.selectors import bank_questions
from questions.services import question_edit, questions_import
from questions.text import plain_text


def load(bank, t0, *questions):
    doc = json.dumps({"format": "mockboard", "questions": list(questions)})
    questions_import(bank=bank, files=[ImportFile("b.json", doc.encode())], now=t0)


def q(external_id, stem, options=("Yes", "No"), explanation=""):
    return {
        "external_id": external_id,
        "stem": stem,
        "options": list(options),
        "key": "A",
        "explanation": explanation,
    }


def test_plain_text_strips_tags_and_decodes_entities():
    assert plain_text("<p>10&nbsp;individuals &amp; <b>3</b>&lt;4</p><p>Next</p>") == (
        "10 individuals & 3<4 Next"
    )
    assert plain_text("<p>abcdefghij</p>", limit=5) == "abcd…"


def test_plaintext_filter_output_is_still_escaped():
    rendered = Template("{% load question_text %}{{ stem|plaintext }}").render(
        Context({"stem": "<p>&lt;script&gt;alert(1)&lt;/script&gt; 10&nbsp;mg</p>"})
    )
    assert rendered == "&lt;script&gt;alert(1)&lt;/script&gt; 10 mg"


def test_search_finds_words_across_tags_and_entities(bank, t0):
    load(
        bank,
        t0,
        q("Q1", "<p>A woman at 39&nbsp;weeks of gestation.</p>"),
        q("Q2", "<p>A woman at 39 <b>weeks</b> with headache.</p>"),
        q("Q3", "<p>A man with chest pain.</p>"),
    )
    found = [x.external_id for x in bank_questions(bank=bank, text="39 weeks")]
    assert sorted(found) == ["Q1", "Q2"]


def test_search_covers_options_and_explanation_and_ranks_the_stem_first(bank, t0):
    load(
        bank,
        t0,
        q("E1", "<p>Next step?</p>", explanation="<p>Give heparin now.</p>"),
        q("O1", "<p>Best drug?</p>", options=["Heparin", "Warfarin"]),
        q("S1", "<p>Why is heparin given?</p>"),
        q("N1", "<p>Unrelated.</p>"),
    )
    found = [x.external_id for x in bank_questions(bank=bank, text="heparin")]
    assert found == ["S1", "O1", "E1"]


def test_search_uses_the_current_version_only(bank, t0):
    load(bank, t0, q("Q1", "<p>Old wording about gout.</p>"))
    from questions.models import Question

    question_edit(question=Question.objects.get(bank=bank), now=t0, stem_html="<p>Lupus.</p>")
    assert [x.external_id for x in bank_questions(bank=bank, text="lupus")] == ["Q1"]
    assert list(bank_questions(bank=bank, text="gout")) == []


def test_search_headline_marks_matches_and_is_safe_html(bank, t0):
    load(bank, t0, q("Q1", "<p>Give &lt;b&gt; 10&nbsp;mg of <i>heparin</i> daily.</p>"))
    row = bank_questions(bank=bank, text="heparin").get()
    rendered = Template("{% load question_text %}{{ h|search_highlight }}").render(
        Context({"h": row.search_headline})
    )
    assert "<mark>heparin</mark>" in rendered
    assert "&lt;b&gt; 10 mg" in rendered and "<b>" not in rendered


def test_search_still_matches_external_ids(bank, t0):
    load(bank, t0, q("CK-0042", "<p>Stem.</p>"))
    assert [x.external_id for x in bank_questions(bank=bank, text="CK-004")] == ["CK-0042"]


def test_search_text_is_not_sql(bank, t0):
    load(bank, t0, q("Q1", "<p>Stem.</p>"))
    assert list(bank_questions(bank=bank, text="') OR 1=1 -- & | ! :*")) == []
