"""Exception hierarchy.

`DlpoError` subclasses are *user-facing*: the CLI prints their message on one line and exits
with code 2 (bad input or configuration) unless the class says otherwise. Everything else is a bug
or a run failure (exit code 1).
"""

from __future__ import annotations


class DlpoError(Exception):
    """Base class of every error dlpo raises on purpose. The message must say what and where."""

    exit_code: int = 2


class ConfigError(DlpoError):
    """A configuration value, flag or engine spec is invalid."""


class DataError(DlpoError):
    """A data file or task is missing or malformed."""


class EngineError(DlpoError):
    """An LLM backend failed in a way retries could not fix (bad key, unknown model, server down)."""

    exit_code = 1


class EngineInputError(EngineError):
    """The engine refused what the user gave it: a bad API key (401/403), an unknown model or wrong
    base URL (404), a request longer than the context window (400), or a server that could not be
    reached at all before any call succeeded. An input error (exit code 2), not a run failure."""

    exit_code = 2


class BudgetExceeded(DlpoError):
    """A configured budget (calls, tokens, money) would be exceeded; work stopped cleanly."""

    exit_code = 1


class ModelInstallError(DlpoError):
    """A local model could not be found, assembled or verified."""
