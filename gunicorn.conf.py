"""gunicorn's hooks for the portal: gunicorn reads this file from the directory it starts in.

(The README's command starts it from the checkout. With `-c another.py`, copy the hook.)
"""

from __future__ import annotations

from hiveo.auth.ratelimit import per_worker_warning


def post_worker_init(worker) -> None:
    """Say, in each worker's log, when the sign-in rate limit is counted per worker."""
    config = getattr(worker.wsgi, "config", None)  # the Flask app; None for another WSGI app
    if config is None:
        return
    warning = per_worker_warning(worker.cfg.workers, config.get("RATELIMIT_STORAGE_URI", ""))
    if warning:
        worker.log.warning(warning)
