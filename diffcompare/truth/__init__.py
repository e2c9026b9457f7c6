"""The 50-digit truth and the error measures against it."""
