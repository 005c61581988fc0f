"""The actions' wording (`actions/texts.yml`), filled with directory facts at run time.

Only wording lives in the file; every name, number, distance and hour comes
from the directory. A text missing in a language falls back along the
language registry's order (directory/languages.yml).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

import yaml

from bot.render import LANG_MARK
from directory import languages

TEXTS = Path(__file__).with_name("texts.yml")


@lru_cache(maxsize=1)
def _texts() -> dict[str, dict[str, str]]:
    """{key: {language: text}} from texts.yml."""
    by_language = yaml.safe_load(TEXTS.read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    for lang, texts in by_language.items():
        for key, text in texts.items():
            out.setdefault(key, {})[lang] = text
    return out


def t(key: str, lang: Optional[str], **values) -> str:
    """Text `key` in `lang` (or its fallback), with `values` filled in."""
    text = languages.pick(_texts()[key], lang)
    if text is None:
        raise KeyError(f"{TEXTS.name}: no text {key!r} in any language")
    return text.format(**values)


def distance(metres: int, lang: Optional[str]) -> str:
    if metres < 1000:
        return f"{metres} m"
    km = f"{metres / 1000:.1f}"
    return f"{km.replace('.', ',') if languages.get(languages.or_unknown(lang)).decimal_comma else km} km"


def say(dispatcher, text: str, lang: Optional[str], payload: Optional[dict] = None,
        buttons: Optional[list] = None) -> None:
    """Send a text (and buttons), marked with its language for the web server (see bot/render.py)."""
    custom = dict(payload or {})
    if languages.known(lang):
        custom[LANG_MARK] = {"lang": lang}
    dispatcher.utter_message(text=text, json_message=custom or None, buttons=buttons or [])
