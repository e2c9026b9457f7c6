"""The tape namespace: every operation is recorded on diffcompare's own tape."""

from __future__ import annotations

from ...ops.namespace import Namespace
from ...ops.traced_functions import traced_functions
from .engine import apply

__all__ = ["tape_namespace"]

tape_namespace = Namespace("tape", traced_functions(apply, apply_stacks_lists=True))
