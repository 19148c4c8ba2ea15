"""Accommodations move from the user onto the cohort membership (issue #10, finding 2).

The plain many-to-many table exams_cohort_members becomes the Membership model without a copy:
the state learns the model, then the database gains the two accommodation columns. Each
user's old accommodation is copied onto every cohort they belong to, so the exams their
instructors assign give what they gave before; accounts 0002 then drops the user's columns.
"""

from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def copy_user_accommodations(apps, schema_editor):
    Membership = apps.get_model("exams", "Membership")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    accommodated = User.objects.exclude(time_multiplier=Decimal("1.00"), extra_break_minutes=0)
    for user in accommodated.only("pk", "time_multiplier", "extra_break_minutes").iterator():
        Membership.objects.filter(user_id=user.pk).update(
            time_multiplier=user.time_multiplier, extra_break_minutes=user.extra_break_minutes
        )


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0002_blueprint_presets"),
        ("accounts", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Membership",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "cohort",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, to="exams.cohort"
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "exams_cohort_members",
                        "unique_together": {("cohort", "user")},
                    },
                ),
                migrations.AlterField(
                    model_name="cohort",
                    name="members",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="cohorts",
                        through="exams.Membership",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="membership",
            name="time_multiplier",
            field=models.DecimalField(decimal_places=2, default=Decimal("1.00"), max_digits=3),
        ),
        migrations.AddField(
            model_name="membership",
            name="extra_break_minutes",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.CheckConstraint(
                condition=models.Q(("time_multiplier__gte", 1), ("time_multiplier__lte", 3)),
                name="membership_time_multiplier_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="membership",
            constraint=models.CheckConstraint(
                condition=models.Q(("extra_break_minutes__lte", 240)),
                name="membership_extra_break_range",
            ),
        ),
        migrations.RunPython(copy_user_accommodations, migrations.RunPython.noop),
    ]
