"""WSGI entry point: ``gunicorn wsgi:app`` (``heritage serve`` does the same with sane defaults)."""
from server import create_app

app = create_app()
