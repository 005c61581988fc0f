"""Describe an exception for the logs without its message.

An exception's message can quote what a user typed (a place, a name, a
sentence), and Relais writes no message text to its logs. `describe(exc)`
gives the exception's type and the file:line where it was raised: enough to
find a bug, nothing a user said.
"""

from __future__ import annotations

import traceback
from pathlib import Path


def describe(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__} at {where}"
