"""tlsward: one TLS policy that drives configuration, validation and audit."""

__version__ = "0.1.0"
