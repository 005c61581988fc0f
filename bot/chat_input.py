"""The rules every chat message obeys before the bot reads it, in one place.

The web server (`/api/chat`) and Rasa's input channel (bot/channel.py) both
apply them, so a message reaches the NLU the same way whichever door it came
through:

- a session id is 8-64 of `A-Z a-z 0-9 - _`;
- the text is valid Unicode: lone surrogates (which JSON allows and which
  crash UTF-8 encoders downstream) become U+FFFD, the text is put in NFC
  form, control characters become spaces, and it is trimmed;
- it is at most MAX_MESSAGE characters;
- a text starting with "/" is Rasa's intent syntax (`/intent{"entity": …}`):
  only the page's own payloads may take that form (the buttons of the
  rendered responses, and the greeting the page sends when it opens, in one
  of the languages the detector knows); anything else a person types is
  text, so its leading slashes and spaces are dropped.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import yaml

MAX_MESSAGE = 2000
SESSION_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
INTENT_PREFIX = "/"
LEADING_SLASHES = re.compile(r"^[\s/]+")


class InvalidInput(ValueError):
    """A chat message or session id that breaks a rule: `code` says which."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def valid_session(value: object) -> str:
    if not isinstance(value, str) or not SESSION_RE.fullmatch(value):
        raise InvalidInput("invalid_session", "`session` must be 8-64 letters, digits, '-' or '_'.")
    return value


def clean_text(value: object) -> str:
    """The message as the bot may read it (see the module docstring), or InvalidInput."""
    if not isinstance(value, str):
        raise InvalidInput("invalid_message", "`message` must be a string.")
    text = SURROGATE_RE.sub("\ufffd", value)
    text = CONTROL_RE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    if len(text) > MAX_MESSAGE:
        raise InvalidInput("message_too_long", f"The message is longer than {MAX_MESSAGE} characters.", 413)
    if text.startswith(INTENT_PREFIX) and text not in page_payloads():
        text = LEADING_SLASHES.sub("", text)
    if not text:
        raise InvalidInput("empty_message", "The message is empty.")
    return text


def payload_language(text: str) -> str | None:
    """The language a page payload names (`/greet{"language":"nl"}`), if `text` is one."""
    if text not in page_payloads():
        return None
    try:
        entities = json.loads(text[text.index("{"):])
    except ValueError:
        return None
    language = entities.get("language") if isinstance(entities, dict) else None
    return language if isinstance(language, str) else None


def page_payloads() -> frozenset[str]:
    """The only intent syntax a message may use: the page's greeting and the bot's buttons."""
    from directory import languages

    greetings = frozenset('/greet{"language":"%s"}' % lang for lang in languages.codes())  # bot/static/chat.js
    return greetings | button_payloads()


_BUTTONS: frozenset[str] | None = None


def button_payloads() -> frozenset[str]:
    """Every button payload of the bot's rendered responses (read once; a failed read is tried again)."""
    global _BUTTONS
    if _BUTTONS is None:
        from bot.render import DEFAULT_OUT

        try:
            _BUTTONS = read_button_payloads(DEFAULT_OUT)
        except (OSError, KeyError, TypeError, AttributeError, yaml.YAMLError):
            return frozenset()
    return _BUTTONS


def read_button_payloads(path: Path) -> frozenset[str]:
    responses = yaml.safe_load(path.read_text(encoding="utf-8"))["responses"]
    return frozenset(  # the page gets them after Rasa's templating, which turns "{{" into "{"
        button["payload"].replace("{{", "{").replace("}}", "}")
        for variants in responses.values() for variant in variants
        for button in variant.get("buttons") or [] if isinstance(button.get("payload"), str)
    )
