"""A back-office edit reaches users on their next message (issue 15), on the real stack: web server, Rasa,
action server, each reading its own copy of the directory; no retraining, no restart."""

from __future__ import annotations

import shutil
import time
import urllib.request
import uuid

import pytest

from directory.curation import Curation
from tests.conftest import ROOT, start_stack, stop_stack

NEW_PHONE = "02 000 00 00"  # a test value in a copy of the directory, never a real number


@pytest.fixture(scope="module")
def edited_stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    shutil.copy(ROOT / "directory" / "relais.db", folder / "relais.db")
    stack = start_stack({"RELAIS_DB": str(folder / "relais.db"), "RELAIS_CURATION_DB": str(folder / "curation.db")})
    yield stack, Curation(folder / "curation.db", folder / "relais.db")
    stop_stack(stack)


def test_an_edited_number_and_text_are_in_the_next_answer_and_on_the_page(edited_stack):
    stack, store = edited_stack
    old_phone = store.current("service", "evc_0800", "phone")
    before = " ".join(m["text"] for m in stack.chat(uuid.uuid4().hex, "I need to talk to someone", "en")["messages"])
    assert old_phone in before
    old_text = store.current("service_text", "evc_0800/what/en", "text")
    assert old_text in before
    store.change("eddie", "service", "evc_0800", "phone", NEW_PHONE, "https://example.org/test", "test")
    store.change("eddie", "service_text", "evc_0800/what/en", "text", "a test description of the line",
                 "https://example.org/test", "test")
    edited = time.monotonic()
    session = uuid.uuid4().hex
    after = " ".join(m["text"] for m in stack.chat(session, "I need to talk to someone", "en")["messages"])
    assert NEW_PHONE in after and old_phone not in after and "a test description of the line" in after
    danger = " ".join(m["text"] for m in stack.chat(session, "he is hitting me right now", "en")["messages"])
    assert danger.index("112") < danger.index(NEW_PHONE) and old_phone not in danger
    french = " ".join(m["text"] for m in stack.chat(uuid.uuid4().hex, "j'ai besoin de parler", "fr")["messages"])
    assert NEW_PHONE in french and old_phone not in french
    with urllib.request.urlopen(stack.web + "/", timeout=10) as page:
        html = page.read().decode()
    assert NEW_PHONE in html and old_phone not in html
    assert time.monotonic() - edited < 60
