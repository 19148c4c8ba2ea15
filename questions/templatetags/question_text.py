"""{% load question_text %}: `{{ version.stem_html|plaintext:120 }}` in lists and pickers."""

from django import template

from questions.text import highlighted, plain_text

register = template.Library()


@register.filter
def plaintext(value: str, limit: int | None = None) -> str:
    return plain_text(value, limit=int(limit) if limit else None)


@register.filter
def search_highlight(fragment: str):
    return highlighted(fragment)
