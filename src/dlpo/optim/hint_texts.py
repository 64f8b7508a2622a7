"""The words of the textual gradient's deterministic half (`dlpo.optim.facts`): what each observed
failure says, and the one generic fix hint per failure kind and answer kind. Kept apart from the
code that detects the failures so the wording can be read (and reviewed) in one place."""

from __future__ import annotations

OBSERVED = {
    "answer_first": "the reply wrote its `Answer:` line first and its working only after it",
    "bare_answer": "the reply gave only the answer, with no working",
    "answer_in_working": "the expected answer appears in the reply's working but not on its `Answer:` line",
    "extra_words": "the `Answer:` line holds extra words besides the answer itself",
    "cut_off": "the reply was too long and was cut off at the length limit before any `Answer:` line",
}
# Fix hints for numeric answers (and the defaults of the other kinds): observation keys and
# scorer-reason prefixes -> one generic instruction each.
HINTS = {
    "answer_first": "Work the problem out in a few short steps first, and write the `Answer:` line only at the "
    "very end.",
    "bare_answer": "Show your working in a few short steps before the final answer line.",
    "answer_in_working": "Make the final `Answer:` line give the result that your working reached.",
    "extra_words": "After `Answer:`, write the value only, with no units or words.",
    "cut_off": "Keep the working short: a few plain sentences, with no LaTeX, no code and no headings.",
    "no `Answer:` line": "Always end your reply with the answer line that the question asks for.",
    "boxed": "Do not use \\boxed{} or LaTeX; end with the answer line that the question asks for.",
    "several numbers after `Answer:`": "Put exactly one number on the `Answer:` line.",
    "no number after `Answer:`": "Write the final result itself after `Answer:`, not a placeholder.",
    "nothing after `Answer:`": "Write the answer itself after `Answer:`, on the same line.",
}
# What differs for the other answer kinds (None: the hint does not apply to that kind).
KIND_HINTS: dict[str, dict[str, str | None]] = {
    "label": {
        "answer_first": "Write the `Answer:` line last, after any reasoning.",
        "bare_answer": None,
        "answer_in_working": None,
        "extra_words": "After `Answer:`, write the label only, with no other words.",
        "cut_off": "Keep the reply short: at most a few sentences before the `Answer:` line.",
        "several numbers after `Answer:`": None,
        "no number after `Answer:`": None,
        "no label after `Answer:`": "Write exactly one of the labels after `Answer:`.",
    },
    "choice": {
        "answer_first": "Reason briefly first, and write the `Answer:` line only at the very end.",
        "bare_answer": None,
        "answer_in_working": None,
        "extra_words": "After `Answer:`, write the option letter in parentheses only, such as (A).",
        "cut_off": "Keep the reply short: at most a few sentences before the `Answer:` line.",
        "several numbers after `Answer:`": None,
        "no number after `Answer:`": None,
        "several options after `Answer:`": "Put exactly one option letter on the `Answer:` line.",
        "no option letter after `Answer:`": "Write the letter of the chosen option in parentheses after "
        "`Answer:`, such as (A).",
    },
    "text": {
        "answer_first": "Write the `Answer:` line last, after any reasoning.",
        "bare_answer": None,
        "answer_in_working": "Make the final `Answer:` line give the answer that your reasoning reached.",
        "extra_words": "After `Answer:`, write only the answer itself, with no extra words.",
        "cut_off": "Keep the reply short: at most a few sentences before the `Answer:` line.",
        "several numbers after `Answer:`": None,
        "no number after `Answer:`": None,
    },
    "math": {
        "extra_words": None,
        "boxed": None,
        "no \\boxed{} answer": "End with the final answer inside \\boxed{}.",
    },
}
# Tasks scored on the whole reply (no `Answer:` line): what an observation says and the hint per
# answer kind. Keys absent here do not apply (there is no answer line to misplace).
WHOLE_REPLY_OBSERVED = {
    "extra_words": "the reply holds extra words besides the answer itself",
    "cut_off": "the reply was too long and was cut off at the length limit",
}
WHOLE_REPLY_HINTS: dict[str, dict[str, str]] = {
    "extra_words": {
        "number": "Reply with the value only, with no units or words.",
        "label": "Reply with the label only, with no other words.",
        "choice": "Reply with the option letter in parentheses only, such as (A).",
        "text": "Reply with the answer only, with no other words.",
        "math": "Reply with the answer only, with no other words.",
    },
    "cut_off": {
        kind: "Keep the reply short: the answer only, with no explanation."
        for kind in ("number", "label", "choice", "text", "math")
    },
}
