"""tlsward biometric service: template enrolment and 1:1 verification behind mutual TLS."""

__version__ = "0.1.0"
