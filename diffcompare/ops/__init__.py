"""What can be differentiated: the operation table, the namespaces built from it and the traced values."""

from .table import ALIASES, CONSTANTS, CONSTRUCTORS, OPS, OpSpec, canonical_name

__all__ = ["ALIASES", "CONSTANTS", "CONSTRUCTORS", "OPS", "OpSpec", "canonical_name"]
