"""Conversations are forgotten: the in-memory tracker store expires them."""

from __future__ import annotations

import asyncio
import time

from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import ExpiringInMemoryTrackerStore


def tracker(sender: str) -> DialogueStateTracker:
    t = DialogueStateTracker(sender, slots=[])
    t.update(UserUttered("a secret message"))
    return t


def test_idle_conversations_are_dropped():
    store = ExpiringInMemoryTrackerStore(Domain.empty(), ttl=0.2)

    async def scenario():
        await store.save(tracker("a"))
        assert await store.retrieve("a") is not None
        time.sleep(0.3)
        await store.save(tracker("b"))
        assert await store.retrieve("a") is None
        assert list(await store.keys()) == ["b"]
        assert "a" not in store.store

    asyncio.run(scenario())


def test_number_of_conversations_is_capped():
    store = ExpiringInMemoryTrackerStore(Domain.empty(), ttl=1000, max_conversations=3)

    async def scenario():
        for i in range(5):
            await store.save(tracker(str(i)))
        assert list(await store.keys()) == ["2", "3", "4"]

    asyncio.run(scenario())


def domain_with_slots() -> Domain:
    return Domain.from_dict({"slots": {"language": {"type": "text", "mappings": [{"type": "custom"}]},
                                       "place": {"type": "text", "mappings": [{"type": "custom"}]}}})


def turn(t: DialogueStateTracker, text: str) -> None:
    t.update(UserUttered(text))
    t.update(ActionExecuted("utter_answer"))
    t.update(BotUttered("an answer"))
    t.update(ActionExecuted(ACTION_LISTEN_NAME))


def test_a_long_conversation_keeps_its_slots_and_its_last_turns(monkeypatch):
    monkeypatch.setenv("RELAIS_MAX_EVENTS", "40")
    domain = domain_with_slots()
    store = ExpiringInMemoryTrackerStore(domain)

    async def scenario():
        t = await store.get_or_create_tracker("a")
        t.update(SlotSet("place", "1030"))
        for i in range(100):
            turn(t, f"message {i}")
            if i == 50:
                t.update(SlotSet("language", "nl"))
            await store.save(t)
            t = await store.retrieve("a")
            assert len(t.events) <= 40
        assert t.get_slot("place") == "1030" and t.get_slot("language") == "nl"
        assert t.latest_message.text == "message 99"
        again = await store.retrieve_full_tracker("a")  # read back from JSON
        assert again.get_slot("place") == "1030" and again.get_slot("language") == "nl"
        assert [e.text for e in again.events if isinstance(e, UserUttered)][-3:] == [
            "message 97", "message 98", "message 99"]

    asyncio.run(scenario())


def test_a_turn_that_failed_before_its_save_is_not_kept():
    store = ExpiringInMemoryTrackerStore(domain_with_slots())

    async def scenario():
        t = await store.get_or_create_tracker("a")
        turn(t, "first")
        await store.save(t)
        t = await store.retrieve("a")
        t.update(UserUttered("second, never answered"))  # the turn dies here: no save
        t = await store.retrieve("a")
        assert t.latest_message.text == "first"

    asyncio.run(scenario())


def test_conversations_beyond_the_hot_ones_and_across_a_model_reload_are_intact():
    store = ExpiringInMemoryTrackerStore(domain_with_slots(), hot_conversations=2, outlive_reloads=True)

    async def scenario():
        for sender in "abcd":
            t = await store.get_or_create_tracker(sender)
            t.update(SlotSet("place", sender))
            turn(t, f"from {sender}")
            await store.save(t)
        assert [type(v).__name__ for v in store.store.values()][:2] == ["str", "str"]
        reloaded = ExpiringInMemoryTrackerStore(domain_with_slots(), outlive_reloads=True)
        for sender in "abcd":
            t = await reloaded.retrieve(sender)
            assert t.get_slot("place") == sender and t.latest_message.text == f"from {sender}"
        store.store.clear()

    asyncio.run(scenario())


def test_trimming_keeps_the_last_three_turns_even_when_they_are_long(monkeypatch):
    monkeypatch.setenv("RELAIS_MAX_EVENTS", "20")
    store = ExpiringInMemoryTrackerStore(domain_with_slots())

    async def scenario():
        t = await store.get_or_create_tracker("a")
        for i in range(5):
            turn(t, f"message {i}")
            for _ in range(6):  # long answers: three turns are more events than half the cap
                t.update(BotUttered("one more line"))
            t.update(ActionExecuted(ACTION_LISTEN_NAME))
            await store.save(t)
            t = await store.retrieve("a")
        assert [e.text for e in t.events if isinstance(e, UserUttered)] == ["message 2", "message 3", "message 4"]

    asyncio.run(scenario())


def test_a_new_session_is_all_that_is_kept_of_a_conversation():
    store = ExpiringInMemoryTrackerStore(domain_with_slots())

    async def scenario():
        t = await store.get_or_create_tracker("a")
        turn(t, "yesterday's message")
        t.update(ActionExecuted(ACTION_SESSION_START_NAME))
        t.update(SessionStarted())
        t.update(ActionExecuted(ACTION_LISTEN_NAME))
        turn(t, "today's message")
        await store.save(t)
        for kept in (await store.retrieve("a"), await store.retrieve_full_tracker("a")):
            assert [e.text for e in kept.events if isinstance(e, UserUttered)] == ["today's message"]

    asyncio.run(scenario())
