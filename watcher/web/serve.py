"""`watcher web`: the workbench served by uvicorn until stopped; `watcher web user add NAME`."""

from __future__ import annotations

import getpass
import logging
import sys
from pathlib import Path

import uvicorn

from watcher.config import Config
from watcher.context import Context
from watcher.errors import WatcherError
from watcher.settings import Settings
from watcher.web.app import build_app
from watcher.web.options import WebOptions
from watcher.web.users import add_user, load_users

log = logging.getLogger("watcher")


def serve(settings: Settings, config: Config, options: WebOptions) -> None:
    """Open the service's database (migrated if needed) and serve until SIGINT/SIGTERM."""
    users = load_users(options.users_file)
    if not users and not options.trusted_proxy:
        log.warning("workbench: no users (set WATCHER_WEB_USERS and run `watcher web user add "
                    "NAME`): nobody can log in%s",
                    ", reading is open" if options.public_read else "")
    ctx = Context.open(config, settings)
    app = build_app(ctx, options, users)
    host = f"[{options.host}]" if ":" in options.host else options.host
    print(f"watcher web: http://{host}:{options.port}/ (stop with Ctrl-C)", flush=True)
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning",
                access_log=False, server_header=False, date_header=True,
                # X-Forwarded-Proto (TLS at the proxy: Secure cookies) only from the proxy
                proxy_headers=bool(options.trusted_proxy),
                forwarded_allow_ips=options.trusted_proxy or "127.0.0.1")
    ctx.store.close()


def user_add(path: Path | None, name: str, read_only: bool, password_stdin: bool) -> str:
    """Add (or reset) a user in the users file; the password is prompted twice, or read as
    one line from stdin (scripts)."""
    if path is None:
        raise WatcherError("set WATCHER_WEB_USERS to the users file (it is created if missing)")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            raise WatcherError("the passwords differ; nothing written")
    role = "reader" if read_only else "analyst"
    new = add_user(path, name, password, role)
    return f"{'added' if new else 'updated'} {name} ({role}) in {path}"
