"""The workbench's pages (GET only; nothing here writes): the overview, the events and one
event's evidence, the review queue, silences, feeds, the CSS and the digest's full reports."""

from __future__ import annotations

import re
from datetime import timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from watcher.judge.explain import explain_item
from watcher.models import CriterionVerdict, Judgement
from watcher.report.digest import build_digest
from watcher.report.periods import period_of
from watcher.service import history
from watcher.web import views
from watcher.web.app import Workbench

REPORT_NAME = re.compile(r"^digest-[0-9A-Za-z-]{1,40}\.html$")


async def index(wb: Workbench, request: Request) -> Response:
    """The verdict per track over the 12-month timeline, this week, candidates, feed health."""
    v = wb.reader(request)
    ctx = wb.ctx
    now = ctx.clock()
    events, verdict = await wb.judged()

    def digest() -> object:
        return build_digest(ctx.config, events, verdict, ctx.store.feed_health(),
                            period=period_of(ctx.config, now), now=now,
                            since=now - timedelta(days=7),
                            history=history(ctx, now - timedelta(days=7), now))
    report = await wb.run(digest)
    queue = views.oldest_first(_queue(verdict))
    return wb.page(v, "index.html", r=report, verdict=verdict, queue=queue[:10],
                   waiting=len(queue), now=now)


def _queue(verdict: CriterionVerdict) -> list[Judgement]:
    """Candidates of every track and the accession's pending steps: what awaits an analyst."""
    pending = list(verdict.formalization.pending) if verdict.formalization else []
    return verdict.candidates + pending


async def events(wb: Workbench, request: Request) -> Response:
    v = wb.reader(request)
    f = views.Filters.from_query(request.query_params)
    _, verdict = await wb.judged()
    langs = await wb.run(wb.ctx.store.item_languages)
    page = views.events_page(verdict, langs, f)
    all_langs = sorted({lang.split("-")[0].lower() for lang in langs.values()})
    return wb.page(v, "events.html", f=f, p=page, verdict=verdict, langs=langs,
                   all_langs=all_langs, config=wb.ctx.config, status_of=views.status_of,
                   status_line=views.status_line, statuses=views.STATUSES)


async def event(wb: Workbench, request: Request) -> Response:
    """The reports with publishers and links, why it matched (as `watcher explain`), whether
    it counts and why not, the decision history, the confirm / dismiss form."""
    v = wb.reader(request)
    ctx = wb.ctx
    events_, verdict = await wb.judged()
    found = views.find(verdict, request.path_params["ref"])
    if not found:
        return wb.page(v, "missing.html", 404, ref=request.path_params["ref"])
    items = {m.item_id for j in found for m in j.event.items}
    lead = found[0].event.lead

    def explain() -> list[str]:
        stored = ctx.store.find_item(str(lead.item_id))
        if stored is None:
            return []
        mine = {j.event.indicator for j in found}
        return explain_item(stored, ctx.config, ctx.matcher, events_, mine, verdict=verdict)
    lines = await wb.run(explain)
    decisions = [d for d in await wb.run(ctx.store.decisions) if d.items & items]
    standing = [d for d in decisions if d.undone_at is None]
    return wb.page(v, "event.html", found=found, explain=lines, decisions=decisions,
                   standing=standing, status_line=views.status_line, status_of=views.status_of,
                   done=wb.told(request), config=ctx.config)


async def review(wb: Workbench, request: Request) -> Response:
    v = wb.reader(request)
    _, verdict = await wb.judged()
    return wb.page(v, "review.html", queue=views.oldest_first(_queue(verdict)), verdict=verdict,
                   status_line=views.status_line, done=wb.told(request))


async def silences(wb: Workbench, request: Request) -> Response:
    v = wb.reader(request)
    now = wb.ctx.clock()
    active, expired = views.split_silences(await wb.run(wb.ctx.store.silences), now)
    subjects = [i.id for i in wb.ctx.config.indicators] + ["criterion"]
    return wb.page(v, "silences.html", active=active, expired=expired, subjects=subjects,
                   now=now, done=wb.told(request))


async def feeds(wb: Workbench, request: Request) -> Response:
    v = wb.reader(request)
    store, now = wb.ctx.store, wb.ctx.clock()
    rows = views.feed_rows(await wb.run(store.feed_health), await wb.run(store.poll_counts),
                           await wb.run(store.poll_counts, now - timedelta(days=6)))
    return wb.page(v, "feeds.html", rows=rows, now=now)


async def style(wb: Workbench, request: Request) -> Response:
    """The digest's CSS, then the workbench's own additions: one stylesheet, same look."""
    css = wb.env.get_template("web.css").render()
    return Response(css, media_type="text/css", headers={"cache-control": "max-age=3600"})


async def report(wb: Workbench, request: Request) -> Response:
    """A digest's full report (what WATCHER_REPORT_URL points at when it names the workbench's
    /reports): read from the state directory, by name only."""
    wb.reader(request)
    name = request.path_params["name"]
    path = wb.ctx.settings.reports_dir / name
    if not REPORT_NAME.match(name) or not path.is_file():
        raise HTTPException(404, "no such report")
    html = await wb.run(path.read_text, "utf-8")
    banner = views.report_banner(name, wb.ctx.config.digest.weekday)
    body = re.search(r"<body[^>]*>", html)
    if body:
        html = html[:body.end()] + banner + html[body.end():]
    # The report is the digest's HTML: its CSS is inlined (style=""), and it has no script.
    csp = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    return HTMLResponse(html, headers={"content-security-policy": csp})
