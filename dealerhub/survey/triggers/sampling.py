"""Choosing the questions of a quick review: 2–3, weighted, none the customer answered in
the last 90 days."""

from __future__ import annotations

import random
from collections.abc import Sequence

MIN_QUESTIONS = 2
MAX_QUESTIONS = 3


def pick_questions(pool: Sequence[tuple[str, int]], answered_recently: set[str],
                   rng: random.Random) -> list[str]:
    """Weighted sampling without replacement (each draw proportional to the weights left).

    Returns [] when fewer than 2 eligible questions remain: no survey rather than a thin one.
    """
    eligible = [(key, max(1, weight)) for key, weight in pool if key not in answered_recently]
    if len(eligible) < MIN_QUESTIONS:
        return []
    count = rng.randint(MIN_QUESTIONS, min(MAX_QUESTIONS, len(eligible)))
    chosen: list[str] = []
    while len(chosen) < count:
        total = sum(weight for _, weight in eligible)
        point = rng.uniform(0, total)
        for index, (key, weight) in enumerate(eligible):
            point -= weight
            if point <= 0 or index == len(eligible) - 1:
                chosen.append(key)
                del eligible[index]
                break
    return chosen
