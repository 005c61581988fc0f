"""The actions' wording: Rasa responses (bot/responses/found.yml) filled with directory facts.

An action that sends one sentence sends the response itself, with its
parameters (`dispatcher.utter_message(response="utter_nearby_nothing",
place=...)`): Rasa picks the variant of the conversation's language and fills
it. An answer the action composes from several lines (a list of places with
the helplines around it) takes each line's words from the same rendered
responses with `t()`, in the same language and with the same fallback order
(directory/languages.yml), because one Rasa response cannot hold a list of
any length. Only wording lives in the responses; every name, number,
distance and hour comes from the directory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml

from actions import db
from bot import live_facts
from bot.render import DEFAULT_OUT, FACTS, LANG_MARK, LOADER, variant_language
from directory import languages

RESPONSES: Path = DEFAULT_OUT


class UnknownResponse(KeyError):
    """An action asked for a response the rendered domain does not have."""


@lru_cache(maxsize=1)
def _responses() -> dict[str, dict[str, tuple[str, list]]]:
    """{response: {language: (text, its facts)}} from the rendered responses (bot/domain/responses.yml)."""
    rendered = yaml.load(RESPONSES.read_text(encoding="utf-8"), Loader=LOADER)["responses"]
    found: dict[str, dict[str, tuple[str, list]]] = {}
    for name, variants in rendered.items():
        by_lang = found.setdefault(name, {})
        for variant in sorted(variants, key=lambda v: not v.get("condition")):  # a language's own variant first
            if "text" in variant:
                facts = ((variant.get("custom") or {}).get(LANG_MARK) or {}).get(FACTS, [])
                by_lang.setdefault(variant_language(variant), (variant["text"], facts))
    return found


def t(response: str, lang: Optional[str], **values) -> str:
    """The text of `response` in `lang` (or its fallback), with the action's `values` filled in.

    >>> t("utter_nearby_near", "nl", place="Elsene")
    'Dicht bij Elsene:'
    """
    texts = _responses().get(response)
    found = languages.pick(texts, lang) if texts else None
    if found is None:
        raise UnknownResponse(f"{RESPONSES.name}: no response {response!r} with a text")
    text, facts = found
    text = text.format(**values)
    if facts:  # as the directory holds them now (bot/live_facts.py)
        text = live_facts.refresh(text, facts, lang or languages.default(), db.directory())
    return text


def confidence_mark(confidence: str, lang: Optional[str]) -> Optional[str]:
    """How a fact that is not confirmed is marked in `lang` ("partly confirmed", "unconfirmed"), else None."""
    return t(f"utter_lookup_{confidence}", lang) if confidence in ("partly", "unconfirmed") else None


def distance(metres: int, lang: Optional[str]) -> str:
    if metres < 1000:
        return f"{metres} m"
    km = f"{metres / 1000:.1f}"
    return f"{km.replace('.', ',') if languages.get(languages.or_unknown(lang)).decimal_comma else km} km"


def say(dispatcher, text: str, lang: Optional[str], payload: Optional[dict] = None,
        buttons: Optional[list] = None) -> None:
    """Send a composed text (and buttons), marked with its language for the web server (see bot/render.py)."""
    custom = dict(payload or {})
    if languages.known(lang):
        custom[LANG_MARK] = {"lang": lang}
    dispatcher.utter_message(text=text, json_message=custom or None, buttons=buttons or [])
