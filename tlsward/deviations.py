"""A profile's ``deviations`` that reject items (e.g. NIST and BSI reject ChaCha20 and X25519)."""

from __future__ import annotations

import re
from typing import Any


def rejections(data: dict[str, Any], parameter: str, item: str) -> list[str]:
    """Reasons the profile's deviations give for rejecting ``item`` in ``parameter``.

    A deviation rejects when it has ``reject: {match: <regex, case-insensitive>, in: [parameter...]}``
    and the regex is found in the item's name.
    """
    reasons = []
    for deviation in data.get("deviations") or []:
        if not isinstance(deviation, dict):
            continue
        reject = deviation.get("reject")
        if not isinstance(reject, dict) or parameter not in (reject.get("in") or []):
            continue
        if re.search(str(reject.get("match", "")), item, flags=re.IGNORECASE):
            reason = deviation.get("reason") or deviation.get("summary") or "rejected"
            reasons.append(f"{reason} (policy {data['name']}, deviation {deviation.get('id', '?')})")
    return reasons
