"""Fixtures for the instructor pages. The insights pages read the same cohorts as the
analytics tests of the numbers behind them."""

import pytest

from questions.models import Bank
from tests.analytics.insights_world import cohort_history, fixed_form  # noqa: F401


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploads, staged files and media each test stores go to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def bank(instructor):
    """An empty bank the instructor owns (modules that need questions in it override it)."""
    bank = Bank.objects.create(slug="ck-core", name="CK core")
    bank.owners.add(instructor)
    return bank
