import json

from django import forms

from exams import services
from exams.models import Exam

MAX_NOTE = 5000
MAX_HIGHLIGHTS = 200


class SaveForm(forms.Form):
    """One client action from the save queue; absent fields are left untouched."""

    seq = forms.IntegerField(
        min_value=1,
        max_value=services.MAX_SEQ,
        error_messages={
            "min_value": f"seq must be from 1 to {services.MAX_SEQ}",
            "max_value": f"seq must be from 1 to {services.MAX_SEQ}",
        },
    )
    choice = forms.CharField(required=False)
    marked = forms.ChoiceField(choices=[("1", "1"), ("0", "0")], required=False)
    struck = forms.CharField(required=False, max_length=200)
    highlights = forms.CharField(required=False, max_length=20000)
    note = forms.CharField(required=False, max_length=MAX_NOTE, strip=False)
    go = forms.IntegerField(required=False, min_value=1, max_value=services.MAX_POSITION)

    def clean_choice(self):
        raw = self.cleaned_data["choice"]
        if raw in ("", None):
            return None
        try:
            value = int(raw)
        except ValueError:
            raise forms.ValidationError("choice must be an option index") from None
        if not 0 <= value < 26:
            raise forms.ValidationError("choice must be an option index")
        return value

    def clean_struck(self):
        raw = self.cleaned_data["struck"]
        if not raw:
            return []
        try:
            values = sorted({int(part) for part in raw.split(",") if part.strip()})
        except ValueError:
            raise forms.ValidationError("struck must be option indexes") from None
        if any(not 0 <= v < 26 for v in values):
            raise forms.ValidationError("struck must be option indexes")
        return values

    def clean_highlights(self):
        raw = self.cleaned_data["highlights"]
        if not raw:
            return []
        try:
            spans = json.loads(raw)
        except ValueError:
            raise forms.ValidationError("highlights must be a JSON list") from None
        if not isinstance(spans, list) or len(spans) > MAX_HIGHLIGHTS:
            raise forms.ValidationError("highlights must be a list of [start, end] pairs")
        clean = []
        for span in spans:
            if (
                not isinstance(span, list)
                or len(span) != 2
                or not all(isinstance(x, int) and 0 <= x < 1_000_000 for x in span)
                or span[0] >= span[1]
            ):
                raise forms.ValidationError("highlights must be a list of [start, end] pairs")
            clean.append(span)
        return clean

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {"seq": data["seq"]}
        if "choice" in self.data:
            kwargs["choice"] = data["choice"]
        if "marked" in self.data:
            kwargs["is_marked"] = data["marked"] == "1"
        if "struck" in self.data:
            kwargs["struck"] = data["struck"]
        if "highlights" in self.data:
            kwargs["highlights"] = data["highlights"]
        if "note" in self.data:
            kwargs["note"] = data["note"]
        return kwargs


class PracticeForm(forms.Form):
    disciplines = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    systems = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    pool = forms.ChoiceField(
        choices=[(p, p.title()) for p in services.POOLS],
        initial="unused",
        widget=forms.RadioSelect,
    )
    count = forms.IntegerField(min_value=1, max_value=services.MAX_PRACTICE_ITEMS, initial=20)
    mode = forms.ChoiceField(
        choices=Exam.Mode.choices, initial=Exam.Mode.TUTOR, widget=forms.RadioSelect
    )

    def __init__(self, *args, disciplines=(), systems=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["disciplines"].choices = [(t.slug, t.name) for t in disciplines]
        self.fields["systems"].choices = [(t.slug, t.name) for t in systems]
