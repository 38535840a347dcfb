"""``python -m tlsward_biometric``: the same command as ``tlsward-biometric``."""

from tlsward_biometric.cli import main

if __name__ == "__main__":
    main()
