"""The build chain (bot/build_chain.py): no part can serve facts older than the directory."""

from __future__ import annotations

import shutil

from bot import build_chain
from bot.render import DEFAULT_OUT
from tests.conftest import DB, MODEL


def test_the_built_model_carries_the_rendered_responses():
    assert build_chain.model_current(MODEL, DEFAULT_OUT)


def test_a_changed_number_in_the_responses_makes_the_model_stale(tmp_path):
    responses = tmp_path / "responses.yml"
    responses.write_text(DEFAULT_OUT.read_text(encoding="utf-8").replace("0800 30 030", "0800 30 031"),
                         encoding="utf-8")
    assert not build_chain.model_current(MODEL, responses)
    assert not build_chain.model_current(tmp_path / "missing.tar.gz", DEFAULT_OUT)


def test_ensure_renders_responses_older_than_the_directory_again(tmp_path):
    assert build_chain.model_current(MODEL, DEFAULT_OUT), "run `make train` first: this test must never train"
    db = tmp_path / "relais.db"
    shutil.copy(DB, db)
    responses = tmp_path / "responses.yml"
    responses.write_text(DEFAULT_OUT.read_text(encoding="utf-8").replace("0800 30 030", "0800 30 031"),
                         encoding="utf-8")
    said: list[str] = []
    build_chain.ensure(db, MODEL, said.append, responses)
    assert responses.read_text(encoding="utf-8") == DEFAULT_OUT.read_text(encoding="utf-8")
    assert any("responses rendered again" in line for line in said)
    assert not any("training" in line for line in said)  # the model already carries these responses


def test_ensure_leaves_a_current_chain_alone(tmp_path):
    assert build_chain.model_current(MODEL, DEFAULT_OUT), "run `make train` first: this test must never train"
    db = tmp_path / "relais.db"
    shutil.copy(DB, db)
    said: list[str] = []
    build_chain.ensure(db, MODEL, said.append)
    assert said == []
