"""Build the chat page: its texts in each language, filled from the directory.

`bot/static/index.html` is a template: `{{t:KEY}}` markers take the default
language's text (so the emergency numbers show even without JavaScript), and
`<!--I18N-->` becomes a JSON data block (not executable, so the strict CSP
holds) with every language's texts and the directory's phone numbers, which
the page turns into `tel:` links.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from pathlib import Path

import yaml

from bot.render import fill
from directory import languages
from directory.facts import Directory

TEXTS = Path(__file__).with_name("page_texts.yml")
TEMPLATE = Path(__file__).with_name("static") / "index.html"
MARKER = re.compile(r"\{\{t:(\w+)\}\}")


def page_texts(directory: Directory) -> dict:
    raw = yaml.safe_load(TEXTS.read_text(encoding="utf-8"))
    return {
        lang: {key: fill(str(text), lang, directory, f"page_texts.{lang}.{key}") for key, text in texts.items()}
        for lang, texts in raw.items()
    }


def phone_strings(directory: Directory) -> list[str]:
    """Phone numbers as written in texts, longest first (for linking)."""
    return sorted(directory.display_phones(), key=len, reverse=True)


@lru_cache(maxsize=2)
def render_page(db_path: Path, exit_url: str, version: int = 0) -> str:
    """The chat page, with quick exit going to `exit_url` (RELAIS_EXIT_URL); `version` is the database
    file's modification time, so a back-office edit renders the page again."""
    directory = Directory(db_path)
    try:
        texts = page_texts(directory)
        phones = phone_strings(directory)
    finally:
        directory.close()
    directions = {code: languages.get(code).direction for code in languages.codes()}
    data = json.dumps({"default": languages.default(), "texts": texts, "phones": phones, "exit": exit_url,
                       "directions": directions}, ensure_ascii=False)
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    page = TEMPLATE.read_text(encoding="utf-8")
    page = MARKER.sub(lambda m: html.escape(texts[languages.default()][m.group(1)]), page)
    page = page.replace("<!--LANGUAGES-->", language_menu(texts[languages.default()]["language"]))
    return page.replace("<!--I18N-->", f'<script type="application/json" id="i18n">{data}</script>')


def language_menu(label: str) -> str:
    """A compact menu of the registry's languages, each named in its own language and script; `label` is its
    name for a screen reader in the page's language (page_texts `language`, switched with the page)."""
    options = "".join(
        f'<option value="{code}" lang="{code}" dir="{lang.direction}"'
        f'{" selected" if code == languages.default() else ""}>{html.escape(lang.own_name)}</option>'
        for code, lang in ((c, languages.get(c)) for c in languages.codes()))
    return (f'<select id="lang" class="lang-menu" data-i18n-label="language" aria-label="{html.escape(label)}">'
            f'{options}</select>')
