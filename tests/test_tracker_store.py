"""Conversations are forgotten: the in-memory tracker store expires them."""

from __future__ import annotations

import asyncio
import time

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
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
        assert not any("a secret" in v for k, v in store.store.items() if k == "a")

    asyncio.run(scenario())


def test_number_of_conversations_is_capped():
    store = ExpiringInMemoryTrackerStore(Domain.empty(), ttl=1000, max_conversations=3)

    async def scenario():
        for i in range(5):
            await store.save(tracker(str(i)))
        assert list(await store.keys()) == ["2", "3", "4"]

    asyncio.run(scenario())
