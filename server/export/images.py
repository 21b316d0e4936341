"""Image files of the export: whole level 0 services, and single images that pages link to.

Every file is what the application's Image API answers (through the test client, so the tile
shortcut and the caches serve it as they serve viewers), written under the URL path viewers will
ask for. Each file records its source, the master's content key and the canonical request: a
re-export skips it without rendering when neither changed.
"""
from __future__ import annotations

import json

from flask.testing import FlaskClient

from ..config import Settings
from ..errors import HeritageError
from ..image.request import Limits, parse, resolve
from ..publication import Publication
from . import level0
from .site import Site
from .writer import ExportWriter


class ImageFiles:
    def __init__(self, client: FlaskClient, pub: Publication, site: Site, writer: ExportWriter) -> None:
        self.client = client
        self.pub = pub
        self.site = site
        self.writer = writer
        settings: Settings = client.application.config["SETTINGS"]
        self.limits = Limits.of(settings)

    def file(self, image_id: str, rest: str) -> str | None:
        """One image request (``region/size/rotation/quality.format``) written as a file, or None."""
        rel = f"iiif/3/image/{image_id}/{rest}"
        if self.writer.has(rel):
            return rel
        parts = rest.split("/")
        record = self.pub.image(image_id)
        if record is None or len(parts) != 4:
            return None
        try:
            req = resolve(parse(3, *parts), record.pyramid.width, record.pyramid.height, self.limits)
        except HeritageError:
            return None
        canonical = req.canonical(3)
        source = f"{record.key}/{canonical}"
        if self.writer.unchanged_source(rel, source):
            return rel
        response = self.client.get(f"/iiif/3/image/{image_id}/{canonical}", base_url=self.site.origin + "/")
        if response.status_code != 200:
            return None
        self.writer.write(rel, response.get_data(), source)
        return rel

    def service(self, image_id: str) -> str | None:
        """The level 0 service of one image: its info.json and every file it implies. A problem, or None."""
        if self.pub.image(image_id) is None:
            return f"no image {image_id!r} in this publication"
        response = self.client.get(f"/iiif/3/image/{image_id}/info.json", base_url=self.site.origin + "/")
        if response.status_code != 200:
            return f"no info.json for image {image_id!r} ({response.status_code})"
        info = level0.level0_info(response.get_json())
        self.writer.write(f"iiif/3/image/{image_id}/info.json",
                          json.dumps(info, ensure_ascii=False, indent=2).encode("utf-8"))
        for path in level0.image_paths(info):
            self.file(image_id, path)
        return None
