"""Which help speaks the user's language: the services that answer in it, and where to get an interpreter.

Said after the user chooses a language and after a question about calling a
helpline, when none of the talk lines (actions/situations.yml `talk`)
answers in the conversation's language: "no line says it answers in your
language; to talk: 0800 30 030 (in French) or 1712 (in Dutch); to get an
interpreter: ...; in danger now: 112 or 101". Every fact comes from the directory
(directory/seed/service_languages.yml and the context entries it names): a
language is never claimed for a service that the directory does not list
with it, and what only the press reports says so.
"""

from __future__ import annotations

from typing import Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import db
from actions.nearby import numbers_line, talk_lines_speak
from actions.texts import confidence_mark, say, t
from directory import languages
from directory.facts import SpokenLanguages

# Said last: how a service the person already deals with books an interpreter (a context entry).
SOCIAL_INTERPRETING = "interpreting_social"


def service_label(d, service_id: str, lang: str, confidence: str = "confirmed",
                  phone: bool = True) -> Optional[str]:
    """`Short name (phone)`, or the name alone (`phone` False); the number alone when it is the name (112);
    the confidence when it is not confirmed."""
    service = d.service(service_id)
    if service is None:
        return None
    name = service.short_name or service.name(lang)
    if service.phone and service.phone in name:
        label = service.phone
    elif service.phone and phone:
        label = f"{name} ({service.phone})"
    else:
        label = name
    mark = confidence_mark(confidence, lang)
    return f"{label}, {mark}" if mark else label


def interpreting_lines(d, spoken: list[SpokenLanguages], lang: str) -> list[str]:
    """One line per way to get an interpreter, named after its service when only one service offers it."""
    offered: dict[str, list[str]] = {}
    for s in spoken:
        if s.interpreting:
            offered.setdefault(s.interpreting, []).append(s.service_id)
    lines = []
    for context_id, service_ids in offered.items():
        text = d.context(context_id, lang)
        label = service_label(d, service_ids[0], lang) if len(service_ids) == 1 else None
        if text:
            lines.append(f"- {label}: {text}." if label else f"- {text}.")
    social = d.context(SOCIAL_INTERPRETING, lang)
    return lines + ([f"- {social}."] if social else [])


def lines_text(d, lang: str) -> Optional[str]:
    """What to say about the user's language; None when a talk line answers in it."""
    spoken = d.spoken_languages()
    if talk_lines_speak(spoken, lang):
        return None
    # Names only: a number here would read as "call it in your language" (Rainbowhouse's is WhatsApp/SMS only).
    yours = [label for s in spoken if lang in s.languages
             for label in [service_label(d, s.service_id, lang, s.confidence, phone=False)] if label]
    body = [t("utter_lines_yours", lang, services="; ".join(yours)) if yours else t("utter_lines_none_yours", lang)]
    body += [line for line in [numbers_line(d, "talk", lang)] if line]
    interpreting = interpreting_lines(d, spoken, lang)
    if interpreting:
        body += [t("utter_lines_interpreting", lang), *interpreting]
    # Last, so that nobody reads "no line speaks your language" as a reason not to call 112 or 101.
    body += [line for line in [numbers_line(d, "danger_now", lang)] if line]
    return "\n".join(body)


class ActionLineLanguages(Action):
    """Which lines speak the conversation's language, and how to get an interpreter."""

    def name(self) -> str:
        return "action_line_languages"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        lang = languages.known(tracker.get_slot("language"))
        d = db.directory()
        text = lines_text(d, lang) if d is not None and lang else None
        if text:
            say(dispatcher, text, lang)
        return []
