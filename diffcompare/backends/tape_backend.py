"""The tape namespace: every operation is recorded on diffcompare's own tape."""

from __future__ import annotations

from ..namespace import Namespace
from ..tape.engine import apply
from .traced_functions import traced_functions

__all__ = ["tape_namespace"]

tape_namespace = Namespace("tape", traced_functions(apply))
