"""The data migration keeps each examinee's accommodation: copied onto every cohort they are in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("exams", "0002_blueprint_presets"), ("accounts", "0001_initial")]
AFTER = [
    ("exams", "0003_roles_membership_accommodations"),
    ("accounts", "0002_roles_accommodations_leave_the_user"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_user_accommodations_move_onto_each_of_their_memberships():
    try:
        old = migrate(BEFORE)
        User = old.get_model("accounts", "User")
        Cohort = old.get_model("exams", "Cohort")
        ito = User.objects.create(username="ito", role="instructor")
        ada = User.objects.create(
            username="ada", time_multiplier=Decimal("1.5"), extra_break_minutes=30
        )
        ben = User.objects.create(username="ben")
        cohorts = [Cohort.objects.create(owner=ito, name=name) for name in ("A", "B")]
        for cohort in cohorts:
            cohort.members.add(ada, ben)

        new = migrate(AFTER)
        Membership = new.get_model("exams", "Membership")
        rows = {
            (m.cohort.name, m.user.username): (m.time_multiplier, m.extra_break_minutes)
            for m in Membership.objects.select_related("cohort", "user")
        }
        assert rows == {
            ("A", "ada"): (Decimal("1.50"), 30),
            ("B", "ada"): (Decimal("1.50"), 30),
            ("A", "ben"): (Decimal("1.00"), 0),
            ("B", "ben"): (Decimal("1.00"), 0),
        }
    finally:
        # Leave the schema as every other test expects it, even if this one failed.
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
