"""Actions that find the nearest help: pharmacies, the EVA cell of the zone, the CPVS, services.

The place comes, in order, from the location the web page shared with this
message, a `place` entity (nlu/components/places.py), the whole message when
it is only a place (intent `inform_place`), or the place given earlier. It
is resolved by the directory's gazetteer, then the geocoder (2 s at most),
without blocking the action server's event loop. When the directory cannot
answer, the user gets the helplines instead.
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import db
from actions.texts import confidence_mark, distance, say, t
from bot import logsafe
from bot.insights import AREA_SLOT
from directory import languages
from directory.geo import in_belgium
from directory.geocoder import find_place
from directory.places import Place
from directory.queries import MAX_K, QueryError

log = logging.getLogger("relais.actions")
PAGE = 3
HOUSE_NUMBER = re.compile(r"\s*,?\s*(\d{1,4}[a-zA-Z]?)\s*[.,!?]?\s*$")
# What a message asks to find comes from the NLU (entity `search_for`, nlu/search_for.yml);
# when it names several, the first of these wins.
SEARCH_KINDS = ("pharmacy", "police", "medical", "services")

SITUATIONS_FILE = Path(__file__).with_name("situations.yml")


@lru_cache(maxsize=1)
def situations() -> dict:
    """actions/situations.yml: what a search for help shows in each situation."""
    return yaml.safe_load(SITUATIONS_FILE.read_text(encoding="utf-8"))


def situation_of(tracker: Tracker) -> dict:
    """The settings of the conversation's situation (slot `situation`), `default` when none is known;
    its `minor` replacement when the writer said they are under 18 (slot `age_group`)."""
    known = situations()["situations"]
    situation = known.get(tracker.get_slot("situation") or "default") or known["default"]
    if tracker.get_slot("age_group") == "minor" and situation.get("minor"):
        return known[situation["minor"]]
    return situation


def in_danger(tracker: Tracker) -> bool:
    """True when the person said they are in danger now (slot `urgency`)."""
    return tracker.get_slot("urgency") == "now"


def searched(tracker: Tracker) -> Optional[str]:
    """What the latest message asks to find (pharmacy, police, medical, services), if it says."""
    found = {e.get("value") for e in (tracker.latest_message or {}).get("entities", [])
             if e.get("entity") == "search_for"}
    return next((kind for kind in SEARCH_KINDS if kind in found), None)


def wanted(tracker: Tracker, previous: Optional[str]) -> str:
    """What to look for: what the message asks, else what the conversation asked before, else help (default)."""
    return searched(tracker) or previous or "default"


def for_a_client(tracker: Tracker) -> bool:
    """True when a pharmacist asks for a client (slot `role`): then a search lists the services, EVA cells included."""
    return tracker.get_slot("role") == "pharmacist"


def shared_location(tracker: Tracker) -> Optional[Place]:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    location = metadata.get("location") if isinstance(metadata, dict) else None
    if not isinstance(location, dict):
        return None
    lat, lon = location.get("lat"), location.get("lon")
    if not in_belgium(lat, lon):
        return None
    return Place(t("utter_nearby_your_location", tracker.get_slot("language")), float(lat), float(lon), "point",
                 "coordinates", None, "browser geolocation", "coordinates")


def place_text(tracker: Tracker, d=None) -> Optional[str]:
    """The place of this message: the extracted place (with the house number
    typed right after a street of the directory `d`, for the geocoder), the
    whole message when it only gives a place, or the place remembered from before."""
    message = tracker.latest_message or {}
    entities = [e for e in message.get("entities", []) if e.get("entity") == "place"]
    if entities:
        value, end = str(entities[0].get("value")), entities[0].get("end")
        number = HOUSE_NUMBER.match(message.get("text") or "", end) if isinstance(end, int) else None
        d = d or db.directory()
        return f"{value} {number.group(1)}" if number and d is not None and d.is_street(value) else value
    if (message.get("intent") or {}).get("name") == "inform_place":
        return message.get("text")
    return tracker.get_slot("place")


def hit_line(index: int, hit, lang: Optional[str], what: Optional[str] = None, yours: frozenset = frozenset()) -> str:
    parts = [f"{index}. {hit.name}" + (f" ({what})" if what else "")]
    if hit.service_id in yours:
        parts.append(t("utter_nearby_speaks_yours", lang))
    if hit.kind == "service" and hit.address:
        parts.append(hit.address)  # as the source writes it, postcode included
    elif hit.address:
        parts.append(f"{hit.address}, {hit.postcode} {hit.municipality}".strip(", "))
    parts.append(distance(hit.distance_m, lang))
    mark = confidence_mark(hit.confidence, lang) if hit.kind == "service" else None
    if mark:
        parts.append(mark)
    if hit.phone:
        parts.append(f"{t('utter_nearby_phone', lang)} {hit.phone}")
    if hit.open_now is True:
        parts.append(t("utter_nearby_open", lang))
    elif hit.open_now is False:
        parts.append(t("utter_nearby_closed", lang))
    return " — ".join(parts)


def item(hit) -> dict:
    return {"name": hit.name, "address": hit.address, "postcode": hit.postcode, "municipality": hit.municipality,
            "distance_m": hit.distance_m, "phone": hit.phone, "open_now": hit.open_now, "kind": hit.kind,
            "lat": hit.lat, "lon": hit.lon}


def eva_line(d, place: Place, lang: Optional[str]) -> Optional[str]:
    nis = place.municipality_nis or d.gazetteer.municipality_at(place.lat, place.lon)
    if not nis:
        return None
    police_zone = d.police_zone(nis)
    if police_zone is None:
        return None
    service = d.service(police_zone.eva_service_id)
    zone = languages.pick(police_zone.names, lang)
    if not service.phone:
        where = f", {service.address}" if service.address else ""
        return t("utter_nearby_eva_no_phone", lang, zone=zone, name=service.name(lang) + where,
                 any_station=d.context(situations()["eva_without_phone"], languages.or_unknown(lang)) or "")
    hours = f" ({service.text('hours', lang)})" if service.text("hours", lang) else ""
    return t("utter_nearby_eva", lang, zone=zone, name=service.name(lang), phone=service.phone, hours=hours)


def talk_lines_speak(spoken: list, lang: Optional[str]) -> bool:
    """True when one of the talk lines (situations.yml `talk`) answers in `lang`, by the directory's
    `spoken` languages (Directory.spoken_languages)."""
    talk = set(situations()["talk"].values())
    return any(lang in s.languages for s in spoken if s.service_id in talk)


def speakers(d, lang: Optional[str]) -> frozenset:
    """The services whose staff answer in `lang` by a confirmed source, when none of the talk lines does
    (else none: in French or Dutch nearly every service would be one, and distance should decide)."""
    spoken = d.spoken_languages()
    if not lang or talk_lines_speak(spoken, lang):
        return frozenset()
    return frozenset(s.service_id for s in spoken if lang in s.languages and s.confidence == "confirmed")


def search(d, place: Place, kind: str, lang: Optional[str], k: int, situation: dict,
           yours: frozenset = frozenset()) -> tuple[list, list]:
    """(lines, hits) for a search of `kind` around `place`, the first `k` hits.

    A search for help (`default`) lists the services that fit the situation,
    never pharmacies: those come only when asked for (`pharmacy`). Services
    that answer in the user's language (`yours`) come first, nearest first."""
    if kind == "pharmacy":
        return [t("utter_nearby_pharmacies", lang)], d.nearest(place.lat, place.lon, k, categories=["pharmacy"])
    if kind == "medical":
        filters: dict = {"categories": ["medical"]}
    elif kind == "default":
        filters = {"categories": situations()["categories"], "topics": situation.get("topics", ()),
                   "audience": situation.get("audience")}
    else:
        filters = {"categories": situations()["services_categories"]}
    hits = d.nearest(place.lat, place.lon, MAX_K if yours else k, **filters)
    hits = sorted(hits, key=lambda h: h.service_id not in yours)[:k]
    return [t("utter_nearby_services", lang)], hits


def situation_lines(d, situation: dict, where: str, lang: Optional[str], listed: frozenset = frozenset()) -> list[str]:
    """The lines a situation puts first or last (actions/situations.yml `first`, `last`: a response and the
    service it names), from the directory;
    a service already `listed` among the nearby ones is not said twice."""
    lines = []
    for entry in situation.get(where) or []:
        (response, service_id), = entry.items()
        service = d.service(service_id)
        if service is None or not service.phone or service_id in listed:
            continue
        hours = service.text("hours", lang)
        lines.append(t(response, lang, name=service.text("what", lang) or service.name(lang), phone=service.phone,
                       hours=f", {hours}" if hours else ""))
    return lines


def numbers_line(d, key: str, lang: Optional[str]) -> Optional[str]:
    """The line of numbers that actions/situations.yml names under `key` (`talk`, `danger_now`), worded by
    the response `utter_nearby_<key>` (bot/responses/found.yml); None when one of them has no number."""
    services = {name: d.service(service_id) for name, service_id in situations()[key].items()}
    if not all(service and service.phone for service in services.values()):
        return None
    return t(f"utter_nearby_{key}", lang, **{name: service.phone for name, service in services.items()})


class ActionFindNearby(Action):
    """Nearest help to a place; asks for the place when it is missing."""

    def name(self) -> str:
        return "action_find_nearby"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        lang = tracker.get_slot("language")
        previous = tracker.get_slot("search_kind") or ("services" if for_a_client(tracker) else None)
        kind = wanted(tracker, previous)
        d = db.directory()
        if d is None:
            dispatcher.utter_message(response="utter_search_unavailable")
            return []
        place = shared_location(tracker)
        if place is None:
            text = place_text(tracker, d)
            if not text:
                dispatcher.utter_message(response="utter_ask_place")
                return [SlotSet("search_kind", kind)]
            try:
                place = await find_place(d, text, lang, db.geocoder())
            except Exception as err:  # the geocoder or the database failed: say so, never crash
                log.error("place resolution failed: %s", logsafe.describe(err))
                dispatcher.utter_message(response="utter_search_unavailable")
                return []
            if not isinstance(place, Place):
                dispatcher.utter_message(response=f"utter_place_{place.reason}")
                return [SlotSet("place", None), SlotSet("search_kind", kind)]
        return answer(dispatcher, d, place, kind, lang, offset=0, situation=situation_of(tracker),
                      urgent=in_danger(tracker))


def area_of(d, place: Place) -> Optional[str]:
    """The municipality (NIS code) of a searched place, for the anonymous counts (bot/insights.py)."""
    try:
        return place.municipality_nis or d.gazetteer.municipality_at(place.lat, place.lon)
    except Exception:  # counting never stands in the way of an answer
        return None


def answer(dispatcher: CollectingDispatcher, d, place: Place, kind: str, lang: Optional[str], offset: int,
           situation: dict, urgent: bool = False) -> list:
    """Say what is near `place`; 112/101 come first when the person said they are in danger now."""
    counted = [SlotSet(AREA_SLOT, area_of(d, place))] if offset == 0 else []
    try:
        danger = [line for line in [numbers_line(d, "danger_now", lang)] if line] if urgent and offset == 0 else []
        if kind == "police":
            line = eva_line(d, place, lang)
            if line:
                say(dispatcher, "\n".join([*danger, line]), lang)
            else:
                dispatcher.utter_message(response="utter_complaint")
            return [SlotSet("place", None), SlotSet("search_kind", None), *counted]
        yours = speakers(d, lang)
        lines, hits = search(d, place, kind, lang, offset + PAGE + 1, situation, yours)
    except QueryError:
        dispatcher.utter_message(response="utter_place_outside_belgium")
        return [SlotSet("place", None)]
    except Exception as err:
        log.error("nearby search failed: %s", logsafe.describe(err))
        dispatcher.utter_message(response="utter_search_unavailable")
        return []
    page, has_more = hits[offset:offset + PAGE], len(hits) > offset + PAGE
    help_first = kind == "default" and offset == 0  # help for a place: never an empty answer
    if not page and not help_first:
        dispatcher.utter_message(response="utter_nearby_no_more" if offset else "utter_nearby_nothing",
                                 place=place.name)
        return [SlotSet("place", None), *counted]
    whats = {h.service_id: (d.service(h.service_id).text("what", lang) if h.service_id else None) for h in page}
    body = [*danger, t("utter_nearby_near", lang, place=place.name)]
    if help_first:
        body += situation_lines(d, situation, "first", lang)
        body += [line for line in (numbers_line(d, "talk", lang), eva_line(d, place, lang)) if line]
    elif kind == "services" and offset == 0:  # e.g. a pharmacist's search: the zone's EVA cell comes first
        body += [line for line in [eva_line(d, place, lang)] if line]
    if page:
        body += [*lines, *(hit_line(offset + i + 1, h, lang, whats.get(h.service_id), yours)
                           for i, h in enumerate(page))]
    if any(h.kind == "pharmacy" for h in page):
        duty = d.context("pharmacy_on_duty", languages.or_unknown(lang))
        body.append(t("utter_nearby_no_pharmacy_phone", lang, duty=f" {duty}." if duty else ""))
    if help_first:
        body += situation_lines(d, situation, "last", lang, frozenset(h.service_id for h in page))
        body.append(t("utter_nearby_pharmacist_hint", lang))
    if has_more:
        body.append(t("utter_nearby_more", lang))
    more = [{"title": t("utter_nearby_more_button", lang), "payload": "/more_results"}] if has_more else None
    say(dispatcher, "\n".join(body), lang, {"type": "contact_points", "items": [item(h) for h in page]}, more)
    return [SlotSet("place", None), SlotSet("search_kind", kind),
            SlotSet("search_point", json.dumps([place.lat, place.lon, place.name])),
            SlotSet("search_offset", float(offset + PAGE)), *counted]


class ActionMoreResults(Action):
    """The next page of the last nearby search."""

    def name(self) -> str:
        return "action_more_results"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        lang = tracker.get_slot("language")
        d = db.directory()
        if d is None:
            dispatcher.utter_message(response="utter_search_unavailable")
            return []
        try:
            lat, lon, name = json.loads(tracker.get_slot("search_point") or "null")
        except (TypeError, ValueError):
            dispatcher.utter_message(response="utter_ask_place")
            return []
        kind = tracker.get_slot("search_kind") or "default"
        offset = int(tracker.get_slot("search_offset") or PAGE)
        place = Place(name, lat, lon, "point", "previous", None, "previous search", "previous")
        return answer(dispatcher, d, place, kind, lang, offset, situation_of(tracker))
