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
  only the page's own button payloads, read from the rendered responses, may
  take that form; anything else a person types is text, so its leading
  slashes are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

MAX_MESSAGE = 2000
SESSION_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
INTENT_PREFIX = "/"


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
    if text.startswith(INTENT_PREFIX) and text not in button_payloads():
        text = text.lstrip(INTENT_PREFIX).strip()
    if not text:
        raise InvalidInput("empty_message", "The message is empty.")
    return text


@lru_cache(maxsize=1)
def button_payloads(path: Path | None = None) -> frozenset[str]:
    """Every button payload of the bot's rendered responses: the only intent syntax a message may use."""
    from bot.render import DEFAULT_OUT

    try:
        responses = yaml.safe_load((path or DEFAULT_OUT).read_text(encoding="utf-8"))["responses"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return frozenset()
    return frozenset(  # the page gets them after Rasa's templating, which turns "{{" into "{"
        button["payload"].replace("{{", "{").replace("}}", "}")
        for variants in responses.values() for variant in variants
        for button in variant.get("buttons") or [] if isinstance(button.get("payload"), str)
    )
