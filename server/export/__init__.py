"""``heritage export OUT_DIR --base-url URL``: the museum as static files (see docs/export.md).

- ``site.py``: where each URL of the application lives among the files (the layout);
- ``rewrite.py``: finding and rewriting the links of pages, IIIF JSON and sitemaps;
- ``level0.py``: Image API level 0 info.json and the image files viewers ask for;
- ``images.py``: those files (and single images pages link to), rendered by the Image API;
- ``run.py``: the crawl through the application's WSGI interface, then the rewrite;
- ``search.py``: the Pagefind index of the OCR text and the static search page;
- ``writer.py``: incremental output (content hashes, removal of what was withdrawn).
"""
from __future__ import annotations

from .run import ExportReport, export_site

__all__ = ["ExportReport", "export_site"]
