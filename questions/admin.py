from django.contrib import admin

from questions.models import Bank, ImportJob, ItemSet, Media, Question, QuestionVersion, Tag


@admin.register(Bank)
class BankAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["owners"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "slug", "bank"]
    list_filter = ["kind", ("bank", admin.EmptyFieldListFilter)]
    search_fields = ["name", "slug"]


@admin.register(ItemSet)
class ItemSetAdmin(admin.ModelAdmin):
    list_display = ["external_id", "kind", "bank"]
    list_filter = ["kind"]
    search_fields = ["external_id"]


class VersionInline(admin.TabularInline):
    # Versions are immutable: responses point at them.
    model = QuestionVersion
    fields = ["number", "key_index", "difficulty", "content_hash", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["external_id", "bank", "is_retired", "created_at"]
    list_filter = ["is_retired", "bank"]
    search_fields = ["external_id"]
    raw_id_fields = ["current_version", "item_set"]
    filter_horizontal = ["tags"]
    inlines = [VersionInline]


@admin.register(QuestionVersion)
class QuestionVersionAdmin(admin.ModelAdmin):
    list_display = ["question", "number", "content_hash", "created_at"]
    search_fields = ["question__external_id", "content_hash"]
    raw_id_fields = ["question"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Media)
class MediaAdmin(admin.ModelAdmin):
    list_display = ["original_name", "content_type", "bank", "sha256", "created_at"]
    search_fields = ["original_name", "sha256"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["filename", "bank", "owner", "status", "progress", "total", "created_at"]
    list_filter = ["status"]
    readonly_fields = ["started_at", "finished_at", "summary", "errors"]
