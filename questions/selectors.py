"""Reads behind the instructor pages. Every function scopes to what the instructor owns."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import Count, F, Func, Prefetch, Q, QuerySet, TextField, Value

from questions.models import SEARCH_CONFIG, Bank, ImportJob, Question, QuestionVersion, Tag
from questions.text import MARK_START, MARK_STOP

STATUS_ACTIVE = "active"
STATUS_RETIRED = "retired"


def banks_owned(user) -> QuerySet[Bank]:
    return Bank.objects.filter(owners=user)


def banks_with_counts(user) -> QuerySet[Bank]:
    return banks_owned(user).annotate(
        active_count=Count("questions", filter=Q(questions__is_retired=False), distinct=True),
        retired_count=Count("questions", filter=Q(questions__is_retired=True), distinct=True),
    )


def recent_import_jobs(user, *, limit: int = 8) -> QuerySet[ImportJob]:
    return (
        ImportJob.objects.filter(bank__owners=user)
        .select_related("bank")
        .order_by("-created_at")[:limit]
    )


def questions_owned(user) -> QuerySet[Question]:
    return Question.objects.filter(bank__owners=user)


@dataclass(frozen=True)
class BankCounts:
    total: int
    active: int
    retired: int
    matching: int


def bank_questions(
    *, bank: Bank, text: str = "", tag: Tag | None = None, status: str = ""
) -> QuerySet[Question]:
    """The bank's questions matching a search, a tag and a status, ready for a table.

    The search is PostgreSQL full-text search over the current version's stem, option texts
    and explanation (or a part of the external id), best matches first; each row then has
    `search_rank` and `search_headline` (plain text with matches between MARK_START and
    MARK_STOP: render it with the `search_highlight` filter). Tags come in one prefetch and the
    current version in the same row, so a page costs the same number of queries whatever its
    size.
    """
    qs = Question.objects.filter(bank=bank)
    text = text.strip()
    if text:
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        qs = (
            qs.filter(Q(current_version__search_vector=query) | Q(external_id__icontains=text))
            .annotate(
                search_rank=SearchRank(F("current_version__search_vector"), query),
                search_headline=SearchHeadline(
                    _stem_text(),
                    query,
                    config=SEARCH_CONFIG,
                    start_sel=MARK_START,
                    stop_sel=MARK_STOP,
                    max_words=30,
                    min_words=12,
                ),
            )
            .order_by(F("search_rank").desc(nulls_last=True), "external_id")
        )
    if tag is not None:
        qs = qs.filter(tags=tag)
    if status == STATUS_ACTIVE:
        qs = qs.filter(is_retired=False)
    elif status == STATUS_RETIRED:
        qs = qs.filter(is_retired=True)
    qs = qs.select_related("current_version", "item_set").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("kind", "name"))
    )
    return qs if text else qs.order_by("external_id")


def _stem_text() -> Func:
    """The current stem without tags, for headlines (entities are decoded when rendered)."""
    return Func(
        F("current_version__stem_html"),
        Value("<[^>]*>", output_field=TextField()),
        Value(" ", output_field=TextField()),
        Value("g", output_field=TextField()),
        function="regexp_replace",
        output_field=TextField(),
    )


def bank_counts(*, bank: Bank, matching: QuerySet[Question]) -> BankCounts:
    totals = Question.objects.filter(bank=bank).aggregate(
        total=Count("pk"), retired=Count("pk", filter=Q(is_retired=True))
    )
    return BankCounts(
        total=totals["total"],
        active=totals["total"] - totals["retired"],
        retired=totals["retired"],
        matching=matching.count(),
    )


def bank_tag_facets(*, bank: Bank) -> dict[str, list[Tag]]:
    """Tags used by the bank's questions, grouped by kind, each with `n` questions."""
    tags = (
        Tag.objects.filter(questions__bank=bank)
        .annotate(n=Count("questions", distinct=True))
        .order_by("kind", "name")
    )
    grouped: dict[str, list[Tag]] = {kind: [] for kind in Tag.Kind.values}
    for tag in tags:
        grouped[tag.kind].append(tag)
    return grouped


def tag_for_bank(*, bank: Bank, kind: str, slug: str) -> Tag | None:
    """A tag filter value `kind:slug`, resolved to the bank's own tag or the shared outline's."""
    return (
        Tag.objects.filter(kind=kind, slug=slug)
        .filter(Q(bank=bank) | Q(bank__isnull=True))
        .order_by("bank_id")
        .first()
    )


def question_for_owner(*, user, question_uuid) -> Question | None:
    return (
        questions_owned(user)
        .select_related("bank", "current_version", "item_set")
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.order_by("kind", "name")),
            Prefetch(
                "versions",
                queryset=QuestionVersion.objects.order_by("-number").only(
                    "pk", "question_id", "number", "created_at", "content_hash", "source"
                ),
            ),
        )
        .filter(uuid=question_uuid)
        .first()
    )


def item_set_siblings(question: Question) -> list[Question]:
    if question.item_set_id is None:
        return []
    return list(
        Question.objects.filter(item_set_id=question.item_set_id)
        .exclude(pk=question.pk)
        .order_by("set_position")
        .only("uuid", "external_id", "set_position", "is_retired")
    )
