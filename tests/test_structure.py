"""The code keeps one shape: one reader of settings, one language registry, wording in data."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from bot import settings
from directory import languages

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "nlu", "actions", "directory")


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_the_readme_settings_table_is_generated_from_the_settings_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- settings table: python -m bot.settings -->\n")
    end = readme.index("<!-- end of settings table -->")
    table = readme[start:end].split("\n", 1)[1].strip()
    assert table == settings.readme_table(), "run `python -m bot.settings` and paste its table into the README"


def _reads_environment(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            lines.append(node.lineno)
        if isinstance(node, ast.ImportFrom) and node.module == "os" and \
                any(alias.name in ("environ", "getenv") for alias in node.names):
            lines.append(node.lineno)
    return lines


def test_only_the_settings_module_reads_the_environment():
    offenders = {str(path.relative_to(ROOT)): lines for path in sources()
                 if path != ROOT / "bot" / "settings.py"
                 and (lines := _reads_environment(ast.parse(path.read_text(encoding="utf-8"))))}
    assert offenders == {}, "read settings with bot.settings.load(), declared in bot/settings.py VARIABLES"


def test_every_variable_is_read_and_documented():
    cfg = settings.load({})
    assert cfg.conversation_ttl == 1800 and cfg.web_port == 8080 and cfg.db == ROOT / "directory" / "relais.db"
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources())
    unread = [v.name for v in settings.VARIABLES if f".{v.field}" not in text]
    assert unread == []


@pytest.mark.parametrize("name, raw", [
    ("RELAIS_WEB_PORT", "80808"), ("RELAIS_RASA_TIMEOUT", "soon"), ("RELAIS_MAX_EVENTS", "2.5"),
    ("RELAIS_RATE_CHAT", "fast"), ("RELAIS_EXIT_URL", "javascript:alert(1)"), ("RELAIS_CONVERSATION_TTL", "nan"),
])
def test_a_bad_value_stops_with_a_message_naming_the_variable(name, raw):
    with pytest.raises(settings.SettingError, match=name):
        settings.load({name: raw})


def test_the_domain_session_lifetime_is_the_conversation_lifetime():
    core = yaml.safe_load((ROOT / "bot" / "domain" / "core.yml").read_text(encoding="utf-8"))
    minutes = core["session_config"]["session_expiration_time"]
    assert minutes * 60 == settings.load({}).conversation_ttl


def test_the_makefile_and_the_launcher_run_children_with_the_same_variables():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "include bot/child.env" in makefile
    assert settings.child_env()["TF_CPP_MIN_LOG_LEVEL"] == "2"


def _language_lists(tree: ast.AST, codes: set[str]) -> list[int]:
    """Line numbers of literals that repeat the registry: a list/tuple/set of three or more of its
    codes, or a dict keyed by three or more of them (a stale copy is as bad as a full one)."""
    found = []
    for node in ast.walk(tree):
        items = None
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [k for k in node.keys if k is not None]
        if items and all(isinstance(i, ast.Constant) for i in items):
            values = {i.value for i in items}  # type: ignore[attr-defined]
            if len(codes & values) >= min(3, len(codes)):
                found.append(node.lineno)
    return found


def test_no_module_keeps_its_own_list_of_languages():
    codes = set(languages.codes())
    offenders = {str(path.relative_to(ROOT)): lines for path in sources()
                 if (lines := _language_lists(ast.parse(path.read_text(encoding="utf-8")), codes))}
    assert offenders == {}, "ask directory.languages (directory/languages.yml) instead"


def test_the_check_finds_a_module_that_keeps_its_own_list():
    codes = set(languages.codes())
    assert _language_lists(ast.parse('LANGS = ("fr", "nl", "en")\nT = {"fr": 1, "nl": 2, "en": 3}'), codes) == [1, 2]


def test_wording_files_have_every_language_of_the_registry():
    codes = set(languages.codes())
    texts = yaml.safe_load((ROOT / "bot" / "page_texts.yml").read_text(encoding="utf-8"))
    assert set(texts) == codes
    keys = {lang: set(t) for lang, t in texts.items()}
    assert all(k == keys[languages.default()] for k in keys.values())


def test_every_response_the_actions_word_has_every_language_and_the_same_parameters():
    import string

    from bot.render import load_templates, variant_language

    found = yaml.safe_load((ROOT / "bot" / "responses" / "found.yml").read_text(encoding="utf-8"))["responses"]
    templates = load_templates()
    for name in found:
        variants = templates[name]
        assert {variant_language(v) for v in variants} >= codes_but_unknown(), name
        params = {frozenset(f for _, f, _, _ in string.Formatter().parse(v["text"]) if f) for v in variants}
        assert len(params) == 1, name


def codes_but_unknown() -> set:
    """The registry's languages that need a conditioned variant (the unknown one is the plain variant)."""
    return set(languages.codes()) - {languages.unknown()}


def test_every_language_has_its_nlu_folder_and_response_variants():
    rendered = yaml.safe_load((ROOT / "bot" / "domain" / "responses.yml").read_text(encoding="utf-8"))["responses"]
    for lang in languages.codes():
        assert list((ROOT / "nlu" / lang).glob("*.yml")), lang
        marked = {v["custom"]["relais"].get("lang") for variants in rendered.values() for v in variants
                  if "custom" in v}
        assert lang in marked


def test_the_language_slot_takes_every_language_of_the_registry():
    core = yaml.safe_load((ROOT / "bot" / "domain" / "core.yml").read_text(encoding="utf-8"))
    assert core["slots"]["language"]["values"] == list(languages.codes())


def test_every_per_language_list_of_the_nlu_has_every_language():
    components = ROOT / "nlu" / "components"
    for path, key in ((components / "danger_lexicon.yml", "danger_patterns"), (components / "speaker_ages.yml",
                      "age_patterns"), (components / "openings.yml", "openings")):
        assert set(yaml.safe_load(path.read_text(encoding="utf-8"))[key]) == set(languages.codes()), path.name
    common = yaml.safe_load((components / "common_words.yml").read_text(encoding="utf-8"))
    assert set(common) == set(languages.codes())


def test_the_registry_is_consistent():
    reg = languages.registry()
    assert reg.default in reg.languages and reg.unknown in reg.languages
    for lang in reg.languages.values():
        assert lang.fallback[0] == lang.code and set(lang.names) <= set(reg.languages)
    assert languages.pick({"fr": "", "nl": "x"}, "fr") == "x"
    assert languages.or_unknown("xx") == reg.unknown


@pytest.mark.parametrize("module", ["directory.facts", "directory.languages", "directory.geocoder", "directory.build",
                                    "directory.textnorm", "bot.shared_state", "bot.web.rasa_client"])
def test_the_examples_in_the_docstrings_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0
