"""The web server's one error type and one JSON error shape, and the headers of every answer."""

from __future__ import annotations

from aiohttp import web

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
}
# The back office and the training form post forms to themselves; nothing else changes.
FORM_CSP = SECURITY_HEADERS["Content-Security-Policy"].replace("form-action 'none'", "form-action 'self'")
FORM_PATHS = ("/admin", "/trainings/propose")
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


class ApiError(Exception):
    """A client error answered as JSON: {"error": {"code", "message"}}."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad_parameter(message: str) -> ApiError:
    """A 400 for a query parameter the API cannot take."""
    return ApiError(400, "invalid_parameter", message)


def error_response(status: int, code: str, message: str) -> web.Response:
    """The one JSON shape of every error the web server answers."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)
