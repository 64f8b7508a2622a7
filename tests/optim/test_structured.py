"""Structured update replies (`update_format="json"`): the schema maps onto TLR's budget and TDO's
frozen sentences, the edits are applied in code and checked like tag replies, and engines without
structured output (or replies that are not JSON) fall back to tags."""

from __future__ import annotations

import json

from optim_helpers import FinishEngine, grad

from dlpo.engines.client import LLMClient
from dlpo.optim.optimizer import TextualGradientDescent
from dlpo.optim.structured import (
    JSON_SYSTEM,
    SentenceEdit,
    apply_edit_list,
    edit_schema,
    parse_edits,
    supports_json_schema,
)
from dlpo.optim.techniques import Dropout, LearningRate
from dlpo.optim.variable import Prompt

START = "You are a tutor. Read the question twice. Check arithmetic."


class JsonEngine(FinishEngine):
    """A scripted engine that declares structured-output support."""

    supports_json_schema = True


def edits(*items: dict) -> str:
    return json.dumps({"edits": list(items)})


def optimizer(replies, engine_cls=JsonEngine, prompt=START, **kw):
    queue = list(replies)
    engine = engine_cls(lambda request: queue.pop(0))
    p = Prompt(prompt)
    p.grad = kw.pop("gradient", grad(sources=["Question: Tom has 3 apples.", "7"]))
    return TextualGradientDescent(p, LLMClient(engine), update_format="json", **kw), engine


def test_schema_maps_budget_and_frozen_sentences():
    schema = edit_schema(3, editable=[1, 3], max_edits=2)
    items = schema["properties"]["edits"]
    assert items["minItems"] == 1 and items["maxItems"] == 2
    kinds = {o["properties"]["action"]["enum"][0]: o["properties"] for o in items["items"]["anyOf"]}
    assert kinds["add"]["after"]["enum"] == [0, 1, 2, 3]
    assert kinds["replace"]["sentence"]["enum"] == [1, 3] == kinds["delete"]["sentence"]["enum"]
    assert "maxItems" not in edit_schema(3, [1, 2, 3], None)["properties"]["edits"]
    only_add = edit_schema(2, [], None)["properties"]["edits"]["items"]["anyOf"]
    assert [o["properties"]["action"]["enum"] for o in only_add] == [["add"]]


def test_parse_and_apply():
    reply = (
        "```json\n"
        + edits(
            {"action": "replace", "sentence": 2, "text": "Read the question once, slowly."},
            {"action": "add", "after": 3, "text": "End with 'Answer: <number>'"},
            {"action": "delete", "sentence": "1"},
            {"action": "shout", "sentence": 1},
        )
        + "\n```"
    )
    parsed = parse_edits(reply)
    assert [e.action for e in parsed.edits] == ["replace", "add", "delete"]
    assert apply_edit_list(START, parsed.edits) == (
        "Read the question once, slowly. Check arithmetic. End with 'Answer: <number>'"
    )
    assert parse_edits("<IMPROVED_VARIABLE>x</IMPROVED_VARIABLE>").edits is None
    assert parse_edits('{"edits": []}').reason.startswith("not json")


def test_apply_skips_frozen_duplicate_and_unknown_sentences():
    frozen_replace = [SentenceEdit("replace", 1, "You are a coach.")]
    assert apply_edit_list(START, frozen_replace, frozen=[0]) == START
    duplicate = [SentenceEdit("add", 3, "Check arithmetic.")]
    assert apply_edit_list(START, duplicate) == START
    assert apply_edit_list(START, [SentenceEdit("delete", 9)]) == START


async def test_json_reply_becomes_a_checked_candidate():
    reply = edits({"action": "add", "after": 3, "text": "Show each step before the answer line."})
    opt, engine = optimizer([reply], techniques=[LearningRate(lr=2)])
    report = await opt.step()
    assert not report.failed and opt.prompt.text == START + " Show each step before the answer line."
    request = engine.requests[0]
    assert request.json_schema is not None and request.messages[0].content == JSON_SYSTEM
    assert json.loads(request.json_schema)["properties"]["edits"]["maxItems"] == 2  # TLR's budget
    assert "1. You are a tutor." in report.request and '"edits"' in report.request
    assert report.metrics["update_format"] == "json" and report.metrics["parse"][0]["method"] == "json"


async def test_tdo_frozen_sentences_are_not_editable():
    reply = edits({"action": "add", "after": 0, "text": "Be kind to the student."})
    opt, engine = optimizer([reply], techniques=[Dropout(p=0.6)])
    report = await opt.step()
    schema = json.loads(engine.requests[0].json_schema)
    replace = next(
        o for o in schema["properties"]["edits"]["items"]["anyOf"] if "sentence" in o["properties"]
    )
    editable = replace["properties"]["sentence"]["enum"]
    assert report.metrics["dropout_frozen"] == 2 and len(editable) == 1
    assert "are frozen: do not replace or delete them" in report.request
    assert not report.failed and opt.prompt.text.startswith("Be kind to the student.")


async def test_unchanged_json_reply_is_reasked_and_validated_like_tags():
    same = edits({"action": "replace", "sentence": 1, "text": "You are a tutor."})
    pasted = edits({"action": "add", "after": 3, "text": "Question: Tom has 3 apples. Solve it."})
    good = edits({"action": "add", "after": 3, "text": "Work step by step."})
    opt, engine = optimizer([same, good])
    report = await opt.step()
    assert report.metrics["parse"][0]["reason"].startswith("unchanged")
    assert "JSON object" in engine.requests[1].messages[-1].content and not report.failed
    opt2, _ = optimizer([pasted, good])
    report2 = await opt2.step()
    assert report2.metrics["parse"][0]["reason"].startswith("pasted example")


async def test_a_tag_reply_to_a_json_request_is_still_read():
    opt, _ = optimizer(["<IMPROVED_VARIABLE>You are a tutor. Think first.</IMPROVED_VARIABLE>"])
    report = await opt.step()
    assert not report.failed and report.metrics["parse"][0]["method"] == "json->tags"


async def test_engines_without_structured_output_get_tag_requests():
    assert not supports_json_schema(FinishEngine(lambda r: "")) and supports_json_schema(
        JsonEngine(lambda r: "")
    )
    opt, engine = optimizer(
        ["<IMPROVED_VARIABLE>You are a tutor. Think first.</IMPROVED_VARIABLE>"], engine_cls=FinishEngine
    )
    report = await opt.step()
    assert engine.requests[0].json_schema is None and "<IMPROVED_VARIABLE>" in report.request
    assert report.metrics["update_format"] == "tags" and not report.failed
