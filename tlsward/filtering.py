"""What every tlsward filter plugin does around its plain function: call it and turn a
TlswardError (or a wrong keyword argument) into an AnsibleFilterError that names the filter and
lists every problem, one per line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ansible.errors import AnsibleFilterError

from tlsward.errors import TlswardError

T = TypeVar("T")


def filter_message(name: str, exc: TlswardError) -> str:
    """``<source>: <problem>`` per line; prefixed with the filter's name when another part of
    tlsward (the policy loader, say) raised the error."""
    lines = "\n".join(f"{exc.source}: {problem}" for problem in exc.problems)
    return lines if exc.source == name else f"{name}: {lines}"


def call_filter(name: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``func(*args, **kwargs)``, its errors raised as AnsibleFilterError naming filter ``name``."""
    try:
        return func(*args, **kwargs)
    except TlswardError as exc:
        raise AnsibleFilterError(filter_message(name, exc)) from None
    except TypeError as exc:  # an unknown or missing filter argument in the template
        raise AnsibleFilterError(f"{name}: {exc}") from None
