"""IIIF Image API 3.0 and 2.1: pure request parsing, pyvips rendering, info.json, thin views."""
