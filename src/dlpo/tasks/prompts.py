"""Starting prompts and answer-format instructions of the built-in tasks.

Starting prompts follow the reference code (paper.md §1.2): the GSM family gets a one-sentence
instruction to answer clearly and concisely; BBH gets "You will answer a reasoning question.".
The reference starts MATH from an *empty* prompt, but an empty system message makes Qwen's chat
template inject its own ("You are Qwen, created by Alibaba Cloud..."), so MATH starts from a
neutral one-liner instead.

The answer instruction is appended to every question (the model sees it, the optimizer does not
edit it); strict scorers then read the format it asks for.
"""

from __future__ import annotations

GSM_PROMPT = (
    "You will answer a reasoning question. Answer it clearly and concisely, addressing the key points "
    "without unnecessary elaboration."
)
BBH_PROMPT = "You will answer a reasoning question."
MATH_PROMPT = "You will solve a math problem."

NUMERIC_INSTRUCTION = "End your response with a last line of the form 'Answer: <number>', where <number> is the final numerical result."
CHOICE_INSTRUCTION = "End your response with a last line of the form 'Answer: (X)', where X is the letter of the correct option."
MATH_INSTRUCTION = "Put the final answer inside \\boxed{} at the end of your response."
WORD_SORTING_INSTRUCTION = (
    "End your response with a last line of the form 'Answer: <the sorted words, separated by single spaces>'."
)
DYCK_INSTRUCTION = "End your response with a last line of the form 'Answer: <the missing closing brackets, separated by spaces>'."
TEXT_INSTRUCTION = "End your response with a last line of the form 'Answer: <answer>'."


def label_instruction(labels: tuple[str, str]) -> str:
    return f"End your response with a last line of the form 'Answer: <label>', where <label> is {labels[0]} or {labels[1]}."


def instruction_for(scorer_name: str) -> str:
    """The default answer instruction for a scorer (used by user file tasks)."""
    if scorer_name in ("numeric", "reference:gsm8k", "reference:mgsm"):
        return NUMERIC_INSTRUCTION
    if scorer_name == "choice":
        return CHOICE_INSTRUCTION
    if scorer_name in ("math", "reference:math"):
        return MATH_INSTRUCTION
    return TEXT_INSTRUCTION
