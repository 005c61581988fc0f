"""The curated directory: the back office's accounts, the append-only history of edits, and the conflicts
that imports raise (issue 15).

The seed files stay the reproducible starting point. Every edit made in the
back office is a change (who, when, which record and field, old -> new, the
source checked, why) kept in its own SQLite file (RELAIS_CURATION_DB,
default directory/curation.db), which nothing rebuilds. A change is applied
at once to the live directory database, which the bot and the web server
read on their next answer, and again after every rebuild (`replay`): a
rebuild from the seed or a new import never clobbers an edit. When the seed
now says something that is neither the edit's new value nor a value the
editors replaced, the edit stays and the difference waits in the conflict
queue for a coordinator.

What can be edited, and how a value is checked, is `FIELDS`: the same rules
as the build (Belgian phone numbers, hours parsed into the structured
slots, a source URL for every change of fact).
"""

from __future__ import annotations

import fcntl
import json
import re
import secrets
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Optional
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from directory import languages
from directory.freshness import due_date
from directory.hours import describe_week, format_week, parse_week, slots_from_entry
from directory.perthread import PerThread

DEFAULT_CURATION_DB = Path(__file__).with_name("curation.db")
ROLES = ("editor", "coordinator")
MIN_PASSWORD = 12
MAX_FAILURES = 5  # sign-in failures in a row before the account is locked
LOCK_MINUTES = 15
REFUSED = (f"Wrong user name or password. After {MAX_FAILURES} failed attempts in a row an account waits "
           f"{LOCK_MINUTES} minutes; a coordinator can reset its password.")
MAX_VALUE = 2000
MAX_NOTE = 500

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
  username TEXT PRIMARY KEY, role TEXT NOT NULL CHECK (role IN ('editor', 'coordinator')),
  password_hash TEXT NOT NULL, created TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
  locked_until REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (
  key_hash TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES accounts(username), data TEXT NOT NULL,
  expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(username);
CREATE TABLE IF NOT EXISTS changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, username TEXT NOT NULL, kind TEXT NOT NULL,
  record TEXT NOT NULL, field TEXT NOT NULL, old TEXT NOT NULL, new TEXT NOT NULL, source_url TEXT NOT NULL,
  note TEXT NOT NULL, reverts INTEGER REFERENCES changes(id));
CREATE INDEX IF NOT EXISTS changes_key ON changes(kind, record, field);
CREATE TRIGGER IF NOT EXISTS changes_no_update BEFORE UPDATE ON changes
  BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS changes_no_delete BEFORE DELETE ON changes
  BEGIN SELECT RAISE(ABORT, 'the history is append-only'); END;
CREATE TABLE IF NOT EXISTS conflicts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL, record TEXT NOT NULL,
  field TEXT NOT NULL, curated TEXT NOT NULL, imported TEXT NOT NULL, resolved_by INTEGER REFERENCES changes(id),
  UNIQUE (kind, record, field, imported));
"""


class CurationError(ValueError):
    """A request the back office refuses; the message says why, in words an editor understands."""


class Invalid(CurationError):
    """A value that does not pass the field's check."""


class SignInRefused(CurationError):
    """Wrong name or password, or an account locked after repeated failures (the message does not say which
    of name and password was wrong)."""


class NotFound(LookupError):
    """No record, change or conflict with this key."""


# Values and their checks

PHONE = re.compile(r"(?:\+32|0032|0)[0-9]{8,9}|1[0-9]{2,3}|116[0-9]{3}")  # national, short, European 116 xxx


def check_phone(value: str) -> str:
    """A Belgian number as people dial it: a short number (101, 1712, 116 000), or 0 and 8 or 9 digits (+32 too)."""
    value = " ".join(value.split())
    if not value:
        raise Invalid("A phone number is required: leave the service unconfirmed rather than without a number.")
    if not re.fullmatch(r"\+?[0-9 ./()-]+", value) or not PHONE.fullmatch(re.sub(r"[ ./()-]", "", value)):
        raise Invalid(f"{value!r} is not a Belgian phone number (for example 02 535 45 42, 0800 30 030, 1712).")
    return value


def check_hours(value: str) -> str:
    """Hours as `parse_week` reads them, written back the one way; "" is no structured hours (a revert to
    a service that had none)."""
    if not value.strip():
        return ""
    try:
        return format_week(slots_from_entry(parse_week(value)))
    except ValueError as err:
        raise Invalid(str(err)) from None


def check_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value or len(value) > 500:
        raise Invalid("The source must be the web address (http:// or https://) where you checked the fact.")
    return value


def check_text(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise Invalid("The text cannot be empty.")
    if len(value) > MAX_VALUE:
        raise Invalid(f"The text is longer than {MAX_VALUE} characters.")
    return value


def check_optional_text(value: str) -> str:
    return check_text(value) if value.strip() else ""


def check_confidence(value: str) -> str:
    if value not in ("confirmed", "partly", "unconfirmed"):
        raise Invalid("Confidence is one of confirmed, partly, unconfirmed.")
    return value


PHARMACY_STATUSES = ("ACTIVE", "TEMPORARILY_SUSPENDED", "CLOSED")  # the AFMPS list's two, and closed for good


def check_pharmacy_status(value: str) -> str:
    value = value.strip().upper()
    if value not in PHARMACY_STATUSES:
        raise Invalid(f"A pharmacy's status is one of {', '.join(PHARMACY_STATUSES)}.")
    return value


def check_date(value: str) -> str:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("A date is written YYYY-MM-DD.") from None
    if day > date.today():
        raise Invalid("A check date cannot be in the future.")
    return day.isoformat()


@dataclass(frozen=True)
class Field:
    """An editable field: where it lives in the directory, how a value is checked, and whether it is a fact
    (a change of fact needs the source URL where it was checked)."""

    kind: str
    name: str
    label: str
    check: Callable[[str], str]
    fact: bool = True


FIELDS: dict[tuple[str, str], Field] = {(f.kind, f.name): f for f in (
    Field("service", "phone", "phone number", check_phone),
    Field("service", "phone_note", "note on the phone number", check_optional_text),
    Field("service", "address", "street address (placed on the map by its street, else its municipality)",
          check_optional_text),
    Field("service", "hours", "opening hours", check_hours),
    Field("service", "confidence", "confidence", check_confidence),
    Field("service", "checked", "date of the last check", check_date),
    Field("service_text", "text", "text the bot says", check_text),
    Field("context", "text", "context fact", check_text),
    Field("training_text", "text", "training text", check_text),
    Field("training", "url", "web page", check_url),
    Field("training", "confidence", "confidence", check_confidence),
    Field("training", "checked", "date of the last check", check_date),
    Field("pharmacy", "status", "status (only ACTIVE pharmacies are shown)", check_pharmacy_status),
)}


def field(kind: str, name: str) -> Field:
    try:
        return FIELDS[kind, name]
    except KeyError:
        raise NotFound(f"{kind}.{name} cannot be edited") from None


# Reading and writing one field of the live directory

def _split(record: str, parts: int) -> list[str]:
    values = record.split("/")
    if len(values) != parts or not all(values):
        raise NotFound(record)
    return values


TRAINING_TEXTS = ("title", "format")  # per language: a training's title, and its format with dates and cost


def _training_column(record: str) -> str:
    """The column of a training text record "ID/title|format/LANG" (raises NotFound for anything else)."""
    _, text_field, lang = _split(record, 3)
    if text_field not in TRAINING_TEXTS or lang not in languages.codes():
        raise NotFound(record)
    return f"{text_field}_{lang}"


def read_value(live: sqlite3.Connection, kind: str, record: str, name: str) -> str:
    """The value of a field in the live directory (raises NotFound)."""
    if kind == "service":
        if name == "hours":
            if not live.execute("SELECT 1 FROM services WHERE id = ?", (record,)).fetchone():
                raise NotFound(record)
            return format_week(tuple(r) for r in live.execute(
                "SELECT weekday, opens, closes FROM schedules WHERE service_id = ?", (record,)))
        row = live.execute(f"SELECT {name} FROM services WHERE id = ?", (record,)).fetchone()
    elif kind == "service_text":
        service_id, text_field, lang = _split(record, 3)
        row = live.execute("SELECT text FROM service_texts WHERE service_id = ? AND field = ? AND lang = ?",
                           (service_id, text_field, lang)).fetchone()
    elif kind == "context":
        context_id, lang = _split(record, 2)
        row = live.execute("SELECT text FROM context WHERE id = ? AND lang = ?", (context_id, lang)).fetchone()
    elif kind == "training_text":
        row = live.execute(f"SELECT {_training_column(record)} FROM trainings WHERE id = ?",
                           (record.split("/")[0],)).fetchone()
    elif kind == "training":
        row = live.execute(f"SELECT {name} FROM trainings WHERE id = ?", (record,)).fetchone()
    elif kind == "pharmacy":
        row = live.execute(f"SELECT {name} FROM locations WHERE kind = 'pharmacy' AND ref = ?", (record,)).fetchone()
    else:
        raise NotFound(kind)
    if row is None:
        raise NotFound(record)
    return str(row[0] or "")


def write_value(live: sqlite3.Connection, kind: str, record: str, name: str, value: str, day: str) -> None:
    """Set a field in the live directory (inside the caller's transaction); a change of fact also
    moves the record's check date to `day`."""
    fact = field(kind, name).fact and name != "checked"
    if kind == "service":
        if fact:
            live.execute("UPDATE services SET checked = ? WHERE id = ?", (day, record))
        if name == "address":
            _move(live, record, value)
        elif name == "hours":
            _set_hours(live, record, value, day)
        else:
            live.execute(f"UPDATE services SET {name} = ? WHERE id = ?", (value, record))
    elif kind == "service_text":
        service_id, text_field, lang = _split(record, 3)
        live.execute("UPDATE service_texts SET text = ?, checked = ? WHERE service_id = ? AND field = ? AND lang = ?",
                     (value, day, service_id, text_field, lang))
    elif kind == "context":
        context_id, lang = _split(record, 2)
        live.execute("UPDATE context SET text = ?, checked = ? WHERE id = ? AND lang = ?",
                     (value, day, context_id, lang))
    elif kind == "training_text":
        live.execute(f"UPDATE trainings SET {_training_column(record)} = ?, checked = ? WHERE id = ?",
                     (value, day, record.split("/")[0]))
    elif kind == "training":
        live.execute(f"UPDATE trainings SET {name} = ? WHERE id = ?", (value, record))
        if fact:
            live.execute("UPDATE trainings SET checked = ? WHERE id = ?", (day, record))
    elif kind == "pharmacy":
        live.execute(f"UPDATE locations SET {name} = ?, checked = ? WHERE kind = 'pharmacy' AND ref = ?",
                     (value, day, record))


WRITTEN_FROM = "written from the hours of change"  # the note of a text an hours change rewrote, then its id


def hours_texts(live: sqlite3.Connection, service_id: str) -> dict[str, str]:
    """{language: what the bot says of a service's hours}."""
    return {lang: text for lang, text in live.execute(
        "SELECT lang, text FROM service_texts WHERE service_id = ? AND field = 'hours'", (service_id,))}


def _set_hours(live: sqlite3.Connection, service_id: str, value: str, day: str) -> None:
    """New structured hours, and the service's hours texts rewritten from them in each language that has
    one (the old words described the old hours): the same hours in each language, live at once. The
    change records each rewritten text as a change of its own (`Curation._apply`), so a revert restores it."""
    slots = slots_from_entry(parse_week(value)) if value else []
    live.execute("DELETE FROM schedules WHERE service_id = ?", (service_id,))
    live.executemany("INSERT INTO schedules VALUES (?, ?, ?, ?)", [(service_id, *slot) for slot in slots])
    live.execute("UPDATE services SET hours_source = ? WHERE id = ?", (value, service_id))
    if slots:
        live.executemany("UPDATE service_texts SET text = ?, checked = ? WHERE service_id = ? AND field = 'hours' "
                         "AND lang = ?", [(describe_week(slots, lang), day, service_id, lang)
                                          for lang in hours_texts(live, service_id)])


def _move(live: sqlite3.Connection, service_id: str, address: str) -> None:
    """Give a service a new address and put it on the map as the build does; the shelter rule holds."""
    from directory import build

    if address and is_shelter(live, service_id, address):
        raise Invalid("This service is a shelter: its street address is never stored or shown, here or anywhere.")
    live.execute("UPDATE services SET address = ?, address_note = '' WHERE id = ?", (address, service_id))
    if not build.relocate_service(live, service_id) and address:
        raise Invalid("Relais cannot place this address on the map: write its street and postcode, for "
                      "example \"Rue Royale 55, 1000 Bruxelles\".")


def is_shelter(live: sqlite3.Connection, service_id: str, address: Optional[str] = None) -> bool:
    """Whether a service of the live directory is a shelter (build.is_shelter: its categories, its address,
    or `address` when it is about to get that one)."""
    from directory import build

    row = live.execute("SELECT categories, category_source, address FROM services WHERE id = ?",
                       (service_id,)).fetchone()
    return row is not None and build.is_shelter(
        {"category_source": row[1], "address": row[2] if address is None else address}, json.loads(row[0]))


_held = threading.local()  # the lock files this thread holds: taking one again inside is a no-op


@contextmanager
def rebuild_lock(curation_db: Path | str, timeout: float = 30.0) -> Iterator[None]:
    """Held by a rebuild from its replay of the edits until its new file replaces the live one, and by every
    edit while it writes: an edit never lands in a file that a rebuild is about to replace (a lock file beside
    the store, so it holds between processes: the web server and `python -m directory build`). Re-entrant
    within a thread."""
    path = str(Path(f"{curation_db}.lock").resolve())
    held = getattr(_held, "paths", None)
    if held is None:
        held = _held.paths = set()
    if path in held:
        yield
        return
    with open(path, "a") as lock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CurationError("The directory is being rebuilt: try again in a minute.") from None
                time.sleep(0.05)
        held.add(path)
        try:
            yield
        finally:
            held.discard(path)
            fcntl.flock(lock, fcntl.LOCK_UN)


# The curation store

@dataclass(frozen=True)
class Change:
    id: int
    at: str
    username: str
    kind: str
    record: str
    field: str
    old: str
    new: str
    source_url: str
    note: str
    reverts: Optional[int]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Curation:
    """The curation store over one SQLite file, and the live directory database its changes go to."""

    def __init__(self, path: Path | str = DEFAULT_CURATION_DB, live_db: Optional[Path | str] = None):
        self.path = Path(path)
        self.live_db = Path(live_db) if live_db else None
        self._conns = PerThread(self._connect)  # the web server hashes passwords in worker threads
        self.conn.executescript(SCHEMA)
        self.hasher = PasswordHasher()  # Argon2id with the library's defaults (RFC 9106)
        self._secret = b""

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=5)
        conn.row_factory = sqlite3.Row
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection to the store."""
        return self._conns.get()

    def close(self) -> None:
        """Close every thread's connection to the store."""
        self._conns.close()

    def secret(self) -> bytes:
        """This store's random secret (made once), for the sign-in form's token."""
        if self._secret:
            return self._secret
        with self.conn:
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('secret', ?)", (secrets.token_hex(32),))
        self._secret = bytes.fromhex(self.conn.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()[0])
        return self._secret

    # Accounts

    def create_user(self, username: str, password: str, role: str) -> None:
        """A new account; refuses a taken name, an unknown role or a weak password."""
        if not re.fullmatch(r"[a-z0-9._@-]{2,60}", username):
            raise CurationError("A user name is 2 to 60 characters: lower-case letters, digits, . _ @ -.")
        if role not in ROLES:
            raise CurationError(f"The role is one of {', '.join(ROLES)}.")
        self.check_password(username, password)
        try:
            with self.conn:
                self.conn.execute("INSERT INTO accounts (username, role, password_hash, created) VALUES (?,?,?,?)",
                                  (username, role, self.hasher.hash(password), _now()))
        except sqlite3.IntegrityError:
            raise CurationError(f"An account named {username!r} exists already.") from None

    @staticmethod
    def check_password(username: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise CurationError(f"A password has at least {MIN_PASSWORD} characters (a sentence is fine).")
        if username.casefold() in password.casefold():
            raise CurationError("The password must not contain the user name.")

    def set_password(self, username: str, password: str) -> None:
        """A new password; every session of the account ends."""
        self.check_password(username, password)
        with self.conn:
            updated = self.conn.execute("UPDATE accounts SET password_hash = ?, failures = 0, locked_until = 0 "
                                        "WHERE username = ?", (self.hasher.hash(password), username)).rowcount
            self.conn.execute("DELETE FROM sessions WHERE username = ?", (username,))
        if not updated:
            raise NotFound(username)

    def accounts(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT username, role, created, failures, locked_until FROM accounts "
                                 "ORDER BY username").fetchall()

    def role(self, username: str) -> Optional[str]:
        row = self.conn.execute("SELECT role FROM accounts WHERE username = ?", (username,)).fetchone()
        return row["role"] if row else None

    def verify(self, username: str, password: str, now: float) -> str:
        """The role of the account when the password is right; raises SignInRefused otherwise, with one
        message whatever went wrong. Each attempt is counted before the password is checked, so parallel
        attempts cannot slip past the count; after MAX_FAILURES in a row the account is locked for
        LOCK_MINUTES, whatever the password."""
        with self.conn:
            row = self.conn.execute(
                "UPDATE accounts SET failures = failures + 1 WHERE username = ? AND locked_until <= ? "
                "RETURNING failures, role, password_hash", (username, now)).fetchone()
        if row is None or row["failures"] > MAX_FAILURES:  # unknown, locked, or beyond the count
            try:  # the same work as for a real attempt, so the time taken tells nothing
                self.hasher.verify(DUMMY_HASH, password)
            except VerificationError:
                pass
            raise SignInRefused(REFUSED)
        try:
            self.hasher.verify(row["password_hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            if row["failures"] >= MAX_FAILURES:
                with self.conn:
                    self.conn.execute("UPDATE accounts SET failures = 0, locked_until = ? WHERE username = ?",
                                      (now + LOCK_MINUTES * 60, username))
            raise SignInRefused(REFUSED) from None
        with self.conn:
            self.conn.execute("UPDATE accounts SET failures = 0, locked_until = 0 WHERE username = ?", (username,))
            if self.hasher.check_needs_rehash(row["password_hash"]):
                self.conn.execute("UPDATE accounts SET password_hash = ? WHERE username = ?",
                                  (self.hasher.hash(password), username))
        return row["role"]

    # Sessions (the data of aiohttp-session's sessions, keyed by a hash of the cookie's random key)

    def session_data(self, key_hash: str, now: float, idle: float) -> Optional[dict]:
        row = self.conn.execute("SELECT data, expires FROM sessions WHERE key_hash = ?", (key_hash,)).fetchone()
        if row is None or row["expires"] <= now:
            return None
        with self.conn:
            self.conn.execute("UPDATE sessions SET expires = ? WHERE key_hash = ?", (now + idle, key_hash))
        return json.loads(row["data"])

    def save_session(self, key_hash: str, username: str, data: dict, expires: float) -> None:
        with self.conn:
            self.conn.execute("INSERT INTO sessions VALUES (?,?,?,?) ON CONFLICT (key_hash) DO UPDATE SET "
                              "username = excluded.username, data = excluded.data, expires = excluded.expires",
                              (key_hash, username, json.dumps(data), expires))

    def end_session(self, key_hash: str) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM sessions WHERE key_hash = ?", (key_hash,))

    def end_sessions(self, username: str) -> int:
        """Sign the account out everywhere: every session ends."""
        with self.conn:
            return self.conn.execute("DELETE FROM sessions WHERE username = ?", (username,)).rowcount

    def forget_expired(self, now: float) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM sessions WHERE expires <= ?", (now,))

    # Changes

    def _live(self) -> sqlite3.Connection:
        if self.live_db is None:
            raise CurationError("No directory database to edit.")
        conn = sqlite3.connect(self.live_db, timeout=5)
        conn.row_factory = sqlite3.Row
        return conn

    def current(self, kind: str, record: str, name: str) -> str:
        field(kind, name)
        live = self._live()
        try:
            return read_value(live, kind, record, name)
        finally:
            live.close()

    def change(self, username: str, kind: str, record: str, name: str, value: str, source_url: str, note: str,
               reverts: Optional[int] = None, today: Optional[date] = None) -> Optional[Change]:
        """Check `value`, apply it to the live directory and record the change; None when the value is the
        one the directory holds already. Raises Invalid (the value, the source or the note) or NotFound."""
        spec = field(kind, name)
        new = spec.check(value)
        note = " ".join(note.split())
        if not note:
            raise Invalid("Say why (a short note): the history keeps it for whoever checks next.")
        if len(note) > MAX_NOTE:
            raise Invalid(f"The note is longer than {MAX_NOTE} characters.")
        source_url = check_url(source_url) if spec.fact or source_url.strip() else ""
        day = (today or date.today()).isoformat()
        with rebuild_lock(self.path):
            return self._apply(username, kind, record, name, new, source_url, note, reverts, day)

    def _apply(self, username: str, kind: str, record: str, name: str, new: str, source_url: str, note: str,
               reverts: Optional[int], day: str) -> Optional[Change]:
        live = self._live()  # opened under the rebuild lock: the file a rebuild has finished with
        try:
            # One transaction over both files (the store attached to the live directory): the history never
            # holds a change the directory does not, nor the other way round.
            live.execute("ATTACH DATABASE ? AS curation", (str(self.path),))
            live.execute("BEGIN IMMEDIATE")
            old = read_value(live, kind, record, name)
            if old == new:
                live.rollback()
                return None
            rewrites_texts = (kind, name) == ("service", "hours")
            texts_before = hours_texts(live, record) if rewrites_texts else {}
            write_value(live, kind, record, name, new, day)
            insert = ("INSERT INTO curation.changes (at, username, kind, record, field, old, new, source_url, note, "
                      "reverts) VALUES (?,?,?,?,?,?,?,?,?,?)")
            at = _now()
            cursor = live.execute(insert, (at, username, kind, record, name, old, new, source_url, note, reverts))
            if rewrites_texts:
                written = f"{WRITTEN_FROM} {cursor.lastrowid}"
                live.executemany(insert, [(at, username, "service_text", f"{record}/hours/{lang}", "text",
                                           texts_before[lang], text, source_url, written, None)
                                          for lang, text in sorted(hours_texts(live, record).items())
                                          if text != texts_before[lang]])
            live.commit()
        except BaseException:
            live.rollback()
            raise
        finally:
            live.close()
        return self.get_change(int(cursor.lastrowid or 0))

    def revert(self, username: str, change_id: int, note: str) -> Optional[Change]:
        """Put back the value a change replaced, as a new change (the history keeps both); for hours, also
        the texts they rewrote, as they were."""
        original = self.get_change(change_id)
        done = self.change(username, original.kind, original.record, original.field, original.old,
                           original.source_url or "", note, reverts=change_id)
        for row in self.conn.execute("SELECT * FROM changes WHERE note = ? ORDER BY id",
                                     (f"{WRITTEN_FROM} {change_id}",)).fetchall():
            text = Change(**dict(row))
            self.change(username, text.kind, text.record, text.field, text.old, text.source_url or "", note,
                        reverts=text.id)
        return done

    def get_change(self, change_id: int) -> Change:
        row = self.conn.execute("SELECT * FROM changes WHERE id = ?", (change_id,)).fetchone()
        if row is None:
            raise NotFound(str(change_id))
        return Change(**dict(row))

    def history(self, kind: Optional[str] = None, record: Optional[str] = None, limit: int = 200) -> list[Change]:
        """The latest changes first, of one record when given."""
        where, args = "", []
        if kind and record:
            where, args = "WHERE kind = ? AND (record = ? OR record LIKE ?)", [kind, record, record + "/%"]
        rows = self.conn.execute(f"SELECT * FROM changes {where} ORDER BY id DESC LIMIT ?", (*args, limit))
        return [Change(**dict(row)) for row in rows]

    # Rebuilds and imports

    def replay(self, live: sqlite3.Connection) -> list[str]:
        """Apply the curated value of every edited field to a freshly built directory (inside the caller's
        transaction) and queue a conflict where the seed now says something new; returns what it did."""
        done: list[str] = []
        chains: dict[tuple[str, str, str], list[Change]] = {}
        for row in self.conn.execute("SELECT * FROM changes ORDER BY id"):
            change = Change(**dict(row))
            chains.setdefault((change.kind, change.record, change.field), []).append(change)
        # In the order of each field's last change: an edit that rewrites others (hours rewrite their words)
        # comes before a later edit of one of them, as it did when it was made.
        for (kind, record, name), chain in sorted(chains.items(), key=lambda item: item[1][-1].id):
            if (kind, name) not in FIELDS:  # a record's creation (an approved proposal): directory/proposals.py
                continue
            curated = chain[-1].new
            try:
                seeded = read_value(live, kind, record, name)
            except NotFound:
                done.append(f"{kind} {record}: no longer in the seed; its edits are kept in the history only")
                continue
            if seeded == curated:
                continue
            live.execute("SAVEPOINT replay_one")
            try:
                write_value(live, kind, record, name, curated, chain[-1].at[:10])
            except Invalid as refused:  # the seed changed under the edit (a service now a shelter)
                live.execute("ROLLBACK TO replay_one")
                live.execute("RELEASE replay_one")
                done.append(f"{kind} {record} {name}: the edit no longer applies ({refused}); the seed's value "
                            "stands")  # no value: it could be an address the rule now refuses
                continue
            live.execute("RELEASE replay_one")
            known = {c.old for c in chain} | {c.new for c in chain}
            if seeded not in known:
                with self.conn:
                    self.conn.execute("INSERT OR IGNORE INTO conflicts (at, kind, record, field, curated, imported) "
                                      "VALUES (?,?,?,?,?,?)", (_now(), kind, record, name, curated, seeded))
                done.append(f"{kind} {record} {name}: the seed says {seeded!r}, kept the edit {curated!r} "
                            "(in the conflict queue)")
            else:
                done.append(f"{kind} {record} {name}: kept the edit")
        return done

    def conflicts(self, open_only: bool = True) -> list[sqlite3.Row]:
        where = "WHERE resolved_by IS NULL" if open_only else ""
        return self.conn.execute(f"SELECT * FROM conflicts {where} ORDER BY id").fetchall()

    def resolve(self, username: str, conflict_id: int, take_import: bool, source_url: str, note: str) -> None:
        """Settle a conflict: keep the edit, or take the imported value. Either way a change records the
        decision (so the next rebuild knows the imported value has been seen)."""
        row = self.conn.execute("SELECT * FROM conflicts WHERE id = ? AND resolved_by IS NULL",
                                (conflict_id,)).fetchone()
        if row is None:
            raise NotFound(str(conflict_id))
        kind, record, name = row["kind"], row["record"], row["field"]
        note = " ".join(note.split())
        if not note or len(note) > MAX_NOTE:
            raise Invalid(f"Say why, in at most {MAX_NOTE} characters.")
        change = self.change(username, kind, record, name, row["imported"], source_url, note) if take_import \
            else None
        if change is None:  # kept the edit, or the import's value is there already: record the decision
            current = self.current(kind, record, name)
            with self.conn:
                cursor = self.conn.execute(
                    "INSERT INTO changes (at, username, kind, record, field, old, new, source_url, note) "
                    "VALUES (?,?,?,?,?,?,?,?,?)", (_now(), username, kind, record, name, row["imported"], current,
                                                   check_url(source_url), note))
            change = self.get_change(int(cursor.lastrowid or 0))
        with self.conn:
            self.conn.execute("UPDATE conflicts SET resolved_by = ? WHERE id = ?", (change.id, conflict_id))


DUMMY_HASH = PasswordHasher().hash("relais: no such account")


# Re-verification

@dataclass(frozen=True)
class Due:
    """A record due for a new check: what it is, when it was last checked, when it was due, where to check."""

    kind: str
    record: str
    name: str
    checked: str
    due: str
    sources: tuple[str, ...]


def due(live: sqlite3.Connection, today: Optional[date] = None, within_days: int = 30) -> list[Due]:
    """Every service and training due for a check within `within_days`, the longest overdue first."""
    today = today or date.today()
    items: list[Due] = []
    for row in live.execute("SELECT * FROM services ORDER BY id"):
        name = languages.pick({c: row[f"name_{c}"] for c in languages.codes()}, "en") or row["id"]
        items.append(Due("service", row["id"], name, row["checked"][:10],
                         due_date("service", row["checked"]).isoformat(), _urls(row["source_urls"])))
    for row in live.execute("SELECT * FROM trainings ORDER BY id"):
        name = languages.pick({c: row[f"title_{c}"] for c in languages.codes()}, "en") or row["id"]
        items.append(Due("training", row["id"], name, row["checked"][:10],
                         due_date("training", row["checked"]).isoformat(), _urls(row["source"]) + _urls(row["url"])))
    limit = date.fromordinal(today.toordinal() + within_days).isoformat()
    return sorted((item for item in items if item.due <= limit), key=lambda item: (item.due, item.kind, item.record))


def _urls(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(re.findall(r"https?://[^\s;,]+", text or "")))


def pharmacies(live: sqlite3.Connection, text: str, limit: int = 50) -> list[sqlite3.Row]:
    """The pharmacies whose name, address, postcode, municipality or AFMPS reference holds every word of
    `text` (accents and case ignored), at most `limit`."""
    from directory.textnorm import fold

    words = fold(text).split()
    if not words:
        return []
    found = []
    for row in live.execute("SELECT ref, name, address, postcode, municipality, status FROM locations "
                            "WHERE kind = 'pharmacy' ORDER BY postcode, name"):
        haystack = fold(" ".join(str(row[k]) for k in ("ref", "name", "address", "postcode", "municipality")))
        if all(word in haystack for word in words):
            found.append(row)
            if len(found) >= limit:
                break
    return found


def records(live: sqlite3.Connection) -> Iterator[tuple[str, str, str]]:
    """(kind, id, name) of every editable service and training."""
    for row in live.execute("SELECT id, name_en, name_fr, short_name FROM services ORDER BY id"):
        yield "service", row["id"], row["name_en"] or row["name_fr"] or row["short_name"] or row["id"]
    for row in live.execute("SELECT id, title_en FROM trainings ORDER BY id"):
        yield "training", row["id"], row["title_en"] or row["id"]
