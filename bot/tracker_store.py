"""Tracker stores that forget conversations: in memory (the default) or in Redis (scaled out).

Rasa's `InMemoryTrackerStore` keeps every conversation until the server
stops. Relais must not become a record of who said what, so this store drops
a conversation once it has been idle for `RELAIS_CONVERSATION_TTL` seconds
(the session expiry of the domain) and caps the number kept at
`RELAIS_MAX_CONVERSATIONS` (oldest dropped first). A conversation keeps at
most `RELAIS_MAX_EVENTS` events (`LastEvents`); all three are in
bot/settings.py, so a very long conversation cannot grow memory or slow
every reply. Nothing is written to disk. Configured in `bot/endpoints.yml`.

Rasa's own in-memory store turns a conversation into JSON after every turn
and back into objects before the next, which was a quarter of the Rasa
process's CPU under load (py-spy, docs/benchmarks.md). This one keeps the
last `HOT_CONVERSATIONS` conversations as the tracker objects Rasa saved,
with the list of their events at that save, and hands the same object back
on the next turn; JSON is made only when one leaves that set or is read
whole. A turn that changed the object and failed before saving it is
noticed (its last event is not the saved one) and the conversation is
rebuilt from the saved events, as before.

`ExpiringRedisTrackerStore` is the same contract on Redis, when RELAIS_REDIS_URL
is set (bot/endpoints-redis.yml, bot/shared_state.py): each conversation is
one key that Redis itself deletes RELAIS_CONVERSATION_TTL seconds after its
last message, with the same RELAIS_MAX_EVENTS cap, so any Rasa
replica can carry on a conversation another one started. A replica still
reads the key at every turn, but when it holds exactly the text this
replica last saved, the object it saved is handed back instead of being
read from JSON (kept no longer than the key lives). Rasa's conversation
locks go to the same Redis (`RelaisRedisLockStore`), their keys expiring
too.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from typing import Any, Dict, Iterable, NamedTuple, Optional, Text, Tuple, Union

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore, SerializedTrackerAsText, TrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, ConversationPaused, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import settings, shared_state

log = logging.getLogger("relais.tracker_store")

# The Rasa server's conversations, kept here rather than in its store object so that a model loaded while it
# runs (`PUT /model`, `python -m bot reload-model`), which makes a new store, carries them on (bot/endpoints.yml).
_PROCESS_STORE: "OrderedDict[Text, Union[Text, Saved]]" = OrderedDict()
_PROCESS_TOUCHED: Dict[Text, float] = {}
HOT_CONVERSATIONS = 500


class Saved(NamedTuple):
    """A conversation as Rasa last saved it: the tracker object, its events at that moment, and the domain
    of the model that saved it (a tracker made for another model's slots is read again from its events)."""

    tracker: DialogueStateTracker
    events: Tuple[Event, ...]
    domain: Domain

    @classmethod
    def of(cls, tracker: DialogueStateTracker, domain: Domain) -> "Saved":
        return cls(tracker, tuple(tracker.events), domain)

    def reusable(self, domain: Domain) -> bool:
        """True when the tracker can be handed back as it is: saved under `domain`, no event added since."""
        events = self.tracker.events
        return (self.domain is domain and len(events) == len(self.events)
                and (not events or events[-1] is self.events[-1]))

    def as_text(self) -> Text:
        return SerializedTrackerAsText.serialise_tracker(_AsSaved(self))


class _AsSaved:
    """What `serialise_tracker` reads of a tracker, from the events of a save."""

    def __init__(self, saved: Saved) -> None:
        self._saved = saved

    def as_dialogue(self) -> Dialogue:
        return Dialogue(self._saved.tracker.sender_id, list(self._saved.events))


class LastEvents(TrackerStore):
    """Both stores: a conversation keeps its last session and at most `max_events` events (RELAIS_MAX_EVENTS).

    A save keeps the events from the conversation's last session start on
    (what Rasa's own stores hand back on the next turn). When they are more
    than `max_events`, it keeps the last whole turns (about half of
    `max_events` events, never fewer than three turns), after one event per
    slot that sets it to its value before them (and the active loop or a
    pause, if any): no slot is lost, and the policies, which look at the
    last three turns, see the same states, while reading and saving a
    conversation and predicting from it cost a bounded time however long
    it runs.
    """

    max_events: int

    async def get_or_create_tracker(self, sender_id: Text, max_event_history: Optional[int] = None,
                                    append_action_listen: bool = True) -> DialogueStateTracker:
        return await super().get_or_create_tracker(sender_id, 2 * self.max_events, append_action_listen)

    def kept(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """What a save keeps of `tracker`: `trimmed(tracker)`, its events capped at twice `max_events`."""
        tracker = self.trimmed(tracker)
        if tracker.events.maxlen != 2 * self.max_events:  # made by Rasa's wrapper of the store, which has no cap
            tracker.events = deque(tracker.events, maxlen=2 * self.max_events)
            tracker._max_event_history = 2 * self.max_events
        return tracker

    def trimmed(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """`tracker` itself when it is one session of at most `max_events` events, else a shorter one."""
        events = list(tracker.events)
        start = max((i for i, e in enumerate(events) if _is_action(e, ACTION_SESSION_START_NAME)), default=0)
        if start == 0 and len(events) <= self.max_events:
            return tracker
        events, state = events[start:], []
        cut = _cut(events, self.max_events // 2) if len(events) > self.max_events else 0
        if cut:
            before = DialogueStateTracker.from_events(tracker.sender_id, events[:cut], self.domain.slots)
            at = events[cut].timestamp
            state = [SlotSet(name, slot.value, timestamp=at) for name, slot in before.slots.items()
                     if slot.value != slot.initial_value]
            if before.active_loop_name:
                state.append(ActiveLoop(before.active_loop_name, timestamp=at))
            if before.is_paused():
                state.append(ConversationPaused(timestamp=at))
        return DialogueStateTracker.from_events(tracker.sender_id, state + events[cut:], self.domain.slots,
                                                max_event_history=2 * self.max_events,
                                                sender_source=tracker.sender_source)


def _is_action(event: Event, name: Text) -> bool:
    return isinstance(event, ActionExecuted) and event.action_name == name


def _cut(events: list, keep: int) -> int:
    """Where to cut `events` to keep about `keep` of them: at a listen before a user message, with at least
    the last three user messages after it; 0 when there is no such place."""
    users = [i for i, e in enumerate(events) if isinstance(e, UserUttered)]
    if len(users) < 3:
        return 0
    listens = [i for i, e in enumerate(events[:users[-3]]) if i and _is_action(e, ACTION_LISTEN_NAME)]
    late_enough = [i for i in listens if i >= len(events) - keep]
    return late_enough[0] if late_enough else listens[-1] if listens else 0


class ExpiringInMemoryTrackerStore(LastEvents, InMemoryTrackerStore):
    """In-memory conversations, dropped after a period without messages."""

    def __init__(
        self,
        domain: Domain,
        event_broker: Optional[EventBroker] = None,
        ttl: Optional[float] = None,
        max_conversations: Optional[int] = None,
        outlive_reloads: bool = False,
        hot_conversations: Optional[int] = None,
        **kwargs: Dict[Text, Any],
    ) -> None:
        kwargs.pop("host", None)
        super().__init__(domain, event_broker, **kwargs)
        cfg = settings.load()
        self.ttl = float(ttl if ttl is not None else cfg.conversation_ttl)
        self.max_conversations = int(max_conversations if max_conversations is not None else cfg.max_conversations)
        self.max_events = cfg.max_events
        self.max_event_history = 2 * self.max_events
        self.store: "OrderedDict[Text, Union[Text, Saved]]" = _PROCESS_STORE if outlive_reloads else OrderedDict()
        self._touched: Dict[Text, float] = _PROCESS_TOUCHED if outlive_reloads else {}
        self.hot = hot_conversations if hot_conversations is not None else HOT_CONVERSATIONS
        for sender_id, entry in self.store.items():  # a new model's store: none keeps the old model's domain
            if isinstance(entry, Saved):
                self.store[sender_id] = entry.as_text()

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
        await self.stream_events(tracker)
        tracker = self.kept(tracker)
        self.store[tracker.sender_id] = Saved.of(tracker, self.domain)
        self.store.move_to_end(tracker.sender_id)
        self._touched[tracker.sender_id] = time.monotonic()
        self.expire()
        self._cool()

    def _cool(self) -> None:
        """Turn into JSON the saved trackers beyond the HOT_CONVERSATIONS most recent ones."""
        if len(self.store) <= self.hot:
            return
        failed = []
        for n, (sender_id, entry) in enumerate(reversed(self.store.items())):
            if n < self.hot:
                continue
            if not isinstance(entry, Saved):
                break  # older ones were turned into JSON before
            try:
                self.store[sender_id] = entry.as_text()
            except (TypeError, ValueError):
                failed.append(sender_id)
        for sender_id in failed:  # an event JSON cannot hold: that conversation is dropped, rather than kept
            log.error("a conversation could not be turned into JSON and was dropped")  # failing later saves
            self.store.pop(sender_id, None)
            self._touched.pop(sender_id, None)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        self.expire()
        entry = self.store.get(sender_id)
        if isinstance(entry, Saved) and entry.reusable(self.domain):
            return entry.tracker
        return await self._retrieve(sender_id, fetch_all_sessions=False)

    async def retrieve_full_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        self.expire()
        return await self._retrieve(sender_id, fetch_all_sessions=True)

    async def _retrieve(self, sender_id: Text, fetch_all_sessions: bool) -> Optional[DialogueStateTracker]:
        entry = self.store.get(sender_id)
        if isinstance(entry, Saved):
            self.store[sender_id] = entry.as_text()
        return await super()._retrieve(sender_id, fetch_all_sessions)

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
        self.max_event_history = 2 * self.max_events
        # sender id -> (when saved, the text saved, the object saved): see `retrieve`
        self.recent: "OrderedDict[Text, Tuple[float, Text, Saved]]" = OrderedDict()

    async def save(self, tracker: DialogueStateTracker, timeout: Optional[float] = None) -> None:
        """Stores the conversation's last events as one key that expires (no merge with an older copy:
        a conversation is carried on by one replica at a time, and older sessions are not kept)."""
        await self.stream_events(tracker)
        tracker = self.kept(tracker)
        text = self.serialise_tracker(tracker)
        self.red.set(self.key_prefix + tracker.sender_id, text, ex=max(1, round(timeout or self.record_exp)))
        self.recent[tracker.sender_id] = (time.monotonic(), text, Saved.of(tracker, self.domain))
        self.recent.move_to_end(tracker.sender_id)
        self._forget_old()

    def _forget_old(self) -> None:
        """Drop the objects of conversations saved more than a conversation's lifetime ago, or beyond
        HOT_CONVERSATIONS: this replica's memory keeps no conversation that Redis has let expire."""
        now = time.monotonic()
        while self.recent and (len(self.recent) > HOT_CONVERSATIONS
                               or now - next(iter(self.recent.values()))[0] > self.record_exp):
            self.recent.popitem(last=False)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The conversation from Redis; the object this replica saved when Redis still holds exactly what it
        saved and no event was added since (no JSON to read back), else a tracker read from Redis."""
        self._forget_old()
        stored = self.red.get(self.key_prefix + sender_id)
        known = self.recent.get(sender_id)
        if stored is None:
            self.recent.pop(sender_id, None)
            return None
        if known and known[1] == stored and known[2].reusable(self.domain):
            return known[2].tracker
        return self.deserialise_tracker(sender_id, stored)


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
