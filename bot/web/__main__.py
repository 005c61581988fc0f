"""`python -m bot.web`: serve the web application (the launcher starts it)."""

from __future__ import annotations

import logging

from bot import http_guard, logsafe, settings
from bot.web.app import create_app


def main() -> None:
    logsafe.install()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s web %(levelname)s %(message)s")
    cfg = settings.load()
    http_guard.run(create_app(cfg), host=cfg.web_host, port=cfg.web_port, header_timeout=cfg.http_header_timeout,
                   max_connections=cfg.http_max_connections, keepalive=cfg.http_keepalive)


if __name__ == "__main__":
    main()
