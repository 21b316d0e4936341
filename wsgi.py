"""WSGI entry point for a server of your choice (``gunicorn wsgi:app``); ``heritage serve`` runs granian with sane defaults and its access log (server/serving.py)."""
from server import create_app

app = create_app()
