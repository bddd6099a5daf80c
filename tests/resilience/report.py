"""The fault-injection table: one row per scenario, printed at the end of the run and
written to var/resilience.txt."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

REPORT_FILE = Path(__file__).resolve().parents[2] / "var" / "resilience.txt"
HEADINGS = {
    "scenario": "scenario", "operations": "operations", "retried": "retried",
    "failed": "failed", "lost": "lost", "duplicated": "duplicated",
    "not_ready": "not ready s", "ready_after": "ready after s", "caught_up": "caught up s",
}
LEGEND = (
    "operations: bookings over HTTP or messages sent; retried: client retries with the same "
    "Idempotency-Key, or provider calls beyond one per message; failed: never accepted by the "
    "deadline; lost: acknowledged but missing; duplicated: a second booking for one key, or a "
    "second message created at the provider for one message id; not ready: how long /ready "
    "(polled every 0.2 s) answered other than 200 during the scenario; ready after: fault "
    "removed → the first /ready 200; caught up: fault removed → every operation done."
)


@dataclass
class Row:
    scenario: str
    operations: int
    retried: int
    failed: int
    lost: int
    duplicated: int
    not_ready: float
    ready_after: float
    caught_up: float


ROWS: list[Row] = []


def table(rows: list[Row]) -> str:
    cells = [list(HEADINGS.values())] + [
        [f"{value:.1f}" if isinstance(value, float) else str(value)
         for value in (getattr(row, f.name) for f in fields(Row))] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADINGS))]
    lines = [" | ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(line, widths, strict=True)))
             for line in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def write(rows: list[Row]) -> str:
    text = f"{table(rows)}\n\n{LEGEND}\n"
    REPORT_FILE.parent.mkdir(parents=True, exist_ok=True)
    REPORT_FILE.write_text(text)
    return text
