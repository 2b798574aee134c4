"""The workbench's parts without a server (issue 15): the users file, the listen address,
signed session cookies, the login limit and the events filters."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from watcher.errors import WatcherError
from watcher.web.options import parse_listen, web_options
from watcher.web.sessions import RateLimit, Signer, same_token
from watcher.web.users import add_user, check_password, load_users
from watcher.web.views import Filters, report_banner


def test_the_users_file_keeps_argon2_hashes_only_and_checks_passwords(tmp_path: Path) -> None:
    path = tmp_path / "users"
    assert add_user(path, "alice", "a long secret", "analyst") is True
    assert add_user(path, "bob", "another secret", "reader") is True
    assert add_user(path, "alice", "a new secret!", "analyst") is False      # replaced
    text = path.read_text()
    assert "secret" not in text and text.count("$argon2id$") == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    users = load_users(path)
    assert check_password(users, "alice", "a new secret!") == users["alice"]
    assert check_password(users, "alice", "a long secret") is None
    assert check_password(users, "nobody", "a new secret!") is None
    assert users["alice"].may_write and not users["bob"].may_write


def test_bad_users_and_passwords_are_one_line_errors(tmp_path: Path) -> None:
    path = tmp_path / "users"
    path.write_text("# comment\n\nalice:admin:$argon2id$x\n")
    with pytest.raises(WatcherError, match=r"line 3: expected NAME:ROLE:ARGON2-HASH"):
        load_users(path)
    with pytest.raises(WatcherError, match="at least 8 characters"):
        add_user(tmp_path / "new", "carol", "short", "analyst")
    with pytest.raises(WatcherError, match="user name"):
        add_user(tmp_path / "new", "ca rol", "long enough", "analyst")
    assert not (tmp_path / "new").exists()
    with pytest.raises(WatcherError, match=r"users file .*/no-dir/users: No such file"):
        add_user(tmp_path / "no-dir" / "users", "carol", "long enough", "analyst")


def test_listen_addresses() -> None:
    assert parse_listen("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    assert parse_listen(":8081") == ("127.0.0.1", 8081)
    for bad in ("8080", "localhost:http", "host:99999"):
        with pytest.raises(WatcherError, match="expected HOST:PORT"):
            parse_listen(bad)
    env = {"WATCHER_WEB_LISTEN": "127.0.0.1:9999", "WATCHER_WEB_TRUSTED_PROXY": "::1"}
    options = web_options(None, False, env)
    assert (options.port, options.trusted_proxy) == (9999, "::1")
    assert web_options("127.0.0.1:1234", True, env).port == 1234           # --listen wins
    with pytest.raises(WatcherError, match="not an IP address"):
        web_options(None, False, {"WATCHER_WEB_TRUSTED_PROXY": "proxy.example"})


def test_a_session_cookie_is_refused_when_tampered_with_signed_elsewhere_or_old() -> None:
    signer = Signer(max_age=60)
    session = signer.new("alice")
    cookie = signer.dump(session)
    assert signer.load(cookie) == session
    body, _, mac = cookie.rpartition(".")
    forged = signer.dump(signer.new("mallory")).rpartition(".")[0] + "." + mac
    assert signer.load(forged) is None
    assert signer.load(body + ".") is None and signer.load("garbage") is None
    assert Signer(max_age=60).load(cookie) is None                 # another key
    assert Signer(max_age=-1, key=signer._key).load(cookie) is None  # too old
    assert same_token(session.csrf, session) and not same_token("", session)
    assert not same_token(signer.new("alice").csrf, session)


def test_the_login_limit_counts_failures_per_key_in_a_window() -> None:
    limit = RateLimit(attempts=3, window=60)
    for _ in range(3):
        assert limit.wait(["ip:1", "name:alice"]) == 0
        limit.failed(["ip:1", "name:alice"])
    assert 0 < limit.wait(["ip:2", "name:alice"]) <= 60        # the name is locked
    assert limit.wait(["ip:2", "name:bob"]) == 0


def test_filters_drop_bad_values_and_round_trip_as_a_query() -> None:
    f = Filters.from_query({"status": "bogus", "since": "2026-13-01", "until": "2026-03-31",
                            "page": "-4", "q": "  water  ", "lang": "RU"})
    assert (f.status, f.since, f.page, f.q, f.lang) == ("", None, 1, "water", "ru")
    assert f.query() == {"until": "2026-03-31", "q": "water", "lang": "ru"}
    assert f.query(3)["page"] == "3"


def test_a_digests_report_links_to_its_week_and_the_review_queue() -> None:
    banner = report_banner("digest-2026-W49.html", weekday=0)        # Mondays
    assert 'href="/events?since=2026-11-23&amp;until=2026-11-30"' in banner
    assert 'href="/review"' in banner
    assert "/events?" not in report_banner("digest-2026-W99.html", weekday=0)
