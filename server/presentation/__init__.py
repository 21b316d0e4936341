"""Presentation API 3.0: builders (pure, iiif-prezi3) for manifests and collections; the views serve their output."""
from .build import ChildRef, PageInfo, build_collection, build_manifest
from .urls import Urls

__all__ = ["ChildRef", "PageInfo", "Urls", "build_collection", "build_manifest"]
