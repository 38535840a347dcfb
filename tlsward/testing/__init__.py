"""Test helpers shipped with tlsward so every test suite (unit, integration, service) can use them."""
