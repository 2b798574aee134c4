"""The fetch stage's guards (issue 16), against real servers on 127.0.0.x.

- One total deadline per request, enforced from outside the read loop: a server dripping
  its status line and headers a byte at a time is cut at the deadline.
- No private fetches: each hop's address is checked, the connection pinned to the checked
  address; a redirect never moves to a private address the feed's own URL does not name.
- A feed URL's credentials go to the feed's own origin only.

Linux routes all of 127.0.0.0/8 to loopback, so a second server on 127.0.0.2 plays the
private host a hostile feed redirects to.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.feedserver import ALLOW_PRIVATE, FeedServer
from watcher.errors import FeedError
from watcher.ingest.addresses import NO_PRIVATE, AddressPolicy, parse_policy
from watcher.ingest.fetch import Fetcher, FetchRequest, FetchResult, Validators

RSS = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
       b"<item><title>x</title><guid>1</guid></item></channel></rss>")
SECRET_FEED = RSS.replace(b"<title>x</title>", b"<title>internal only</title>")


def policy(value: str = ALLOW_PRIVATE) -> AddressPolicy:
    return parse_policy(value)[0]


def fetch(url: str, allow: AddressPolicy | None = None, **options: Any) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(allow_private=policy() if allow is None else allow, **options) as f:
            return await f.fetch(FetchRequest("feed", url, Validators()))
    return asyncio.run(go())


def refusal(url: str, allow: AddressPolicy | None = None, **options: Any) -> str:
    with pytest.raises(FeedError) as caught:
        fetch(url, allow, **options)
    return caught.value.reason


@pytest.fixture
def private_server() -> Iterator[FeedServer]:
    """A server on 127.0.0.2 holding what only this machine may read."""
    with FeedServer(host="127.0.0.2") as server:
        server.add("/admin/secret-feed", SECRET_FEED)
        yield server


# --- deadlines ----------------------------------------------------------------------------------


def test_headers_dripped_a_byte_at_a_time_are_cut_at_the_total_deadline(
        feed_server: FeedServer) -> None:
    feed_server.add("/slow-headers", RSS, drip=0.2)        # every byte well within read_timeout
    started = time.monotonic()
    reason = refusal(feed_server.url("/slow-headers"), total_timeout=1.0, read_timeout=30.0)
    seconds = time.monotonic() - started
    assert reason == "timed out after 1 s"
    assert seconds < 2.5, f"held for {seconds:.1f} s"       # ran for over 60 s before


def test_a_silent_server_is_cut_at_the_total_deadline_before_its_read_timeout(
        feed_server: FeedServer) -> None:
    feed_server.add("/hung", RSS, delay=30)
    started = time.monotonic()
    assert refusal(feed_server.url("/hung"), total_timeout=1.0, read_timeout=20.0) == \
        "timed out after 1 s"
    assert time.monotonic() - started < 2.5


# --- private addresses --------------------------------------------------------------------------


@pytest.mark.parametrize("allowed", ["127.0.0.1", "127.0.0.0/8"])
def test_a_redirect_to_another_private_host_is_refused(
        feed_server: FeedServer, private_server: FeedServer, allowed: str) -> None:
    feed_server.add("/feed", redirect_to=private_server.url("/admin/secret-feed"))
    reason = refusal(feed_server.url("/feed"), policy(allowed))
    assert reason == ("refused: a redirect to 127.0.0.2, a loopback address the feed's URL "
                      "does not name")
    assert private_server.requests == []                    # never even asked


@pytest.mark.parametrize(("target", "kind"), [
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local"),
    ("http://[::ffff:169.254.169.254]/latest/", "::ffff:169.254.169.254, a link-local"),
    ("http://[::1]/admin", "::1, a loopback"),
    ("http://10.0.0.1/", "10.0.0.1, a private"),
    ("http://0.0.0.0/", "0.0.0.0, an unspecified"),
    ("http://[2002:7f00:1::]/", "2002:7f00:1::, a loopback"),      # 6to4 around 127.0.0.1
])
def test_a_redirect_to_a_metadata_or_private_address_is_refused_before_connecting(
        feed_server: FeedServer, target: str, kind: str) -> None:
    feed_server.add("/feed", redirect_to=target)
    started = time.monotonic()
    assert refusal(feed_server.url("/feed"), policy("127.0.0.0/8, 10.0.0.0/8, ::/0")) == \
        f"refused: a redirect to {kind} address the feed's URL does not name"
    assert time.monotonic() - started < 1                   # no connection was tried


def test_a_feed_whose_own_private_url_is_allowed_is_fetched(private_server: FeedServer) -> None:
    url = private_server.url("/admin/secret-feed")
    assert fetch(url, policy("127.0.0.0/8")).body == SECRET_FEED
    assert refusal(url, policy("127.0.0.1")) == \
        "refused: 127.0.0.2 is a loopback address (allow it with WATCHER_ALLOW_PRIVATE)"
    assert refusal(url, NO_PRIVATE).startswith("refused: 127.0.0.2 is a loopback address")
    assert len(private_server.requests) == 1


def test_a_redirect_on_the_feeds_own_private_host_is_followed(feed_server: FeedServer) -> None:
    feed_server.add("/old", redirect_to=feed_server.url("/new"))
    feed_server.add("/new", RSS)
    result = fetch(feed_server.url("/old"))
    assert result.body == RSS and result.final_url == feed_server.url("/new")


def test_the_connection_goes_to_the_address_checked_not_to_a_second_lookup(
        feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name server answering 127.0.0.1 to the check and 127.0.0.2 afterwards (rebinding)."""
    feed_server.add("/feed", RSS)
    with FeedServer(host="127.0.0.2", port=feed_server.port) as rebound:
        rebound.add("/feed", SECRET_FEED)
        real, lookups = socket.getaddrinfo, []

        def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host != "feeds.test":
                return real(host, *args, **kwargs)
            lookups.append(host)
            return real("127.0.0.1" if len(lookups) == 1 else "127.0.0.2", *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        result = fetch(f"http://feeds.test:{feed_server.port}/feed", policy("127.0.0.1"))
    assert result.body == RSS and rebound.requests == [] and lookups == ["feeds.test"]
    assert feed_server.requests[0].headers["Host"] == f"feeds.test:{feed_server.port}"


def test_https_keeps_the_urls_name_for_sni_and_the_certificate_while_pinned(
        tmp_path: Path) -> None:
    """https://localhost/: the connection goes to the checked 127.0.0.1, and TLS still
    names, and verifies, localhost."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    trust = ssl.create_default_context(cafile=str(cert))
    with FeedServer(tls=(cert, key)) as server:
        server.add("/feed", RSS)
        url = f"https://localhost:{server.port}/feed"
        assert fetch(url, policy("127.0.0.1"), verify=trust).body == RSS
        assert server.requests[0].headers["Host"] == f"localhost:{server.port}"
        assert (
            refusal(url, policy("127.0.0.1")) == "TLS error: CERTIFICATE_VERIFY_FAILED"
        )  # untrusted


# --- credentials --------------------------------------------------------------------------------


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_url_credentials_go_to_the_feeds_own_origin_and_never_further(
        feed_server: FeedServer) -> None:
    with FeedServer() as elsewhere:  # same host, another port: another origin
        elsewhere.add("/feed", RSS)
        feed_server.add("/feed", redirect_to=feed_server.url("/moved"))
        feed_server.add("/moved", redirect_to=elsewhere.url("/feed"))
        url = feed_server.url("/feed").replace("http://", "http://reader:s%3Acret@")
        result = fetch(url)
        assert result.body == RSS and "s%3Acret" not in result.final_url
        own = [seen.headers.get("Authorization") for seen in feed_server.requests]
        assert own == [basic("reader", "s:cret")] * 2       # both hops on the feed's origin
        assert "Authorization" not in elsewhere.requests[0].headers
