"""Priority from impact × urgency (pure).

Impact and urgency are 1 (high), 2 (medium) or 3 (low); priority is P1–P4.
The default matrix is the common ITIL one; an organisation may configure its own
with ``HELPDESK_PRIORITY_MATRIX`` as three rows of three, e.g. ``1,2,3;2,3,4;3,4,4``
(rows are impact high→low, columns urgency high→low).
"""

from __future__ import annotations

PriorityMatrix = tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]

LEVELS = (1, 2, 3)
PRIORITIES = (1, 2, 3, 4)

DEFAULT_MATRIX: PriorityMatrix = (
    (1, 2, 3),
    (2, 3, 4),
    (3, 4, 4),
)


def priority_for(impact: int, urgency: int, matrix: PriorityMatrix = DEFAULT_MATRIX) -> int:
    if impact not in LEVELS or urgency not in LEVELS:
        raise ValueError(f"impact and urgency must be 1, 2 or 3, got {impact}, {urgency}")
    return matrix[impact - 1][urgency - 1]


def parse_matrix(text: str) -> PriorityMatrix:
    """Read ``a,b,c;d,e,f;g,h,i``; refuse anything that is not 3×3 of P1–P4."""
    rows = [row.split(",") for row in text.strip().split(";")]
    if len(rows) != 3 or any(len(row) != 3 for row in rows):
        raise ValueError("a priority matrix is three rows of three numbers, e.g. 1,2,3;2,3,4;3,4,4")
    try:
        values = [[int(cell) for cell in row] for row in rows]
    except ValueError as exc:
        raise ValueError(f"priority matrix holds a value that is not a number: {text!r}") from exc
    if any(cell not in PRIORITIES for row in values for cell in row):
        raise ValueError("priority matrix values must be 1, 2, 3 or 4")
    r0, r1, r2 = values
    return ((r0[0], r0[1], r0[2]), (r1[0], r1[1], r1[2]), (r2[0], r2[1], r2[2]))
