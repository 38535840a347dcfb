"""load_policy copies a profile given as a mapping into plain data, whatever containers and
scalar subclasses it arrives in (Ansible hands over lazy containers with tagged values)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tlsward.policy import load_policy, plain


class Tagged(str):
    """A str subclass, as Ansible's tagged strings are."""


class TaggedInt(int):
    pass


class ReadOnly(Mapping[str, Any]):
    """A mapping that is not a dict."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def test_plain_gives_builtin_types_only() -> None:
    value = ReadOnly({Tagged("a"): (Tagged("x"), TaggedInt(3)), "b": {"c": [1.5, None, True]}})
    out = plain(value)
    assert out == {"a": ["x", 3], "b": {"c": [1.5, None, True]}}
    assert type(out) is dict
    assert [type(k) for k in out] == [str, str]
    assert [type(v) for v in out["a"]] == [str, int]


def test_a_mapping_profile_is_copied_not_shared() -> None:
    base = load_policy("biometric-strict")
    given = ReadOnly({**base, "name": Tagged("biometric-strict-copy")})
    loaded = load_policy(given)
    assert loaded["name"] == "biometric-strict-copy"
    assert type(loaded["name"]) is str
    loaded["tls12_ciphers"].append("AES128-SHA")
    loaded["session"]["tickets"] = "changed"
    assert "AES128-SHA" not in base["tls12_ciphers"]
    assert base["session"]["tickets"] != "changed"
    assert load_policy("biometric-strict") == base
