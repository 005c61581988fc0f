"""When a checked fact is due for a new check, and how an overdue one is treated (issue 15).

Phones, hours and a service's other facts are due 12 months after their
last check, trainings' dates after 6. Until someone checks again (the back
office's queue, directory/curation.py), an overdue fact counts as
unconfirmed: the bot marks it so, the directory API and the HSDS API say so.
"""

from __future__ import annotations

from datetime import date
from typing import Optional

DUE_MONTHS = {"service": 12, "training": 6}


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def due_date(kind: str, checked: str) -> date:
    """The day a record of `kind` last checked on `checked` (ISO date) is due for a new check."""
    return add_months(date.fromisoformat(checked[:10]), DUE_MONTHS[kind])


def is_overdue(kind: str, checked: str, today: Optional[date] = None) -> bool:
    """True when the last check is older than the kind allows, or its date cannot be read."""
    try:
        return due_date(kind, checked) <= (today or date.today())
    except ValueError:
        return True


def effective_confidence(kind: str, confidence: str, checked: str, today: Optional[date] = None) -> str:
    """The confidence to show: the recorded one, or "unconfirmed" once the fact is overdue."""
    return "unconfirmed" if is_overdue(kind, checked, today) else confidence
