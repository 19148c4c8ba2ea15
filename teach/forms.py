"""The forms of the instructor pages: banks and uploads, then exams, cohorts and assignments."""

from __future__ import annotations

import re

from django import forms
from django.core.validators import validate_slug

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
