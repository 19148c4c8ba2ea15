from django import forms

from exams import answers, practice
from exams.models import Exam


class SaveForm(forms.Form):
    """One client action from the save queue; absent fields are left untouched. The save
    fields come from `answers.SAVE_FIELDS`, the table both save paths follow."""

    seq = forms.IntegerField(
        min_value=1,
        max_value=answers.MAX_SEQ,
        error_messages={
            "min_value": f"seq must be from 1 to {answers.MAX_SEQ}",
            "max_value": f"seq must be from 1 to {answers.MAX_SEQ}",
        },
    )
    go = forms.IntegerField(required=False, min_value=1, max_value=answers.MAX_POSITION)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for f in answers.SAVE_FIELDS:
            self.fields[f.key] = forms.CharField(
                required=False, max_length=f.max_length, strip=f.strip
            )

    def clean(self):
        data = super().clean()
        for f in answers.SAVE_FIELDS:
            if f.key in data:
                try:
                    data[f.key] = f.parse(data[f.key])
                except ValueError as exc:
                    self.add_error(f.key, str(exc))
        return data

    def service_kwargs(self) -> dict:
        """`answers.answer_save`'s arguments: seq, and each save field the client sent."""
        data = self.cleaned_data
        kwargs = {"seq": data["seq"]}
        for f in answers.SAVE_FIELDS:
            if f.key in self.data:
                kwargs[f.name] = data[f.key]
        return kwargs


class PracticeForm(forms.Form):
    disciplines = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    systems = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    pool = forms.ChoiceField(
        choices=[(p, p.title()) for p in practice.POOLS],
        initial="unused",
        widget=forms.RadioSelect,
    )
    count = forms.IntegerField(min_value=1, max_value=practice.MAX_PRACTICE_ITEMS, initial=20)
    mode = forms.ChoiceField(
        choices=Exam.Mode.choices, initial=Exam.Mode.TUTOR, widget=forms.RadioSelect
    )

    def __init__(self, *args, disciplines=(), systems=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["disciplines"].choices = [(t.slug, t.name) for t in disciplines]
        self.fields["systems"].choices = [(t.slug, t.name) for t in systems]
