"""IMS QTI 2.1: an assessmentItem with one single-cardinality choiceInteraction.

Loose item XML files and content packages (a zip with imsmanifest.xml, the items and their
media) are both read. Reference: IMS Question & Test Interoperability 2.1 (assessmentItem,
choiceInteraction, correctResponse, modalFeedback, feedbackInline; IMS Content Packaging 1.1).
"""

from __future__ import annotations

import dataclasses
import html
import io
import posixpath
import re
import xml.etree.ElementTree as ET  # noqa: S405 - building only; parsing uses defusedxml
import zipfile
from collections.abc import Iterable
from typing import BinaryIO

from questions.formats.common import (
    ArchiveError,
    ImportFile,
    ImportProblem,
    ParseContext,
    Parsed,
    ParsedQuestion,
    XmlError,
    apply_metadata,
    guess_content_type,
    inner_html,
    local,
    metadata_json,
    parse_xml,
    read_zip,
    safe_member_name,
)

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
# Our metadata inside a manifest resource's <metadata> (IMS CP allows any namespace there): what
# a QTI item has no place for, as the JSON docs/formats.md describes.
MB_NS = "https://mockboard.org/xmlns/metadata/1"
_NOT_EXPRESSED = frozenset({"objective_html", "difficulty", "source", "licence", "item_set"})
_INTERACTIONS = {
    "choiceInteraction",
    "orderInteraction",
    "associateInteraction",
    "matchInteraction",
    "gapMatchInteraction",
    "inlineChoiceInteraction",
    "textEntryInteraction",
    "extendedTextInteraction",
    "hottextInteraction",
    "hotspotInteraction",
    "selectPointInteraction",
    "graphicOrderInteraction",
    "graphicAssociateInteraction",
    "graphicGapMatchInteraction",
    "positionObjectInteraction",
    "sliderInteraction",
    "drawingInteraction",
    "uploadInteraction",
    "customInteraction",
    "mediaInteraction",
}
_SRC = re.compile(r"""(src|href)=(["'])([^"']+)\2""")


def sniff(text: str) -> bool:
    return "assessmentItem" in text[:5000]


def _find(element: ET.Element, name: str) -> ET.Element | None:
    for child in element.iter():
        if local(child.tag) == name:
            return child
    return None


def _findall(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element.iter() if local(child.tag) == name]


def parse(file: ImportFile, ctx: ParseContext) -> Parsed:
    if file.head(4) == b"PK\x03\x04":
        yield from parse_package(file, ctx)
    else:
        yield from parse_item(file.name, file.data, base="", members=None)


def parse_package(file: ImportFile, ctx: ParseContext) -> Parsed:
    try:
        members = read_zip(file, budget=ctx)
    except ArchiveError as exc:
        message = str(exc)
        if message.startswith("item "):
            head, _, rest = message.partition(": ")
            yield ImportProblem(f"{file.name}:{head}", rest)
        else:
            yield ImportProblem(f"{file.name}:item 0", message)
        return
    hrefs: list[str] = []
    metadata: dict[str, tuple[str, str]] = {}
    manifest = members.get("imsmanifest.xml")
    if manifest is not None:
        try:
            doc = parse_xml(manifest)
        except XmlError as exc:
            yield ImportProblem(f"{file.name}/imsmanifest.xml:{exc.line}", exc.message)
            return
        for resource in _findall(doc.root, "resource"):
            if resource.get("type", "").startswith("imsqti_item"):
                href = safe_member_name(resource.get("href", ""))
                if href is None:
                    yield ImportProblem(
                        f"{file.name}/imsmanifest.xml:{doc.line(resource)}",
                        f"resource href {resource.get('href')!r} escapes the package",
                    )
                    return
                hrefs.append(href)
                for node in _findall(resource, "metadata"):
                    for child in node:
                        if child.tag == f"{{{MB_NS}}}metadata":
                            origin = f"{file.name}/imsmanifest.xml:{doc.line(child)}"
                            metadata[href] = (origin, child.text or "")
    if not hrefs:
        hrefs = [
            name
            for name, data in members.items()
            if name.endswith(".xml") and name != "imsmanifest.xml" and b"assessmentItem" in data
        ]
    if not hrefs:
        yield ImportProblem(f"{file.name}:item 0", "the package holds no QTI assessmentItem")
        return
    for href in hrefs:
        if href not in members:
            yield ImportProblem(
                f"{file.name}/imsmanifest.xml:1", f"item file {href} is missing from the package"
            )
            continue
        yield from parse_item(
            f"{file.name}/{href}",
            members[href],
            base=posixpath.dirname(href),
            members=members,
            metadata=metadata.get(href),
        )


def parse_item(
    name: str,
    data: bytes,
    *,
    base: str,
    members: dict[str, bytes] | None,
    metadata: tuple[str, str] | None = None,
) -> Parsed:
    try:
        doc = parse_xml(data)
    except XmlError as exc:
        yield ImportProblem(f"{name}:{exc.line}", exc.message)
        return
    root = doc.root
    origin = f"{name}:{doc.line(root)}"
    if local(root.tag) != "assessmentItem":
        yield ImportProblem(origin, f"expected <assessmentItem>, found <{local(root.tag)}>")
        return
    label = root.get("identifier") or root.get("title") or "item"
    body = _find(root, "itemBody")
    if body is None:
        yield ImportProblem(origin, "the item has no <itemBody>")
        return
    interactions = [el for el in body.iter() if local(el.tag) in _INTERACTIONS]
    kinds = sorted({local(el.tag) for el in interactions})
    if len(interactions) != 1 or kinds != ["choiceInteraction"]:
        what = ", ".join(kinds) or "no interaction"
        yield ImportProblem(origin, f"{what} item {label!r} is not supported", "unsupported")
        return
    interaction = interactions[0]
    response_id = interaction.get("responseIdentifier", "RESPONSE")
    declaration = next(
        (el for el in _findall(root, "responseDeclaration") if el.get("identifier") == response_id),
        None,
    )
    if declaration is not None and declaration.get("cardinality", "single") != "single":
        yield ImportProblem(
            origin,
            f"choiceInteraction with cardinality {declaration.get('cardinality')!r} "
            f"(multiple response) item {label!r} is not supported",
            "unsupported",
        )
        return
    if interaction.get("maxChoices", "1") not in {"1"}:
        yield ImportProblem(
            origin,
            f"choiceInteraction with maxChoices={interaction.get('maxChoices')} item {label!r} is not supported",
            "unsupported",
        )
        return
    correct = []
    if declaration is not None:
        correct = [(v.text or "").strip() for v in _findall(declaration, "value")]
    # The stem is the item body with the interaction replaced by its prompt.
    prompt = _find(interaction, "prompt")
    stem = _unwrap(body)
    if prompt is not None:
        stem = f"{stem}{inner_html(prompt)}".strip()
    q = ParsedQuestion(
        external_id=(root.get("identifier") or "").strip(),
        stem_html=stem.strip(),
        options=[],
        key_index=None,
        origin=origin,
    )
    for n, choice in enumerate(_findall(interaction, "simpleChoice")):
        feedback = " ".join(
            inner_html(fb).strip()
            for fb in choice
            if local(fb.tag) in {"feedbackInline", "feedbackBlock"}
        )
        text = inner_html(choice, skip={"feedbackInline", "feedbackBlock"}).strip()
        q.options.append({"text": text, "explanation": feedback})
        if choice.get("identifier") in correct:
            q.key_index = n if q.key_index is None else -2
    if len(correct) > 1 or q.key_index == -2:
        yield ImportProblem(origin, f"item {label!r} declares more than one correct response")
        return
    if correct and q.key_index is None:
        q.key_label = correct[0]
        q.key_index = -1
    q.explanation_html = " ".join(
        inner_html(fb).strip() for fb in _findall(root, "modalFeedback")
    ).strip()
    absent = set(_NOT_EXPRESSED)
    if metadata is not None:
        given, error = apply_metadata(q, metadata[1])
        if error:
            yield ImportProblem(metadata[0], error)
            return
        absent -= given
    if not q.tags:
        absent.add("tags")
    q.absent = frozenset(absent)
    problems = _attach_media(q, base, members, origin)
    if problems:
        yield from problems
        return
    yield q


def _unwrap(body: ET.Element) -> str:
    """The body without its interaction; one bare wrapping <div> (as we export) is dropped."""
    kept = [el for el in body if local(el.tag) != "choiceInteraction"]
    loose_text = (body.text or "").strip() or any((el.tail or "").strip() for el in body)
    if len(kept) == 1 and local(kept[0].tag) == "div" and not kept[0].attrib and not loose_text:
        return inner_html(kept[0])
    return inner_html(body, skip={"choiceInteraction"})


def _attach_media(
    q: ParsedQuestion, base: str, members: dict[str, bytes] | None, origin: str
) -> list[ImportProblem]:
    """Point relative links at package files; a loose item (members None) has none to offer."""
    problems: list[ImportProblem] = []
    found: dict[str, str] = {}

    def rewrite(value: str) -> str:
        def repl(match: re.Match[str]) -> str:
            ref = html.unescape(match.group(3))
            if re.match(r"^[a-z][a-z0-9+.-]*:", ref, re.IGNORECASE) or ref.startswith(("/", "#")):
                return match.group(0)
            if members is None:
                problems.append(
                    ImportProblem(
                        origin, f"missing media file {ref!r} (upload the content package zip)"
                    )
                )
                return match.group(0)
            path = safe_member_name(posixpath.normpath(posixpath.join(base, ref)))
            if path is None:
                problems.append(ImportProblem(origin, f"media path {ref!r} escapes the package"))
                return match.group(0)
            if path not in members:
                problems.append(
                    ImportProblem(origin, f"missing media file {path!r} in the package")
                )
                return match.group(0)
            found[path] = path
            return f'{match.group(1)}="media:{html.escape(path)}"'

        return _SRC.sub(repl, value)

    q.stem_html = rewrite(q.stem_html)
    q.explanation_html = rewrite(q.explanation_html)
    q.objective_html = rewrite(q.objective_html)
    if q.item_set:
        q.item_set["stimulus_html"] = rewrite(q.item_set.get("stimulus_html", ""))
    for option in q.options:
        option["text"] = rewrite(option["text"])
        option["explanation"] = rewrite(option["explanation"])
    q.media = [(path, guess_content_type(path), (members or {})[path]) for path in found]
    return problems


def _html_fragment(parent: ET.Element, markup: str) -> None:
    """Append our sanitised HTML to a QTI element as XHTML children."""
    from questions.formats.common import parse_xml as _parse

    markup = re.sub(
        r"<(br|hr|img|col|source)(\s[^>]*)?>",
        lambda m: m.group(0).rstrip("/>").rstrip() + " />",
        markup or "",
    )
    markup = markup.replace("&nbsp;", "\u00a0")
    wrapper = _parse(f'<div xmlns="{QTI_NS}">{markup}</div>'.encode()).root
    parent.text = (parent.text or "") + (wrapper.text or "")
    for child in wrapper:
        parent.append(child)


def write(questions: Iterable[ParsedQuestion], out: BinaryIO) -> int:
    """A content package: imsmanifest.xml, items/item-N.xml and media/ files."""
    ET.register_namespace("", QTI_NS)
    resources: list[tuple[str, str, list[str]]] = []
    count = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        written_media: set[str] = set()
        for q in questions:
            count += 1
            href = f"items/item-{count}.xml"
            media_paths = []
            names = {}
            for name, _ctype, data in q.media:
                path = f"media/{posixpath.basename(name)}"
                if path in written_media and path not in names.values():
                    path = f"media/{count}-{posixpath.basename(name)}"
                names[name] = path
                if path not in written_media:
                    archive.writestr(path, data)
                    written_media.add(path)
                media_paths.append(path)

            def relink(value: str, names: dict[str, str] = names) -> str:
                return re.sub(
                    r"(src|href)=\"media:([^\"]+)\"",
                    lambda m: (
                        f'{m.group(1)}="../{names.get(html.unescape(m.group(2)), m.group(2))}"'
                    ),
                    value,
                )

            archive.writestr(href, _item_xml(q, relink))
            resources.append((href, _metadata_json(q, relink), media_paths))
        archive.writestr("imsmanifest.xml", _manifest(resources))
    return count


def _item_xml(q: ParsedQuestion, relink) -> bytes:
    item = ET.Element(
        f"{{{QTI_NS}}}assessmentItem",
        {
            "identifier": q.external_id,
            "title": q.external_id,
            "adaptive": "false",
            "timeDependent": "false",
        },
    )
    declaration = ET.SubElement(
        item,
        f"{{{QTI_NS}}}responseDeclaration",
        {"identifier": "RESPONSE", "cardinality": "single", "baseType": "identifier"},
    )
    value = ET.SubElement(
        ET.SubElement(declaration, f"{{{QTI_NS}}}correctResponse"), f"{{{QTI_NS}}}value"
    )
    value.text = f"choice_{q.key_index}"
    ET.SubElement(
        item,
        f"{{{QTI_NS}}}outcomeDeclaration",
        {"identifier": "SCORE", "cardinality": "single", "baseType": "float"},
    )
    body = ET.SubElement(item, f"{{{QTI_NS}}}itemBody")
    stem = ET.SubElement(body, f"{{{QTI_NS}}}div")
    _html_fragment(stem, relink(q.stem_html))
    interaction = ET.SubElement(
        body,
        f"{{{QTI_NS}}}choiceInteraction",
        {"responseIdentifier": "RESPONSE", "shuffle": "false", "maxChoices": "1"},
    )
    for n, option in enumerate(q.options):
        choice = ET.SubElement(
            interaction, f"{{{QTI_NS}}}simpleChoice", {"identifier": f"choice_{n}"}
        )
        _html_fragment(choice, relink(option["text"]))
        if option.get("explanation"):
            feedback = ET.SubElement(
                choice,
                f"{{{QTI_NS}}}feedbackInline",
                {"outcomeIdentifier": "FEEDBACK", "identifier": f"choice_{n}", "showHide": "show"},
            )
            _html_fragment(feedback, relink(option["explanation"]))
    ET.SubElement(
        item,
        f"{{{QTI_NS}}}responseProcessing",
        {"template": "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"},
    )
    if q.explanation_html:
        feedback = ET.SubElement(
            item,
            f"{{{QTI_NS}}}modalFeedback",
            {"outcomeIdentifier": "FEEDBACK", "identifier": "general", "showHide": "show"},
        )
        _html_fragment(feedback, relink(q.explanation_html))
    buffer = io.BytesIO()
    ET.ElementTree(item).write(buffer, encoding="UTF-8", xml_declaration=True)
    return buffer.getvalue()


def _metadata_json(q: ParsedQuestion, relink) -> str:
    """The manifest's metadata for an item, its files linked as the item's are."""
    copy = dataclasses.replace(q, objective_html=relink(q.objective_html))
    if q.item_set:
        copy.item_set = {
            **q.item_set,
            "stimulus_html": relink(q.item_set.get("stimulus_html", "")),
        }
    return metadata_json(copy)


def _manifest(resources: list[tuple[str, str, list[str]]]) -> bytes:
    ET.register_namespace("", CP_NS)
    ET.register_namespace("mb", MB_NS)
    manifest = ET.Element(f"{{{CP_NS}}}manifest", {"identifier": "mockboard-export"})
    ET.SubElement(manifest, f"{{{CP_NS}}}organizations")
    holder = ET.SubElement(manifest, f"{{{CP_NS}}}resources")
    for n, (href, metadata, media) in enumerate(resources, start=1):
        resource = ET.SubElement(
            holder,
            f"{{{CP_NS}}}resource",
            {"identifier": f"res-{n}", "type": "imsqti_item_xmlv2p1", "href": href},
        )
        holder_md = ET.SubElement(resource, f"{{{CP_NS}}}metadata")
        ET.SubElement(holder_md, f"{{{MB_NS}}}metadata").text = metadata
        ET.SubElement(resource, f"{{{CP_NS}}}file", {"href": href})
        for path in media:
            ET.SubElement(resource, f"{{{CP_NS}}}file", {"href": path})
    buffer = io.BytesIO()
    ET.ElementTree(manifest).write(buffer, encoding="UTF-8", xml_declaration=True)
    return buffer.getvalue()
