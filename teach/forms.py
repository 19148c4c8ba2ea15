"""The forms of the instructor pages: banks and uploads, then exams, cohorts and assignments."""

from __future__ import annotations

import re

from django import forms
from django.core.validators import validate_slug

from accounts.roster import Invitee, decode_upload, parse_invitees
from exams import authoring
from exams.models import Cohort, Exam
from questions.models import Bank, Tag
from questions.selectors import STATUS_ACTIVE, STATUS_RETIRED

IMPORT_FORMATS = [
    ("auto", "Detect from the file"),
    ("json", "Mockboard JSON"),
    ("csv", "CSV / spreadsheet"),
    ("moodlexml", "Moodle XML"),
    ("gift", "GIFT"),
    ("aiken", "Aiken"),
    ("qti", "IMS QTI"),
    ("medqa", "MedQA (JSON lines)"),
]
MAX_UPLOAD_FILES = 20


class BankCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.CharField(
        max_length=80,
        validators=[validate_slug],
        help_text="Lower-case letters, digits and hyphens; used in exports and admin.",
    )

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].lower()
        if Bank.objects.filter(slug=slug).exists():
            raise forms.ValidationError("That slug is taken.")
        return slug


class BankSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search stems")
    tag = forms.CharField(required=False, max_length=140)
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), (STATUS_ACTIVE, "Active"), (STATUS_RETIRED, "Retired")],
    )

    def clean_tag(self) -> tuple[str, str] | None:
        raw = self.cleaned_data["tag"].strip()
        if not raw:
            return None
        kind, _, slug = raw.partition(":")
        if kind not in Tag.Kind.values or not slug:
            raise forms.ValidationError("Unknown tag filter.")
        return kind, slug


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(
        label="Files",
        help_text="One or more files, or a .zip with images alongside the questions.",
    )
    format = forms.ChoiceField(choices=IMPORT_FORMATS, initial="auto")
    skip_unsupported = forms.BooleanField(
        required=False,
        label="Skip question types Mockboard cannot deliver",
        help_text="Otherwise an essay, matching or similar question stops the import.",
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        if len(files) > MAX_UPLOAD_FILES:
            raise forms.ValidationError(f"Upload at most {MAX_UPLOAD_FILES} files at a time.")
        names = [f.name for f in files]
        if len(set(names)) != len(names):
            raise forms.ValidationError("Two files have the same name.")
        return files

    def clean(self):
        cleaned = super().clean()
        files = cleaned.get("files") or []
        # Several files travel to the importer as one zip, whose members are detected one by one.
        if len(files) > 1 and cleaned.get("format") not in (None, "auto"):
            self.add_error(
                "format",
                "With several files, let Mockboard detect each file's format "
                "(or upload one file at a time).",
            )
        return cleaned


class ImportConfirmForm(forms.Form):
    token = forms.CharField(max_length=64, widget=forms.HiddenInput)


def _column_choices() -> list[tuple[str, str]]:
    from questions.formats.csvfmt import (
        BASE_COLUMNS,
        EXPLANATION_COLUMNS,
        EXTRA_COLUMNS,
        OPTION_COLUMNS,
    )

    labels = {"external_id": "ID", "key": "Key (correct answer)"}
    choices = [("", "Ignore this column")]
    for column in [*BASE_COLUMNS, *OPTION_COLUMNS, *EXPLANATION_COLUMNS, *EXTRA_COLUMNS]:
        label = labels.get(column) or column.replace("_", " ").capitalize()
        if column.startswith(("option_", "explanation_")):
            word, letter = column.split("_")
            label = f"{'Option' if word == 'option' else 'Why option'} {letter.upper()}"
        choices.append((column, label))
    return choices


class ColumnMapForm(forms.Form):
    """The preview's column-mapping step: one select per header the reader did not know.

    The headers come from the staged upload on the server, never from the posted form.
    """

    token = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, headers: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        for i, header in enumerate(headers):
            self.fields[f"column_{i}"] = forms.ChoiceField(
                label=header, choices=_column_choices(), required=False
            )

    def clean(self):
        cleaned = super().clean()
        taken: dict[str, str] = {}
        for i, header in enumerate(self.headers):
            column = cleaned.get(f"column_{i}")
            if column and column in taken:
                self.add_error(
                    f"column_{i}", f"{taken[column]!r} is already mapped to this column."
                )
            elif column:
                taken[column] = header
        return cleaned

    def column_map(self) -> dict[str, str]:
        return {h: self.cleaned_data.get(f"column_{i}") or "" for i, h in enumerate(self.headers)}


class RetireForm(forms.Form):
    action = forms.ChoiceField(choices=[("retire", "Retire"), ("unretire", "Return to service")])


class BankPracticeForm(forms.Form):
    action = forms.ChoiceField(choices=[("open", "Open for practice"), ("close", "Close")])


# Exams, cohorts and assignments ----------------------------------------------------------------

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def format_weights(weights: dict[str, float]) -> str:
    return "\n".join(
        f"{slug}: {weight:g}" for slug, weight in sorted(weights.items(), key=lambda kv: -kv[1])
    )


def parse_weights(raw: str) -> dict[str, float] | None:
    """`slug: weight` per line (or comma-separated); blank means the outline's defaults."""
    raw = (raw or "").strip()
    if not raw:
        return None
    weights: dict[str, float] = {}
    for n, line in enumerate(re.split(r"[\n,;]+", raw), start=1):
        line = line.strip()
        if not line:
            continue
        slug, sep, value = line.partition(":")
        if not sep:
            slug, sep, value = line.partition("=")
        slug = slug.strip()
        try:
            weights[slug] = float(value)
        except ValueError:
            raise forms.ValidationError(
                f"Entry {n} (“{line}”) should look like “medicine: 60”."
            ) from None
    return weights


class BlueprintForm(forms.Form):
    name = forms.CharField(max_length=120)
    block_count = forms.IntegerField(
        min_value=1, max_value=40, initial=8, label="Blocks", help_text="1 to 40"
    )
    items_per_block = forms.IntegerField(
        min_value=1, max_value=60, initial=40, label="Items per block", help_text="1 to 60"
    )
    block_minutes = forms.IntegerField(
        min_value=1, max_value=240, initial=60, label="Minutes per block", help_text="1 to 240"
    )
    break_minutes = forms.IntegerField(
        min_value=0, max_value=600, initial=45, label="Break pool (minutes)"
    )
    tutorial_minutes = forms.IntegerField(
        min_value=0, max_value=60, initial=0, label="Tutorial (minutes)"
    )


class ExamCreateForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    blueprint = forms.ModelChoiceField(queryset=None, to_field_name="uuid", empty_label=None)
    banks = forms.ModelMultipleChoiceField(
        queryset=None, to_field_name="uuid", widget=forms.CheckboxSelectMultiple
    )
    mode = forms.ChoiceField(choices=Exam.Mode.choices, initial=Exam.Mode.TIMED)
    assembly = forms.ChoiceField(choices=Exam.Assembly.choices, initial=Exam.Assembly.PROPORTIONS)
    discipline_weights = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "mono"}),
        help_text="One “slug: weight” per line. Leave blank for the Step 2 CK outline.",
    )
    system_weights = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "mono"}),
        help_text="One “slug: weight” per line. Leave blank for the Step 2 CK outline.",
    )
    is_public = forms.BooleanField(
        required=False,
        label="Open to every examinee",
        help_text="Otherwise only cohorts you assign it to can sit it.",
    )

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["blueprint"].queryset = authoring.blueprints_usable_by(owner)
        self.fields["blueprint"].label_from_instance = lambda b: (
            f"{b.name} — {b.block_count} × {b.items_per_block} items, {b.block_minutes} min"
            + ("" if b.is_preset else " (yours)")
        )
        self.fields["banks"].queryset = Bank.objects.filter(owners=owner).order_by("name")

    def clean_discipline_weights(self):
        return parse_weights(self.cleaned_data["discipline_weights"])

    def clean_system_weights(self):
        return parse_weights(self.cleaned_data["system_weights"])


class FixedFormAddForm(forms.Form):
    block_number = forms.IntegerField(min_value=1, max_value=40, label="Block")
    questions = forms.ModelMultipleChoiceField(
        queryset=None, to_field_name="uuid", widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, exam: Exam, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["block_number"].max_value = exam.blueprint.block_count
        self.fields["questions"].queryset = authoring.exam_pool_questions(exam=exam)


class FixedFormRemoveForm(forms.Form):
    question = forms.ModelChoiceField(queryset=None, to_field_name="uuid")

    def __init__(self, *args, exam: Exam, **kwargs):
        super().__init__(*args, **kwargs)
        from questions.models import Question

        self.fields["question"].queryset = Question.objects.filter(fixeditem__exam=exam)


class AutofillForm(forms.Form):
    seed = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1)


class CohortForm(forms.Form):
    name = forms.CharField(max_length=200)


class AddMembersForm(forms.Form):
    usernames = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "Usernames separated by commas, spaces or new lines. Only examinee accounts are"
            " added; the rest are counted, not named."
        ),
    )

    def clean_usernames(self) -> list[str]:
        names = [u for u in re.split(r"[\s,;]+", self.cleaned_data["usernames"]) if u]
        if not names:
            raise forms.ValidationError("Enter at least one username.")
        return names


class InviteForm(forms.Form):
    """Invite one person, or many: a pasted list or an uploaded CSV of names and emails."""

    MAX_FILE_BYTES = 512 * 1024

    name = forms.CharField(required=False, max_length=150)
    email = forms.EmailField(required=False)
    rows = forms.CharField(
        required=False,
        label="Or paste a list",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Ada Lovelace, ada@example.org"}),
        help_text="One “name, email” per line; a header line is fine.",
    )
    file = forms.FileField(
        required=False,
        label="Or upload a CSV",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        given = [k for k in ("email", "rows", "file") if cleaned.get(k)]
        if len(given) != 1:
            raise forms.ValidationError(
                "Enter one email, paste a list or upload a CSV (one of the three)."
                if not given
                else "Use one of the three at a time: an email, a pasted list or a CSV."
            )
        source = given[0]
        if source == "email":
            cleaned["invitees"] = [
                Invitee(line=1, email=cleaned["email"].lower(), name=cleaned["name"].strip())
            ]
            return cleaned
        try:
            if source == "file":
                upload = cleaned["file"]
                if upload.size > self.MAX_FILE_BYTES:
                    raise forms.ValidationError("The CSV is larger than 512 KB.")
                text = decode_upload(upload.read())
            else:
                text = cleaned["rows"]
            cleaned["invitees"] = parse_invitees(text)
        except forms.ValidationError as exc:
            self.add_error(source, exc)
        return cleaned


class JoinLinkForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("enable", "Turn on"), ("disable", "Turn off"), ("regenerate", "New code")]
    )


class MemberForm(forms.Form):
    member = forms.ModelChoiceField(queryset=None, to_field_name="username")

    def __init__(self, *args, cohort: Cohort, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = cohort.members.all()


class AccommodationForm(MemberForm):
    time_multiplier = forms.DecimalField(
        min_value=1, max_value=3, max_digits=3, decimal_places=2, label="Time ×"
    )
    extra_break_minutes = forms.IntegerField(min_value=0, max_value=240, label="Extra break")


class AssignmentForm(forms.Form):
    exam = forms.ModelChoiceField(queryset=None, to_field_name="uuid")
    cohort = forms.ModelChoiceField(queryset=None, to_field_name="uuid")
    opens_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        label="Opens",
    )
    closes_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        label="Closes",
    )
    max_attempts = forms.IntegerField(min_value=1, max_value=20, initial=1, label="Attempts")

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exam"].queryset = Exam.objects.filter(owner=owner, archived_at__isnull=True)
        self.fields["cohort"].queryset = Cohort.objects.filter(
            owner=owner, archived_at__isnull=True
        )


class KeyFixForm(forms.Form):
    """A new key (an option letter) or "void" (credit everyone), for the rescore pages."""

    VOID = "void"

    choice = forms.ChoiceField(label="Score this question by")
    reason = forms.CharField(max_length=500, required=False, label="Reason (kept in the audit)")
    based_on = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, version, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        letters = [chr(ord("A") + i) for i in range(len(version.options))]
        self.fields["choice"].choices = [(letter, f"Key {letter}") for letter in letters] + [
            (self.VOID, "Void: credit everyone who was shown it")
        ]
        self.fields["based_on"].initial = version.pk

    @property
    def key_index(self) -> int | None:
        choice = self.cleaned_data["choice"]
        return None if choice == self.VOID else ord(choice) - ord("A")

    @property
    def is_voided(self) -> bool:
        return self.cleaned_data["choice"] == self.VOID


class QuestionEditForm(forms.Form):
    """The in-browser editor: every field an import carries. HTML fields are sanitised and
    checked by the import's own rules (questions.services.question_check), not here."""

    stem_html = forms.CharField(label="Stem", widget=forms.Textarea(attrs={"data-rich": "1"}))
    key = forms.ChoiceField(label="Correct answer")
    explanation_html = forms.CharField(
        label="Explanation", required=False, widget=forms.Textarea(attrs={"data-rich": "1"})
    )
    objective_html = forms.CharField(
        label="Educational objective",
        required=False,
        widget=forms.Textarea(attrs={"data-rich": "1", "rows": 3}),
    )
    tags = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line as kind:name, e.g. system:cardiovascular (kinds: "
        "discipline, system, task, topic).",
    )
    difficulty = forms.FloatField(required=False, min_value=0, max_value=1)
    source = forms.CharField(required=False, max_length=300)
    licence = forms.CharField(required=False, max_length=200)
    item_set_id = forms.CharField(label="Item set id", required=False, max_length=200)
    item_set_kind = forms.ChoiceField(
        label="Item set kind",
        required=False,
        choices=[("", "—"), ("sequential", "Sequential"), ("abstract", "Shared stimulus")],
    )
    item_set_position = forms.IntegerField(label="Position in set", required=False, min_value=1)
    stimulus_html = forms.CharField(
        label="Shared stimulus",
        required=False,
        widget=forms.Textarea(attrs={"data-rich": "1", "rows": 3}),
    )
    media_file = forms.FileField(
        label="Add an image",
        required=False,
        help_text='Refer to it in any text as <img src="media:FILENAME">.',
    )

    def __init__(self, *args, option_count: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound:
            posted = sum(1 for k in self.data if k.startswith("option_text_"))
            option_count = max(option_count, min(posted, 26))
        self.option_count = min(option_count + 1, 26)  # one blank slot to add an option
        for i in range(self.option_count):
            letter = chr(ord("A") + i)
            self.fields[f"option_text_{i}"] = forms.CharField(
                label=f"Option {letter}", required=False, widget=forms.Textarea(attrs={"rows": 2})
            )
            self.fields[f"option_explanation_{i}"] = forms.CharField(
                label=f"Why {letter}",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.fields["key"].choices = [(str(i), chr(ord("A") + i)) for i in range(self.option_count)]

    def option_rows(self):
        return [
            (chr(ord("A") + i), self[f"option_text_{i}"], self[f"option_explanation_{i}"])
            for i in range(self.option_count)
        ]

    def clean_tags(self) -> dict[str, list[str]]:
        from questions.formats.common import TAG_KINDS, tag_slug

        tags: dict[str, list[str]] = {}
        for n, line in enumerate(self.cleaned_data["tags"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            kind, _, name = line.partition(":")
            kind = kind.strip().lower()
            if kind not in TAG_KINDS or not tag_slug(name):
                raise forms.ValidationError(
                    f"Line {n} ({line!r}): write kind:name with a kind among {', '.join(TAG_KINDS)}."
                )
            tags.setdefault(kind, []).append(tag_slug(name))
        return tags

    def clean(self):
        data = super().clean()
        options = []
        for i in range(self.option_count):
            text = (data.get(f"option_text_{i}") or "").strip()
            explanation = (data.get(f"option_explanation_{i}") or "").strip()
            if text or explanation:
                options.append({"text": text, "explanation": explanation})
        data["options"] = options
        if data.get("item_set_id") and not data.get("item_set_kind"):
            self.add_error("item_set_kind", "Choose the kind of item set.")
        return data

    @classmethod
    def initial_from(cls, draft) -> dict:
        initial = {
            "stem_html": draft.stem_html,
            "key": str(draft.key_index),
            "explanation_html": draft.explanation_html,
            "objective_html": draft.objective_html,
            "tags": "\n".join(f"{k}:{s}" for k, slugs in sorted(draft.tags.items()) for s in slugs),
            "difficulty": draft.difficulty,
            "source": draft.source,
            "licence": draft.licence,
        }
        for i, option in enumerate(draft.options):
            initial[f"option_text_{i}"] = option["text"]
            initial[f"option_explanation_{i}"] = option["explanation"]
        if draft.item_set:
            initial.update(
                item_set_id=draft.item_set["external_id"],
                item_set_kind=draft.item_set["kind"],
                item_set_position=draft.item_set["position"],
                stimulus_html=draft.item_set.get("stimulus_html", ""),
            )
        return initial

    def apply_to(self, draft):
        """The draft with this form's values (the caller adds any uploaded file)."""
        data = self.cleaned_data
        draft.stem_html = data["stem_html"]
        draft.options = data["options"]
        draft.key_index = int(data["key"]) if data["key"] != "" else None
        draft.explanation_html = data["explanation_html"]
        draft.objective_html = data["objective_html"]
        draft.tags = data["tags"]
        draft.tag_names = {}
        draft.difficulty = data["difficulty"]
        draft.source = data["source"]
        draft.licence = data["licence"]
        if data.get("item_set_id"):
            draft.item_set = {
                "external_id": data["item_set_id"].strip(),
                "kind": data["item_set_kind"],
                "position": data["item_set_position"] or 1,
                "stimulus_html": data["stimulus_html"],
            }
        else:
            draft.item_set = None
        return draft


class ExamEditForm(ExamCreateForm):
    """The exam's own fields; the same checks as creating, plus the fixed form's fit."""


class CohortEditForm(forms.Form):
    name = forms.CharField(max_length=200)
    time_zone = forms.ChoiceField(
        required=False,
        label="Time zone",
        help_text="Windows for this cohort are entered and shown in it. Blank: your own zone.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        import zoneinfo

        self.fields["time_zone"].choices = [("", "— my own zone —")] + [
            (z, z) for z in sorted(zoneinfo.available_timezones())
        ]


class AssignmentEditForm(forms.Form):
    opens_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        label="Opens",
    )
    closes_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        label="Closes",
    )
    max_attempts = forms.IntegerField(min_value=1, max_value=20, label="Attempts")


class OverrideForm(forms.Form):
    member = forms.ModelChoiceField(queryset=None, to_field_name="username", label="Examinee")
    closes_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        label="Window closes for them",
        help_text="Leave blank to keep the assignment's close.",
    )
    extra_attempts = forms.IntegerField(min_value=0, max_value=20, initial=0)
    extra_block_minutes = forms.IntegerField(
        min_value=0, max_value=240, initial=0, label="Extra minutes per block"
    )
    extra_break_minutes = forms.IntegerField(
        min_value=0, max_value=240, initial=0, label="Extra break minutes"
    )
    reason = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, cohort: Cohort, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = cohort.members.order_by("username")
