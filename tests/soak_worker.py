"""Fork server for the kill -9 soak (tests/test_soak.py); not part of the package.

Importing watcher takes most of a second; fifty kills of fresh `watcher run --once` processes
would spend the test's budget on imports. This process imports once, then for each request
forks a child that runs one full cycle, exactly as `watcher run --once` does
(`Context.open` + `run_once`) but at the clock the test gives. Each child leads a process
group of its own (with its parse worker processes), and the test kills the group with
SIGKILL wherever it happens to be, as systemd kills a service's whole control group; every
child opens the database itself, as a restarted service would. Protocol on stdin/stdout, one
line each:

    RUN <iso time>   → "<pid>"        a child is running the cycle at that clock
    WAIT             → "<exit code>"  the child's end (-9 when killed)
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from datetime import datetime
from pathlib import Path

from watcher.config import load_config
from watcher.context import Context
from watcher.service import run_once
from watcher.settings import load_settings


def cycle(config: Path, now: datetime) -> int:
    """One cycle in the child: 0 when it completed, 3 on an error (printed to stderr)."""
    try:
        run_once(Context.open(load_config(config), load_settings(), clock=lambda: now))
    except BaseException:  # noqa: BLE001 - the soak must see any failure, not lose it in a dead child
        traceback.print_exc()
        return 3
    return 0


def main() -> None:
    logging.basicConfig(level=os.environ.get("SOAK_LOG_LEVEL", "WARNING"), stream=sys.stderr,
                        format="soak child: %(levelname)s %(message)s")
    config = Path(sys.argv[1])
    child = 0
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "RUN":
            now = datetime.fromisoformat(arg)
            child = os.fork()
            if child == 0:
                os.setpgid(0, 0)
                os._exit(cycle(config, now))
            try:
                os.setpgid(child, child)   # here too: the group exists before the test can kill it
            except OSError:
                pass                       # the child did it first
            print(child, flush=True)
        elif command == "WAIT":
            _, status = os.waitpid(child, 0)
            print(os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    main()
