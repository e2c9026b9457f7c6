"""The forward-mode namespace: every operation carries tangents on dual numbers."""

from __future__ import annotations

from ...ops.namespace import Namespace
from ...ops.traced_functions import traced_functions
from .dual import apply

__all__ = ["dual_namespace"]

dual_namespace = Namespace("forward", traced_functions(apply))
