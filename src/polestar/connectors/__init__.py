"""Connectors: one subpackage per transport, each with an inbound and/or outbound side."""
