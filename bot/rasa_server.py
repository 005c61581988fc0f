"""Start `rasa run` with its API token taken from the environment.

`rasa run --auth-token T` would put the token on the command line, where any
local user can read it (`ps`, /proc/PID/cmdline). The launcher starts
`python -m bot.rasa_server run ...` instead, with the token in
RELAIS_RASA_TOKEN (a process's environment is readable only by its owner);
this module adds `--auth-token` to Rasa's own argument list in memory.

It also makes one change to Rasa at start, found by the load test
(`tests/bench_load.py`, docs/benchmarks.md): Rasa checks every action server
response with `jsonschema.validate()`, which re-checks the schema itself on
every call; under load that was about 12 % of the Rasa process's CPU. The
response is now validated by one validator built once, against the same
schema, raising the same error. And it finds an event's class by its name
once: Rasa looked for it among all subclasses of `Event`, recursively, for
every event of every conversation read from the tracker store, which was
a fifth of the Rasa process's CPU under ten conversations without pause
(py-spy, docs/benchmarks.md). And it sends the action server only the
conversation's last ACTION_EVENTS events: Relais' actions read the slots
and the latest message, never the history, which Rasa sent whole (as JSON)
with every action call, so the action server no longer sees it at all.

Its logging is made private before Rasa starts (bot/logsafe.py), and Rasa's
own structlog set-up is replaced by the private one. Sanic's error answers
(404, 405, 413, …), which quote the path or the request, become a fixed JSON
error with the same status.
"""

from __future__ import annotations

import sys

from bot import logsafe, settings


def cache_action_response_validator() -> None:
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def validate_action_result(self, result: dict) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = validate_action_result


ACTION_EVENTS = 10


def send_actions_recent_events() -> None:
    """Make Rasa's calls to the action server carry the tracker's last ACTION_EVENTS events, not all."""
    from rasa.core.actions.action import RemoteAction

    call_format = RemoteAction._action_call_format

    def recent_call_format(self, tracker, domain):
        call = call_format(self, tracker, domain)
        call["tracker"]["events"] = (call["tracker"].get("events") or [])[-ACTION_EVENTS:]
        return call

    RemoteAction._action_call_format = recent_call_format


def cache_event_classes() -> None:
    """Make `Event.resolve_by_type` remember the class of each event name it has found."""
    from rasa.shared.core.events import Event

    find = Event.resolve_by_type
    found: dict = {}

    def resolve_by_type(type_name, default=None):
        cls = found.get(type_name)
        if cls is None:
            cls = find(type_name, default)
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)


def private_error_answers() -> None:
    """Make Rasa's app answer Sanic's HTTP errors without quoting the request."""
    import rasa.server
    from sanic import response
    from sanic.exceptions import SanicException

    create_app = rasa.server.create_app

    def create_private_app(*args, **kwargs):
        app = create_app(*args, **kwargs)

        @app.exception(SanicException)
        async def private_error(request, exception: SanicException):
            status = getattr(exception, "status_code", 500) or 500
            return response.json({"error": {"code": f"http_{status}", "message": "The request was refused."}},
                                 status=status)

        return app

    rasa.server.create_app = create_private_app


def rasa_argv(args: list[str], token: str) -> list[str]:
    """Rasa's command line with the token, as one `--auth-token=…` word so that no token can be
    taken for an option (one starting with "-" made `rasa run` refuse to start)."""
    return ["rasa", *args, f"--auth-token={token}"]


def main() -> None:
    token = settings.load().rasa_token
    if not token:
        raise SystemExit("RELAIS_RASA_TOKEN is not set: start Relais with `python -m bot`")
    sys.argv = rasa_argv(sys.argv[1:], token)
    logsafe.install()
    cache_action_response_validator()
    cache_event_classes()
    send_actions_recent_events()
    private_error_answers()
    import rasa.__main__

    rasa.__main__.configure_structlog = logsafe.configure_structlog
    sys.exit(rasa.__main__.main())


if __name__ == "__main__":
    main()
