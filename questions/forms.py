from __future__ import annotations

from django import forms
from django.core.validators import validate_slug

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
