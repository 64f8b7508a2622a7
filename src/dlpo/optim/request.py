"""The update request: what the optimizer model is asked to do in one step.

Layout (user message), following the reference order: the role description, the feedback (the
textual gradient), the technique sections in the order TCL -> TMnt -> TDO -> TRegu -> TLR (other
techniques after them), the full current prompt between <VARIABLE> tags, and the output-format
instruction. Everything is short and direct: small models follow that better. The feedback is
the gradient (scorer facts + suggested instructions, see gradient.py); the format instruction asks
for those instructions worked into the prompt as sentences addressed to the model.
"""

from __future__ import annotations

from collections.abc import Sequence

from dlpo.engines.base import ChatRequest
from dlpo.optim.base import DEFAULT_ORDER, RequestSection

OPTIMIZER_SYSTEM = (
    "You write system prompts for a language model. Reply with only the complete new system prompt between "
    "<IMPROVED_VARIABLE> and </IMPROVED_VARIABLE>."
)


FORMAT_INSTRUCTION = (
    "Write the new system prompt: the current prompt with the suggested instructions worked in, and changed "
    "where it conflicts with them. Every sentence is an instruction addressed to the model. Leave out the "
    "facts, questions, names and numbers of the feedback. Reply with only the complete new prompt between "
    "<IMPROVED_VARIABLE> and </IMPROVED_VARIABLE>."
)


def order_sections(
    sections: Sequence[RequestSection], orders: dict[str, int] | None = None
) -> list[RequestSection]:
    """Sort sections by their technique's `section_order` (stable; a technique with no known order
    goes last). `orders` maps technique name -> order (the optimizer passes its techniques')."""
    orders = orders or {}

    def rank(s: RequestSection) -> int:
        return orders.get(s.technique, DEFAULT_ORDER)

    return sorted(sections, key=rank)


def render_section(section: RequestSection) -> str:
    parts = [section.instruction.strip()] if section.instruction.strip() else []
    if section.tag:
        parts.append(f"<{section.tag}>\n{section.body.strip()}\n</{section.tag}>")
    elif section.body.strip():
        parts.append(section.body.strip())
    return "\n".join(parts)


def build_update_message(
    prompt: str,
    role_description: str,
    feedback: str,
    sections: Sequence[RequestSection],
    format_instruction: str = FORMAT_INSTRUCTION,
) -> str:
    """The user message of the update request (`format_instruction`: the last block, which says
    how to reply: tags by default, JSON edits in `dlpo.optim.structured`)."""
    blocks = [
        f"You are improving a {role_description}.",
        (
            "Feedback from the current prompt's answers to a batch of training questions:\n"
            f"<FEEDBACK>\n{feedback.strip()}\n</FEEDBACK>"
        ),
    ]
    blocks.extend(render_section(s) for s in sections)  # in the order given (the optimizer orders them)
    blocks.append(f"The current prompt:\n<VARIABLE>\n{prompt.strip() or '(empty)'}\n</VARIABLE>")
    blocks.append(format_instruction)
    return "\n\n".join(b for b in blocks if b)


def with_reminder(message: str, reminder: str) -> str:
    """The re-ask: the same request with a short reminder of what went wrong appended."""
    return f"{message}\n\nIMPORTANT: {reminder.strip()}"


def update_request(
    user: str,
    *,
    max_tokens: int = 512,
    temperature: float = 0.0,
    seed: int | None = 0,
    json_schema: str | None = None,
    system: str | None = None,
) -> ChatRequest:
    """The optimizer's request; `json_schema` asks for structured output (JSON edit replies)."""
    return ChatRequest.chat(
        system or OPTIMIZER_SYSTEM,
        user,
        temperature=temperature,
        max_tokens=max_tokens,
        seed=seed,
        json_schema=json_schema,
    )
