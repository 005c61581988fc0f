"""Start the rasa-sdk action server for Relais' actions, closed to strangers.

`python -m rasa_sdk --actions actions` would take any tracker from anyone
who reaches its port, echo the request in its error answers and log it. The
launcher starts `python -m bot.action_server` instead, which serves the same
actions (rasa-sdk's own app) with:

- private logging (bot/logsafe.py);
- a shared secret: every call but `/health` must carry
  `Authorization: Bearer $RELAIS_ACTIONS_TOKEN` (the launcher makes one per
  start; Rasa sends it from `bot/endpoints.yml`), else 401;
- a body size limit (`RELAIS_ACTIONS_MAX_BODY`, default 2 MiB: a tracker of
  400 events and the domain weigh about 300 KiB) and a 10 s limit to receive
  a request, so a huge or slow tracker cannot hold the server;
- errors answered as `{"error": "internal_error"}`, without the request or
  the exception's message, and logged as the exception's type and file:line.
"""

from __future__ import annotations

import logging
import sys

from bot import logsafe, settings
from bot.tokens import bearer_ok

log = logging.getLogger("relais.actions")
RECEIVE_TIMEOUT = 10


def create_app(token: str, max_body: int):
    """rasa-sdk's app for the `actions` package, with the token check, limits and private errors."""
    from rasa_sdk.endpoint import create_app as sdk_app
    from sanic import response

    app = sdk_app("actions", cors_origins=None)
    app.config.REQUEST_MAX_SIZE = max_body
    app.config.REQUEST_TIMEOUT = RECEIVE_TIMEOUT

    @app.middleware("request")
    async def check_token(request):
        if request.path != "/health" and not bearer_ok(request.headers.get("authorization"), token):
            return response.json({"error": "unauthorized"}, status=401)
        return None

    @app.exception(Exception)
    async def private_error(request, exception: Exception):
        status = getattr(exception, "status_code", 500) or 500
        if status >= 500:
            log.error("action call failed: %s", logsafe.describe(exception))
        return response.json({"error": "internal_error" if status >= 500 else "bad_request"}, status=status)

    return app


def main() -> None:
    logsafe.install()
    cfg = settings.load()
    token = cfg.actions_token
    if not token:
        raise SystemExit("RELAIS_ACTIONS_TOKEN is not set: start Relais with `python -m bot`")
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else cfg.actions_port
    host, max_body = cfg.actions_host, cfg.actions_max_body
    from rasa_sdk import utils

    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    create_app(token, max_body).run(host, port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
