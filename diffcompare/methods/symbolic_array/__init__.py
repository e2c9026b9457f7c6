"""Symbolic differentiation at the array level: expression DAG, reverse accumulation, numpy code."""
