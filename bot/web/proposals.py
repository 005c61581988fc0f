"""/trainings/propose: the public form where organisers propose a training (issue 15).

  GET  /trainings/propose[?lang=fr|nl|en]   the form, in French, Dutch or English
  POST /trainings/propose[?lang=...]        check and keep a proposal for moderation (never published here)

The form resists spam: a per-client rate limit (RELAIS_RATE_PROPOSE), a
token bound to the hour the form was shown, a honeypot field that people
never see (a submission that fills it is thanked and dropped), size limits
on every field and on the whole body, and a cap on the pending queue. The
checks and the queue are directory/proposals.py; coordinators moderate at
/admin/proposals (bot/web/admin.py).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from aiohttp import web

from bot.web import admin_session
from bot.web.admin import STORE, TEMPLATES, posted
from directory import languages, proposals
from directory.curation import Invalid

TEXTS = Path(__file__).with_name("propose_texts.yml")
PURPOSE = "propose"
MAX_BODY = 8 * 1024
OTHER_NAMES = {"de": "Deutsch"}  # a training language outside Relais' own registry


@lru_cache(maxsize=1)
def texts() -> dict:
    """{lang: {key: text}} of the form (bot/web/propose_texts.yml)."""
    return yaml.safe_load(TEXTS.read_text(encoding="utf-8"))


def _lang(request: web.Request) -> str:
    lang = request.query.get("lang", "")
    return lang if lang in texts() else "fr"


def _labels(request: web.Request, lang: str) -> tuple[list, list]:
    live = request.app[STORE]._live()
    try:
        rows = live.execute(f"SELECT kind, code, label_{lang} FROM taxonomy WHERE kind IN ('audience', 'topic') "
                            "ORDER BY code").fetchall()
    finally:
        live.close()
    return ([(r[1], r[2]) for r in rows if r[0] == "audience"], [(r[1], r[2]) for r in rows if r[0] == "topic"])


def render(request: web.Request, status: int = 200, *, fields: dict | None = None, error: str = "",
           bad: str = "", done: bool = False) -> web.Response:
    lang = _lang(request)
    audiences, topics = _labels(request, lang)
    spoken = [(code, languages.get(code).own_name if code in languages.codes() else OTHER_NAMES[code])
              for code in proposals.SPOKEN]
    values = {"audiences": [], "topics": [], "languages": [], "format": "", **{k: "" for k in proposals.LIMITS}}
    values.update(fields or {})
    body = TEMPLATES.get_template("propose.html").render(
        lang=lang, t=texts()[lang], others=[(c, languages.get(c).own_name) for c in texts() if c != lang],
        token=admin_session.form_token(request.app[STORE].secret(), PURPOSE), form=values, error=error, bad=bad,
        done=done, audiences=audiences, topics=topics, spoken=spoken, formats=proposals.FORMATS)
    return web.Response(text=body, status=status, content_type="text/html", headers={"Cache-Control": "no-store"})


async def show(request: web.Request) -> web.Response:
    return render(request)


async def receive(request: web.Request) -> web.Response:
    store, t = request.app[STORE], texts()[_lang(request)]
    raw = await posted(request, MAX_BODY)
    data = {key: [v for v in raw.getall(key) if isinstance(v, str)] for key in set(raw.keys())}
    single = {k: v[0] if len(v) == 1 and k not in ("audiences", "topics", "languages") else v for k, v in data.items()}
    if not admin_session.form_token_ok(store.secret(), PURPOSE, str(single.get("token", ""))):
        return render(request, 403, fields=_echo(single), error=t["expired"])
    if single.get("website"):  # the honeypot: only a robot fills it; it is thanked and nothing is kept
        return render(request, done=True)
    live = store._live()
    try:
        vocab = proposals.vocabulary(live)
    finally:
        live.close()
    try:
        fields = proposals.check(single, vocab)
        proposals.submit(store, fields, _lang(request))
    except proposals.QueueFull:
        return render(request, 503, fields=_echo(single), error=t["busy"])
    except Invalid as err:
        field = str(err)
        label = t.get(f"f_{field}", field)
        return render(request, 400, fields=_echo(single), error=f"{t['fix']} {label}", bad=field)
    return render(request, done=True)


def _echo(single: dict) -> dict:
    """What the person typed, to show the form again (each value cut to its limit)."""
    echo: dict = {}
    for key, limit in proposals.LIMITS.items():
        value = single.get(key, "")
        echo[key] = value[:limit] if isinstance(value, str) else ""
    for key in ("audiences", "topics", "languages"):
        value = single.get(key, [])
        echo[key] = [value] if isinstance(value, str) else list(value)[:20]
    echo["format"] = single.get("format", "") if isinstance(single.get("format"), str) else ""
    return echo


def setup(app: web.Application) -> None:
    app.router.add_get("/trainings/propose", show)
    app.router.add_post("/trainings/propose", receive)
