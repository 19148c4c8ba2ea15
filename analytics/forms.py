from django import forms

from analytics.selectors import REVIEW_FILTERS


class ReviewQueryForm(forms.Form):
    """The query string of the block review: which item, and which items the grid shows."""

    item = forms.IntegerField(min_value=1, required=False)
    filter = forms.ChoiceField(choices=[(f, f.title()) for f in REVIEW_FILTERS], required=False)

    def cleaned(self) -> tuple[int | None, str]:
        """Bad values fall back to the defaults: a mistyped link still shows the review."""
        if not self.is_valid():
            return None, "all"
        return self.cleaned_data.get("item"), self.cleaned_data.get("filter") or "all"
