from django import forms

from study.models import CardReview
from study.notebook import NOTE_MAX_CHARS


class PlanForm(forms.Form):
    test_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    hours_per_day = forms.DecimalField(min_value=0.5, max_value=16, decimal_places=1)


class AnswerForm(forms.Form):
    choice = forms.IntegerField(min_value=0, max_value=25)


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(choices=CardReview.Rating.choices, coerce=int)
    choice = forms.IntegerField(min_value=0, max_value=25, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=NOTE_MAX_CHARS, required=False, strip=False)


class ExportForm(forms.Form):
    cards = forms.TypedMultipleChoiceField(required=False, choices=(), coerce=str)

    def __init__(self, *args, card_uuids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cards"].choices = [(str(u), str(u)) for u in card_uuids]
