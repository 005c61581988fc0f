"""The language registry: the languages Relais speaks, from `languages.yml`.

Every module that needs the list of languages, the default one, a
language's name, direction or fallback order asks here; none keeps its own
list (a test checks). Adding a language is an entry in `languages.yml` plus
its data and texts.

>>> codes()[:3]
('fr', 'nl', 'en')
>>> pick({"nl": "Frans", "en": "French"}, "fr")
'Frans'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Optional, TypeVar

import yaml

REGISTRY = Path(__file__).with_name("languages.yml")
TIMETABLE = ("comma", "semicolon", "days_through", "time_span", "day_and_time", "hour", "hour_exact")
T = TypeVar("T")


class UnknownLanguage(ValueError):
    """A language code that is not in the registry."""


@dataclass(frozen=True)
class Language:
    code: str
    own_name: str
    names: dict[str, str]
    direction: str
    decimal_comma: bool
    fallback: tuple[str, ...]
    asked_as: frozenset[str]
    asked_as_code: frozenset[str]
    # A character class of letters that only this language (among the registry's) writes with, such as
    # the Arabic script: a message written mostly in them is in this language, whatever else it says.
    own_letters: Optional[str] = None
    # Texts not yet read by a native speaker (docs/translations.md): lower bars in `make eval`.
    draft: bool = False
    # The days, Monday first, and the words for "always open": hours written from structured slots.
    weekdays: tuple[str, ...] = ()
    always_open: str = ""
    comma: str = ", "
    semicolon: str = "; "
    days_through: str = "{first}–{last}"
    time_span: str = "{opens}–{closes}"
    day_and_time: str = "{days} {times}"
    hour: str = "{h}:{mm}"  # a time; `hour_exact` when on the hour
    hour_exact: str = "{h}:{mm}"


@dataclass(frozen=True)
class Registry:
    languages: dict[str, Language]
    default: str
    unknown: str


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The registry, read once per process (checked: every reference is a known code)."""
    raw = yaml.safe_load(REGISTRY.read_text(encoding="utf-8"))
    languages = {
        entry["code"]: Language(
            code=entry["code"], own_name=entry["own_name"], names=dict(entry["names"]),
            direction=entry["direction"], decimal_comma=bool(entry["decimal_comma"]),
            fallback=tuple(entry["fallback"]), asked_as=frozenset(entry["asked_as"]),
            asked_as_code=frozenset(entry["asked_as_code"]), own_letters=entry.get("own_letters"),
            draft=bool(entry.get("draft", False)), weekdays=tuple(entry["weekdays"]),
            always_open=entry["always_open"],
            **{k: entry[k] for k in TIMETABLE if k in entry})
        for entry in raw["languages"]
    }
    reg = Registry(languages, raw["default"], raw["unknown"])
    for lang in languages.values():
        unknown = {*lang.fallback, *lang.names} - set(languages)
        if unknown or lang.direction not in ("ltr", "rtl") or lang.fallback[:1] != (lang.code,) \
                or len(lang.weekdays) != 7 or not lang.always_open:
            raise UnknownLanguage(f"{REGISTRY.name}: entry {lang.code!r} is inconsistent ({sorted(unknown)})")
    if {reg.default, reg.unknown} - set(languages):
        raise UnknownLanguage(f"{REGISTRY.name}: default or unknown is not a listed language")
    return reg


def codes() -> tuple[str, ...]:
    """The codes of every language Relais speaks, in the registry's order."""
    return tuple(registry().languages)


def default() -> str:
    """The page's language before anyone chooses."""
    return registry().default


def unknown() -> str:
    """The language of an answer when the user's language is not known."""
    return registry().unknown


def get(code: str) -> Language:
    """The registry entry of `code`; raises UnknownLanguage."""
    try:
        return registry().languages[code]
    except KeyError:
        raise UnknownLanguage(code) from None


def known(code: object) -> Optional[str]:
    """`code` if Relais speaks it, else None."""
    return code if isinstance(code, str) and code in registry().languages else None


def or_unknown(code: object) -> str:
    """`code` if Relais speaks it, else the language for unknown users."""
    return known(code) or unknown()


def fallback(code: Optional[str]) -> tuple[str, ...]:
    """Where to look for a text in `code`, in order (unknown codes: the `unknown` language's order)."""
    return get(or_unknown(code)).fallback


def pick(texts: Mapping[str, T], code: Optional[str]) -> Optional[T]:
    """The first non-empty text of `texts` (keyed by language) in `code`'s fallback order."""
    for lang in fallback(code):
        if texts.get(lang):
            return texts[lang]
    return None
