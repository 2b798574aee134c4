"""The workbench over HTTP (issue 15): a real `watcher web` on 127.0.0.1 over a real database.

Reading needs a login; writes need a login, POST and the session's CSRF token, and are
refused otherwise with nothing stored; wrong passwords are rate-limited; /metrics parses with
prometheus-client's parser; /healthz follows the service's heartbeat; the decisions taken on
the web are what `watcher status --json` and the digest then show.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.webserver import PASSWORD, serve, watch_database, watcher
from watcher.store import Instance, Store

PAGES = ["/", "/events", "/review", "/silences", "/feeds", "/events?status=candidate&q=water"]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with watch_database(tmp_path_factory.mktemp("web")) as environment:
        yield environment


@pytest.fixture(scope="module")
def base(env: dict[str, str]) -> Iterator[str]:
    with serve(env) as url:
        yield url


def login(base: str, name: str = "analyst", password: str = PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = csrf(client.get("/login").text)
    answer = client.post("/login", data={"csrf": token, "name": name, "password": password,
                                         "next": "/review"})
    assert answer.status_code == 303 and answer.headers["location"] == "/review", answer.text
    return client


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def candidate(client: httpx.Client, words: str = "water technology") -> str:
    """The short id of the candidate whose headline has `words`, from the review queue."""
    page = client.get("/review").text
    found = re.search(r'href="/events/(E\d+)"[^>]*>[^<]*' + words, page)
    assert found, page
    return found.group(1)


def decisions(env: dict[str, str]) -> list[dict[str, object]]:
    return json.loads(watcher(env, "status", "--json"))["decisions"]  # type: ignore[no-any-return]


def test_every_page_renders_after_login_and_reading_needs_one(base: str) -> None:
    anonymous = httpx.Client(base_url=base, timeout=30)
    for path in [*PAGES, "/events/E1"]:
        answer = anonymous.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    client = login(base)
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "script-src" not in answer.headers["content-security-policy"]
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
        assert "<script" not in answer.text.lower()
    home = client.get("/").text
    assert "Follow-up" in home or "No follow-up" in home or "none on" in home
    assert "Awaiting review" in home and "water technology" in home
    event = candidate(client)
    page = client.get(f"/events/{event}").text
    assert "does not count: single source awaiting review" in page
    assert "timesofisrael" not in page                 # the second report was left out
    assert "watcher explain" in page and "kz_israel_deal" in page
    assert client.get("/events/E999999").status_code == 404


def test_writes_without_a_session_a_csrf_token_or_through_get_are_refused(
        base: str, env: dict[str, str]) -> None:
    client = login(base)
    event = candidate(client)
    token = csrf(client.get(f"/events/{event}").text)
    form = {"action": "dismiss", "note": "not follow-up"}
    anonymous = httpx.Client(base_url=base, timeout=30)
    anonymous.get("/login")                                      # a session, not logged in
    assert anonymous.post(f"/events/{event}/decide", data=form).status_code == 403
    anon_token = csrf(anonymous.get("/login").text)
    assert anonymous.post(f"/events/{event}/decide",
                          data={**form, "csrf": anon_token}).status_code == 401
    assert client.post(f"/events/{event}/decide", data=form).status_code == 403
    assert client.post(f"/events/{event}/decide",
                       data={**form, "csrf": token + "x"}).status_code == 403
    assert client.get(f"/events/{event}/decide", params={**form, "csrf": token}).status_code \
        == 405
    assert client.get("/silences/criterion/end").status_code == 405
    reader = login(base, "reader")
    reader_token = csrf(reader.get("/silences").text)
    refused = reader.post(f"/events/{event}/decide", data={**form, "csrf": reader_token})
    assert refused.status_code == 403 and "may read, not decide" in refused.text
    assert decisions(env) == []                                   # nothing was stored
    assert "not silenced" not in client.get("/silences").text


def test_a_dismissal_needs_a_reason_and_is_recorded_with_the_analysts_name(
        base: str, env: dict[str, str], tmp_path: Path) -> None:
    client = login(base)
    event = candidate(client, "desalination")
    token = csrf(client.get(f"/events/{event}").text)
    empty = client.post(f"/events/{event}/decide",
                        data={"csrf": token, "action": "dismiss", "note": "  "})
    assert empty.status_code == 303 and "needs+a+reason" in empty.headers["location"]
    assert decisions(env) == []
    done = client.post(f"/events/{event}/decide", data={
        "csrf": token, "action": "dismiss", "note": "a hostile test item", "next": "/review"})
    assert done.status_code == 303 and done.headers["location"].startswith("/review?done=")
    [d] = decisions(env)
    assert (d["action"], d["by"], d["note"]) == ("dismiss", "analyst", "a hostile test item")
    assert "desalination" not in client.get("/review").text
    page = client.get(f"/events/{event}").text
    assert "dismissed by analyst" in page and "a hostile test item" in page
    undone = client.post(f"/events/{event}/decide", data={"csrf": token, "action": "undo"})
    assert undone.status_code == 303
    assert decisions(env)[0]["undone_at"] is not None
    assert "desalination" in client.get("/review").text


def test_a_silence_is_created_and_ended_with_the_analysts_name(
        base: str, env: dict[str, str]) -> None:
    client = login(base)
    token = csrf(client.get("/silences").text)
    until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    made = client.post("/silences", data={"csrf": token, "indicator": "kz_israel_deal",
                                          "until": until, "reason": "known story"})
    assert made.status_code == 303
    listed = watcher(env, "silence", "--list")
    assert "kz_israel_deal" in listed and "known story (set by analyst)" in listed
    assert "(active;" in listed
    ended = client.post("/silences/kz_israel_deal/end", data={"csrf": token})
    assert ended.status_code == 303
    listed = watcher(env, "silence", "--list")
    assert "(expired;" in listed and "ended by analyst" in listed
    bad = client.post("/silences", data={"csrf": token, "indicator": "no_such",
                                         "until": until, "reason": "x"})
    assert "unknown+indicator" in bad.headers["location"]


def test_metrics_parse_with_prometheus_clients_parser(base: str, env: dict[str, str]) -> None:
    text = httpx.get(f"{base}/metrics", timeout=30).text          # no login for ops
    families = {f.name: f for f in text_string_to_metric_families(text)}
    status = json.loads(watcher(env, "status", "--json"))
    value = {(f.name, tuple(sorted(s.labels.items()))): s.value
             for f in families.values() for s in f.samples}
    assert value[("watcher_items_stored", ())] == status["items"]
    for track in status["tracks"]:
        assert value[("watcher_criterion_state",
                      (("state", track["state"]), ("track", track["id"])))] == 1
        assert value[("watcher_counting_events", (("track", track["id"]),))] \
            == len(track["counting"])
    assert value[("watcher_feeds", (("status", "ok"),))] >= 1
    assert {"watcher_polls", "watcher_outbox_messages", "watcher_matches_stored",
            "watcher_last_digest_timestamp_seconds", "watcher_events"} <= set(families)


def test_healthz_follows_the_services_heartbeat(base: str, env: dict[str, str]) -> None:
    silent = httpx.get(f"{base}/healthz", timeout=30)
    assert silent.status_code == 503 and "no service instance" in silent.text
    url = env.get("WATCHER_DATABASE_URL") or f"sqlite:///{env['WATCHER_STATE_DIR']}/watcher.db"
    store = Store(url)
    me = Instance("test-service", "host", 1, "0")
    now = datetime.now(UTC)
    try:
        store.heartbeat(me, now, now + timedelta(minutes=5))
        fresh = httpx.get(f"{base}/healthz", timeout=30)
        assert fresh.status_code == 200 and fresh.text.startswith("ok: database answers")
        store.heartbeat(me, now - timedelta(minutes=20), now - timedelta(minutes=15))
        stale = httpx.get(f"{base}/healthz", timeout=30)
        assert stale.status_code == 503 and stale.text.startswith("service heartbeat stale")
        assert len(stale.text.strip().splitlines()) == 1
    finally:
        store.close()


def test_wrong_passwords_are_rate_limited(env: dict[str, str]) -> None:
    with serve(env) as base:
        client = httpx.Client(base_url=base, timeout=30)
        token = csrf(client.get("/login").text)
        tries = [client.post("/login", data={"csrf": token, "name": "analyst",
                                             "password": f"wrong {n}"}).status_code
                 for n in range(6)]
        assert tries == [401] * 5 + [429]
        right = client.post("/login", data={"csrf": token, "name": "analyst",
                                            "password": PASSWORD})
        assert right.status_code == 429 and int(right.headers["retry-after"]) > 0


def test_public_read_opens_reading_but_not_writing(env: dict[str, str]) -> None:
    with serve(env, "--public-read") as base:
        client = httpx.Client(base_url=base, timeout=30)
        assert client.get("/").status_code == 200
        event = candidate(client)
        assert "Log in</a> to confirm or dismiss" in client.get(f"/events/{event}").text
        token = csrf(client.get("/login").text)
        refused = client.post(f"/events/{event}/decide", data={"csrf": token,
                                                               "action": "confirm"})
        assert refused.status_code == 401


def test_a_trusted_proxys_user_header_is_believed_and_nobody_elses(env: dict[str, str]) -> None:
    """WATCHER_WEB_TRUSTED_PROXY names the proxy's address: its header logs the user in (a
    decision is recorded with that name); without it, the same header is ignored."""
    with serve(env) as base:
        spoofed = httpx.get(f"{base}/review", headers={"X-Forwarded-User": "mallory"},
                            timeout=30)
        assert spoofed.status_code == 303
    with serve({**env, "WATCHER_WEB_TRUSTED_PROXY": "127.0.0.1"}) as base:
        client = httpx.Client(base_url=base, timeout=30, headers={"X-Forwarded-User": "carol"})
        page = client.get("/review")
        assert page.status_code == 200 and "carol" in page.text
        event = candidate(client)
        done = client.post(f"/events/{event}/decide",
                           data={"csrf": csrf(page.text), "action": "confirm",
                                 "note": "seen on the ministry's site"})
        assert done.status_code == 303
        assert ("confirm", "carol") in [(d["action"], d["by"]) for d in decisions(env)]
        undone = client.post(f"/events/{event}/decide",
                             data={"csrf": csrf(page.text), "action": "undo"})
        assert undone.status_code == 303


def test_a_page_says_only_what_this_site_signed(base: str) -> None:
    """The message after a write comes back signed; a link from elsewhere cannot make a page
    say what it wants ("done=Your session expired, call …")."""
    client = login(base)
    forged = client.get("/review", params={"done": "Call 555-0100 to keep your access"})
    assert "555-0100" not in forged.text
    token = csrf(client.get("/silences").text)
    said = client.post("/silences", data={"csrf": token, "indicator": "no_such",
                                          "until": "2099-01-01", "reason": "x"})
    page = client.get(said.headers["location"])
    assert "not silenced: unknown indicator" in page.text
