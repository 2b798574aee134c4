"""The long-running service: APScheduler jobs around the cycle functions in `service`.

Jobs run one at a time (a single worker thread), so a digest never reads a half-polled
database and SQLite sees one writer. Each feed keeps its own interval: the poll job runs
every minute and polls only the feeds whose next due time (interval or backoff) has come.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from watcher import __version__
from watcher.config import Config, load_config
from watcher.context import Context
from watcher.deliver.outbox import deliver_pending
from watcher.errors import ConfigError, DamagedDatabaseError, WatcherError, damage_in
from watcher.judge.match import Matcher
from watcher.service import (
    judge,
    mark_alive,
    poll_cycle,
    prepare_alerts,
    prepare_digest,
    prune,
    rematch,
    start_run,
)
from watcher.store import Instance
from watcher.systemd import notify, watchdog_interval

log = logging.getLogger("watcher")


def _rules_changed(old: Config, new: Config) -> bool:
    """Whether an edit touched what matching depends on (indicators, cues, term sets)."""
    return (old.indicators, old.certainty, old.terms) != (new.indicators, new.certainty, new.terms)


def _another_live_process(host: str | None, pid: int | None) -> bool:
    """Whether host:pid is a running process on this host other than this one."""
    if host != socket.gethostname() or pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)             # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:         # it exists, under another user
        return True
    return True


class Service:
    """Owns the scheduler and the current context; SIGHUP swaps the config, SIGTERM stops."""

    def __init__(self, ctx: Context, config_path: Path) -> None:
        self.ctx = ctx
        self.config_path = config_path
        self.lock = threading.Lock()
        self.stopping = threading.Event()   # set by SIGTERM: a poll in progress winds down
        self.damage: DamagedDatabaseError | None = None    # found while running: stop, exit 1
        # Work runs on one thread; the heartbeat on its own, so a long poll does not starve it
        # but a scheduler that stops dispatching does.
        self.scheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(1), "heartbeat": ThreadPoolExecutor(1),
                       "instance": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})

    def run(self) -> None:
        """Schedule the jobs, catch up on a digest missed while down, block until stopped."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, self._reload)
        start_run(self.ctx, "run")
        self.take_back_leases()
        self._schedule()
        log.info("watcher started: %d feed(s), %d indicator(s), digest %s %s",
                 len(self.ctx.config.feeds), len(self.ctx.config.indicators),
                 self.ctx.config.digest.schedule, self.ctx.config.digest.timezone)
        self.scheduler.start()
        notify("STOPPING=1")
        if self.damage is not None:         # not one more write to a damaged file
            self.ctx.store.close()
            raise self.damage
        self.heartbeat(stopping=True)
        self.ctx.store.close()
        log.info("watcher stopped")

    def _schedule(self) -> None:
        s = self.scheduler
        beat_every = max(1.0, self.ctx.settings.lease_seconds / 3)
        s.add_job(self.heartbeat, IntervalTrigger(seconds=beat_every),
                  executor="instance", id="instance", name="instance heartbeat, lease renewal",
                  next_run_time=self.ctx.clock())
        s.add_job(self._guard(self.poll), IntervalTrigger(seconds=self.ctx.settings.poll_tick),
                  id="poll", name="poll due feeds", next_run_time=self.ctx.clock())
        s.add_job(self._guard(self.digest), self._digest_trigger(), id="digest",
                  name="weekly digest")
        s.add_job(self._guard(self.digest), id="digest-catch-up", name="digest missed while down")
        s.add_job(self._guard(self.judge), CronTrigger(hour=0, minute=5, timezone="UTC"),
                  id="criterion", name="daily criterion")
        s.add_job(self._guard(self.outbox), IntervalTrigger(minutes=1), id="outbox",
                  name="send queued messages")
        s.add_job(notify, args=["READY=1\nSTATUS=scheduler running"], executor="heartbeat",
                  id="ready", name="tell systemd we are up")
        beat = watchdog_interval()
        if beat:
            s.add_job(notify, IntervalTrigger(seconds=beat), args=["WATCHDOG=1"],
                      executor="heartbeat", id="watchdog", name="systemd watchdog heartbeat")

    def _digest_trigger(self) -> CronTrigger:
        d = self.ctx.config.digest
        return CronTrigger(day_of_week=d.schedule.split()[0], hour=d.at.hour, minute=d.at.minute,
                           timezone=d.tz)

    def heartbeat(self, stopping: bool = False) -> None:
        """Tell other instances I am alive and keep my leases and send claims from expiring;
        on a clean stop, hand my leases back at once. Runs on its own thread: a long poll
        does not stop it, a dead process does."""
        settings, now = self.ctx.settings, self.ctx.clock()
        try:
            me = Instance(settings.instance_id, socket.gethostname(), os.getpid(), __version__)
            self.ctx.store.heartbeat(me, now, now + timedelta(seconds=settings.lease_seconds),
                                     stopping=stopping)
        except DamagedDatabaseError as exc:
            self._give_up(exc)
        except WatcherError as exc:
            log.warning("heartbeat not recorded: %s", exc)

    def take_back_leases(self) -> int:
        """At start I hold no lease yet, so leases under my id were left by my previous run
        (kill -9, power loss): take them back now instead of waiting WATCHER_LEASE_SECONDS
        (the first heartbeat would even have renewed them). Not when my id's heartbeat comes
        from another live process on this host: two services sharing one id."""
        settings, now = self.ctx.settings, self.ctx.clock()
        alive_since = now - timedelta(seconds=settings.lease_seconds)
        twin = next((i for i in self.ctx.store.instances(now, alive_since, alive_since)
                     if i.id == settings.instance_id and i.alive
                     and _another_live_process(i.host, i.pid)), None)
        if twin is not None:
            log.warning("instance id %s is in use by pid %s on this host: its leases are left "
                        "alone (give each instance its own WATCHER_INSTANCE_ID)",
                        settings.instance_id, twin.pid)
            return 0
        taken = self.ctx.store.release_leases(settings.instance_id)
        if taken:
            log.info("took back %d feed lease(s) left by the previous run of %s",
                     taken, settings.instance_id)
        return taken

    def poll(self) -> None:
        """Poll due feeds; what crossed an alert rule goes out at once, not at the next tick."""
        report = poll_cycle(self.ctx, stop=self.stopping)
        if report.new_items and prepare_alerts(self.ctx):
            deliver_pending(self.ctx)

    def digest(self) -> None:
        prepare_digest(self.ctx)
        deliver_pending(self.ctx)

    def judge(self) -> None:
        """Daily: the criterion can change with no new item (6 and 12 months pass); alert it.
        Also the daily moment for the retention policy and for the integrity check of a
        database too big to check on every open."""
        self.ctx.store.recheck()
        prune(self.ctx)
        if prepare_alerts(self.ctx):
            deliver_pending(self.ctx)

    def outbox(self) -> None:
        deliver_pending(self.ctx)

    def _guard(self, job: Callable[[], None]) -> Callable[[], None]:
        """A failing job is logged and the service keeps running: an expected error in one
        line (its traceback under -v), anything else as the bug it is, with its traceback.
        Either way the log record names the job and the exception's type (JSON logs keep
        both)."""
        name = getattr(job, "__name__", "job")

        def run() -> None:
            with self.lock:
                try:
                    job()
                    mark_alive(self.ctx)
                except WatcherError as exc:
                    if (damage := damage_in(exc)) is not None:
                        self._give_up(damage)
                        return
                    log.error("%s failed: %s", name, exc,
                              exc_info=exc if log.isEnabledFor(logging.DEBUG) else None,
                              extra={"job": name, "exc_type": type(exc).__name__})
                except Exception:
                    log.exception("%s failed with an unexpected error (a bug)", name,
                                  extra={"job": name})
        run.__name__ = name
        return run

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: finishing the job in progress, then stopping", signum)
        self._shutdown()

    def _give_up(self, exc: DamagedDatabaseError) -> None:
        """The database turned out damaged while running: stop rather than write on; `run`
        then exits 1 with the error (systemd's restart meets the check on open and stops)."""
        log.critical("stopping: %s", exc, extra={"exc_type": type(exc).__name__})
        self.damage = exc
        self._shutdown()

    def _shutdown(self) -> None:
        self.stopping.set()
        notify("STOPPING=1")
        if self.scheduler.running:
            threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True},
                             daemon=True).start()

    def _reload(self, _signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=self.reload, daemon=True).start()

    def reload(self) -> bool:
        """Take a new indicators.yaml if it is valid; otherwise log why and keep the old one."""
        notify("RELOADING=1")
        try:
            config = load_config(self.config_path)
            matcher = Matcher(config)
        except ConfigError as exc:
            log.error("reload refused, keeping the running config:\n%s", exc)
            notify("READY=1\nSTATUS=reload refused: config invalid, old config running")
            return False
        with self.lock:
            old = self.ctx.config
            self.ctx.store.sync_feeds(config.feeds, self.ctx.clock())
            self.ctx = Context(config, self.ctx.settings, self.ctx.store, matcher, self.ctx.clock,
                               self.ctx.run_id)
            if _rules_changed(old, config):     # history and the criterion follow the new rules
                try:
                    rematch(self.ctx)
                    judge(self.ctx)
                except WatcherError as exc:
                    log.error("rematch after reload failed: %s", exc)
        if self.scheduler.running:      # new feeds are due now: poll them without waiting a tick
            self.scheduler.modify_job("poll", next_run_time=self.ctx.clock())
            self.scheduler.reschedule_job("digest", trigger=self._digest_trigger())
        log.info("reloaded %s: %d feed(s), %d indicator(s)", self.config_path, len(config.feeds),
                 len(config.indicators))
        notify("READY=1\nSTATUS=scheduler running")
        return True
