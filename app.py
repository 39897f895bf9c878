"""WSGI entry point: `flask --app app ...`, `gunicorn app:app`."""

from hiveo import create_app

app = create_app()
