"""The built-in test functions: one record each."""
