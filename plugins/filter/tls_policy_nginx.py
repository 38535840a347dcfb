"""Ansible filter tls_policy_nginx: the values the nginx templates write, rendered from a profile."""

from __future__ import annotations

from typing import Any

from ansible_collections.tlsward.tls.plugins.plugin_utils.filtering import call_filter

DOCUMENTATION = r"""
name: tls_policy_nginx
author: tlsward maintainers
version_added: 0.1.0
short_description: Render a tlsward policy profile as nginx TLS directives
description:
  - Returns the nginx values (ssl_protocols, ssl_ciphers, ssl_conf_command, ssl_ecdh_curve, ...).
  - C(directives) is the table of every TLS directive the profile decides, in the order the
    nginx_tls template writes them (it loops over the table) and the compliance drift check compares
    against - a list of C({directive, value}), value in nginx syntax, none for a directive that must
    not be written.
options:
  session_cache_size:
    description:
      - Size of the shared TLS session cache written into C(ssl_session_cache).
      - Defaults to C(tlsward.policy.NGINX_SESSION_CACHE_SIZE) (10m).
    type: str
extends_documentation_fragment:
  - tlsward.tls.policy.profile_input
  - tlsward.tls.policy.openssl_version
  - tlsward.tls.policy.overrides
"""

EXAMPLES = r"""
- name: Use tls_policy_nginx
  ansible.builtin.set_fact:
    ssl_ciphers: >-
      {{ (tlsward_policy | tlsward.tls.tls_policy_nginx(openssl_version=target_openssl)).ssl_ciphers }}
"""

RETURN = r"""
_value:
  description: The rendered nginx values.
  type: dict
"""


def tls_policy_nginx(
    policy: Any,
    openssl_version: str | None = None,
    overrides: dict[str, Any] | None = None,
    session_cache_size: str | None = None,
) -> dict[str, Any]:
    size = {"session_cache_size": session_cache_size} if session_cache_size else {}
    return call_filter(
        "tls_policy_nginx", "tlsward.policy:render_nginx", policy, openssl_version, overrides, **size
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"tls_policy_nginx": tls_policy_nginx}
