"""Answers the web server gives by itself when the Rasa server cannot answer,
or answers nothing because a custom action failed.

They are the bot's own rendered responses (`bot/domain/responses.yml`, built
from the directory), so even a degraded answer carries the same, sourced
numbers: 112 / 101 first, then the helplines. When the page sent no language
and Rasa could not say, `language_of` guesses it from the message with the
same offline detector Rasa uses (nlu/components/langid.py), learnt from the
same NLU examples.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml

from bot import live_facts
from bot.render import DEFAULT_OUT, FACTS, LANG_MARK, LOADER, variant_language
from directory.facts import Directory


@lru_cache(maxsize=1)
def _language_model():
    from nlu.components import langid

    return langid.LanguageModel.fit([*langid.nlu_file_samples(), *langid.common_word_samples()])


def language_of(text: str) -> Optional[str]:
    """The language a message is written in (or a page payload names), when the detector is sure enough."""
    from bot.chat_input import payload_language

    named = payload_language(text)
    if named:
        return named
    guess = _language_model().guess(text)
    return guess.language if guess else None


@lru_cache(maxsize=4)
def _responses(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER)["responses"]


def response_text(name: str, lang: Optional[str], path: Path = DEFAULT_OUT,
                  directory: Optional[Directory] = None) -> str:
    """The text of response `name` in `lang` (the unconditioned variant otherwise), its facts brought up to
    date from `directory` when given (bot/live_facts.py)."""
    variants = _responses(path)[name]
    chosen = next((v for v in variants if v.get("condition") and variant_language(v) == lang),
                  next(v for v in variants if not v.get("condition")))
    facts = ((chosen.get("custom") or {}).get(LANG_MARK) or {}).get(FACTS)
    if directory is None or not facts:
        return chosen["text"]
    return live_facts.refresh(chosen["text"], facts, lang or variant_language(chosen), directory)


def search_unavailable_messages(lang: Optional[str], path: Path = DEFAULT_OUT,
                                directory: Optional[Directory] = None) -> list[dict]:
    """The messages sent when Rasa answered nothing (a custom action failed):
    the search is unavailable, then the danger numbers and helplines."""
    return [{"text": response_text("utter_search_unavailable", lang, path, directory)}]


def degraded_messages(lang: Optional[str], path: Path = DEFAULT_OUT,
                      directory: Optional[Directory] = None) -> list[dict]:
    """The messages sent when Rasa is down: a notice, danger numbers, helplines."""
    return [{"text": response_text(name, lang, path, directory)}
            for name in ("utter_chat_unavailable", "utter_danger", "utter_helpline")]
