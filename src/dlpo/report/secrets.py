"""Defence in depth for secrets: API keys come only from the environment and are never written to a
run, but anything a report or tracker writes is also scrubbed of the values of secret-looking
environment variables (a model could echo a key it saw in an error message)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

_SECRET_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$", re.IGNORECASE)
MASK = "***"


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Values (8+ characters) of environment variables whose name looks like a secret."""
    env = os.environ if env is None else env
    values = {v for k, v in env.items() if _SECRET_NAME.search(k) and len(v) >= 8}
    return sorted(values, key=len, reverse=True)


def scrub(text: str, env: Mapping[str, str] | None = None) -> str:
    """`text` with every secret value from the environment replaced by `***`."""
    for value in secret_values(env):
        text = text.replace(value, MASK)
    return text
