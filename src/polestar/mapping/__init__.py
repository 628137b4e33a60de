"""Mappings between a system's own format and the canonical model."""
