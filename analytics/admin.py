from django.contrib import admin

from analytics.models import BlockPerformance, ItemStatistic


@admin.register(BlockPerformance)
class BlockPerformanceAdmin(admin.ModelAdmin):
    list_display = ("block", "tag", "correct", "total", "computed_at")
    list_filter = ("tag__kind",)
    search_fields = ("tag__slug", "tag__name", "attempt__user__username", "attempt__title")
    raw_id_fields = ("block", "attempt", "tag")
    list_select_related = ("block__attempt__user", "tag")
    date_hierarchy = "computed_at"

    # Derived rows: they are rebuilt from responses, never edited by hand.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ItemStatistic)
class ItemStatisticAdmin(admin.ModelAdmin):
    list_display = (
        "version",
        "responses",
        "answered",
        "correct",
        "p_value_display",
        "median_time_ms",
        "computed_at",
    )
    search_fields = ("version__question__external_id", "version__question__bank__slug")
    raw_id_fields = ("version",)
    list_select_related = ("version__question__bank",)
    ordering = ("-responses",)

    @admin.display(description="p-value")
    def p_value_display(self, obj: ItemStatistic) -> str:
        return "–" if obj.p_value is None else f"{obj.p_value:.2f}"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
