"""Tracker stores that forget conversations: in memory (the default) or in Redis (scaled out).

Rasa's `InMemoryTrackerStore` keeps every conversation until the server
stops. Relais must not become a record of who said what, so this store drops
a conversation once it has been idle for `RELAIS_CONVERSATION_TTL` seconds
(the session expiry of the domain) and caps the number kept at
`RELAIS_MAX_CONVERSATIONS` (oldest dropped first). A conversation keeps its
last `RELAIS_MAX_EVENTS` events (about 80 exchanges at the default; Rasa's
`max_event_history`); all three are in bot/settings.py, so a very long conversation cannot
grow memory or slow every reply. The language is carried by each message, so
trimming old events does not lose it. Nothing is written to disk. Configured
in `bot/endpoints.yml`.

`ExpiringRedisTrackerStore` is the same contract on Redis, when RELAIS_REDIS_URL
is set (bot/endpoints-redis.yml, bot/shared_state.py): each conversation is
one key that Redis itself deletes RELAIS_CONVERSATION_TTL seconds after its
last message, with the same last RELAIS_MAX_EVENTS events, so any Rasa
replica can carry on a conversation another one started. Rasa's
conversation locks go to the same Redis (`RelaisRedisLockStore`), their keys
expiring too.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Dict, Iterable, Optional, Text

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot import settings, shared_state

# The Rasa server's conversations, kept here rather than in its store object so that a model loaded while it
# runs (`PUT /model`, `python -m bot reload-model`), which makes a new store, carries them on (bot/endpoints.yml).
_PROCESS_STORE: "OrderedDict[Text, Text]" = OrderedDict()
_PROCESS_TOUCHED: Dict[Text, float] = {}


class LastEvents(TrackerStore):
    """Both stores: a conversation keeps its last `max_events` events (RELAIS_MAX_EVENTS)."""

    max_events: int

    async def get_or_create_tracker(self, sender_id: Text, max_event_history: Optional[int] = None,
                                    append_action_listen: bool = True) -> DialogueStateTracker:
        return await super().get_or_create_tracker(sender_id, self.max_events, append_action_listen)


class ExpiringInMemoryTrackerStore(LastEvents, InMemoryTrackerStore):
    """In-memory conversations, dropped after a period without messages."""

    def __init__(
        self,
        domain: Domain,
        event_broker: Optional[EventBroker] = None,
        ttl: Optional[float] = None,
        max_conversations: Optional[int] = None,
        outlive_reloads: bool = False,
        **kwargs: Dict[Text, Any],
    ) -> None:
        kwargs.pop("host", None)
        super().__init__(domain, event_broker, **kwargs)
        cfg = settings.load()
        self.ttl = float(ttl if ttl is not None else cfg.conversation_ttl)
        self.max_conversations = int(max_conversations if max_conversations is not None else cfg.max_conversations)
        self.max_events = cfg.max_events
        self.max_event_history = self.max_events
        self.store: "OrderedDict[Text, Text]" = _PROCESS_STORE if outlive_reloads else OrderedDict()
        self._touched: Dict[Text, float] = _PROCESS_TOUCHED if outlive_reloads else {}

    def expire(self, now: Optional[float] = None) -> int:
        """Drop idle conversations and any beyond the cap; returns how many."""
        now = time.monotonic() if now is None else now
        dropped = 0
        for sender_id in list(self.store.keys()):
            if now - self._touched.get(sender_id, now) > self.ttl or len(self.store) > self.max_conversations:
                self.store.pop(sender_id, None)
                self._touched.pop(sender_id, None)
                dropped += 1
            else:
                break  # ordered oldest first: the rest are newer
        return dropped

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        self.store.move_to_end(tracker.sender_id)
        self._touched[tracker.sender_id] = time.monotonic()
        self.expire()

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        self.expire()
        return await super().retrieve(sender_id)

    async def retrieve_full_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        self.expire()
        return await super().retrieve_full_tracker(sender_id)

    async def keys(self) -> Iterable[Text]:
        self.expire()
        return list(self.store.keys())


class ExpiringRedisTrackerStore(LastEvents, RedisTrackerStore):
    """Conversations in Redis (RELAIS_REDIS_URL), each key expiring after RELAIS_CONVERSATION_TTL idle seconds."""

    def __init__(self, domain: Domain, event_broker: Optional[EventBroker] = None, **kwargs: Dict[Text, Any]) -> None:
        cfg = settings.load()
        self.max_events = cfg.max_events
        super().__init__(domain, event_broker=event_broker, record_exp=cfg.conversation_ttl,
                         key_prefix=shared_state.KEY_PREFIX)
        self.red = shared_state.client(cfg.redis_url)
        self.max_event_history = self.max_events

    async def save(self, tracker: DialogueStateTracker, timeout: Optional[float] = None) -> None:
        """Stores the conversation's last events as one key that expires (no merge with an older copy:
        a conversation is carried on by one replica at a time, and older sessions are not kept)."""
        await self.stream_events(tracker)
        self.red.set(self.key_prefix + tracker.sender_id, self.serialise_tracker(tracker),
                     ex=max(1, round(timeout or self.record_exp)))


class RelaisRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store on RELAIS_REDIS_URL (bot/endpoints-redis.yml), its keys expiring.

    Rasa's own keeps a conversation's lock key until the lock is cleaned up;
    a replica killed in the middle of a turn never cleans it up, and the key
    (which holds the time of that person's last turn) would stay. Here each
    save gives the key twice the tickets' lifetime.
    """

    def __init__(self, endpoint_config: Any = None) -> None:
        conn = shared_state.connection(settings.load().redis_url)
        super().__init__(host=conn.host, port=conn.port, db=conn.db, username=conn.username,
                         password=conn.password, use_ssl=conn.ssl, key_prefix=shared_state.KEY_PREFIX,
                         socket_timeout=shared_state.SOCKET_TIMEOUT)

    def save_lock(self, lock: Any) -> None:
        self.red.set(self.key_prefix + lock.conversation_id, lock.dumps(), ex=max(1, 2 * int(LOCK_LIFETIME)))
