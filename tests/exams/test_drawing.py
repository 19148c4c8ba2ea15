"""Drawing forms and blocks: the one apportioning rule, shared by delivery and the pool report."""

from __future__ import annotations

import random
from collections import Counter

from exams import authoring, drawing
from exams.drawing import PoolItem, apportion, draw_items


def test_apportion_gives_a_tied_remainder_to_the_larger_weight():
    # Exact shares 0.5 and 1.5: both remainders are 0.5, and the heavier key wins the item.
    assert apportion(2, {"medicine": 1, "surgery": 3}) == {"medicine": 0, "surgery": 2}
    assert apportion(2, {"surgery": 3, "medicine": 1}) == {"surgery": 2, "medicine": 0}


def test_apportion_gives_a_tie_of_equal_weights_to_the_key_that_sorts_first():
    assert apportion(1, {"b": 1, "a": 1}) == {"b": 0, "a": 1}
    assert apportion(3, {"c": 2, "b": 2, "a": 2, "d": 0}) == {"c": 1, "b": 1, "a": 1, "d": 0}
    assert apportion(4, {"c": 1, "b": 1, "a": 1}) == {"c": 1, "b": 1, "a": 2}


def test_the_pool_report_and_delivery_share_one_apportioning_function():
    assert authoring.apportion is drawing.apportion


def test_delivery_breaks_a_quota_tie_as_the_pool_report_does():
    """The pool lists medicine first; the tie still goes to surgery, the larger weight."""
    pool = [
        PoolItem(pk=n, current_version_id=n, item_set_id=None, set_position=None,
                 discipline="medicine" if n <= 3 else "surgery", system=None)
        for n in range(1, 7)
    ]  # fmt: skip
    weights = {"medicine": 1.0, "surgery": 3.0}
    for seed in range(5):
        units = draw_items(
            questions=pool,
            total=2,
            discipline_weights=weights,
            system_weights={},
            rng=random.Random(seed),
        )
        drawn = Counter(unit[0].discipline for unit in units)
        assert dict(drawn) == {"surgery": 2}
        assert apportion(2, weights) == {"medicine": 0, "surgery": 2}
