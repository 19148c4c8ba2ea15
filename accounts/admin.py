from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "role")
    list_filter = ("role", "is_staff")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Mockboard", {"fields": ("role",)}),
    )
