"""Fixtures for the instructor pages. The insights pages read the same cohorts as the
analytics tests of the numbers behind them."""

from tests.analytics.insights_world import cohort_history, fixed_form  # noqa: F401
