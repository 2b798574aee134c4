"""The analyst's workbench (issue 15): `watcher web`, a server-rendered web app over the same
database as the service. Read the watch, open an event's evidence, confirm or dismiss
candidates, silence alerts; /metrics and /healthz for ops.

options.py (listen address, users file, proxy), users.py (the users file, argon2 hashes),
sessions.py (signed cookies, CSRF tokens, login rate limit), views.py (the pages' models, pure),
app.py (the Starlette app: routes, security headers, who may do what), pages.py (what is read),
actions.py (what is written), ops.py (/healthz, /metrics), serve.py (uvicorn, the command).
"""
