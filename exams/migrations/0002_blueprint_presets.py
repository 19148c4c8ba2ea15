from django.db import migrations

# The shapes of the real exam day (USMLE announcement of 2026-03-10 for the May 2026 format;
# the content outline page for the 8 x 60 format), plus NBME-style self-assessments.
PRESETS = [
    ("step2ck-2026", "Step 2 CK (2026)", 16, 20, 30, 55, 5),
    ("step2ck-legacy", "Step 2 CK (before May 2026)", 8, 40, 60, 45, 15),
    ("self-assessment", "Self-assessment", 4, 40, 60, 45, 0),
]


def create_presets(apps, schema_editor):
    Blueprint = apps.get_model("exams", "Blueprint")
    for slug, name, blocks, items, minutes, break_minutes, tutorial in PRESETS:
        Blueprint.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "block_count": blocks,
                "items_per_block": items,
                "block_minutes": minutes,
                "break_minutes": break_minutes,
                "tutorial_minutes": tutorial,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("exams", "0001_initial")]

    operations = [migrations.RunPython(create_presets, migrations.RunPython.noop)]
