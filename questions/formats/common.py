"""What every format shares: the parsed-question shape, problems, HTML sanitising, safe XML.

Parsers yield `ParsedQuestion`s and `ImportProblem`s; they never raise for bad input. The
importer (questions/importing.py) sanitises and validates what they yield, so every format gets
the same checks.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import mimetypes
import os
import posixpath
import re
import unicodedata
import xml.etree.ElementTree as ET  # noqa: S405 - only for building trees; parsing goes through defusedxml
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import nh3
from defusedxml import (
    DefusedXmlException,
    DTDForbidden,
    EntitiesForbidden,
    ExternalReferenceForbidden,
)
from defusedxml.ElementTree import DefusedXMLParser
from django.utils.text import slugify

# Limits. A single upload file, the sum of what an archive expands to, and how much an archive
# member may expand relative to its compressed size (zip bombs have ratios in the thousands).
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ARCHIVE_TOTAL_BYTES = 200 * 1024 * 1024
MAX_ARCHIVE_RATIO = 100
MAX_ARCHIVE_MEMBERS = 5000
MAX_MEDIA_BYTES = 20 * 1024 * 1024
MAX_OPTIONS = 26
TAG_KINDS = ("discipline", "system", "task", "topic")
SET_KINDS = ("sequential", "abstract")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class ImportFile:
    """One uploaded file: its name (used in every message) and its bytes, in memory or on disk.

    A file on disk (an upload streamed to a temporary file, a staged preview, a job's upload)
    is read only while a parser needs it and never kept, so an upload of many files holds one
    file at a time in memory.
    """

    __slots__ = ("_data", "name", "path")

    def __init__(self, name: str, data: bytes | None = None, *, path: str | None = None) -> None:
        if (data is None) == (path is None):
            raise ValueError("an ImportFile has either data or a path")
        self.name = name
        self._data = data
        self.path = path

    @property
    def data(self) -> bytes:
        if self._data is not None:
            return self._data
        with open(self.path, "rb") as handle:  # noqa: PTH123 - a plain path from the upload
            return handle.read()

    @property
    def size(self) -> int:
        return len(self._data) if self._data is not None else os.path.getsize(self.path)

    def head(self, n: int) -> bytes:
        if self._data is not None:
            return self._data[:n]
        with open(self.path, "rb") as handle:  # noqa: PTH123
            return handle.read(n)

    def __repr__(self) -> str:
        return f"ImportFile({self.name!r}, {self.size} bytes)"


@dataclass(frozen=True)
class ImportProblem:
    origin: str
    message: str
    # "error" stops the import; "unsupported" names a question type we cannot take; "warning"
    # is shown and stops nothing.
    kind: str = "error"

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}"


@dataclass
class ParsedQuestion:
    external_id: str
    stem_html: str
    options: list[dict[str, str]]
    key_index: int | None
    explanation_html: str = ""
    objective_html: str = ""
    tags: dict[str, list[str]] = field(default_factory=dict)
    difficulty: float | None = None
    source: str = ""
    licence: str = ""
    item_set: dict[str, Any] | None = None
    # [(name, content_type, bytes)]; HTML refers to them as src="media:NAME".
    media: list[tuple[str, str, bytes]] = field(default_factory=list)
    origin: str = ""
    # Display names for tags, keyed "kind:slug", when the file gave more than a slug.
    tag_names: dict[str, str] = field(default_factory=dict)
    # The key as the file wrote it (a letter, a number, an identifier), for messages.
    key_label: str = ""
    # Fields this question's file could not express (see ABSENT_FIELDS): re-importing it into
    # a bank keeps the stored values of these fields instead of clearing them.
    absent: frozenset[str] = frozenset()
    # The external id is a display name (Moodle <name>, GIFT ::title::), not an id: a repeated
    # one within an upload gets a derived id instead of a refusal.
    id_is_name: bool = False

    def add_tag(self, kind: str, text: str) -> None:
        slug = tag_slug(text)
        if not slug:
            return
        slugs = self.tags.setdefault(kind, [])
        if slug not in slugs:
            slugs.append(slug)
        if text.strip() and text.strip() != slug:
            self.tag_names.setdefault(f"{kind}:{slug}", text.strip()[:200])


# What `ParsedQuestion.absent` may name. "option_explanations" keeps each option's explanation
# where the option's text is unchanged; "tags:<kind>" keeps one kind of tag.
ABSENT_FIELDS = frozenset(
    {
        "explanation_html",
        "option_explanations",
        "objective_html",
        "difficulty",
        "source",
        "licence",
        "item_set",
        "tags",
        *(f"tags:{kind}" for kind in ("discipline", "system", "task", "topic")),
    }
)
# The fields formats without a place of their own carry in a metadata block (a Moodle XML
# comment, a GIFT comment line, a QTI manifest's <metadata>), as METADATA_KEY JSON.
METADATA_KEY = "mockboard"
METADATA_FIELDS = ("objective_html", "difficulty", "source", "licence", "item_set", "tags")


def metadata_of(q: ParsedQuestion, fields: Iterable[str] = METADATA_FIELDS) -> dict[str, Any]:
    """The metadata block of a question: what its format has no place for."""
    data: dict[str, Any] = {}
    for name in fields:
        if name == "objective_html":
            data["objective"] = q.objective_html
        elif name == "tags":
            data["tags"] = {kind: list(q.tags.get(kind, [])) for kind in TAG_KINDS}
        elif name == "item_set":
            data["item_set"] = (
                None
                if not q.item_set
                else {
                    "id": q.item_set["external_id"],
                    "kind": q.item_set["kind"],
                    "position": q.item_set["position"],
                    "stimulus": q.item_set.get("stimulus_html", ""),
                }
            )
        else:
            data[name] = getattr(q, name)
    return data


def metadata_json(q: ParsedQuestion, fields: Iterable[str] = METADATA_FIELDS) -> str:
    """One line of JSON that is also safe inside an XML comment (no "--") and a GIFT line."""
    text = json.dumps(metadata_of(q, fields), ensure_ascii=True, sort_keys=True)
    return text.replace("--", "-\\u002d")


def apply_metadata(q: ParsedQuestion, text: str) -> tuple[set[str], str | None]:
    """Set the fields a metadata block gives; the fields it gave, or an error message."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        return set(), f"unreadable {METADATA_KEY} metadata ({getattr(exc, 'msg', exc)})"
    if not isinstance(data, dict):
        return set(), f"{METADATA_KEY} metadata must be a JSON object"
    given: set[str] = set()

    def text_of(name: str) -> str | None:
        value = data.get(name)
        if value is None:
            return ""
        return value if isinstance(value, str) else None

    for key, attr in (
        ("objective", "objective_html"),
        ("source", "source"),
        ("licence", "licence"),
    ):
        if key in data:
            value = text_of(key)
            if value is None:
                return given, f"metadata {key!r} must be a string"
            setattr(q, attr, value)
            given.add(attr)
    if "difficulty" in data:
        value = data["difficulty"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return given, "metadata 'difficulty' must be a number from 0 to 1"
        q.difficulty = None if value is None else float(value)
        given.add("difficulty")
    if "tags" in data:
        tags = data["tags"]
        if not isinstance(tags, dict) or not all(
            isinstance(v, list) and all(isinstance(s, str) for s in v) for v in tags.values()
        ):
            return given, "metadata 'tags' must be an object of lists of strings"
        q.tags = {}
        for kind, values in tags.items():
            for value in values:
                q.add_tag(kind, value)
        given.add("tags")
    if "item_set" in data:
        item_set = data["item_set"]
        if item_set is None:
            q.item_set = None
        elif isinstance(item_set, dict) and isinstance(item_set.get("id"), str):
            position = item_set.get("position", 1)
            if isinstance(position, bool) or not isinstance(position, int):
                return given, "metadata item_set 'position' must be a whole number"
            q.item_set = {
                "external_id": item_set["id"],
                "kind": str(item_set.get("kind") or "sequential"),
                "position": position,
                "stimulus_html": str(item_set.get("stimulus") or ""),
            }
        else:
            return given, "metadata 'item_set' must be null or an object with an 'id'"
        given.add("item_set")
    return given, None


def fill_absent(q: ParsedQuestion, previous: ParsedQuestion) -> None:
    """Keep `previous`'s values of the fields `q`'s file could not express.

    `previous` is the stored question as parsed_from_version gives it; the files its kept HTML
    shows are added to `q.media` so the content hash and the media links stay the same.
    """
    if not q.absent:
        return
    kept_html: list[str] = []
    for name in ("explanation_html", "objective_html"):
        if name in q.absent:
            setattr(q, name, getattr(previous, name))
            kept_html.append(getattr(previous, name))
    for name in ("difficulty", "source", "licence"):
        if name in q.absent:
            setattr(q, name, getattr(previous, name))
    if "option_explanations" in q.absent:
        before = {o.get("text", ""): o.get("explanation", "") for o in previous.options}
        for option in q.options:
            if not option.get("explanation") and option.get("text", "") in before:
                option["explanation"] = before[option["text"]]
                kept_html.append(option["explanation"])
    if "item_set" in q.absent:
        q.item_set = dict(previous.item_set) if previous.item_set else None
        if q.item_set:
            kept_html.append(q.item_set.get("stimulus_html", ""))
    kinds = TAG_KINDS if "tags" in q.absent else [k for k in TAG_KINDS if f"tags:{k}" in q.absent]
    for kind in kinds:
        if previous.tags.get(kind):
            q.tags[kind] = list(previous.tags[kind])
        else:
            q.tags.pop(kind, None)
    wanted: set[str] = set()
    for value in kept_html:
        wanted |= media_refs(value)
    have = {name for name, _, _ in q.media}
    q.media.extend(m for m in previous.media if m[0] in wanted and m[0] not in have)
    q.absent = frozenset()


@dataclass
class ParseContext:
    """What a parser may know beyond the file: the shared outline's discipline/system slugs."""

    outline: dict[str, str] = field(default_factory=dict)  # slug -> kind
    # Slugs of the outline's display names ("obstetrics-and-gynecology") -> the outline slug.
    aliases: dict[str, str] = field(default_factory=dict)
    # Bytes handed to parsers so far, after unpacking archives (nested ones too): one budget
    # for the whole upload, so a zip of zips cannot expand past MAX_ARCHIVE_TOTAL_BYTES.
    expanded_bytes: int = 0
    # For spreadsheets: the file's header -> one of our column names ("" ignores the column),
    # as a column-mapping step chose; headers it does not name go through the usual aliases.
    column_map: dict[str, str] = field(default_factory=dict)
    # Filled by the spreadsheet reader: {"file", "headers"} for each file whose header row has
    # columns nothing names, so the upload preview can offer a mapping for exactly those.
    unknown_columns: list[dict[str, Any]] = field(default_factory=list)

    def charge(self, size: int) -> None:
        self.expanded_bytes += size
        if self.expanded_bytes > MAX_ARCHIVE_TOTAL_BYTES:
            raise ArchiveError(
                f"the upload expands to more than {MAX_ARCHIVE_TOTAL_BYTES} bytes "
                "(archives inside archives count)"
            )

    def resolve(self, slug: str) -> str:
        return self.aliases.get(slug, slug)

    def outline_kind(self, text: str) -> str | None:
        return self.outline.get(self.resolve(tag_slug(text)))


Parsed = Iterator["ParsedQuestion | ImportProblem"]


def tag_slug(text: str) -> str:
    return slugify(str(text).replace("&", " and ").replace("/", " "))[:120]


def letter(index: int) -> str:
    return LETTERS[index] if 0 <= index < len(LETTERS) else str(index)


# --- HTML ---------------------------------------------------------------------------------

_TAGS = {
    "p", "br", "hr", "div", "span", "b", "strong", "i", "em", "u", "s", "sub", "sup", "small",
    "mark", "code", "pre", "blockquote", "ul", "ol", "li", "dl", "dt", "dd",
    "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "col", "colgroup",
    "img", "audio", "video", "source", "figure", "figcaption", "a",
}  # fmt: skip
_ATTRIBUTES = {
    "img": {"src", "alt", "title", "width", "height"},
    "audio": {"src", "controls"},
    "video": {"src", "controls", "width", "height"},
    "source": {"src", "type"},
    "a": {"href", "title"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
}
# "media:" is our own scheme for a file that travels with the question (see docs/formats.md).
_URL_SCHEMES = {"http", "https", "mailto", "media"}


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    attributes=_ATTRIBUTES,
    url_schemes=_URL_SCHEMES,
    clean_content_tags={"script", "style"},
    link_rel="noopener noreferrer",
    strip_comments=True,
)
# Text without these characters comes out of the sanitiser unchanged, so it can skip the parse.
_NEEDS_PARSE = re.compile("[<>&\r\x00\xa0\ufeff]")


def sanitize_html(value: str) -> str:
    """Keep formatting, tables, sub/sup and images; drop scripts, handlers, styles, js: URLs."""
    if not value:
        return ""
    if not _NEEDS_PARSE.search(value):
        return value.strip()
    return _CLEANER.clean(value).strip()


def text_to_html(text: str) -> str:
    """Plain text (Aiken, MedQA, GIFT [plain]) as HTML: escaped, line breaks kept."""
    text = text.strip()
    return html.escape(text, quote=False).replace("\r\n", "\n").replace("\n", "<br>")


def html_is_empty(value: str) -> bool:
    if re.search(r"<(img|audio|video)\b", value, re.IGNORECASE):
        return False
    text = html.unescape(re.sub(r"<[^>]*>", "", value))
    return not text.replace("\xa0", " ").strip()


MEDIA_REF = re.compile(r"""(src|href)=(["'])media:([^"']+)\2""")


def media_refs(value: str) -> set[str]:
    return {html.unescape(m.group(3)) for m in MEDIA_REF.finditer(value)}


_DATA_URI = re.compile(
    r"""(src|href)=(["'])data:([a-z]+/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=\s]+)\2""", re.IGNORECASE
)


def extract_data_uris(q: ParsedQuestion) -> None:
    """Turn inline base64 `data:` files into media, so text formats can carry pictures."""
    import base64
    import binascii

    def repl(match: re.Match[str]) -> str:
        try:
            data = base64.b64decode("".join(match.group(4).split()), validate=True)
        except (binascii.Error, ValueError):
            return match.group(0)
        content_type = match.group(3).lower()
        extension = mimetypes.guess_extension(content_type) or ".bin"
        name = f"inline-{hashlib.sha256(data).hexdigest()[:16]}{extension}"
        if all(existing != name for existing, _, _ in q.media):
            q.media.append((name, content_type, data))
        return f'{match.group(1)}="media:{name}"'

    def fix(value: str) -> str:
        return _DATA_URI.sub(repl, value) if value and "data:" in value else value

    q.stem_html = fix(q.stem_html)
    q.explanation_html = fix(q.explanation_html)
    q.objective_html = fix(q.objective_html)
    for option in q.options:
        option["text"] = fix(option.get("text", ""))
        option["explanation"] = fix(option.get("explanation", ""))
    if q.item_set:
        q.item_set["stimulus_html"] = fix(q.item_set.get("stimulus_html", ""))


def inline_media(q: ParsedQuestion, value: str) -> str:
    """The reverse of extract_data_uris, for formats with nowhere else to put a file."""
    import base64

    files = {name: (ctype, data) for name, ctype, data in q.media}

    def repl(match: re.Match[str]) -> str:
        found = files.get(html.unescape(match.group(3)))
        if found is None:
            return match.group(0)
        ctype, data = found
        return f'{match.group(1)}="data:{ctype};base64,{base64.b64encode(data).decode()}"'

    return MEDIA_REF.sub(repl, value or "")


def guess_content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


# Media types are taken from the file's first bytes, never from what the file declares: a
# declared type is whatever the author (or an attacker) typed, and SVG or HTML served from our
# origin can carry scripts. Only these signatures are accepted; anything else is refused.
_SIGNATURES: list[tuple[int, bytes, str]] = [
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
]


def sniff_media_type(data: bytes) -> str | None:
    """The media type the bytes say (images, audio, video we serve), or None."""
    head = data[:32]
    for offset, magic, content_type in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        # ISO base media: the brand tells audio-only M4A from video.
        return "audio/mp4" if head[8:12] in {b"M4A ", b"M4B "} else "video/mp4"
    # An MPEG audio frame without an ID3 tag: 11 sync bits, then a valid layer.
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "audio/mpeg"
    return None


# Text PostgreSQL cannot store (NUL), that cannot be encoded as UTF-8 (lone surrogates, which
# JSON's \\ud800 escapes can produce), and control characters no question needs.
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def text_problem(value: str) -> str | None:
    """What is wrong with a text field, or None: one check for every format's text."""
    match = _BAD_TEXT.search(value or "")
    if match is None:
        return None
    char = match.group()
    code = f"U+{ord(char):04X}"
    if char == "\x00":
        what = "a NUL character"
    elif "\ud800" <= char <= "\udfff":
        what = f"a lone surrogate ({code}, not valid Unicode text)"
    elif char in "\ufffe\uffff":
        what = f"a Unicode non-character ({code})"
    else:
        what = f"a control character ({code})"
    return f"{what} at character {match.start() + 1}"


def question_text_fields(q: ParsedQuestion) -> Iterator[tuple[str, str]]:
    """Every text field of a parsed question, named as messages name them."""
    yield "external id", q.external_id
    yield "stem", q.stem_html
    yield "explanation", q.explanation_html
    yield "objective", q.objective_html
    for i, option in enumerate(q.options):
        yield f"option {letter(i)}", option.get("text", "")
        yield f"option {letter(i)} explanation", option.get("explanation", "")
    yield "source", q.source
    yield "licence", q.licence
    yield "key", q.key_label
    for kind, slugs in q.tags.items():
        yield "tag kind", kind
        for slug in slugs:
            yield f"{kind} tag", slug
    for key, name in q.tag_names.items():
        yield "tag", key
        yield "tag", name
    if q.item_set:
        yield "item set id", str(q.item_set.get("external_id") or "")
        yield "item set kind", str(q.item_set.get("kind") or "")
        yield "item set stimulus", str(q.item_set.get("stimulus_html") or "")
    for name, content_type, _ in q.media:
        yield "media name", name
        yield "media type", content_type or ""


def question_html_fields(q: ParsedQuestion) -> Iterator[str]:
    yield q.stem_html
    yield q.explanation_html
    yield q.objective_html
    for option in q.options:
        yield option.get("text", "")
        yield option.get("explanation", "")
    if q.item_set:
        yield q.item_set.get("stimulus_html", "")


# --- hashing --------------------------------------------------------------------------------


def canonical_content(q: ParsedQuestion) -> dict[str, Any]:
    """The content that decides whether a re-imported question changed.

    Media are named by their sha256, so the same picture under another file name (or another
    bank's URL) is the same content.
    """
    by_name = {name: hashlib.sha256(data).hexdigest() for name, _, data in q.media}

    def canon(value: str) -> str:
        def repl(match: re.Match[str]) -> str:
            name = html.unescape(match.group(3))
            digest = by_name.get(name, name)
            return f'{match.group(1)}="media:sha256-{digest}"'

        return MEDIA_REF.sub(repl, value or "")

    item_set = None
    if q.item_set:
        item_set = {
            "external_id": q.item_set["external_id"],
            "kind": q.item_set["kind"],
            "position": q.item_set["position"],
            "stimulus_html": canon(q.item_set.get("stimulus_html", "")),
        }
    return {
        "stem_html": canon(q.stem_html),
        "options": [
            {"text": canon(o.get("text", "")), "explanation": canon(o.get("explanation", ""))}
            for o in q.options
        ],
        "key_index": q.key_index,
        "explanation_html": canon(q.explanation_html),
        "objective_html": canon(q.objective_html),
        "tags": {kind: sorted(set(q.tags.get(kind, []))) for kind in TAG_KINDS},
        "difficulty": None if q.difficulty is None else round(float(q.difficulty), 6),
        "source": q.source,
        "licence": q.licence,
        "item_set": item_set,
    }


def content_hash(q: ParsedQuestion) -> str:
    payload = json.dumps(canonical_content(q), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


# --- text and bytes ----------------------------------------------------------------------------


class DecodeError(ValueError):
    pass


def decode_text(data: bytes) -> str:
    """UTF-8, with or without Excel's byte-order mark; anything else is refused by name."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DecodeError("expected UTF-8, found a UTF-16 byte-order mark (save as UTF-8)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DecodeError(
            f"line {line}: expected UTF-8, found byte 0x{data[exc.start]:02x}"
        ) from None
    if "\x00" in text:
        raise DecodeError("expected UTF-8 text, found NUL bytes (is this a binary file?)")
    return unicodedata.normalize("NFC", text)


def decode_or_problem(file: ImportFile) -> tuple[str | None, ImportProblem | None]:
    try:
        return decode_text(file.data), None
    except DecodeError as exc:
        msg = str(exc)
        if msg.startswith("line "):
            line, _, rest = msg.partition(": ")
            return None, ImportProblem(f"{file.name}:{line.removeprefix('line ')}", rest)
        return None, ImportProblem(f"{file.name}:1", msg)


# --- XML ------------------------------------------------------------------------------------------


class _LineTreeBuilder(ET.TreeBuilder):
    """A tree builder that remembers the source line of every element."""

    def __init__(self, *, insert_comments: bool = False) -> None:
        super().__init__(insert_comments=insert_comments)
        self.lines: dict[int, int] = {}
        self.parser: DefusedXMLParser | None = None

    def start(self, tag, attrs):  # type: ignore[override]
        element = super().start(tag, attrs)
        if self.parser is not None:
            self.lines[id(element)] = self.parser.parser.CurrentLineNumber
        return element


class XmlError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class XmlDoc:
    root: ET.Element
    lines: dict[int, int]

    def line(self, element: ET.Element) -> int:
        return self.lines.get(id(element), 1)


def parse_xml(data: bytes, *, comments: bool = False) -> XmlDoc:
    """Parse with defusedxml: entity declarations and external references are refused.

    With `comments`, comments are kept as ET.Comment elements (Moodle XML's metadata block).
    """
    builder = _LineTreeBuilder(insert_comments=comments)
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except EntitiesForbidden as exc:
        raise XmlError(
            getattr(exc, "line", None) or 1,
            f"XML entity declaration {exc.name!r} refused (entity expansion is not allowed)",
        ) from None
    except ExternalReferenceForbidden as exc:
        raise XmlError(
            getattr(exc, "line", None) or 1,
            f"external XML reference refused ({exc.sysid or exc.pubid})",
        ) from None
    except DTDForbidden:
        raise XmlError(1, "XML document type declarations are refused") from None
    except DefusedXmlException as exc:
        raise XmlError(1, f"unsafe XML refused: {exc}") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise XmlError(
            line, f"malformed XML: {exc.msg if hasattr(exc, 'msg') else exc} (column {column + 1})"
        ) from None
    return XmlDoc(root=root, lines=builder.lines)


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


_VOID = {"br", "hr", "img", "col", "source"}


def inner_html(element: ET.Element, *, skip: set[str] = frozenset()) -> str:
    """Serialise an element's content as HTML, without namespaces; `skip` drops elements."""
    parts = [html.escape(element.text or "", quote=False)]
    for child in element:
        name = local(child.tag)
        if name not in skip:
            attrs = "".join(
                f' {local(k)}="{html.escape(v, quote=True)}"' for k, v in child.attrib.items()
            )
            if name in _VOID:
                parts.append(f"<{name}{attrs}>")
            else:
                parts.append(f"<{name}{attrs}>{inner_html(child, skip=skip)}</{name}>")
        parts.append(html.escape(child.tail or "", quote=False))
    return "".join(parts)


# --- archives ---------------------------------------------------------------------------------------


class ArchiveError(ValueError):
    pass


def is_zip(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def safe_member_name(name: str) -> str | None:
    """The normalised member path, or None if it escapes the archive."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\\" in name:
        return None
    norm = posixpath.normpath(name)
    if norm.startswith("../") or norm == ".." or "/../" in f"/{name}/":
        return None
    return norm


def read_zip(file: ImportFile, budget: ParseContext | None = None) -> dict[str, bytes]:
    """All regular members of a zip, after refusing traversal, bombs and oversize archives.

    With a `budget`, every member that is not itself an archive is charged to it (an archive
    member is charged when it is unpacked in turn).
    """
    try:
        archive = zipfile.ZipFile(file.path if file.path else io.BytesIO(file.data))
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
        raise ArchiveError(f"not a readable zip archive ({exc})") from None
    infos = archive.infolist()
    if len(infos) > MAX_ARCHIVE_MEMBERS:
        raise ArchiveError(f"archive has {len(infos)} members (limit {MAX_ARCHIVE_MEMBERS})")
    total = 0
    members: dict[str, bytes] = {}
    for n, info in enumerate(infos, start=1):
        if info.is_dir():
            continue
        name = safe_member_name(info.filename)
        if name is None:
            raise ArchiveError(f"item {n}: member path {info.filename!r} escapes the archive")
        declared = info.file_size
        if declared > MAX_FILE_BYTES:
            raise ArchiveError(
                f"item {n}: {name} expands to {declared} bytes (limit {MAX_FILE_BYTES})"
            )
        if (
            info.compress_size
            and declared / info.compress_size > MAX_ARCHIVE_RATIO
            and declared > 1024 * 1024
        ):
            raise ArchiveError(
                f"item {n}: {name} compresses {declared // info.compress_size}:1; "
                "refused as a likely zip bomb"
            )
        total += declared
        if total > MAX_ARCHIVE_TOTAL_BYTES:
            raise ArchiveError(f"archive expands to more than {MAX_ARCHIVE_TOTAL_BYTES} bytes")
        try:
            with archive.open(info) as handle:
                # Headers can lie about sizes, so the read itself is bounded too.
                data = handle.read(declared + 1)
        except (
            zipfile.BadZipFile,
            OSError,
            ValueError,
            NotImplementedError,
            EOFError,
            zlib.error,
        ) as exc:
            raise ArchiveError(f"item {n}: {name} cannot be read ({exc})") from None
        if len(data) > declared:
            raise ArchiveError(f"item {n}: {name} is larger than its header says")
        if budget is not None and not is_zip(data):
            try:
                budget.charge(len(data))
            except ArchiveError as exc:
                raise ArchiveError(f"item {n}: {exc}") from None
        members[name] = data
    return members
