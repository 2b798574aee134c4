"""watcher: an indicator-tracking alert daemon.

Pipeline (one module a stage): fetch → parse → store → match → events → score →
criterion → report → render → deliver. `service` runs one cycle; `scheduler`
runs cycles forever; `cli` is the command line.
"""

__version__ = "0.1.0"
# The name on the package index (`pip install watcher-indicators`): "watcher" there is an
# unrelated project. The command and the import package are `watcher`.
DISTRIBUTION = "watcher-indicators"
USER_AGENT = f"watcher/{__version__} (+https://github.com/watcher-indicators/watcher; feed poller)"
