"""Usage ledger: calls, cache hits, tokens, latency and money per role, and budgets.

Roles are free strings; the library uses `forward`, `backward` (critiques and their reduction)
and `optimizer` (the rewrite). A hit in the run's own cache (a rerun or a resume replaying its own
calls) is not a model call. A hit in a cache shared with other runs (a sweep's,
`dlpo.engines.shared_cache`) is a *shared hit*: not a model call either, but the run would have made
it alone, so it counts in `calls_alone`/`tokens_alone`/`usd_alone` and in the budget.

A resumed run restores the ledger of its checkpoint; the calls the killed process made after that
checkpoint come back from the run's cache. Those are *replayed*: not model calls now, but calls of
the run's work that the restored ledger never counted, so they are charged like shared hits (once
per request). `Ledger.replay_after` says which cache entries are such calls: the cache's row count
when the checkpoint was written (rows above it were made later). Every other own-cache hit (the run
asking again what it already asked) is a free `cache_hit`. So `calls_alone`, `tokens_alone` and
`usd_alone` (and the budget, which reads them) are the same for a resumed run as for an
uninterrupted one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from dlpo.engines.base import Completion
from dlpo.errors import BudgetExceeded

# USD per 1M tokens (input, output). Matched on the model name after the last ':'.
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}


def price_of(model_id: str) -> tuple[float, float] | None:
    """(input, output) USD per 1M tokens for a known model, else None. Local models cost 0."""
    if model_id.startswith("local"):
        return (0.0, 0.0)
    name = model_id.split(":", 1)[-1].split("@", 1)[0]
    return PRICES_PER_MTOK.get(name)


@dataclass
class RoleUsage:
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    usd: float = 0.0
    priced: bool = True
    shared_hits: int = 0  # answered by another run's call through a shared cache
    shared_tokens: int = 0  # the tokens those answers took when they were made
    replayed: int = 0  # own-cache answers to calls a killed process made after the restored checkpoint
    replayed_tokens: int = 0
    usd_alone: float = 0.0  # usd + what shared and replayed answers cost when they were made

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def calls_alone(self) -> int:
        """The model calls this run would have made without a shared cache."""
        return self.calls + self.shared_hits + self.replayed

    @property
    def tokens_alone(self) -> int:
        return self.total_tokens + self.shared_tokens + self.replayed_tokens

    @property
    def requests(self) -> int:
        """Every request the run's work made, however it was answered."""
        return self.calls + self.cache_hits + self.shared_hits + self.replayed


@dataclass(frozen=True)
class Budget:
    """Upper limits on the run's work: model calls, tokens and USD counted as the run would have
    spent them alone (own-cache hits are free; shared hits and replayed calls count). None = unlimited."""

    max_calls: int | None = None
    max_tokens: int | None = None
    max_usd: float | None = None


def _usd(model_id: str, completion: Completion) -> float | None:
    price = price_of(model_id)
    if price is None:
        return None
    return (completion.prompt_tokens * price[0] + completion.completion_tokens * price[1]) / 1e6


@dataclass
class Ledger:
    budget: Budget = field(default_factory=Budget)
    roles: dict[str, RoleUsage] = field(default_factory=dict)
    # Cache rows above this were written after the restored checkpoint (None: no replay is charged,
    # e.g. a client outside a run). A run sets it when it opens.
    replay_after: int | None = None
    _seen: set[str] = field(default_factory=set, repr=False)  # request keys this process counted
    # per model id, the llama-server builds (`dlpo.engines.llama_server.build_id`) that made the
    # answers the run used, however they were answered (cache hits keep the build that made them)
    builds: dict[str, set[str]] = field(default_factory=dict)

    def is_replay(self, key: str, row: int) -> bool:
        """Whether an own-cache hit (request `key`, cache `row`) is a call made after the restored
        checkpoint that this process has not counted yet."""
        return self.replay_after is not None and row > self.replay_after and key not in self._seen

    def record(
        self, role: str, model_id: str, completion: Completion, key: str | None = None, replay: bool = False
    ) -> None:
        """Count one answered request. `key` (the request's cache key) marks it as counted, so a
        later own-cache hit on it is free; `replay` charges an own-cache hit as a replayed call."""
        if key is not None:
            self._seen.add(key)
        build = completion.extra.get("build")
        if build:
            self.builds.setdefault(model_id, set()).add(build)
        usage = self.roles.setdefault(role, RoleUsage())
        if completion.cached and not replay:
            usage.cache_hits += 1
            return
        usd = _usd(model_id, completion)
        usage.usd_alone += usd or 0.0
        if replay:
            usage.replayed += 1
            usage.replayed_tokens += completion.total_tokens
            return
        if completion.extra.get("shared_hit"):
            usage.shared_hits += 1
            usage.shared_tokens += completion.total_tokens
            return
        usage.calls += 1
        usage.prompt_tokens += completion.prompt_tokens
        usage.completion_tokens += completion.completion_tokens
        usage.latency_s += completion.latency_s
        if usd is None:
            usage.priced = False
        else:
            usage.usd += usd

    def total(self) -> RoleUsage:
        out = RoleUsage()
        for u in self.roles.values():
            out.calls += u.calls
            out.cache_hits += u.cache_hits
            out.prompt_tokens += u.prompt_tokens
            out.completion_tokens += u.completion_tokens
            out.latency_s += u.latency_s
            out.usd += u.usd
            out.priced = out.priced and u.priced
            out.shared_hits += u.shared_hits
            out.shared_tokens += u.shared_tokens
            out.replayed += u.replayed
            out.replayed_tokens += u.replayed_tokens
            out.usd_alone += u.usd_alone
        return out

    def check_budget(self, role: str, pending_calls: int = 1) -> None:
        """Raise `BudgetExceeded` if making `pending_calls` more model calls would break the budget.

        Calls, tokens and money are counted as the run would have spent them alone (shared hits and
        replayed calls included), so a budget buys every trial of a sweep the same work whatever
        order the trials ran in, and a resumed run stops where an uninterrupted one would."""
        b, t = self.budget, self.total()
        if b.max_calls is not None and t.calls_alone + pending_calls > b.max_calls:
            raise BudgetExceeded(
                f"call budget reached: {t.calls_alone} of {b.max_calls} model calls used, "
                f"{pending_calls} more needed for role '{role}'"
            )
        if b.max_tokens is not None and t.tokens_alone >= b.max_tokens:
            raise BudgetExceeded(f"token budget reached: {t.tokens_alone} of {b.max_tokens} tokens used")
        if b.max_usd is not None and t.usd_alone >= b.max_usd:
            raise BudgetExceeded(f"money budget reached: ${t.usd_alone:.4f} of ${b.max_usd:.4f} spent")

    def state_dict(self) -> dict:
        return {
            "roles": {k: asdict(v) for k, v in self.roles.items()},
            "builds": {k: sorted(v) for k, v in sorted(self.builds.items())},
        }

    def load_state_dict(self, state: dict) -> None:
        # A checkpoint from before `usd_alone` priced no shared hit: its usd_alone is its usd.
        self.roles = {
            k: RoleUsage(**{"usd_alone": v.get("usd", 0.0), **v}) for k, v in state.get("roles", {}).items()
        }
        self.builds = {k: set(v) for k, v in state.get("builds", {}).items()}
