"""MGSM (DLPO's `MGSM`): GSM8K problems translated into 11 languages.

Reference split: for each language in `LANGS` order, its 8 exemplars then its 250 test rows
(11 x 258 = 2838 items); shuffle with Random(1001); train = [0:50], the rest is a pool,
val = pool[0:100], test = pool[200:] (2588; pool[100:200] is unused, as in the reference).
`mgsm:<lang>[,<lang>]` keeps only those languages (in `LANGS` order), shuffles the same way and
cuts 50 / 100 / the rest with no unused gap (one language: 50/100/108). `seed` replaces 1001;
`split_sizes` caps the splits (all languages) or sets the cut points (a subset).
"""

from __future__ import annotations

import csv
from pathlib import Path

from dlpo.errors import ConfigError
from dlpo.tasks import datadir, hub
from dlpo.tasks.base import Example, Task
from dlpo.tasks.common import pick_scorer, read_jsonl
from dlpo.tasks.prompts import GSM_PROMPT, NUMERIC_INSTRUCTION
from dlpo.tasks.splits import cut, permutation, resolve_sizes, truncate

LANGS = ("bn", "de", "en", "es", "fr", "ja", "ru", "sw", "te", "th", "zh")
EXEMPLARS = "mgsm/mgsm_exemplars.jsonl"


def required(langs: tuple[str, ...] = LANGS) -> tuple[str, ...]:
    return (EXEMPLARS, *(f"mgsm/mgsm_{lang}.tsv" for lang in langs))


def parse_langs(text: str | None) -> tuple[str, ...]:
    if not text:
        return LANGS
    chosen = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(chosen - set(LANGS))
    if unknown or not chosen:
        raise ConfigError(
            f"mgsm: unknown language {unknown[0] if unknown else text!r}; choose from {', '.join(LANGS)}"
        )
    return tuple(lang for lang in LANGS if lang in chosen)


def _number(text: object) -> str:
    return str(int(str(text).replace(",", "").strip()))


def _items_local(root: datadir.DataRoot, langs: tuple[str, ...]) -> list[Example]:
    exemplars: dict[str, list[dict]] = {}
    for row in read_jsonl(root.file(EXEMPLARS)):
        exemplars.setdefault(row["lang"], []).append(row)
    items = []
    for lang in langs:
        for row in sorted(exemplars.get(lang, []), key=lambda r: r["exemplar_id"]):
            eid = row["exemplar_id"]
            meta = {"lang": lang, "kind": "exemplar", "row": eid, "reasoning": row.get("answer", "")}
            items.append(
                Example(f"mgsm/{lang}/exemplar/{eid}", row["question"], _number(row["answer_number"]), meta)
            )
        with open(root.file(f"mgsm/mgsm_{lang}.tsv"), encoding="utf-8", newline="") as handle:
            for i, (question, answer) in enumerate(
                csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            ):
                meta = {"lang": lang, "kind": "test", "row": i}
                items.append(Example(f"mgsm/{lang}/test/{i}", question, _number(answer), meta))
    return items


def _items_hub(langs: tuple[str, ...]) -> list[Example]:
    items = []
    for lang in langs:
        for kind, split in (("exemplar", "train"), ("test", "test")):
            for i, row in enumerate(hub.mgsm(lang, split)):
                key = i + 1 if kind == "exemplar" else i
                meta = {"lang": lang, "kind": kind, "row": key, "reasoning": row.get("answer") or ""}
                items.append(
                    Example(f"mgsm/{lang}/{kind}/{key}", row["question"], _number(row["answer_number"]), meta)
                )
    return items


def load_mgsm(
    *,
    data_dir: str | Path | None = None,
    seed: int | None = None,
    scorer: str | None = None,
    split_sizes: object = None,
    langs: str | None = None,
) -> Task:
    chosen = parse_langs(langs)
    name = "mgsm" if chosen == LANGS else "mgsm:" + ",".join(chosen)
    root = datadir.resolve("mgsm", required(chosen), data_dir, hub_id=hub.MGSM_ID)
    if root.is_hub:
        items = datadir.hub_or_error(root, "mgsm", required(chosen), hub.MGSM_ID, lambda: _items_hub(chosen))
    else:
        items = _items_local(root, chosen)
    ordered = [items[i] for i in permutation(len(items), 1001 if seed is None else seed)]
    if chosen == LANGS:
        pool = ordered[50:]
        train, val, test = truncate((ordered[:50], pool[:100], pool[200:]), split_sizes, name)
    else:
        n_train, n_val, n_test = resolve_sizes(split_sizes, (50, 100, max(len(ordered) - 150, 0)))
        train, val, test = cut(ordered, (n_train, n_val, n_test), name)
    return Task(
        name=name,
        train=train,
        val=val,
        test=test,
        scorer=pick_scorer(scorer, "numeric", "reference:mgsm", name),
        answer_instruction=NUMERIC_INSTRUCTION,
        initial_prompt=GSM_PROMPT,
        description=f"MGSM multilingual grade-school math ({', '.join(chosen)})",
        source="MGSM (Google, CC BY 4.0) "
        + ("from the Hugging Face hub" if root.is_hub else f"from {root.file('mgsm')}"),
        answer_type="numeric",
    )
