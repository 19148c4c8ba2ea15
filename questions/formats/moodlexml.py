"""Moodle XML quiz exports: single-answer multichoice and true/false are imported.

Reference: Moodle's "Moodle XML format" documentation. Category questions set the topic tags of
the questions after them; `@@PLUGINFILE@@/name` links are resolved against the base64 `<file>`
elements inside the question.
"""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ET  # noqa: S405 - building only; parsing uses defusedxml
from collections.abc import Iterable
from typing import IO
from urllib.parse import quote, unquote

import markdown as md

from questions.formats.common import (
    LETTERS,
    METADATA_KEY,
    TAG_KINDS,
    ImportFile,
    ImportProblem,
    ParseContext,
    Parsed,
    ParsedQuestion,
    XmlError,
    apply_metadata,
    guess_content_type,
    metadata_json,
    parse_xml,
    tag_slug,
    text_to_html,
)

# What Moodle XML has no element for; a question with a metadata comment carries them there.
_NOT_EXPRESSED = frozenset({"objective_html", "difficulty", "source", "licence", "item_set"})
_METADATA = f"{METADATA_KEY}:"
_PLUGINFILE = re.compile(r"@@PLUGINFILE@@/([^\"'?#<>\s]+)")


def sniff(text: str) -> bool:
    return "<quiz" in text[:5000]


def _convert(text: str, fmt: str) -> str:
    text = _PLUGINFILE.sub(lambda m: "media:" + unquote(m.group(1)), text or "")
    if fmt == "plain_text":
        return text_to_html(text)
    if fmt == "markdown":
        return md.markdown(text)
    return text.strip()


def _rich(parent: ET.Element | None, name: str) -> str:
    element = parent.find(name) if parent is not None else None
    if element is None:
        return ""
    return _convert(element.findtext("text") or "", element.get("format", "html"))


def parse(file: ImportFile, ctx: ParseContext) -> Parsed:
    try:
        doc = parse_xml(file.data, comments=True)
    except XmlError as exc:
        yield ImportProblem(f"{file.name}:{exc.line}", exc.message)
        return
    if doc.root.tag != "quiz":
        yield ImportProblem(
            f"{file.name}:1", f"expected a <quiz> root element, found <{doc.root.tag}>"
        )
        return
    category: list[str] = []
    number = 0
    for element in doc.root:
        if element.tag != "question":
            continue
        origin = f"{file.name}:{doc.line(element)}"
        qtype = element.get("type", "")
        if qtype == "category":
            path = element.findtext("category/text") or ""
            category = [
                seg.strip() for seg in path.split("/") if seg.strip() and not seg.startswith("$")
            ]
            if category and category[0].lower() == "top":
                category = category[1:]
            continue
        number += 1
        name = (element.findtext("name/text") or "").strip()
        label = f"question {number}" + (f" {name!r}" if name else "")
        if qtype == "multichoice":
            if (element.findtext("single") or "true").strip().lower() not in {"true", "1"}:
                yield ImportProblem(
                    origin,
                    f"multichoice (multiple answers) {label} is not supported",
                    "unsupported",
                )
                continue
        elif qtype != "truefalse":
            yield ImportProblem(
                origin, f"{qtype or 'untyped'} {label} is not supported", "unsupported"
            )
            continue
        yield from _question(file, element, origin, name, category, qtype, ctx)


def _question(
    file: ImportFile,
    element: ET.Element,
    origin: str,
    name: str,
    category: list[str],
    qtype: str,
    ctx: ParseContext,
) -> Parsed:
    idnumber = (element.findtext("idnumber") or "").strip()
    q = ParsedQuestion(
        external_id=idnumber or name,
        stem_html=_rich(element, "questiontext"),
        options=[],
        key_index=None,
        explanation_html=_rich(element, "generalfeedback"),
        origin=origin,
        id_is_name=not idnumber,
    )
    if not q.external_id:
        yield ImportProblem(origin, "question has neither <idnumber> nor <name> (no external id)")
        return
    best = []
    for answer in element.findall("answer"):
        text = _convert(answer.findtext("text") or "", answer.get("format", "html"))
        if qtype == "truefalse":
            text = text.strip().capitalize() or text
        try:
            fraction = float(answer.get("fraction", "0"))
        except ValueError:
            yield ImportProblem(
                origin, f"answer fraction {answer.get('fraction')!r} is not a number"
            )
            return
        if fraction >= 100:
            best.append(len(q.options))
        q.options.append({"text": text, "explanation": _rich(answer, "feedback")})
    if len(best) > 1:
        letters = ", ".join(LETTERS[i] for i in best if i < len(LETTERS))
        yield ImportProblem(origin, f"more than one answer has fraction 100 ({letters})")
        return
    if best:
        q.key_index = best[0]
    for segment in category:
        q.add_tag(ctx.outline_kind(segment) or "topic", segment)
    for tag in element.findall("tags/tag"):
        value = (tag.findtext("text") or "").strip()
        kind, sep, rest = value.partition(":")
        if sep and kind in TAG_KINDS:
            q.add_tag(kind, rest)
        elif value:
            q.add_tag(ctx.outline_kind(value) or "topic", value)
    absent = set(_NOT_EXPRESSED)
    for child in element:
        text = (child.text or "").strip() if child.tag is ET.Comment else ""
        if text.startswith(_METADATA):
            given, error = apply_metadata(q, text[len(_METADATA) :])
            if error:
                yield ImportProblem(origin, error)
                return
            absent -= given
    if not q.tags:
        # A question with no tag and no category says nothing about tags: keep the bank's.
        absent.add("tags")
    q.absent = frozenset(absent)
    for node in element.iter("file"):
        file_name = (node.get("path") or "/").lstrip("/") + (node.get("name") or "")
        if node.get("encoding", "base64") != "base64":
            yield ImportProblem(origin, f"media {file_name!r}: only base64 files are supported")
            return
        try:
            data = base64.b64decode("".join((node.text or "").split()), validate=True)
        except (binascii.Error, ValueError):
            yield ImportProblem(origin, f"media {file_name!r} is not valid base64")
            return
        q.media.append((file_name, guess_content_type(file_name), data))
    yield q


def _text_element(parent: ET.Element, name: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, name, attrs)
    ET.SubElement(element, "text").text = re.sub(
        r"(src|href)=\"media:([^\"]+)\"",
        lambda m: f'{m.group(1)}="@@PLUGINFILE@@/{quote(m.group(2))}"',
        text,
    )
    return element


def write(questions: Iterable[ParsedQuestion], out: IO[str]) -> int:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n')
    count = 0
    for q in questions:
        question = ET.Element("question", {"type": "multichoice"})
        ET.SubElement(ET.SubElement(question, "name"), "text").text = q.external_id
        stem = _text_element(question, "questiontext", q.stem_html, format="html")
        for name, _content_type, data in q.media:
            node = ET.SubElement(stem, "file", {"name": name, "path": "/", "encoding": "base64"})
            node.text = base64.b64encode(data).decode()
        _text_element(question, "generalfeedback", q.explanation_html, format="html")
        ET.SubElement(question, "defaultgrade").text = "1"
        ET.SubElement(question, "penalty").text = "0"
        ET.SubElement(question, "hidden").text = "0"
        ET.SubElement(question, "idnumber").text = q.external_id
        ET.SubElement(question, "single").text = "true"
        ET.SubElement(question, "shuffleanswers").text = "false"
        ET.SubElement(question, "answernumbering").text = "ABCD"
        for i, option in enumerate(q.options):
            fraction = "100" if i == q.key_index else "0"
            answer = _text_element(
                question, "answer", option["text"], fraction=fraction, format="html"
            )
            _text_element(answer, "feedback", option.get("explanation", ""), format="html")
        tags = [f"{kind}:{slug}" for kind in TAG_KINDS for slug in q.tags.get(kind, [])]
        if tags:
            holder = ET.SubElement(question, "tags")
            for value in tags:
                ET.SubElement(ET.SubElement(holder, "tag"), "text").text = value
        # Moodle ignores comments; a re-import reads back what Moodle XML has no element for.
        fields = ("objective_html", "difficulty", "source", "licence", "item_set")
        question.insert(0, ET.Comment(f" {_METADATA} {metadata_json(q, fields)} "))
        ET.indent(question, space="  ", level=1)
        out.write("  " + ET.tostring(question, encoding="unicode") + "\n")
        count += 1
    out.write("</quiz>\n")
    return count


__all__ = ["parse", "sniff", "write", "tag_slug"]
