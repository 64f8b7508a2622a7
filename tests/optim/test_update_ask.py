"""The update request and the reading of its reply (`dlpo.optim.update_ask`), without an optimizer."""

import json
import random

from dlpo.optim.base import Gradient, UpdateContext
from dlpo.optim.parsing import CONVENTIONS_HEADER
from dlpo.optim.update_ask import JSON_REASK, build_ask, copied_from_request, read_candidate

PROMPT = "Answer the question. End with a line 'Answer: X'."


def _ctx(**notes: object) -> UpdateContext:
    ctx = UpdateContext(step=0, prompt=PROMPT, gradient=Gradient("be precise"), rng=random.Random(0))
    ctx.notes.update(notes)
    return ctx


def test_a_tag_request_has_no_schema_and_its_reminder_is_the_hint_alone():
    ask = build_ask(
        _ctx(),
        Gradient("be precise"),
        [],
        role_description="system prompt",
        json_updates=False,
        edit_budget=None,
    )
    assert ask.schema is None
    assert PROMPT in ask.message
    assert ask.reminder("Use the tags.") == "Use the tags."


def test_a_json_request_caps_edits_and_keeps_frozen_sentences_out_of_the_schema():
    ask = build_ask(
        _ctx(tdo_frozen=[0]),
        Gradient("be precise"),
        [],
        role_description="system prompt",
        json_updates=True,
        edit_budget=1,
    )
    assert ask.schema is not None and ask.frozen == (0,)
    schema = json.dumps(json.loads(ask.schema))
    assert '"maxItems": 1' in schema
    assert ask.reminder("Change something.").endswith(JSON_REASK)


def test_a_json_reply_is_applied_and_a_tag_reply_to_a_json_request_is_still_read():
    ask = build_ask(_ctx(), Gradient("x"), [], role_description="r", json_updates=True, edit_budget=None)
    edit = json.dumps({"edits": [{"action": "add", "after": 2, "text": "Show each step."}]})
    read = read_candidate(ask, edit, "stop", PROMPT)
    candidate, method, reason = read.candidate, read.method, read.reason
    assert (
        method == "json" and reason == "" and candidate is not None and candidate.endswith("Show each step.")
    )
    tagged = "<IMPROVED_VARIABLE>Answer carefully. End with a line 'Answer: X'.</IMPROVED_VARIABLE>"
    read = read_candidate(ask, tagged, "stop", PROMPT)
    candidate, method = read.candidate, read.method
    assert method.startswith("json->") and candidate == "Answer carefully. End with a line 'Answer: X'."


def test_a_read_candidate_is_repaired_and_says_what_was_dropped():
    ask = build_ask(_ctx(), Gradient("x"), [], role_description="r", json_updates=False, edit_budget=None)
    pasted = f"Answer carefully. {CONVENTIONS_HEADER}\nGive the unit of every number. Give the unit of every number. End with a line 'Answer: X'."
    read = read_candidate(ask, f"<IMPROVED_VARIABLE>{pasted}</IMPROVED_VARIABLE>", "stop", PROMPT)
    assert read.candidate is not None and CONVENTIONS_HEADER not in read.candidate
    assert read.candidate.count("Give the unit of every number.") == 1
    assert read.repairs == {"headers_dropped": 1, "repeats_dropped": 1}


def test_a_reply_without_json_or_tags_gives_no_candidate_and_says_why():
    ask = build_ask(_ctx(), Gradient("x"), [], role_description="r", json_updates=True, edit_budget=None)
    read = read_candidate(ask, "I would change the prompt a bit.", "stop", PROMPT)
    candidate, method, reason = read.candidate, read.method, read.reason
    assert candidate is None and method.startswith("json->") and reason.startswith("not json")


def test_a_new_sentence_taken_from_the_request_text_is_named_as_copied():
    scaffold = "for example: state the unit of every number."
    assert copied_from_request(PROMPT + " State the unit of every number.", PROMPT, scaffold)
    assert copied_from_request(PROMPT + " Check the arithmetic twice.", PROMPT, scaffold) is None
    assert copied_from_request(PROMPT + " State the unit of every number.", PROMPT, "") is None
