"""Headless Chromium driven over the DevTools protocol, for the digest rendering test.

Debian's `chromium` is started on a loopback debugging port it picks itself (port 0; the
port is read from DevToolsActivePort in its profile dir), with networking features that
would phone home switched off; `websocket-client` speaks the protocol. Every wait is bounded.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import websocket

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"]
START_TIMEOUT = 30.0
CALL_TIMEOUT = 30.0


def chromium_path() -> str | None:
    """The Debian package's binary, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """One browser, one page: `open(file)`, `evaluate(js)`, `screenshot()`."""

    def __init__(self, width: int = 375, height: int = 2000) -> None:
        self.width, self.height = width, height
        self._profile = tempfile.TemporaryDirectory(prefix="watcher-chromium-")
        self._proc: subprocess.Popen[bytes] | None = None
        self._ws: websocket.WebSocket | None = None
        self._next_id = 0

    def __enter__(self) -> Self:
        binary = chromium_path()
        assert binary, "chromium is not installed (apt-get install -y chromium)"
        self._proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self._profile.name}",
             f"--window-size={self.width},{self.height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = self._wait_for_port()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            pages = [t for t in json.load(resp) if t.get("type") == "page"]
        self._ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"],
                                               timeout=CALL_TIMEOUT, suppress_origin=True)
        self.call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                  deviceScaleFactor=1, mobile=True)
        self.call("Page.enable")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._ws is not None:
            self._ws.close()
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        for _ in range(50):          # a renderer still exiting may write into the profile
            try:
                self._profile.cleanup()
                break
            except OSError:
                time.sleep(0.1)

    def _wait_for_port(self) -> int:
        """Chromium writes the port it bound to DevToolsActivePort once it listens."""
        marker = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self._proc is not None and self._proc.poll() is None, "chromium exited"
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            time.sleep(0.1)
        raise TimeoutError("chromium did not open its debugging port")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command, return its result; events arriving meanwhile are dropped."""
        assert self._ws is not None
        self._next_id += 1
        self._ws.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        return self._wait(lambda m: m.get("id") == self._next_id).get("result", {})

    def _wait(self, wanted: Any) -> dict[str, Any]:
        assert self._ws is not None
        deadline = time.monotonic() + CALL_TIMEOUT
        while time.monotonic() < deadline:
            message = json.loads(self._ws.recv())
            if "error" in message and message.get("id") == self._next_id:
                raise RuntimeError(f"DevTools: {message['error']}")
            if wanted(message):
                return message  # type: ignore[no-any-return]
        raise TimeoutError("no answer from chromium")

    def open(self, path: Path) -> None:
        """Load a local file and wait for its load event."""
        assert self._ws is not None
        self.call("Page.navigate", url=path.resolve().as_uri())
        self._wait(lambda m: m.get("method") == "Page.loadEventFired")

    def goto(self, url: str) -> None:
        """Load a URL (the workbench on 127.0.0.1) and wait for its load event."""
        self.call("Page.navigate", url=url)
        self._wait(lambda m: m.get("method") == "Page.loadEventFired")

    def submit(self, expression: str) -> None:
        """Run `expression` (which clicks a button or submits a form) and wait until the
        next page has loaded: the old document's marker is gone and the new one is complete."""
        self.evaluate("window.__before_submit = true")
        self.evaluate(expression)
        deadline = time.monotonic() + CALL_TIMEOUT
        while time.monotonic() < deadline:
            if self.evaluate("window.__before_submit === undefined && "
                             "document.readyState === 'complete'"):
                return
            time.sleep(0.05)
        raise TimeoutError("the form's next page did not load")

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def screenshot(self, full_page: bool = True, max_height: int | None = None) -> bytes:
        """PNG of the page, the whole document height when `full_page` (up to `max_height`)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            height = int(self.evaluate("document.documentElement.scrollHeight"))
            height = min(height, max_height or height)
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1})
        return base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])
