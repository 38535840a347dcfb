"""The authorisation matrix: which role may do what, and in which group. The one place it is decided.

Every route states its action and calls ``authorize`` (through ``api.permit``) before anything
else happens; the service operations receive the resulting ``Grant`` and act only in its group.

========  ======  ======  ======  =====  ============
role      enrol   verify  delete  admin  health/ready
========  ======  ======  ======  =====  ============
enroller  own     own     own     -      yes
verifier  -       own     -       -      yes
operator  -       -       any     any    yes
monitor   -       -       -       -      yes
========  ======  ======  ======  =====  ============

``-``: 403 ``forbidden`` whatever the subject. ``own``: subjects of the device's own group only.
A request may name a group (``?group=``); for an ``own`` cell, another group is answered exactly
as a subject that does not exist there (verify: a non-match that counts against the device's
failure budget; delete: 404), so a device cannot tell another group's subjects from absent ones.
Enrolment into another group is refused (403) whatever the subject: an enrolled subject is bound
to its enroller's group. Health and readiness need no certificate at the service (nginx decides
who reaches them); every role may call them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType

from tlsward_biometric.errors import ForbiddenError
from tlsward_biometric.identity import DeviceIdentity, Role


class Action(StrEnum):
    ENROLL = "enroll"
    VERIFY = "verify"
    DELETE = "delete"
    ADMIN = "admin"
    HEALTH = "health"


class Reach(Enum):
    OWN_GROUP = "own group"
    ANY_GROUP = "any group"


OWN, ANY = Reach.OWN_GROUP, Reach.ANY_GROUP

MATRIX: Mapping[Role, Mapping[Action, Reach]] = MappingProxyType(
    {
        Role.ENROLLER: MappingProxyType(
            {Action.ENROLL: OWN, Action.VERIFY: OWN, Action.DELETE: OWN, Action.HEALTH: ANY}
        ),
        Role.VERIFIER: MappingProxyType({Action.VERIFY: OWN, Action.HEALTH: ANY}),
        Role.OPERATOR: MappingProxyType({Action.DELETE: ANY, Action.ADMIN: ANY, Action.HEALTH: ANY}),
        Role.MONITOR: MappingProxyType({Action.HEALTH: ANY}),
    }
)


@dataclass(frozen=True)
class Grant:
    """Permission for one request: who, which action, the group it acts in, and whether the
    device may see that group's subjects (if not, they are answered as absent)."""

    who: DeviceIdentity
    action: Action
    group: str
    visible: bool


def authorize(who: DeviceIdentity, action: Action, group: str | None = None) -> Grant:
    """The grant for ``who`` doing ``action`` in ``group`` (default: its own), or 403."""
    reach = MATRIX[who.role].get(action)
    if reach is None:
        raise ForbiddenError(f"a device with role {who.role} may not {action}")
    target = who.group if group is None else group
    visible = reach is Reach.ANY_GROUP or target == who.group
    if not visible and action is Action.ENROLL:
        raise ForbiddenError("an enroller enrols subjects into its own group only")
    return Grant(who, action, target, visible)
