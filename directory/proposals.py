"""Trainings that organisers propose (issue 15): checked submissions, a moderation queue, approval.

equal.brussels invites organisers to ask for their training to be listed.
The public form (`/trainings/propose`, bot/web/proposals.py) hands a
submission to `submit`, which checks every field and its size and keeps it,
pending, in the curation store: nothing of it is public. A coordinator
approves it (it becomes a training of the live directory, marked partly
confirmed, its source the organiser's own page, its history a change of the
store) or rejects it. A rejected submission keeps no contact. Only the
organiser's professional contact is asked for; the received date is kept to
the day.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Mapping, Optional

from directory import languages
from directory.curation import Curation, Invalid, NotFound, check_url, rebuild_lock

SCHEMA = """
CREATE TABLE IF NOT EXISTS proposals (
  id INTEGER PRIMARY KEY AUTOINCREMENT, received TEXT NOT NULL, lang TEXT NOT NULL, title TEXT NOT NULL,
  organiser TEXT NOT NULL, audiences TEXT NOT NULL, topics TEXT NOT NULL, languages TEXT NOT NULL,
  format TEXT NOT NULL, dates TEXT NOT NULL, cost TEXT NOT NULL, contact TEXT NOT NULL, url TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  decided_by TEXT, decided TEXT, training_id TEXT);
"""
FORMATS = ("in_person", "online", "hybrid")
SPOKEN = (*languages.codes(), "de")  # languages a training may be given in: Relais' own, and German
LIMITS = {"title": 200, "organiser": 200, "dates": 300, "cost": 200, "contact": 200, "url": 500}
MAX_PENDING = 500  # beyond this, new submissions wait: a flood cannot fill the disk
EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[a-z]{2,}", re.IGNORECASE)
PHONE = re.compile(r"\+?[\d ./()-]{8,20}")


class QueueFull(Invalid):
    """Too many submissions wait for moderation."""


@dataclass(frozen=True)
class Vocabulary:
    """The codes a submission may use: the taxonomy's audiences and topics."""

    audiences: tuple[str, ...]
    topics: tuple[str, ...]


def vocabulary(live: sqlite3.Connection) -> Vocabulary:
    rows = live.execute("SELECT kind, code FROM taxonomy WHERE kind IN ('audience', 'topic') ORDER BY code")
    found: dict[str, list[str]] = {"audience": [], "topic": []}
    for kind, code in rows:
        found[kind].append(code)
    return Vocabulary(tuple(found["audience"]), tuple(found["topic"]))


def ensure(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


def _text(form: Mapping[str, object], name: str, required: bool = True) -> str:
    value = form.get(name, "")
    value = " ".join(value.split()) if isinstance(value, str) else ""
    if required and not value:
        raise Invalid(name)
    if len(value) > LIMITS[name]:
        raise Invalid(name)
    return value


def _choices(form: Mapping[str, object], name: str, allowed: tuple[str, ...]) -> list[str]:
    value = form.get(name, [])
    chosen = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else []
    if not chosen or any(c not in allowed for c in chosen) or len(chosen) > len(allowed):
        raise Invalid(name)
    return sorted(set(chosen))


def check(form: Mapping[str, object], vocab: Vocabulary) -> dict:
    """The submission's fields, checked; raises Invalid whose message is the first wrong field's name."""
    contact = _text(form, "contact")
    if not (EMAIL.fullmatch(contact) or PHONE.fullmatch(contact)):
        raise Invalid("contact")
    try:
        url = check_url(str(form.get("url", "")))
    except Invalid:
        raise Invalid("url") from None
    fmt = form.get("format", "")
    if fmt not in FORMATS:
        raise Invalid("format")
    return {"title": _text(form, "title"), "organiser": _text(form, "organiser"),
            "audiences": _choices(form, "audiences", vocab.audiences), "topics": _choices(form, "topics", vocab.topics),
            "languages": _choices(form, "languages", SPOKEN), "format": fmt, "dates": _text(form, "dates"),
            "cost": _text(form, "cost"), "contact": contact, "url": url}


def submit(store: Curation, fields: dict, lang: str, today: Optional[date] = None) -> int:
    """Keep a checked submission, pending; raises QueueFull when too many wait."""
    ensure(store.conn)
    waiting = store.conn.execute("SELECT count(*) FROM proposals WHERE status = 'pending'").fetchone()[0]
    if waiting >= MAX_PENDING:
        raise QueueFull("queue")
    with store.conn:
        cursor = store.conn.execute(
            "INSERT INTO proposals (received, lang, title, organiser, audiences, topics, languages, format, dates, "
            "cost, contact, url) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            ((today or date.today()).isoformat(), lang, fields["title"], fields["organiser"],
             json.dumps(fields["audiences"]), json.dumps(fields["topics"]), json.dumps(fields["languages"]),
             fields["format"], fields["dates"], fields["cost"], fields["contact"], fields["url"]))
    return int(cursor.lastrowid or 0)


def pending(store: Curation) -> list[sqlite3.Row]:
    ensure(store.conn)
    return store.conn.execute("SELECT * FROM proposals WHERE status = 'pending' ORDER BY id").fetchall()


def _pending(store: Curation, proposal_id: int) -> sqlite3.Row:
    ensure(store.conn)
    row = store.conn.execute("SELECT * FROM proposals WHERE id = ? AND status = 'pending'",
                             (proposal_id,)).fetchone()
    if row is None:
        raise NotFound(str(proposal_id))
    return row


def training_row(proposal: sqlite3.Row, training_id: str, today: str) -> dict:
    """The live directory's training for an approved proposal: its title in the language it was written
    in (the others empty until translated), partly confirmed, its source the organiser's page."""
    fmt = f"{proposal['format'].replace('_', ' ')}; {proposal['dates']}; {proposal['cost']}"
    return {"id": training_id,
            **{f"title_{code}": proposal["title"] if code == proposal["lang"] else "" for code in languages.codes()},
            "organiser": proposal["organiser"], "organiser_id": None, "audiences": proposal["audiences"],
            "topics": proposal["topics"], "languages": proposal["languages"],
            **{f"format_{code}": fmt if code == proposal["lang"] else "" for code in languages.codes()},
            "url": proposal["url"], "venue_lat": None, "venue_lon": None, "source": proposal["url"],
            "confidence": "partly", "checked": today}


def _insert(live: sqlite3.Connection, proposal: sqlite3.Row, training_id: str, day: str,
            taxonomy: Optional[dict] = None) -> None:
    """The training and its search entry, in the live directory."""
    row = training_row(proposal, training_id, day)
    columns, marks = ", ".join(row), ", ".join("?" * len(row))
    live.execute(f"INSERT INTO trainings ({columns}) VALUES ({marks})", tuple(row.values()))
    from directory.build import read_taxonomy, training_search_body

    body = training_search_body(taxonomy or read_taxonomy(), proposal["organiser"], json.loads(proposal["audiences"]),
                                json.loads(proposal["topics"]), [row[f"format_{proposal['lang']}"]])
    live.execute("INSERT INTO search_index (doc_type, doc_id, short, name, body) VALUES (?,?,?,?,?)",
                 ("training", training_id, "", proposal["title"], body))


def approve(store: Curation, username: str, proposal_id: int, today: Optional[date] = None) -> str:
    """Publish a pending proposal as a training of the live directory; returns its id."""
    day = (today or date.today()).isoformat()
    training_id = f"proposed_{proposal_id}"
    with rebuild_lock(store.path):  # checked under the lock: two clicks on Publish publish it once
        _publish(store, username, _pending(store, proposal_id), proposal_id, training_id, day)
    return training_id


def _publish(store: Curation, username: str, proposal: sqlite3.Row, proposal_id: int, training_id: str,
             day: str) -> None:
    live = store._live()
    try:
        with live:
            _insert(live, proposal, training_id, day)
            with store.conn:
                store.conn.execute(
                    "INSERT INTO changes (at, username, kind, record, field, old, new, source_url, note) "
                    "VALUES (?,?,?,?,?,?,?,?,?)", (day, username, "training", training_id, "created", "",
                                                   proposal["title"], proposal["url"],
                                                   f"proposed by its organiser (proposal {proposal_id})"))
                store.conn.execute("UPDATE proposals SET status = 'approved', decided_by = ?, decided = ?, "
                                   "training_id = ? WHERE id = ?", (username, day, training_id, proposal_id))
    finally:
        live.close()


def reject(store: Curation, username: str, proposal_id: int, today: Optional[date] = None) -> None:
    """Refuse a pending proposal; its contact is erased (nothing of it is kept but its title and dates)."""
    _pending(store, proposal_id)
    with store.conn:
        store.conn.execute("UPDATE proposals SET status = 'rejected', decided_by = ?, decided = ?, contact = '' "
                           "WHERE id = ?", (username, (today or date.today()).isoformat(), proposal_id))


def replay(store: Curation, live: sqlite3.Connection) -> int:
    """Put the approved proposals back into a freshly built directory (inside the caller's transaction)."""
    from directory.build import read_taxonomy

    ensure(store.conn)
    count, taxonomy = 0, read_taxonomy()  # read once for every proposal put back
    for proposal in store.conn.execute("SELECT * FROM proposals WHERE status = 'approved'"):
        if live.execute("SELECT 1 FROM trainings WHERE id = ?", (proposal["training_id"],)).fetchone():
            continue
        _insert(live, proposal, proposal["training_id"], proposal["decided"], taxonomy)
        count += 1
    return count
