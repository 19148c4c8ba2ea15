"""Time the psychometrics code on a full-size cohort and print a markdown table.

    .venv/bin/python bench/itemstats_bench.py [--attempts 10000] [--items 320] [--repeat 3]

The data are synthetic but shaped like a real cohort: abilities N(0, 1), 2PL items with
discriminations 0.4-1.8 and difficulties N(-0.5, 1) (mock-exam items skew easy), five
options per item with unequal distractor pull, and about 2% omitted answers.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.prediction import calibrate_items, predict_score  # noqa: E402
from analytics.psychometrics import distractor_analysis, flags, item_analysis  # noqa: E402

OPTIONS = 5


def cohort(attempts: int, items: int, seed: int = 2026) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=attempts)
    a = rng.uniform(0.4, 1.8, items)
    b = rng.normal(-0.5, 1.0, items)
    right = rng.random((attempts, items)) < 1 / (1 + np.exp(-a * (theta[:, None] - b)))
    keys = rng.integers(0, OPTIONS, items)
    # Wrong answers spread over the distractors with item-specific pull.
    pull = rng.dirichlet(np.ones(OPTIONS - 1), items)
    cumulative = np.cumsum(pull, axis=1)
    draw = rng.random((attempts, items))
    distractor = (draw[:, :, None] > cumulative[None, :, :]).sum(axis=2)
    distractor = np.minimum(distractor, OPTIONS - 2)
    wrong_choice = distractor + (distractor >= keys)  # skip over the key
    choices = np.where(right, keys, wrong_choice)
    omitted = rng.random((attempts, items)) < 0.02
    choices[omitted] = -1
    marks = (choices == keys).astype(float)
    return {"marks": marks, "choices": choices, "keys": keys}


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return min(runs), statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=320)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-irt", action="store_true", help="time only the Moodle statistics")
    args = parser.parse_args()

    data = cohort(args.attempts, args.items)
    marks, choices, keys = data["marks"], data["choices"], data["keys"]
    ids = [f"q{i:03d}" for i in range(args.items)]
    totals = marks.sum(axis=1)
    result = item_analysis(marks, item_ids=ids)

    rows = [
        ("item_analysis", lambda: item_analysis(marks, item_ids=ids)),
        (
            "distractor_analysis",
            lambda: distractor_analysis(choices, keys, totals, [OPTIONS] * args.items),
        ),
        ("flags (all items)", lambda: [flags(item) for item in result["items"]]),
        (
            "item_analysis + distractor_analysis",
            lambda: (
                item_analysis(marks, item_ids=ids),
                distractor_analysis(choices, keys, totals, [OPTIONS] * args.items),
            ),
        ),
    ]
    if not args.skip_irt:
        responses = np.where(choices == -1, np.nan, marks)
        params = calibrate_items(responses)
        rows += [
            ("calibrate_items (2PL, EM)", lambda: calibrate_items(responses)),
            (
                "predict_score × 1,000 examinees",
                lambda: [
                    predict_score(
                        correct=responses[i],
                        difficulties=params.difficulties,
                        discriminations=params.discriminations,
                    )
                    for i in range(1000)
                ],
            ),
        ]

    print(
        f"{args.attempts:,} attempts × {args.items} items; best and median of {args.repeat} runs; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, {platform.machine()}"
    )
    print()
    print("| step | best (s) | median (s) |")
    print("| --- | ---: | ---: |")
    for name, fn in rows:
        best, median = timed(fn, args.repeat)
        print(f"| {name} | {best:.3f} | {median:.3f} |")
    print()
    print(
        f"alpha = {result['test']['alpha']:.3f}, mean = {result['test']['mean']:.1f} / "
        f"{args.items}, flagged items = {sum(bool(flags(i)) for i in result['items'])}"
    )


if __name__ == "__main__":
    main()
