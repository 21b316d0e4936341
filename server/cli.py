"""The ``heritage`` command: a contract other tools script against (ingest, serve, demo, export)."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from .config import PROJECT_ROOT, Settings

DEMO_HOLDINGS = PROJECT_ROOT / "examples" / "holdings"


def default_workers() -> int:
    return 2 * (os.cpu_count() or 1) + 1


@click.group(help="Heritage Lab: publish digitized holdings as IIIF (Image 3.0, Presentation 3.0, Content Search).")
@click.version_option(package_name="heritage-lab")
def main() -> None:
    pass


@main.command()
@click.argument("holdings_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Rebuild everything, even unchanged items.")
@click.option("--workers", type=int, default=None, help="Parallel processes (default: one per core).")
def ingest(holdings_dir: Path, force: bool, workers: int | None) -> None:
    """Ingest HOLDINGS_DIR into a new publication (pyramids, catalog, manifests, index), then switch to it."""
    from .ingest.run import run_ingest
    settings = Settings.load({"workers": workers} if workers is not None else None)
    report = run_ingest(holdings_dir, settings, force=force, progress=sys.stderr.isatty())
    click.echo(report.summary())
    if report.errors:
        sys.exit(1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn worker processes (default: 2 × cores + 1).")
def serve(host: str, port: int, workers: int | None) -> None:
    """Serve the current publication with gunicorn (production server)."""
    run_gunicorn(host, port, workers or default_workers())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn worker processes (default: 2 × cores + 1).")
def demo(host: str, port: int, workers: int | None) -> None:
    """Ingest the bundled sample holdings (examples/holdings) and serve them."""
    from .ingest.run import run_ingest
    settings = Settings.load()
    report = run_ingest(DEMO_HOLDINGS, settings, force=False, progress=sys.stderr.isatty())
    click.echo(report.summary())
    shown = host if host not in ("0.0.0.0", "::") else "127.0.0.1"
    click.echo(f"Heritage Lab demo: http://{shown}:{port}/  (top collection: http://{shown}:{port}/iiif/3/collection/top)")
    run_gunicorn(host, port, workers or default_workers())


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--base-url", required=True, help="The public URL the files will be served at (ids and links use it).")
def export(out_dir: Path, base_url: str) -> None:
    """Export the current publication as static files in OUT_DIR: pages, IIIF (Image API level 0), search index."""
    from .errors import HeritageError
    from .export import export_site
    try:
        report = export_site(Settings.load(), out_dir, base_url, progress=sys.stderr.isatty())
    except HeritageError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(report.summary())
    if report.problems:
        sys.exit(1)


def run_gunicorn(host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}", "workers": workers, "worker_class": "sync",
                "accesslog": None, "errorlog": "-", "loglevel": "warning", "timeout": 120,
                "keepalive": 2, "preload_app": True,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from . import create_app
            return create_app()

    _App().run()


if __name__ == "__main__":  # pragma: no cover
    main()
