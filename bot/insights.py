"""What one chat turn counts (issue 17), read by the Rasa channel from the turn's own events.

After a turn the channel (bot/channel.py) reads the conversation's last
events: the intent the bot understood, the language slot, the municipality
the nearby search used (the `search_area` slot, a NIS code, set by
actions/nearby.py) and whether the answer was one of the "found nothing"
responses in `NOTHING_RESPONSES`. It sends these codes to the web server in
the `TALLY_HEADER` response header; the web server adds the hour band and
counts them (bot/web/insights.py, directory/insights.py). No text, no
session id and no time leave here. Imports nothing of Rasa.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any, Iterable, Optional

from directory.insights import Turn, code

TALLY_HEADER = "X-Relais-Tally"
AREA_SLOT = "search_area"
FALLBACK_INTENT = "nlu_fallback"
NOTHING_RESPONSES = {  # the answers that say a search found nothing, and what each counts (insights.NOTHING)
    "utter_place_unknown": "place_unknown",
    "utter_place_outside_brussels": "outside_brussels",
    "utter_place_outside_belgium": "outside_brussels",
    "utter_nearby_nothing": "nothing_near",
}
CODES = tuple(f.name for f in fields(Turn))  # what the header may carry


def turn_events(events: Iterable[Any]) -> list:
    """The events of the last turn: from the last user message on."""
    turn: list = []
    for event in reversed(list(events)):
        turn.append(event)
        if getattr(event, "type_name", None) == "user":
            break
    return turn[::-1]


def tally(events: Iterable[Any], language: Optional[str]) -> dict[str, str]:
    """The codes one turn counts, from its events (Rasa's event objects) and the language slot."""
    turn = turn_events(events)
    found: dict[str, Optional[str]] = {"language": language}
    for event in turn:
        kind = getattr(event, "type_name", None)
        if kind == "user":
            found["situation"] = (getattr(event, "intent", None) or {}).get("name")
        elif kind == "slot" and getattr(event, "key", None) == AREA_SLOT:
            found["area"] = getattr(event, "value", None)
        elif kind == "bot":
            flag = NOTHING_RESPONSES.get((getattr(event, "metadata", None) or {}).get("utter_action", ""))
            found["nothing"] = found.get("nothing") or flag
    return {k: c for k, v in found.items() if (c := code(v))}


def header_value(codes: dict[str, str]) -> str:
    """The header's text for `codes`."""
    return json.dumps(codes, separators=(",", ":"), sort_keys=True)


def turn_from_header(value: Optional[str]) -> Optional[Turn]:
    """The chat turn the channel's header describes, or None when it is missing or not what we send."""
    if not value or len(value) > 1000:
        return None
    try:
        codes = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(codes, dict):
        return None
    return Turn(**{k: v for k, v in codes.items() if k in CODES and code(v)})
