"""Offline scripts that build the small tables shipped in the package from raw public data."""
