"""Engine specs: the short strings of the command line and their typed config-file equivalent.

Accepted spec strings:

    local                          the default local model for the role (forward: 0.5B, else 1.5B)
    local:qwen2.5-0.5b             a built-in local model (see `dlpo models`), served by a managed
                                   llama-server (dlpo.engines.local_engine)
    local:/path/to/model.gguf      any GGUF file
    openai:MODEL                   OpenAI's API (key from $OPENAI_API_KEY)
    openai:MODEL@http://host:port/v1   any OpenAI-compatible server
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dlpo.engines.base import Engine
from dlpo.errors import ConfigError

DEFAULT_FORWARD = "local:qwen2.5-0.5b"
DEFAULT_BACKWARD = "local:qwen2.5-1.5b"

SPEC_FORMS = (
    "local",
    "local:<model name>",
    "local:/path/to/model.gguf",
    "openai:<model>",
    "openai:<model>@http://host:port/v1",
)


class EngineSettings(BaseModel):
    """How an engine makes its calls — the one engine-settings model. A run's `engine:` section (and
    `dlpo optimize --timeout/--retries/--concurrency/--slots/--api-key-env`) holds these, applied to
    the engines it builds; None = the engine's default. They change how calls are made, not what they
    return (except `slots`, see the README on determinism), so a resumed run may change them.

    Local-only fields (`slots`, `n_ctx`, `n_threads`) and openai-only fields (`api_key_env`,
    `concurrency`) are ignored by the other kind. Defaults: local 900 s and 2 retries (CPU-bound
    servers), half the cores as slots (1-4), 4096 context tokens per slot, every core; openai 120 s, 4 retries,
    concurrency 8, key from $OPENAI_API_KEY."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    concurrency: int | None = Field(None, ge=1)  # requests in flight (openai)
    timeout: float | None = Field(None, gt=0)  # seconds per request
    max_retries: int | None = Field(None, ge=0)  # retries after the first attempt
    api_key_env: str | None = Field(None, min_length=1)  # the environment variable holding the key
    slots: int | None = Field(None, ge=1)  # local: parallel sequences of llama-server (1 = bit-exact)
    n_ctx: int | None = Field(None, ge=256)  # local: context tokens per slot
    n_threads: int | None = Field(None, ge=1)  # local: CPU threads

    def given(self) -> dict[str, Any]:
        """The settings that were set, as `parse_engine_spec` keyword arguments."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class EngineConfig(EngineSettings):
    """An engine: its kind, model and base URL, plus `EngineSettings` (the form of config files)."""

    kind: Literal["local", "openai"]
    model: str = Field(min_length=1)
    base_url: str | None = None
    seed: int = 0

    def spec(self) -> str:
        """The spec string of this config (settings other than kind/model/base_url are not in it)."""
        if self.kind == "openai" and self.base_url:
            return f"openai:{self.model}@{self.base_url}"
        return f"{self.kind}:{self.model}"


def default_spec(role: str) -> str:
    """The engine of `local` for a role: the small model answers, the larger one critiques/rewrites."""
    return DEFAULT_FORWARD if role == "forward" else DEFAULT_BACKWARD


def _bad(spec: str, why: str) -> ConfigError:
    return ConfigError(f"bad engine spec '{spec}': {why}; accepted forms: {', '.join(SPEC_FORMS)}")


def parse_engine_spec(spec: str, role: str = "forward", **settings: Any) -> EngineConfig:
    """Parse a spec string into an `EngineConfig`; `settings` fill the other fields (timeout, ...)."""
    text = spec.strip()
    if text == "local":
        text = default_spec(role)
    kind, sep, rest = text.partition(":")
    if not text:
        raise _bad(spec, "empty")
    if not sep:
        raise _bad(spec, "expected '<kind>:<model>'")
    if not rest.strip():
        raise _bad(spec, f"missing the model after '{kind}:'")
    rest = rest.strip()
    if kind == "local":
        from dlpo.engines.models import MODELS

        if not _is_path(rest) and rest not in MODELS:
            raise _bad(spec, f"unknown local model '{rest}' (built-in: {', '.join(sorted(MODELS))})")
        return config_from_mapping({"kind": "local", "model": rest, **settings}, where=f"engine '{spec}'")
    if kind == "openai":
        model, base_url = rest, None
        at = rest.rfind("@http")
        if at >= 0:
            model, base_url = rest[:at], rest[at + 1 :]
        elif "@" in rest:
            raise _bad(spec, "the base URL after '@' must start with http:// or https://")
        if not model:
            raise _bad(spec, "missing model name before '@'")
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise _bad(spec, "the base URL must start with http:// or https://")
        return config_from_mapping(
            {"kind": "openai", "model": model, "base_url": base_url, **settings}, where=f"engine '{spec}'"
        )
    raise _bad(spec, f"unknown engine kind '{kind}' (allowed: local, openai)")


def same_engine(forward_spec: str, backward_spec: str) -> bool:
    """Whether the two roles' specs name the same engine (`local` means a different model per
    role, so `local`/`local` are two engines)."""
    if forward_spec == backward_spec and forward_spec.strip() != "local":
        return True
    try:
        f = parse_engine_spec(forward_spec, role="forward")
        b = parse_engine_spec(backward_spec, role="backward")
    except ConfigError:  # not a spec string (e.g. a test's py: factory): compare the strings
        return forward_spec == backward_spec
    return (f.kind, f.model, f.base_url) == (b.kind, b.model, b.base_url)


def _is_path(model: str) -> bool:
    return "/" in model or model.endswith(".gguf") or model.startswith("~")


def config_from_mapping(data: Mapping[str, Any], where: str = "engine config") -> EngineConfig:
    """Validate a config-file mapping; errors name the key and the allowed values."""
    try:
        return EngineConfig.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(root)"
            problems.append(f"{key}: {err['msg']}")
        raise ConfigError(f"{where}: " + "; ".join(problems)) from None


def build_engine(spec_or_config: str | EngineConfig | Mapping[str, Any], role: str = "forward") -> Engine:
    """An engine from a spec string, an `EngineConfig` or a config mapping. Nothing is loaded or
    contacted here: local models load, and network clients connect, on the first request."""
    if isinstance(spec_or_config, str):
        config = parse_engine_spec(spec_or_config, role=role)
    elif isinstance(spec_or_config, EngineConfig):
        config = spec_or_config
    else:
        config = config_from_mapping(spec_or_config)
    if config.kind == "local":
        from dlpo.engines.local_engine import LocalEngine
        from dlpo.engines.models import MODELS

        if not _is_path(config.model) and config.model not in MODELS:
            raise ConfigError(
                f"engine config: model: unknown local model '{config.model}'; use a .gguf path or one of: "
                + ", ".join(sorted(MODELS))
            )

        return LocalEngine(
            config.model,
            seed=config.seed,
            **_given(
                slots=config.slots,
                ctx_per_slot=config.n_ctx,
                n_threads=config.n_threads,
                timeout=config.timeout,
                max_retries=config.max_retries,
            ),
        )
    from dlpo.engines.openai_engine import OpenAIEngine

    return OpenAIEngine(
        config.model,
        base_url=config.base_url,
        **_given(
            api_key_env=config.api_key_env,
            concurrency=config.concurrency,
            timeout=config.timeout,
            max_retries=config.max_retries,
        ),
    )


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
