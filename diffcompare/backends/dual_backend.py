"""The forward-mode namespace: every operation carries tangents on dual numbers."""

from __future__ import annotations

from ..forward.dual import apply
from ..namespace import Namespace
from .traced_functions import traced_functions

__all__ = ["dual_namespace"]

dual_namespace = Namespace("forward", traced_functions(apply))
