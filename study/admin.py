from django.contrib import admin

from study.models import Card, CardReview, PlanDay, StudyPlan


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = ("user", "question", "reason", "state", "due_at", "review_count")
    list_filter = ("reason", "state")
    raw_id_fields = ("user", "question")


@admin.register(CardReview)
class CardReviewAdmin(admin.ModelAdmin):
    list_display = ("card", "rating", "is_correct", "reviewed_at")
    raw_id_fields = ("card",)


class PlanDayInline(admin.TabularInline):
    model = PlanDay
    extra = 0


@admin.register(StudyPlan)
class StudyPlanAdmin(admin.ModelAdmin):
    list_display = ("user", "test_date", "hours_per_day", "built_on")
    raw_id_fields = ("user",)
    inlines = [PlanDayInline]
