"""What every tlsward filter plugin does around its plain function: call it and turn a
TlswardError (or a wrong keyword argument) into an AnsibleFilterError that names the filter and
lists every problem, one per line.

The plain function lives in the controller package ``tlsward`` (the collection's
``requirements.txt``). It is named as ``"tlsward.module:function"`` and imported when the filter
is first called, not when its plugin file is loaded: Ansible forks a worker process for every task
and host, and the first tlsward filter a task uses makes that worker import every filter file of
the collection. Importing the functions' dependencies there (sslyze for the compliance filter,
cryptography for the chain and pin filters) cost up to a second of controller CPU per task and
host. It also keeps the plugin files importable where the controller package is not installed
(``ansible-doc``, ``ansible-test sanity``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from ansible.errors import AnsibleFilterError

T = TypeVar("T")

MISSING_PACKAGE = (
    "{name}: the tlsward controller package is not importable by this Python ({error}); "
    "install the collection's requirements.txt into the Python that runs ansible-playbook"
)


def filter_message(name: str, exc: Any) -> str:
    """``<source>: <problem>`` per line; prefixed with the filter's name when another part of
    tlsward (the policy loader, say) raised the error."""
    lines = "\n".join(f"{exc.source}: {problem}" for problem in exc.problems)
    return lines if exc.source == name else f"{name}: {lines}"


def resolve(target: str | Callable[..., T], name: str = "tlsward") -> Callable[..., T]:
    """The function ``"package.module:name"`` names (imported now), or ``target`` itself."""
    if callable(target):
        return target
    module, _sep, attr = target.partition(":")
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        if not (exc.name or "").startswith("tlsward"):
            raise
        raise AnsibleFilterError(MISSING_PACKAGE.format(name=name, error=exc)) from None
    func: Callable[..., T] = getattr(loaded, attr)
    return func


def call_filter(name: str, func: str | Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)``, its errors raised as AnsibleFilterError naming filter ``name``.
    ``func`` is a function or ``"package.module:function"``, imported at this first call."""
    target = resolve(func, name)
    from tlsward.errors import TlswardError  # noqa: PLC0415 - resolve() made sure tlsward imports

    try:
        return target(*args, **kwargs)
    except TlswardError as exc:
        raise AnsibleFilterError(filter_message(name, exc)) from None
    except TypeError as exc:  # an unknown or missing filter argument in the template
        raise AnsibleFilterError(f"{name}: {exc}") from None
