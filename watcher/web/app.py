"""The workbench as a Starlette app: routes, security headers, and who may do what.

Reading needs a login unless --public-read; every write (decisions, silences) needs a login
by an `analyst`, a POST (no change through GET) and the session's CSRF token. A reverse
proxy named by WATCHER_WEB_TRUSTED_PROXY may vouch for the user in its header instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watcher.context import Context
from watcher.report.render import environment as digest_environment
from watcher.report.render import neutralise
from watcher.service import Judged, judge_as_of
from watcher.web.options import WebOptions
from watcher.web.sessions import COOKIE, RateLimit, Session, Signer, same_token
from watcher.web.users import User

log = logging.getLogger("watcher")

# No script at all, styles only from /style.css, forms only to this origin, never framed.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {"content-security-policy": CSP, "x-frame-options": "DENY",
                    "referrer-policy": "no-referrer", "x-content-type-options": "nosniff",
                    "cache-control": "no-store"}
MAX_FORM = 16 * 1024
# How long one judgement of the watch serves the pages (new items show up after at most this).
JUDGED_FOR = timedelta(seconds=15)


@dataclass(frozen=True)
class Visit:
    """This request's session and user (None: not logged in); `fresh` when the cookie is new."""

    session: Session
    user: User | None
    fresh: bool
    secure: bool


class Workbench:
    """What every handler needs: the store (through the context), the options, the users, the
    session signer, the login limit and the templates."""

    def __init__(self, ctx: Context, options: WebOptions, users: dict[str, User]) -> None:
        self.ctx, self.options, self.users = ctx, options, users
        self.signer = Signer(options.session_hours * 3600)
        self.logins = RateLimit()
        self.env = templates()
        self._judged: tuple[datetime, Judged] | None = None
        self._lock = threading.Lock()

    # --- who is asking ------------------------------------------------------------------------

    def visit(self, request: Request) -> Visit:
        secure = request.url.scheme == "https"
        session = self.signer.load(request.cookies.get(COOKIE))
        fresh = session is None
        session = session or self.signer.new(None)
        user = self.users.get(session.user) if session.user else None
        proxy = self.options.trusted_proxy
        if proxy and request.client and request.client.host == proxy:
            name = request.headers.get(self.options.user_header, "").strip()
            if name:
                user = self.users.get(name) or User(name, "analyst")
        return Visit(session, user, fresh, secure)

    def reader(self, request: Request) -> Visit:
        """The visit, if it may read; else a redirect to the login page (HTTPException 303)."""
        v = self.visit(request)
        if v.user is None and not self.options.public_read:
            target = urlencode({"next": _local(request.url.path + (
                f"?{request.url.query}" if request.url.query else ""))})
            raise HTTPException(303, headers={"location": f"/login?{target}"})
        return v

    async def writer(self, request: Request) -> tuple[Visit, dict[str, str]]:
        """The visit and the posted form, if this is a logged-in analyst's with the session's
        CSRF token; else 401 or 403."""
        v = self.visit(request)
        form = await read_form(request)
        if not same_token(form.get("csrf"), v.session):
            raise HTTPException(403, "refused: the form's CSRF token is missing or stale; "
                                     "reload the page and try again")
        if v.user is None:
            raise HTTPException(401, "refused: log in first")
        if not v.user.may_write:
            raise HTTPException(403, f"refused: {v.user.name} may read, not decide")
        return v, form

    # --- answers ------------------------------------------------------------------------------

    def page(self, v: Visit, template: str, status: int = 200, **values: Any) -> Response:
        html = self.env.get_template(template).render(
            v=v, csrf=v.session.csrf, user=v.user, public=self.options.public_read, **values)
        return self.keep(HTMLResponse(html, status_code=status), v)

    def keep(self, response: Response, v: Visit, session: Session | None = None) -> Response:
        """Set the session cookie when it is new (or replaced by `session`)."""
        if v.fresh or session is not None:
            response.set_cookie(COOKIE, self.signer.dump(session or v.session),
                                max_age=int(self.signer.max_age), httponly=True,
                                samesite="strict", secure=v.secure, path="/")
        return response

    async def judged(self) -> Judged:
        """Events and verdict as of now, from what the store holds; records nothing (the
        service records the criterion's transitions, the workbench only looks).

        Judging reads and clusters every stored match, the costly part of a page: one
        judgement serves the pages asked for within JUDGED_FOR seconds, and a write made
        here (a decision) clears it, so the analyst sees their own call at once."""
        now = self.ctx.clock()
        with self._lock:
            cached = self._judged
        if cached is not None and timedelta(0) <= now - cached[0] < JUDGED_FOR:
            return cached[1]
        judged: Judged = await run_in_threadpool(judge_as_of, self.ctx, now)
        with self._lock:
            self._judged = (now, judged)
        return judged

    def forget(self) -> None:
        """A decision changed the verdict: judge afresh on the next page."""
        with self._lock:
            self._judged = None

    def back(self, to: str, done: str) -> RedirectResponse:
        """303 to a local path, with what was done for that page to say (signed)."""
        target = _local(to)
        target += ("&" if "?" in target else "?") + urlencode(
            {"done": done, "mark": self.signer.mark(done)})
        return RedirectResponse(target, status_code=303)

    def told(self, request: Request) -> str:
        """The message a write left for this page, if this site signed it."""
        done = request.query_params.get("done", "")
        return done if self.signer.marked(done, request.query_params.get("mark", "")) else ""

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """A blocking store call off the event loop."""
        return await run_in_threadpool(fn, *args)


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form body (at most 16 KiB), last value of each field."""
    if request.method != "POST":
        raise HTTPException(405, "changes are made with POST only")
    body = await request.body()
    if len(body) > MAX_FORM:
        raise HTTPException(413, "form too large")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def redirect(to: str) -> RedirectResponse:
    """303 to a local path (never elsewhere)."""
    return RedirectResponse(_local(to), status_code=303)


def _local(path: str) -> str:
    """Only a path on this site: '/review', not '//evil.example' or 'https://…'."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path \
        else "/"


def templates() -> Environment:
    """The workbench's templates, with the digest's filters and CSS (same look, same escaping:
    bidi controls removed, links http(s) only)."""
    digest = digest_environment()
    env = Environment(loader=ChoiceLoader([PackageLoader("watcher.web", "templates"),
                                           PackageLoader("watcher.report", "templates")]),
                      undefined=StrictUndefined, autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update({k: digest.filters[k] for k in ("day", "stamp", "cut", "host",
                                                       "safe_url", "span")})
    env.filters["ago"] = lambda t, now: _ago(t, now)
    env.finalize = neutralise
    return env


def _ago(t: datetime | None, now: datetime) -> str:
    if t is None:
        return "never"
    s = (now - t).total_seconds()
    return (f"{int(s // 86400)} d ago" if s >= 86400 else f"{int(s // 3600)} h ago" if s >= 3600
            else f"{int(s // 60)} min ago" if s >= 60 else "just now")


class SecurityHeaders:
    """Adds the CSP, X-Frame-Options, Referrer-Policy … to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)
        await self.app(scope, receive, send_with if scope["type"] == "http" else send)


Handler = Callable[[Workbench, Request], Awaitable[Response]]


def build_app(ctx: Context, options: WebOptions, users: dict[str, User]) -> Starlette:
    """The app: one Workbench shared by every route."""
    from watcher.web import actions, ops, pages
    wb = Workbench(ctx, options, users)

    def bind(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await handler(wb, request)
        endpoint.__name__ = handler.__name__
        return endpoint

    get, post = ["GET", "HEAD"], ["POST"]
    routes = [Route(path, bind(fn), methods=methods) for path, fn, methods in [
        ("/", pages.index, get), ("/events", pages.events, get),
        ("/events/{ref}", pages.event, get), ("/review", pages.review, get),
        ("/silences", pages.silences, get), ("/feeds", pages.feeds, get),
        ("/style.css", pages.style, get), ("/reports/{name}", pages.report, get),
        ("/login", actions.login_form, get), ("/login", actions.login, post),
        ("/logout", actions.logout, post), ("/events/{ref}/decide", actions.decide, post),
        ("/silences", actions.silence, post), ("/silences/{indicator}/end", actions.end, post),
        ("/healthz", ops.healthz, get), ("/metrics", ops.metrics, get)]]
    app = Starlette(routes=routes)
    app.add_middleware(SecurityHeaders)
    log.info("workbench: %d user(s), reading %s", len(users),
             "open to all" if options.public_read else "needs a login")
    return app
