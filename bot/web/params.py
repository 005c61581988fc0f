"""Query parameters of the web server's JSON APIs (directory_routes.py, hsds_routes.py), read one way.

Each helper returns the parameter's value or raises a 400 (`bad_parameter`)
saying what it must be: a parameter given twice, longer than its limit, not
a whole number in its range, not one of its choices.
"""

from __future__ import annotations

from typing import Optional

from aiohttp import web

from bot.web.errors import bad_parameter

MAX_TEXT = 200


def one(request: web.Request, name: str, max_len: int = MAX_TEXT) -> Optional[str]:
    """The parameter's value, stripped; None when absent or empty."""
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise bad_parameter(f"`{name}` may be given once.")
    value = values[0].strip() if values else None
    if value is not None and len(value) > max_len:
        raise bad_parameter(f"`{name}` is longer than {max_len} characters.")
    return value or None


def choice(request: web.Request, name: str, allowed) -> Optional[str]:
    """The parameter's value, which must be one of `allowed`; None when absent."""
    value = one(request, name)
    if value is not None and value not in allowed:
        raise bad_parameter(f"`{name}` must be one of: {', '.join(sorted(allowed))}.")
    return value


def whole_number(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """The parameter as a whole number from `low` to `high`; `default` when absent."""
    value = one(request, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_parameter(f"`{name}` must be a whole number.") from None
    if not low <= number <= high:
        raise bad_parameter(f"`{name}` must be from {low} to {high}.")
    return number


def real_number(request: web.Request, name: str) -> Optional[float]:
    """The parameter as a number; None when absent."""
    value = one(request, name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise bad_parameter(f"`{name}` must be a number.") from None


def flag(request: web.Request, name: str) -> bool:
    """The parameter as a yes/no flag (1/0, true/false, yes/no); False when absent."""
    value = one(request, name)
    if value in (None, "", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise bad_parameter(f"`{name}` must be 1 or 0.")
