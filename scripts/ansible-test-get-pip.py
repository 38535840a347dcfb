"""Stand-in for the pip bootstrap script ansible-test downloads into a new virtual environment.

ansible-test runs it with the venv's Python and pip's install arguments. This one installs pip
from the interpreter's own wheel (ensurepip), then lets that pip install what was asked for from
the configured package index. ``--no-setuptools`` and ``--no-wheel`` belong to the bootstrap
script, not to pip, and are dropped.
"""

from __future__ import annotations

import subprocess
import sys

BOOTSTRAP_ONLY = {"--no-setuptools", "--no-wheel"}


def main() -> None:
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], check=True)
    args = [arg for arg in sys.argv[1:] if arg not in BOOTSTRAP_ONLY]
    subprocess.run([sys.executable, "-m", "pip", "install", *args], check=True)


if __name__ == "__main__":
    main()
