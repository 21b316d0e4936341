"""IIIF Change Discovery 1.0: a log of what changed between publication generations, and its feed."""
from .log import ChangeLog, log_path

__all__ = ["ChangeLog", "log_path"]
