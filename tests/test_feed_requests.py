"""Per-feed requests (issue 18): `headers`, `user_agent` and `proxy` in indicators.yaml,
against a real feed server on 127.0.0.1 and real HTTP and SOCKS5 proxies (tests/proxyserver.py).

Through a proxy watcher connects only to the proxy, whose address is checked like a feed's
(a private one must be named in WATCHER_ALLOW_PRIVATE); the proxy resolves the feed's host,
so watcher checks what the URL itself shows (an address literal, localhost). Environment
proxies (HTTP(S)_PROXY, ALL_PROXY) are never used.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.feedserver import FeedServer, child_env
from tests.proxyserver import ProxyServer
from tests.test_fetch import LOOPBACK, RSS, run
from tests.test_pipeline import serve_fixtures, write_config
from watcher import USER_AGENT
from watcher.errors import FeedError
from watcher.ingest.addresses import parse_policy
from watcher.ingest.fetch import Fetcher, FetchRequest, FetchResult


def fetch(req: FetchRequest, policy: Any = LOOPBACK) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(allow_private=policy, total_timeout=20) as fetcher:
            return await fetcher.fetch(req)
    return run(go())


def test_headers_and_user_agent_reach_the_feed(feed_server: FeedServer) -> None:
    feed_server.add("/rss", RSS)
    result = fetch(FetchRequest("f", feed_server.url("/rss"),
                                headers=(("X-Api-Key", "k-123"), ("Accept-Language", "ru")),
                                user_agent="Mozilla/5.0 (watcher)"))
    assert result.status == 200
    (seen,) = feed_server.requests
    assert seen.headers["X-Api-Key"] == "k-123" and seen.headers["Accept-Language"] == "ru"
    assert seen.headers["User-Agent"] == "Mozilla/5.0 (watcher)"


def test_headers_stay_home_on_a_redirect_to_another_origin_the_user_agent_follows(
        feed_server: FeedServer) -> None:
    with FeedServer() as elsewhere:
        elsewhere.add("/rss", RSS)
        feed_server.add("/moved", redirect_to=elsewhere.url("/rss"), status=301)
        fetch(FetchRequest("f", feed_server.url("/moved"), headers=(("X-Api-Key", "k"),),
                           user_agent="agent/1"))
        (there,) = elsewhere.requests
    (home,) = feed_server.requests
    assert home.headers["X-Api-Key"] == "k" and "X-Api-Key" not in there.headers
    assert home.headers["User-Agent"] == there.headers["User-Agent"] == "agent/1"


@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_a_feed_through_its_proxy(feed_server: FeedServer, kind: str) -> None:
    feed_server.add("/rss", RSS)
    with ProxyServer(kind) as proxy:
        result = fetch(FetchRequest("f", feed_server.url("/rss"), proxy=proxy.url,
                                    headers=(("X-Api-Key", "k"),)))
        assert proxy.targets == [f"127.0.0.1:{feed_server.port}"]
    assert result.status == 200 and result.body is not None and b"<rss" in result.body
    (seen,) = feed_server.requests
    assert seen.headers["X-Api-Key"] == "k" and seen.headers["User-Agent"] == USER_AGENT


def test_a_socks5_proxy_with_a_login(feed_server: FeedServer) -> None:
    feed_server.add("/rss", RSS)
    with ProxyServer("socks5", login=("alice", "s3cret")) as proxy:
        assert fetch(FetchRequest("f", feed_server.url("/rss"), proxy=proxy.url)).status == 200
        wrong = proxy.url.replace("s3cret", "nope")
        with pytest.raises(FeedError) as caught:
            fetch(FetchRequest("f", feed_server.url("/rss"), proxy=wrong))
    assert caught.value.reason == "the proxy refused: Invalid username/password"
    assert "nope" not in str(caught.value) and "s3cret" not in str(caught.value)


def test_a_private_proxy_must_be_named_like_a_private_feed(feed_server: FeedServer) -> None:
    """WATCHER_ALLOW_PRIVATE names 127.0.0.1 (the feed server): a proxy on 127.0.0.2 is
    refused, and nothing reaches it."""
    feed_server.add("/rss", RSS)
    with ProxyServer("http", host="127.0.0.2") as proxy:
        with pytest.raises(FeedError) as caught:
            fetch(FetchRequest("f", feed_server.url("/rss"), proxy=proxy.url))
        assert proxy.targets == []
        both = parse_policy("127.0.0.1, 127.0.0.2")[0]
        assert fetch(FetchRequest("f", feed_server.url("/rss"), proxy=proxy.url),
                     policy=both).status == 200
    assert caught.value.reason == ("refused: the proxy 127.0.0.2 is a loopback address "
                                   "(allow it with WATCHER_ALLOW_PRIVATE)")


def test_through_a_proxy_a_redirect_to_a_private_address_is_refused(
        feed_server: FeedServer) -> None:
    """The proxy would reach 169.254.169.254 for us; the literal in the URL says where."""
    feed_server.add("/moved", redirect_to="http://169.254.169.254/latest/meta-data/",
                    status=302)
    with ProxyServer("http") as proxy:
        with pytest.raises(FeedError) as caught:
            fetch(FetchRequest("f", feed_server.url("/moved"), proxy=proxy.url))
        assert proxy.targets == [f"127.0.0.1:{feed_server.port}"]
    assert caught.value.reason.startswith("refused: a redirect to 169.254.169.254")


def feeds_yaml(tmp_path: Path, server: FeedServer, **extra: Any) -> Path:
    config = write_config(tmp_path, server)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["feeds"][0].update(extra)
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                      encoding="utf-8")
    return config


def watcher(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "watcher", *args], env=child_env(**env),
                          capture_output=True, text=True, timeout=120, check=False)


def test_indicators_yaml_settings_reach_the_server_through_the_proxy(
        feed_server: FeedServer, tmp_path: Path) -> None:
    """End to end: `watcher poll` with the options in indicators.yaml, and environment
    proxies (a SOCKS one used to end in an ImportError traceback) ignored."""
    serve_fixtures(feed_server)
    with ProxyServer("socks5") as proxy:
        config = feeds_yaml(tmp_path, feed_server, headers={"X-Api-Key": "k"},
                            user_agent="agent/2", proxy=proxy.url)
        result = watcher(["poll", "--config", str(config)],
                         WATCHER_STATE_DIR=str(tmp_path / "state"),
                         ALL_PROXY="socks5://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
                         HTTP_PROXY="http://127.0.0.1:9")
        assert result.returncode == 0, result.stderr
        assert proxy.targets == [f"127.0.0.1:{feed_server.port}"]      # only the first feed
    assert "Traceback" not in result.stderr and ", 0 failed," in result.stdout
    wire = next(s for s in feed_server.requests if s.path == "/wire.rss")
    assert (wire.headers["X-Api-Key"], wire.headers["User-Agent"]) == ("k", "agent/2")
    other = next(s for s in feed_server.requests if s.path != "/wire.rss")
    assert "X-Api-Key" not in other.headers and other.headers["User-Agent"] == USER_AGENT


@pytest.mark.parametrize(("extra", "says"), [
    ({"headers": {"Bad Name": "v"}}, "'Bad Name' is not a header name"),
    ({"headers": {"X-Key": "a\nb"}}, "the value of X-Key must be one line"),
    ({"headers": {"If-None-Match": "x"}}, "watcher sets the If-None-Match header itself"),
    ({"headers": {"User-Agent": "x"}}, "the User-Agent header itself; use user_agent:"),
    ({"user_agent": "two\nlines"}, "user_agent: must be one line"),
    ({"proxy": "ftp://proxy:21"}, "proxy: expected http://host:port, socks5://host:port"),
    ({"proxy": "http://proxy"}, "proxy: expected http://host:port"),
])
def test_bad_request_options_are_config_errors_with_their_line(
        feed_server: FeedServer, tmp_path: Path, extra: dict[str, Any], says: str) -> None:
    config = feeds_yaml(tmp_path, feed_server, **extra)
    result = watcher(["check", str(config)])
    assert result.returncode == 1
    key = next(iter(extra))
    line = next(n for n, text in enumerate(config.read_text().splitlines(), 1)
                if text.strip().startswith(f"{key}:"))
    assert f"{config}:{line}: feeds.0.{key}" in result.stderr and says in result.stderr
