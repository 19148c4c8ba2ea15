from django.contrib import admin

from exams.models import (
    Assignment,
    Attempt,
    AttemptBlock,
    Blueprint,
    Cohort,
    Exam,
    FixedItem,
    Membership,
    Response,
)


@admin.register(Blueprint)
class BlueprintAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "block_count",
        "items_per_block",
        "block_minutes",
        "break_minutes",
        "tutorial_minutes",
        "owner",
    )


class FixedItemInline(admin.TabularInline):
    model = FixedItem
    raw_id_fields = ("question",)
    extra = 0


@admin.register(Exam)
class ExamAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "blueprint", "mode", "assembly", "is_public", "created_at")
    list_filter = ("mode", "assembly", "is_public")
    filter_horizontal = ("banks",)
    inlines = [FixedItemInline]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")
    inlines = [MembershipInline]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("exam", "cohort", "opens_at", "closes_at", "max_attempts")


class AttemptBlockInline(admin.TabularInline):
    model = AttemptBlock
    extra = 0
    fields = (
        "number",
        "state",
        "started_at",
        "deadline_at",
        "closed_at",
        "close_reason",
        "analytics_state",
    )
    readonly_fields = fields
    can_delete = False


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "kind", "mode", "state", "started_at", "finished_at")
    list_filter = ("kind", "mode", "state")
    search_fields = ("user__username", "title")
    inlines = [AttemptBlockInline]
    # Attempts are evidence of what happened; the admin may read them, not rewrite them.
    readonly_fields = [f.name for f in Attempt._meta.fields]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("attempt", "block", "position", "question", "choice", "is_marked")
    raw_id_fields = ("attempt", "block", "question", "version")
    readonly_fields = [f.name for f in Response._meta.fields]
