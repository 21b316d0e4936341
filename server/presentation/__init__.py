"""Presentation API 3.0: pure builders (iiif-prezi3) for manifests and collections; the views serve their output.

The builders are imported lazily: the web server only serves pre-built JSON and should not pay
for importing iiif-prezi3 and its pydantic models (about half a second) in every worker.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .build import ChildRef, PageInfo, build_collection, build_manifest
    from .urls import Urls

__all__ = ["ChildRef", "PageInfo", "Urls", "build_collection", "build_manifest"]


def __getattr__(name: str) -> Any:
    if name == "Urls":
        from .urls import Urls
        return Urls
    if name in __all__:
        from . import build
        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
