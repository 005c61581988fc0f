"""Lookup for helpline staff: a service, number or training by name or keyword.

"numéro GAMS", "EVA Bruxelles-Nord", "EVA Koekelberg", "trainings on FGM for
social workers": one message, answered with the directory's facts, each
with its confidence and check date when it is not confirmed. "EVA" or
"police" with a place gives the EVA cell of that place's police zone.
"""

from __future__ import annotations

import logging
from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import db
from actions.nearby import eva_line, place_text, searched
from actions.texts import confidence_mark, say, t
from bot import logsafe
from directory import languages
from directory.geocoder import find_place
from directory.places import Place

log = logging.getLogger("relais.actions")
MAX_RESULTS = 3
SHELTER = "shelter"


def confidence_note(result: dict, lang: Optional[str]) -> str:
    mark = confidence_mark(result.get("confidence") or "", lang)
    return f" ({mark}, {t('utter_lookup_checked', lang, date=result['checked'])})" if mark else ""


def result_line(result: dict, lang: Optional[str]) -> str:
    names = result["names"]
    name = languages.pick(names, lang)
    parts = [name]
    if result["type"] == "training":
        parts.append(result.get("organiser", ""))
        if result.get("url"):
            parts.append(result["url"])
    else:
        if result.get("phone"):
            parts.append(f"{t('utter_nearby_phone', lang)} {result['phone']}")
        elif result.get("phone_note"):
            parts.append(f"{t('utter_nearby_phone', lang)} {t('utter_lookup_unconfirmed', lang)}")
        hours = (result.get("hours") or {}).get(lang or "en")
        if hours:
            parts.append(hours)
        if SHELTER in result.get("categories", []):
            parts.append(t("utter_lookup_address_hidden", lang))
        elif result["type"] == "pharmacy" and result.get("address"):
            parts.append(f"{result['address']}, {result.get('postcode', '')} {result.get('municipality', '')}")
    return " — ".join(p for p in parts if p) + confidence_note(result, lang)


class ActionLookup(Action):
    def name(self) -> str:
        return "action_lookup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        lang = tracker.get_slot("language")
        text = (tracker.latest_message or {}).get("text") or ""
        d = db.directory()
        if d is None:
            dispatcher.utter_message(response="utter_search_unavailable")
            return []
        named_place = place_text(tracker, d)
        if searched(tracker) == "police" and named_place:
            place = await find_place(d, named_place, lang, db.geocoder())
            line = eva_line(d, place, lang) if isinstance(place, Place) else None
            if line:
                say(dispatcher, line, lang)
                return []
        try:
            results = d.search(text, doc_types=["service", "training"], limit=MAX_RESULTS)
        except Exception as err:
            log.error("lookup failed: %s", logsafe.describe(err))
            dispatcher.utter_message(response="utter_search_unavailable")
            return []
        if not results:
            dispatcher.utter_message(response="utter_lookup_none", query=text[:80])
            return []
        lines = [t("utter_lookup_found", lang), *(result_line(r, lang) for r in results)]
        say(dispatcher, "\n".join(lines), lang)
        return []
