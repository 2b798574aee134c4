"""What the workbench writes: logins, the analyst's call on an event, silences. POST only,
each with the session's CSRF token and an analyst's login (app.Workbench.writer); each
recorded with the user's name."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from watcher import review
from watcher.errors import WatcherError
from watcher.models import Silence
from watcher.web.app import Visit, Workbench, read_form, redirect
from watcher.web.sessions import same_token
from watcher.web.users import check_password

log = logging.getLogger("watcher")


async def login_form(wb: Workbench, request: Request) -> Response:
    v = wb.visit(request)
    return wb.page(v, "login.html", next=request.query_params.get("next", "/"), error="")


async def login(wb: Workbench, request: Request) -> Response:
    """Name and password against the users file; five failures in five minutes, per client
    and per name, make the next tries wait (429)."""
    v = wb.visit(request)
    form = await read_form(request)
    if not same_token(form.get("csrf"), v.session):
        raise HTTPException(403, "refused: the form's CSRF token is missing or stale; "
                                 "reload the login page")
    name, target = form.get("name", "").strip(), form.get("next", "/")
    keys = [f"ip:{request.client.host if request.client else '?'}", f"name:{name.lower()}"]
    wait = wb.logins.wait(keys)
    if wait > 0:
        log.warning("workbench: login for %r refused, too many failures (wait %.0f s)", name, wait)
        return _limited(wb, v, target, wait)
    user = await wb.run(check_password, wb.users, name, form.get("password", ""))
    if user is None:
        wb.logins.failed(keys)
        log.warning("workbench: failed login for %r", name)
        return wb.page(v, "login.html", 401, next=target, error="Wrong name or password.")
    log.info("workbench: %s logged in", user.name)
    return wb.keep(redirect(target), v, wb.signer.new(user.name))


def _limited(wb: Workbench, v: Visit, target: str, wait: float) -> Response:
    response = wb.page(v, "login.html", 429, next=target,
                       error=f"Too many failed logins: try again in {wait:.0f} s.")
    response.headers["retry-after"] = str(int(wait) + 1)
    return response


async def logout(wb: Workbench, request: Request) -> Response:
    v = wb.visit(request)
    form = await read_form(request)
    if not same_token(form.get("csrf"), v.session):
        raise HTTPException(403, "refused: the form's CSRF token is missing or stale")
    return wb.keep(redirect("/login"), v, wb.signer.new(None))


async def decide(wb: Workbench, request: Request) -> Response:
    """confirm (with a note), dismiss (a reason is required) or undo, on the event's reports."""
    v, form = await wb.writer(request)
    assert v.user is not None
    ref, action = request.path_params["ref"], form.get("action", "")
    note = form.get("note", "").strip()[:2000]
    back = form.get("next") or f"/events/{ref}"
    if action not in ("confirm", "dismiss", "undo"):
        raise HTTPException(400, "action: confirm, dismiss or undo")
    if action == "dismiss" and not note:
        return wb.back(back, f"{ref}: not dismissed: a dismissal needs a reason")
    try:
        if action == "undo":
            done = await wb.run(review.undo, wb.ctx, ref, v.user.name)
        else:
            done = await wb.run(review.decide, wb.ctx, ref, action, note, v.user.name)
    except WatcherError as exc:
        return wb.back(back, f"{ref}: {exc}")
    wb.forget()
    log.info("workbench: %s: %s", "undone" if action == "undo" else action, done.line())
    return wb.back(back, ("undone: " if action == "undo" else "") + done.line())


async def silence(wb: Workbench, request: Request) -> Response:
    """Silence an indicator's alerts (or the criterion's) until a date, with a reason."""
    v, form = await wb.writer(request)
    assert v.user is not None
    now = wb.ctx.clock()
    subject, reason = form.get("indicator", ""), form.get("reason", "").strip()[:500]
    known = [i.id for i in wb.ctx.config.indicators] + ["criterion"]
    try:
        until = datetime.combine(date.fromisoformat(form.get("until", "")), time(0), tzinfo=UTC)
    except ValueError:
        return wb.back("/silences", "not silenced: 'until' must be a date (YYYY-MM-DD)")
    problem = ("unknown indicator" if subject not in known else "a reason is required"
               if not reason else "the date is not in the future" if until <= now else "")
    if problem:
        return wb.back("/silences", f"not silenced: {problem}")
    await wb.run(wb.ctx.store.set_silence,
                 Silence(subject, until, f"{reason} (set by {v.user.name})", since=now))
    log.info("workbench: %s silenced %s until %s: %s", v.user.name, subject, until.date(), reason)
    return wb.back("/silences", f"alerts for {subject} silenced until {until:%d %b %Y}")


async def end(wb: Workbench, request: Request) -> Response:
    """End a silence now: it stays listed, as expired, with who ended it."""
    v, _form = await wb.writer(request)
    assert v.user is not None
    subject, now = request.path_params["indicator"], wb.ctx.clock()
    current = {s.indicator: s for s in await wb.run(wb.ctx.store.silences, now)}
    if subject not in current:
        return wb.back("/silences", f"{subject} was not silenced")
    s = current[subject]
    await wb.run(wb.ctx.store.set_silence,
                 Silence(subject, now, f"{s.reason}; ended by {v.user.name}", since=s.since))
    log.info("workbench: %s ended the silence on %s", v.user.name, subject)
    return wb.back("/silences", f"alerts for {subject} are on again")
