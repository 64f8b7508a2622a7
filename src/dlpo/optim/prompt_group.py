"""`PromptGroup`: optimize the several named prompts of a program, one prompt per step in turn.

Credit assignment, as implemented and measured (docs/programs.md):

* each prompt has its own `TextualGradientDescent` (its own techniques, memories, learning-rate
  schedule and acceptance rule): a contrastive memory of "extract" prompts never mixes with one of
  "answer" prompts;
* step k updates the prompt `names[(k - 1) % n]` (round robin);
* that step's gradient is computed for that prompt only: the critic reads each wrong example's
  whole trace (every call, its input and reply, the one made with the prompt under review
  marked) and writes instructions for that prompt (`TextualLoss.backward(target=...)`);
* a candidate for that prompt is scored by running the whole program with the candidate in its
  place and the other prompts as they are.

The group has the optimizer interface the training loop uses (`step`, `zero_grad`, `lr`,
`activity`, `state_dict`); the run's current prompt is the rendered set (`programs.render_prompts`).
"""

from __future__ import annotations

import math
from typing import Any

from dlpo.optim.report import StepReport
from dlpo.optim.variable import Prompt
from dlpo.programs import parse_prompts, render_prompts


def steps_per_part(planned_steps: int, parts: int) -> int:
    """A prompt of a group is updated every `parts`-th step: the steps it plans for."""
    return max(1, math.ceil(planned_steps / parts))


class PromptGroup:
    def __init__(self, rendered: Prompt, parts: dict[str, tuple[Prompt, Any, list[Any]]]) -> None:
        """`rendered` holds the whole set; `parts[name] = (prompt, optimizer, schedulers)`."""
        self.rendered = rendered
        self.parts = parts
        self.names = list(parts)
        self.step_count = 0

    @property
    def next_target(self) -> str:
        """The prompt the next step updates."""
        return self.names[self.step_count % len(self.names)]

    @property
    def lr(self) -> float | None:
        return self.parts[self.next_target][1].lr

    def current(self) -> dict[str, str]:
        return {name: part[0].text for name, part in self.parts.items()}

    def zero_grad(self) -> None:
        self.rendered.grad = None
        for prompt, opt, _ in self.parts.values():
            opt.zero_grad()
            prompt.grad = None

    async def step(self) -> StepReport:
        name = self.next_target
        prompt, opt, schedulers = self.parts[name]
        if self.rendered.grad is None:
            raise RuntimeError(
                "step() needs the gradient: call `await loss.backward(client, target=...)` first"
            )
        prompt.grad = self.rendered.grad
        report = await opt.step()
        for scheduler in schedulers:
            scheduler.step(report)
        report.metrics["prompt_name"] = name
        self.step_count += 1
        self.rendered.text = render_prompts(self.current())
        return report

    def activity(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for name, (_, opt, schedulers) in self.parts.items():
            for tech, counts in opt.activity().items():
                out[f"{name}:{tech}"] = counts
            for scheduler in schedulers:
                counts = scheduler.activity() if hasattr(scheduler, "activity") else {}
                if counts:
                    out[f"{name}:{getattr(scheduler, 'technique', 'schedule')}"] = counts
        return out

    def replan(self, planned_steps: int) -> None:
        """The run will take `planned_steps` steps: each prompt plans its share."""
        share = steps_per_part(planned_steps, len(self.parts))
        for _, opt, _ in self.parts.values():
            opt.replan(share)

    def state_dict(self) -> dict[str, Any]:
        return {
            "group_step": self.step_count,
            "parts": {
                name: {"optimizer": opt.state_dict(), "schedulers": [s.state_dict() for s in schedulers]}
                for name, (_, opt, schedulers) in self.parts.items()
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step_count = int(state["group_step"])
        for name, (_, opt, schedulers) in self.parts.items():
            part = state["parts"][name]
            opt.load_state_dict(part["optimizer"])
            for scheduler, saved in zip(schedulers, part["schedulers"], strict=True):
                scheduler.load_state_dict(saved)
        self.rendered.text = render_prompts(self.current())

    def sync_from(self, text: str) -> None:
        """Set every part from a rendered set (e.g. a warm start)."""
        for name, value in parse_prompts(text).items():
            if name in self.parts:
                self.parts[name][0].text = value
        self.rendered.text = render_prompts(self.current())
