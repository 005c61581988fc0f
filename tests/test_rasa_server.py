"""The Rasa start-up wrapper: Rasa's check of action server responses, done
with a validator built once, accepts and refuses exactly what Rasa's own did."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot.rasa_server import (
    ACTION_EVENTS,
    cache_action_response_validator,
    cache_event_classes,
    send_actions_recent_events,
)

VALID = {"events": [{"event": "slot", "name": "place", "value": "1030"}],
         "responses": [{"text": "Pharmacies les plus proches :"}]}
INVALID = [{"events": "not a list"}, {"events": [{"no_event_key": 1}]}, {"responses": [{"text": 3}], "events": 5}]


@pytest.fixture()
def patched():
    original = RemoteAction._validate_action_result
    cache_action_response_validator()
    yield RemoteAction._validate_action_result
    RemoteAction._validate_action_result = original


def test_same_verdicts_as_rasa(patched):
    action = RemoteAction.__new__(RemoteAction)
    assert patched(action, VALID) is True
    for result in INVALID:
        with pytest.raises(jsonschema.ValidationError) as ours:
            patched(action, result)
        with pytest.raises(jsonschema.ValidationError) as theirs:
            jsonschema.validate(result, RemoteAction.action_response_format_spec())
        assert ours.value.message.startswith(theirs.value.message)
        assert "Failed to validate Action server response" in ours.value.message


def test_a_token_can_never_be_taken_for_a_command_line_option():
    from bot.rasa_server import rasa_argv
    from bot.tokens import new_token

    assert all(not new_token().startswith("-") for _ in range(2000))
    assert rasa_argv(["run"], "-starts-with-a-dash")[-1] == "--auth-token=-starts-with-a-dash"
    import argparse

    from rasa.cli.arguments.run import add_server_arguments  # Rasa's own parser takes it as the value

    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    assert parser.parse_args(["--auth-token=-starts-with-a-dash"]).auth_token == "-starts-with-a-dash"


def test_events_read_back_the_same_with_their_classes_remembered():
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

    events = [UserUttered("bonjour", {"name": "greet", "confidence": 1.0}), ActionExecuted("utter_greet"),
              SlotSet("language", "fr")]
    before = [Event.from_parameters(e.as_dict()) for e in events]
    cache_event_classes()
    after = [Event.from_parameters(e.as_dict()) for e in events]
    assert after == before == events
    assert Event.resolve_by_type("user") is UserUttered and Event.resolve_by_type("nope", SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("nope")


def test_the_action_server_gets_the_slots_and_latest_message_but_not_the_history_nor_the_domain():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    domain = Domain.from_dict({"intents": ["greet"], "slots": {"language": {"type": "text", "mappings": []}},
                               "actions": ["action_nearby"]})
    turns = [(UserUttered(f"bericht {i}", {"name": "greet"}), ActionExecuted("action_listen")) for i in range(20)]
    tracker = DialogueStateTracker.from_events("s-1", [SlotSet("language", "nl")] + [e for t in turns for e in t])
    endpoint = EndpointConfig("http://127.0.0.1:1/webhook", enable_selective_domain=True)
    send_actions_recent_events()
    call = RemoteAction("action_nearby", endpoint)._action_call_format(tracker, domain)
    assert len(call["tracker"]["events"]) == ACTION_EVENTS and "domain" not in call
    assert call["tracker"]["slots"]["language"] == "nl" and call["tracker"]["latest_message"]["text"] == "bericht 19"
