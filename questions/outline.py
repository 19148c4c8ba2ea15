"""The USMLE Step 2 CK content outline as data: the shared tag vocabulary and blueprint weights.

Source: docs compiled from the usmle.org "Step 2 CK Content Outline & Specifications" page
(2025 / Jan 2026 editions) through public transcriptions, restated in our own tables. The live
usmle.org tables could not be read directly, so:

- Disciplines and the system specification rows: **medium-high confidence** (three separate
  transcriptions agree on every range).
- Physician-task ranges: **low-medium confidence**. Two transcriptions agree on the numbers, a
  third puts the same numbers on different rows, so the row assignment is unconfirmed. They are
  shown to users as approximate and are not used to assemble exams.

Check the live page before treating any range as final. Weight midpoints are percentages.

Every question carries one discipline, one system and one physician task; each table adds up to
about 100% on its own, so ranges from different tables are never summed together.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class OutlineEntry:
    slug: str
    name: str
    # (low, high) percent of the exam, or None where no current range was found.
    weight_range: tuple[float, float] | None = None
    # For systems: the merged row of the specification table that carries the range.
    spec_group: str | None = None
    # For physician tasks: the competency section the task belongs to.
    parent: str | None = None

    @property
    def midpoint(self) -> float | None:
        if self.weight_range is None:
            return None
        low, high = self.weight_range
        return (low + high) / 2


DISCIPLINES: tuple[OutlineEntry, ...] = (
    OutlineEntry("medicine", "Medicine", (55, 65)),
    OutlineEntry("surgery", "Surgery", (20, 30)),
    OutlineEntry("pediatrics", "Pediatrics", (17, 27)),
    OutlineEntry("obstetrics-gynecology", "Obstetrics & Gynecology", (10, 20)),
    OutlineEntry("psychiatry", "Psychiatry", (10, 15)),
)

# The current specification merges some outline categories into one row; the range belongs to
# the row (spec_group), not to each member category.
SPEC_GROUPS: dict[str, tuple[str, tuple[float, float]]] = {
    "social-sciences": (
        "Social Sciences: Legal/Ethical Issues & Professionalism / Systems-based Practice & "
        "Patient Safety",
        (10, 15),
    ),
    "renal-urinary-reproductive": (
        "Renal & Urinary System & Reproductive Systems",
        (7, 13),
    ),
    "cardiovascular": ("Cardiovascular System", (6, 12)),
    "musculoskeletal-skin": ("Musculoskeletal System / Skin & Subcutaneous Tissue", (6, 12)),
    "behavioral-health": ("Behavioral Health", (5, 10)),
    "nervous-special-senses": ("Nervous System & Special Senses", (5, 10)),
    "respiratory": ("Respiratory System", (5, 10)),
    "gastrointestinal": ("Gastrointestinal System", (5, 10)),
    "multisystem": ("Multisystem Processes & Disorders", (4, 8)),
    "pregnancy-childbirth-puerperium": ("Pregnancy, Childbirth & the Puerperium", (3, 7)),
    "endocrine": ("Endocrine System", (3, 7)),
    "blood-lymphoreticular": ("Blood & Lymphoreticular System", (3, 6)),
    "immune": ("Immune System", (3, 5)),
    "biostatistics-epidemiology": (
        "Biostatistics & Epidemiology/Population Health & Interpretation of the Medical Literature",
        (3, 5),
    ),
    "human-development": ("Human Development", (2, 4)),
}


def _system(slug: str, name: str, spec_group: str | None) -> OutlineEntry:
    weight_range = SPEC_GROUPS[spec_group][1] if spec_group else None
    return OutlineEntry(slug, name, weight_range, spec_group=spec_group)


# The 18 outline categories, in outline order. weight_range is the range of the category's
# spec_group (shared by the members of a merged group).
SYSTEMS: tuple[OutlineEntry, ...] = (
    _system("human-development", "Human Development", "human-development"),
    _system("immune", "Immune System", "immune"),
    _system("blood-lymphoreticular", "Blood & Lymphoreticular System", "blood-lymphoreticular"),
    _system("behavioral-health", "Behavioral Health", "behavioral-health"),
    _system("nervous-special-senses", "Nervous System & Special Senses", "nervous-special-senses"),
    _system("skin-subcutaneous", "Skin & Subcutaneous Tissue", "musculoskeletal-skin"),
    _system("musculoskeletal", "Musculoskeletal System", "musculoskeletal-skin"),
    _system("cardiovascular", "Cardiovascular System", "cardiovascular"),
    _system("respiratory", "Respiratory System", "respiratory"),
    _system("gastrointestinal", "Gastrointestinal System", "gastrointestinal"),
    _system("renal-urinary", "Renal & Urinary System", "renal-urinary-reproductive"),
    _system(
        "pregnancy-childbirth-puerperium",
        "Pregnancy, Childbirth & the Puerperium",
        "pregnancy-childbirth-puerperium",
    ),
    _system(
        "female-reproductive-breast",
        "Female Reproductive System & Breast",
        "renal-urinary-reproductive",
    ),
    _system("male-reproductive", "Male Reproductive System", "renal-urinary-reproductive"),
    _system("endocrine", "Endocrine System", "endocrine"),
    _system("multisystem", "Multisystem Processes & Disorders", "multisystem"),
    _system(
        "biostatistics-epidemiology",
        "Biostatistics, Epidemiology & Interpretation of the Medical Literature",
        "biostatistics-epidemiology",
    ),
    _system(
        "social-sciences",
        "Social Sciences: Ethics, Professionalism, Systems & Patient Safety",
        "social-sciences",
    ),
)

# Part of the all-Step outline; the current Step 2 CK table has no row for it (older tables
# gave 1-3%). Seeded so imported banks that use it still map, never used for exam weights.
GENERAL_PRINCIPLES = OutlineEntry("general-principles", "General Principles")

# Physician tasks of the current specification (section 4.2) plus the two competencies the
# transcriptions give no Step 2 CK range for. Row assignment of the ranges is unconfirmed.
TASKS: tuple[OutlineEntry, ...] = (
    OutlineEntry("pc-dx-history-physical", "History & Physical Examination", parent="pc-diagnosis"),
    OutlineEntry(
        "pc-dx-lab-diagnostic", "Laboratory & Diagnostic Studies", (13, 17), parent="pc-diagnosis"
    ),
    OutlineEntry("pc-dx-diagnosis", "Diagnosis", (16, 20), parent="pc-diagnosis"),
    OutlineEntry("pc-dx-prognosis", "Prognosis & Outcome", (5, 9), parent="pc-diagnosis"),
    OutlineEntry(
        "pc-mgmt-health-maintenance",
        "Health Maintenance & Disease Prevention",
        (5, 10),
        parent="pc-management",
    ),
    OutlineEntry("pc-mgmt-pharmacotherapy", "Pharmacotherapy", (8, 12), parent="pc-management"),
    OutlineEntry(
        "pc-mgmt-clinical-interventions",
        "Clinical Interventions",
        (6, 10),
        parent="pc-management",
    ),
    OutlineEntry("pc-mgmt-mixed", "Mixed Management", (12, 16), parent="pc-management"),
    OutlineEntry("professionalism", "Professionalism, Legal & Ethical Issues", (5, 7)),
    OutlineEntry("systems-based-practice", "Systems-based Practice & Patient Safety", (5, 7)),
    OutlineEntry("practice-based-learning", "Practice-based Learning & Improvement", (3, 5)),
    OutlineEntry("communication", "Communication & Interpersonal Skills"),
    OutlineEntry("medical-knowledge", "Applying Foundational Science Concepts"),
)

DISCIPLINE_SLUGS: frozenset[str] = frozenset(e.slug for e in DISCIPLINES)
SYSTEM_SLUGS: frozenset[str] = frozenset(e.slug for e in SYSTEMS)
TASK_SLUGS: frozenset[str] = frozenset(e.slug for e in TASKS)


def _discipline_weights() -> dict[str, float]:
    return {e.slug: e.midpoint for e in DISCIPLINES}


def _system_weights() -> dict[str, float]:
    members: dict[str, list[str]] = {}
    for entry in SYSTEMS:
        members.setdefault(entry.spec_group, []).append(entry.slug)
    weights: dict[str, float] = {}
    for group, slugs in members.items():
        low, high = SPEC_GROUPS[group][1]
        for slug in slugs:
            weights[slug] = round((low + high) / 2 / len(slugs), 3)
    return weights


# Relative weights (slug -> midpoint percent) for drawing an exam by the outline. Inside a merged
# specification row the row's midpoint is spread evenly over its member categories.
STEP2CK_DISCIPLINE_WEIGHTS: dict[str, float] = _discipline_weights()
STEP2CK_SYSTEM_WEIGHTS: dict[str, float] = _system_weights()


def outline_tags_seed() -> int:
    """Create the outline's shared tags (bank=None) that are missing; returns how many were new.

    Idempotent: existing tags are found by (kind, slug) and keep their row; a changed name is
    brought up to date.
    """
    from questions.models import Tag

    rows = (
        [(Tag.Kind.DISCIPLINE, e) for e in DISCIPLINES]
        + [(Tag.Kind.SYSTEM, e) for e in (*SYSTEMS, GENERAL_PRINCIPLES)]
        + [(Tag.Kind.TASK, e) for e in TASKS]
    )
    created_count = 0
    with transaction.atomic():
        for kind, entry in rows:
            tag, created = Tag.objects.get_or_create(
                kind=kind, slug=entry.slug, bank=None, defaults={"name": entry.name}
            )
            if created:
                created_count += 1
            elif tag.name != entry.name:
                tag.name = entry.name
                tag.save(update_fields=["name"])
    return created_count
