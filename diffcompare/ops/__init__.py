"""What can be differentiated: the operation table, the namespaces built from it and the traced values."""

from .table import ALIASES, CONSTANTS, CONSTRUCTORS, DERIVED, OPS, OpSpec, canonical_name, operation

__all__ = ["ALIASES", "CONSTANTS", "CONSTRUCTORS", "DERIVED", "OPS", "OpSpec", "canonical_name", "operation"]
