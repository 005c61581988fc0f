"""/admin: the back office where coordinators and editors keep the directory true (issue 15).

  GET  /admin/sign-in, POST /admin/sign-in       sign in (rate-limited per client; accounts lock after failures)
  POST /admin/sign-out, /admin/sign-out-everywhere
  GET  /admin                                    the queue: what is due for a check, open conflicts
  GET  /admin/records                            every service and training
  GET  /admin/service/{id}, /admin/training/{id} a record: its fields, texts, history; edit and confirm forms
  GET  /admin/context                            the context facts the bot says
  POST /admin/edit                               change one field (value, source URL, why)
  POST /admin/confirm                            a record checked against its source: moves its check date
  GET  /admin/history                            every change, latest first
  POST /admin/revert                             (coordinator) put back what a change replaced
  POST /admin/conflicts                          (coordinator) settle an import conflict
  GET  /admin/accounts, POST /admin/accounts     (coordinator) list and create accounts, reset a password
  GET  /admin/proposals                          trainings organisers proposed (bot/web/proposals.py), pending
  POST /admin/proposals/decide                   (coordinator) publish or refuse one

Pages are rendered on the server (Jinja2, autoescaped; no script, no
third-party asset). Every path under /admin except the sign-in page needs a
signed-in account: a GET without one is sent to the sign-in page, anything
else gets 403; every POST needs the session's CSRF token. The store and its
rules are directory/curation.py; sessions are bot/web/admin_session.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from aiohttp import web
from aiohttp_session import get_session, session_middleware

from bot.web import admin_session
from bot.web.keys import SETTINGS
from directory import curation, freshness, languages, proposals
from directory.curation import Curation, CurationError

log = logging.getLogger("relais.web")
STORE: web.AppKey = web.AppKey("admin_store", Curation)
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                               autoescape=True, undefined=jinja2.StrictUndefined)
PUBLIC = {"/admin/sign-in"}
COORDINATOR_ONLY = {"/admin/revert", "/admin/conflicts", "/admin/accounts", "/admin/proposals/decide"}
MAX_FORM = 16 * 1024


def page(request: web.Request, template: str, status: int = 200, **values) -> web.Response:
    user = request.get("admin_user")
    body = TEMPLATES.get_template(template).render(
        user=user, role=request.get("admin_role"), csrf=request.get("admin_csrf", ""),
        saved=request.query.get("saved") == "1", **values)
    return web.Response(text=body, status=status, content_type="text/html", headers={"Cache-Control": "no-store"})


async def posted(request: web.Request, max_size: int = MAX_FORM):
    """The request's form fields: 413 beyond `max_size` bytes, 400 when the body is not a readable form."""
    if (request.content_length or 0) > max_size:
        raise web.HTTPRequestEntityTooLarge(max_size=max_size, actual_size=request.content_length or 0)
    try:
        return await request.post()
    except (UnicodeDecodeError, LookupError, ValueError):
        raise web.HTTPBadRequest(reason="This form could not be read.") from None


async def off_loop(function, *args):
    """Run a store call in a worker thread (each has its own connection): a busy database or an Argon2 hash
    never holds up the chat."""
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


def number(data: dict, name: str) -> int:
    """A form's record number (a change, a conflict, a proposal); 404 for anything else."""
    value = data.get(name, "")
    if not re.fullmatch(r"[0-9]{1,9}", value):
        raise web.HTTPNotFound()
    return int(value)


async def form(request: web.Request) -> dict:
    """The form's text fields (the first value of each)."""
    data = await posted(request)
    return {k: v for k, v in data.items() if isinstance(v, str)}


def same_site(request: web.Request) -> bool:
    """Whether a POST comes from a page of this server, as the browser says: Sec-Fetch-Site, else Origin. It
    stops another site from signing a coordinator's browser in to an account of its own (the sign-in form's
    token is the same for everyone in an hour); a client that sends neither header still needs the tokens.
    The form pages are served with `Referrer-Policy: same-origin` (bot/web/middleware.py), so our own forms
    send their real Origin; "null" (a sandboxed frame, a no-referrer page elsewhere) is refused."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


@web.middleware
async def guard(request: web.Request, handler) -> web.StreamResponse:
    """Nobody signed out reaches an admin page; every POST carries its CSRF token; coordinators only where
    the role matters."""
    if not (request.path == "/admin" or request.path.startswith("/admin/")):
        return await handler(request)
    if request.method == "POST" and not same_site(request):
        raise web.HTTPForbidden(reason="This form was sent from another site.")
    store = request.app[STORE]
    if request.path in PUBLIC:
        return await handler(request)
    session = await admin_session.signed_in(request)
    role = store.role(session["user"]) if session else None
    if session is None or role is None:
        if request.method == "GET":
            raise web.HTTPSeeOther("/admin/sign-in")
        raise web.HTTPForbidden(reason="Sign in first.")
    request["admin_user"], request["admin_role"], request["admin_csrf"] = session["user"], role, session["csrf"]
    if request.method == "POST":
        data = await form(request)
        if not admin_session.csrf_ok(session, data.get("csrf", "")):
            raise web.HTTPForbidden(reason="This form has expired: open the page again.")
        request["admin_form"] = data
    if request.path in COORDINATOR_ONLY and role != "coordinator":
        raise web.HTTPForbidden(reason="Only a coordinator can do this.")
    return await handler(request)


def live_conn(request: web.Request):
    store = request.app[STORE]
    return store._live()


# Signing in and out

async def sign_in_page(request: web.Request, message: str = "", status: int = 200) -> web.Response:
    token = admin_session.form_token(request.app[STORE].secret(), "sign-in")
    return page(request, "admin_sign_in.html", status=status, message=message, token=token)


async def sign_in(request: web.Request) -> web.Response:
    store = request.app[STORE]
    data = await form(request)
    if not admin_session.form_token_ok(store.secret(), "sign-in", data.get("token", "")):
        return await sign_in_page(request, "This form has expired: please try again.", 403)
    username, password = data.get("username", "").strip().lower()[:60], data.get("password", "")[:1000]
    try:
        await off_loop(store.verify, username, password, time.time())
    except curation.SignInRefused as refused:
        return await sign_in_page(request, str(refused), 401)
    await admin_session.start(request, store, username)
    raise web.HTTPSeeOther("/admin")


async def sign_out(request: web.Request) -> web.Response:
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther("/admin/sign-in")


async def sign_out_everywhere(request: web.Request) -> web.Response:
    request.app[STORE].end_sessions(request["admin_user"])
    session = await get_session(request)
    session.invalidate()
    raise web.HTTPSeeOther("/admin/sign-in")


# The queue, the records, the history

async def queue(request: web.Request) -> web.Response:
    store = request.app[STORE]
    live = live_conn(request)
    try:
        due = curation.due(live)
    finally:
        live.close()
    return page(request, "admin_queue.html", due=due, conflicts=store.conflicts(), today=time.strftime("%Y-%m-%d"))


async def records(request: web.Request) -> web.Response:
    asked = request.query.get("pharmacy", "")[:100]
    live = live_conn(request)
    try:
        listed = list(curation.records(live))
        found = curation.pharmacies(live, asked) if asked.strip() else []
    finally:
        live.close()
    return page(request, "admin_records.html", records=listed, asked=asked, pharmacies=found)


def _fields(live, kind: str, record: str, names: tuple[str, ...]) -> list[dict]:
    """The edit forms of a record's fields, with their labels and the live directory's values."""
    return [{"kind": kind, "record": record, "field": name, "label": curation.field(kind, name).label,
             "value": curation.read_value(live, kind, record, name)} for name in names]


def _service_fields(live, service_id: str, shelter: bool) -> list[dict]:
    names = ("phone", "phone_note", "hours", "confidence") if shelter else \
        ("phone", "phone_note", "hours", "address", "confidence")  # a shelter has no address, here or anywhere
    fields = _fields(live, "service", service_id, names)
    for row in live.execute("SELECT field, lang, text FROM service_texts WHERE service_id = ? ORDER BY field, lang",
                            (service_id,)):
        fields.append({"kind": "service_text", "record": f"{service_id}/{row['field']}/{row['lang']}",
                       "field": "text", "label": f"{row['field']} ({row['lang']})", "value": row["text"]})
    return fields


def _latest_first(*histories: list) -> list:
    """A record's changes from several kinds (its facts and its texts), latest first like each of them."""
    return sorted((change for history in histories for change in history), key=lambda change: -change.id)


async def service(request: web.Request) -> web.Response:
    store, service_id = request.app[STORE], request.match_info["id"]
    live = live_conn(request)
    try:
        row = live.execute("SELECT * FROM services WHERE id = ?", (service_id,)).fetchone()
        if row is None:
            raise web.HTTPNotFound()
        shelter = curation.is_shelter(live, service_id)
        fields = _service_fields(live, service_id, shelter)
    finally:
        live.close()
    name = languages.pick({c: row[f"name_{c}"] for c in languages.codes()}, "en") or row["short_name"] or service_id
    return page(request, "admin_record.html", kind="service", record=service_id, name=name, fields=fields,
                checked=row["checked"][:10], due=freshness.due_date("service", row["checked"]).isoformat(),
                sources=curation._urls(row["source_urls"]), shelter=shelter,
                history=_latest_first(store.history("service", service_id), store.history("service_text", service_id)))


async def training(request: web.Request) -> web.Response:
    store, training_id = request.app[STORE], request.match_info["id"]
    live = live_conn(request)
    try:
        row = live.execute("SELECT * FROM trainings WHERE id = ?", (training_id,)).fetchone()
        if row is None:
            raise web.HTTPNotFound()
        fields = _fields(live, "training", training_id, ("url", "confidence"))
        fields += [{"kind": "training_text", "record": f"{training_id}/{text}/{lang}", "field": "text",
                    "label": f"{text} ({lang})", "value": row[f"{text}_{lang}"] or ""}
                   for text in curation.TRAINING_TEXTS for lang in languages.codes()]
    finally:
        live.close()
    return page(request, "admin_record.html", kind="training", record=training_id,
                name=row["title_en"] or training_id, fields=fields, checked=row["checked"][:10],
                due=freshness.due_date("training", row["checked"]).isoformat(),
                sources=curation._urls(row["source"]), shelter=False,
                history=_latest_first(store.history("training", training_id),
                                      store.history("training_text", training_id)))


async def pharmacy(request: web.Request) -> web.Response:
    store, ref = request.app[STORE], request.match_info["id"]
    live = live_conn(request)
    try:
        row = live.execute("SELECT * FROM locations WHERE kind = 'pharmacy' AND ref = ?", (ref,)).fetchone()
        if row is None:
            raise web.HTTPNotFound()
        fields = _fields(live, "pharmacy", ref, ("status",))
    finally:
        live.close()
    return page(request, "admin_record.html", kind="pharmacy", record=ref,
                name=f"{row['name']}, {row['address']}, {row['postcode']} {row['municipality']}", fields=fields,
                checked=row["checked"][:10], due="", sources=[], source_text=row["source"], shelter=False,
                history=store.history("pharmacy", ref))


async def context(request: web.Request) -> web.Response:
    live = live_conn(request)
    try:
        rows = live.execute("SELECT id, lang, text, source, checked FROM context ORDER BY id, lang").fetchall()
    finally:
        live.close()
    fields = [{"kind": "context", "record": f"{r['id']}/{r['lang']}", "field": "text",
               "label": f"{r['id']} ({r['lang']})", "value": r["text"], "source": r["source"]} for r in rows]
    return page(request, "admin_context.html", fields=fields)


def _back(kind: str, record: str) -> str:
    if kind in ("service", "service_text"):
        return f"/admin/service/{record.split('/')[0]}"
    if kind in ("training", "training_text"):
        return f"/admin/training/{record.split('/')[0]}"
    if kind == "pharmacy":
        return f"/admin/pharmacy/{record}"
    return "/admin/context"


async def saved(request: web.Request, back: str, function, *args) -> web.Response:
    """Run a store call off the event loop, then go back to `back` saying "Saved"; a refused value gets the
    page saying why, an unknown record 404."""
    try:
        await off_loop(function, *args)
    except curation.NotFound:
        raise web.HTTPNotFound() from None
    except CurationError as err:
        return page(request, "admin_refused.html", status=400, message=str(err), back=back)
    raise web.HTTPSeeOther(back + "?saved=1")


async def edit(request: web.Request) -> web.Response:
    data = request["admin_form"]
    kind, record, name = data.get("kind", ""), data.get("record", ""), data.get("field", "")
    if name == "checked":  # a check date moves only by confirming (/admin/confirm), to today
        raise web.HTTPNotFound()
    return await saved(request, _back(kind, record), request.app[STORE].change, request["admin_user"], kind, record,
                       name, data.get("value", ""), data.get("source_url", ""), data.get("note", ""))


async def confirm(request: web.Request) -> web.Response:
    data = request["admin_form"]
    kind, record = data.get("kind", ""), data.get("record", "")
    if kind not in freshness.DUE_MONTHS:
        raise web.HTTPNotFound()
    return await saved(request, _back(kind, record), request.app[STORE].change, request["admin_user"], kind, record,
                       "checked", time.strftime("%Y-%m-%d"), data.get("source_url", ""),
                       data.get("note", "") or "checked against the source")


async def history(request: web.Request) -> web.Response:
    return page(request, "admin_history.html", changes=request.app[STORE].history())


async def revert(request: web.Request) -> web.Response:
    data = request["admin_form"]
    return await saved(request, "/admin/history", request.app[STORE].revert, request["admin_user"],
                       number(data, "change"), data.get("note", ""))


async def conflicts(request: web.Request) -> web.Response:
    data = request["admin_form"]
    return await saved(request, "/admin", request.app[STORE].resolve, request["admin_user"], number(data, "conflict"),
                       data.get("take") == "import", data.get("source_url", ""), data.get("note", ""))


async def accounts(request: web.Request) -> web.Response:
    return page(request, "admin_accounts.html", accounts=request.app[STORE].accounts(), roles=curation.ROLES,
                now=time.time())


async def accounts_post(request: web.Request) -> web.Response:
    data, store = request["admin_form"], request.app[STORE]
    username, password = data.get("username", "").strip().lower(), data.get("password", "")
    if data.get("action") == "create":
        return await saved(request, "/admin/accounts", store.create_user, username, password, data.get("role", ""))
    if data.get("action") == "reset":
        return await saved(request, "/admin/accounts", store.set_password, username, password)
    raise web.HTTPBadRequest()


async def proposal_queue(request: web.Request) -> web.Response:
    return page(request, "admin_proposals.html", proposals=proposals.pending(request.app[STORE]))


async def proposal_decide(request: web.Request) -> web.Response:
    data, store = request["admin_form"], request.app[STORE]
    proposal_id = number(data, "proposal")
    try:
        if data.get("decision") == "approve":
            training_id = await off_loop(proposals.approve, store, request["admin_user"], proposal_id)
            raise web.HTTPSeeOther(f"/admin/training/{training_id}?saved=1")
        if data.get("decision") == "reject":
            await off_loop(proposals.reject, store, request["admin_user"], proposal_id)
            raise web.HTTPSeeOther("/admin/proposals?saved=1")
    except curation.NotFound:
        raise web.HTTPNotFound() from None
    raise web.HTTPBadRequest()


async def _open_store(app: web.Application):
    yield
    app[STORE].close()


def setup(app: web.Application) -> None:
    """Add the back office to `app`: its store, its session and guard middleware, its routes."""
    cfg = app[SETTINGS]
    store = app[STORE] = Curation(cfg.curation_db, cfg.db)
    storage = admin_session.CurationStorage(store, idle=cfg.admin_session_idle, secure=cfg.admin_cookie_secure)
    app.middlewares.extend([session_middleware(storage), guard])
    app.cleanup_ctx.append(_open_store)
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)


ROUTES = (
    ("GET", "/admin/sign-in", sign_in_page), ("POST", "/admin/sign-in", sign_in),
    ("POST", "/admin/sign-out", sign_out), ("POST", "/admin/sign-out-everywhere", sign_out_everywhere),
    ("GET", "/admin", queue), ("GET", "/admin/records", records), ("GET", "/admin/service/{id}", service),
    ("GET", "/admin/training/{id}", training), ("GET", "/admin/pharmacy/{id}", pharmacy),
    ("GET", "/admin/context", context),
    ("POST", "/admin/edit", edit), ("POST", "/admin/confirm", confirm), ("GET", "/admin/history", history),
    ("POST", "/admin/revert", revert), ("POST", "/admin/conflicts", conflicts),
    ("GET", "/admin/accounts", accounts), ("POST", "/admin/accounts", accounts_post),
    ("GET", "/admin/proposals", proposal_queue), ("POST", "/admin/proposals/decide", proposal_decide),
)
