"""The facts in an answer, as the directory holds them now (issue 15: a back-office edit is live at once).

bot/render.py fills a response's placeholders when the domain is built and
lists, in the variant's `custom.relais.facts`, each value it put in as
[kind, key, value]. Before an answer leaves, `refresh` puts in the
directory's current value of each one that changed since: the web server
does it for the bot's responses (bot/web/chat.py), the actions for the texts
they compose from responses (actions/texts.py). So an edited phone number or
text reaches users on their next message, with no new model and no restart.
A fact the directory no longer gives keeps the value it was built with: a
number never disappears from an answer.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

from bot.render import RenderError, fact
from directory.facts import Directory


def current(directory: Optional[Directory], kind: str, key: str, lang: str) -> Optional[str]:
    """The directory's value of a fact now, or None when it has none (or cannot be read)."""
    if directory is None:
        return None
    try:
        return fact(directory, kind, key, lang, "live")
    except (RenderError, Exception):  # an unreadable directory must not cost the answer
        return None


def refresh(text: str, facts: Optional[Iterable], lang: str, directory: Optional[Directory]) -> str:
    """`text` with each listed fact's built value replaced by its current one (a number only where it
    stands alone: never inside a longer number, a word such as "112BE" or an address such as "103ecoute.be")."""
    for item in facts or ():
        if not (isinstance(item, list) and len(item) in (3, 4) and all(isinstance(x, str) for x in item[:3])):
            continue
        kind, key, built = item[:3]
        now = current(directory, kind, key, lang)
        if not now or not built:
            continue
        if len(item) == 4:  # the fragment opens a sentence: bot/render.py capitalised it
            now = now[:1].upper() + now[1:]
        if now == built:
            continue
        if kind == "phone":
            text = re.sub(rf"(?<![\w.@/]){re.escape(built)}(?![\w@/]|\.\w)", now.replace("\\", "\\\\"), text)
        else:
            text = text.replace(built, now)
    return text


def refresh_message(message: dict, facts: Iterable, lang: str, directory: Optional[Directory]) -> None:
    """Refresh a page message's text and its buttons' titles in place."""
    facts = list(facts or ())
    if not facts:
        return
    if message.get("text"):
        message["text"] = refresh(message["text"], facts, lang, directory)
    for button in message.get("buttons") or ():
        if isinstance(button.get("title"), str):
            button["title"] = refresh(button["title"], facts, lang, directory)
