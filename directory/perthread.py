"""One SQLite connection per thread, closed together: for a store that a web server uses from its worker
threads (a sqlite3 connection must not be shared between threads that write at once)."""

from __future__ import annotations

import sqlite3
import threading
from typing import Callable


class PerThread:
    """This thread's connection, made by `connect` on first use; `close` closes every thread's."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]):
        self._connect = connect
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """The calling thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            with self._lock:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection; a thread that uses the store afterwards gets a new one."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            try:
                conn.close()
            except sqlite3.ProgrammingError:  # made in a thread that has gone, without check_same_thread=False
                pass
        self._local = threading.local()
