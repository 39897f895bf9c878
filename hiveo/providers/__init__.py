"""Provider platforms: one module per contract (their simulator is `simulator/`, not here).

The registry below is the only place that lists the providers. A provider
module exposes PROVIDER (its id), DISPLAY_NAME, URL_KEY (the config key whose
emptiness turns it off), CODES (its type codes -> catalogue codes) and
`from_config(config, *, session=None)`; adding a platform is one such module
and one line in `_MODULES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import requests

from . import actradis, attestation_legale
from .records import Connector

# In display order.
_MODULES: tuple[ModuleType, ...] = (attestation_legale, actradis)
_BY_ID: dict[str, ModuleType] = {module.PROVIDER: module for module in _MODULES}

PROVIDERS: dict[str, str] = {module.PROVIDER: module.DISPLAY_NAME for module in _MODULES}


def _module(provider: str) -> ModuleType:
    try:
        return _BY_ID[provider]
    except KeyError:
        raise ValueError(
            f"unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)}"
        ) from None


def supplied_types(provider: str) -> frozenset[str]:
    """The catalogue codes that `provider` can supply."""
    return frozenset(_module(provider).CODES.values())


def connector_for(
    provider: str, config: Mapping[str, Any], *, session: requests.Session | None = None
) -> Connector | None:
    """A new connector (close it when done), or None when the provider's URL is empty.

    Without `session`, the connector opens its own and closes it in `close()`;
    a given session is left open (only the connector's retry adapter, mounted
    on the provider's URL, is closed).
    """
    return _module(provider).from_config(config, session=session)


def configured_providers(config: Mapping[str, Any]) -> list[str]:
    """The providers whose URL is set, in display order."""
    return [
        provider
        for provider, module in _BY_ID.items()
        if str(config.get(module.URL_KEY) or "").strip()
    ]


__all__ = ["PROVIDERS", "configured_providers", "connector_for", "supplied_types"]
