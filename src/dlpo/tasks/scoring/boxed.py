"""Strict MATH scorer: the last brace-matched `\\boxed{...}` of the reply against the target.

Both sides are normalized (spaces, `\\left`/`\\right`, `\\!`, `$`, `\\dfrac`/`\\tfrac`, `\\text{}`,
degrees, percent, a leading 'x =', trailing period, '\\frac12' -> '\\frac{1}{2}'), then compared as
strings; when they differ and sympy is installed, both are converted to sympy expressions and
compared symbolically (tuples element by element). Unlike the paper's scorer, only the *last* box
counts and braces are kept (so '\\frac{1}{23}' never equals '\\frac{12}{3}').
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlpo.tasks.base import Score
from dlpo.tasks.scoring.extract import boxed_contents, short

_REMOVE = (
    "\\left",
    "\\right",
    "\\!",
    "\\,",
    "\\;",
    "\\:",
    "\\displaystyle",
    "\\$",
    "$",
    "^{\\circ}",
    "^\\circ",
    "°",
    "\\%",
    "%",
)
_TEXT = re.compile(r"\\(?:text|textbf|mbox|mathrm)\{([^{}]*)\}")
_FRAC_SHORT = re.compile(r"\\frac(\d)(\d)")
_VAR_PREFIX = re.compile(r"^[a-zA-Z]\s*=(?!=)")
_SYMPY_MAX_CHARS = 80
# parse_expr evaluates Python, so only plain arithmetic on single-letter symbols reaches it.
_SAFE_TEXT = re.compile(r"[0-9a-zA-Z+\-*/(). ]*")
_SAFE_NAMES = {"sqrt", "pi", "oo"}


def normalize_math(text: str) -> str:
    text = text.strip()
    text = _TEXT.sub(r"\1", text)
    for token in _REMOVE:
        text = text.replace(token, "")
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\ ", "")
    text = _VAR_PREFIX.sub("", text)
    text = "".join(text.split())
    text = _FRAC_SHORT.sub(r"\\frac{\1}{\2}", text)
    text = re.sub(r"\\sqrt(\d)", r"\\sqrt{\1}", text)
    while text.endswith((".", ",")):
        text = text[:-1]
    if re.fullmatch(r"-?\d+\.\d*", text):  # '5.0' -> '5', '0.50' -> '0.5'
        text = text.rstrip("0").rstrip(".")
    return text


def _brace_arg(text: str, start: int) -> tuple[str, int]:
    """The brace-matched argument starting at text[start] == '{' and the index after it."""
    depth, i = 0, start
    while i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
        if depth == 0:
            return text[start + 1 : i - 1], i
    raise ValueError("unbalanced braces")


def latex_to_sympy_text(text: str) -> str:
    """A small LaTeX-to-sympy translation covering what MATH answers use: fractions, roots,
    powers, pi, infinity, products. Raises ValueError on anything it cannot translate."""
    out, i = [], 0
    while i < len(text):
        for cmd, arity in (("\\frac", 2), ("\\sqrt", 1)):
            if text.startswith(cmd, i):
                j = i + len(cmd)
                index = None
                if cmd == "\\sqrt" and j < len(text) and text[j] == "[":
                    close = text.index("]", j)
                    index, j = text[j + 1 : close], close + 1
                if j >= len(text) or text[j] != "{":
                    raise ValueError("command without braces")
                args = []
                for _ in range(arity):
                    arg, j = _brace_arg(text, j)
                    args.append(latex_to_sympy_text(arg))
                if cmd == "\\frac":
                    out.append(f"(({args[0]})/({args[1]}))")
                elif index is not None:
                    out.append(f"(({args[0]})**(1/({latex_to_sympy_text(index)})))")
                else:
                    out.append(f"sqrt({args[0]})")
                i = j
                break
        else:
            ch = text[i]
            if text.startswith("\\pi", i):
                out.append("pi")
                i += 3
            elif text.startswith("\\infty", i):
                out.append("oo")
                i += 6
            elif text.startswith("\\cdot", i) or text.startswith("\\times", i):
                out.append("*")
                i += 5 if text.startswith("\\cdot", i) else 6
            elif ch == "\\":
                raise ValueError(f"unsupported LaTeX command at {text[i : i + 8]!r}")
            else:
                out.append({"{": "(", "}": ")", "^": "**"}.get(ch, ch))
                i += 1
    return "".join(out)


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _safe_sympy_text(text: str) -> str:
    """The sympy text of a LaTeX answer, or ValueError when it holds anything but arithmetic."""
    out = latex_to_sympy_text(text)
    names = re.findall(r"[a-zA-Z]+", out)
    if not _SAFE_TEXT.fullmatch(out) or any(len(n) > 1 and n not in _SAFE_NAMES for n in names):
        raise ValueError(f"not plain arithmetic: {out!r}")
    return out


def sympy_equal(a: str, b: str) -> bool:
    """Symbolic equality of two normalized answers; False when sympy is missing or either side
    cannot be parsed. Tuples/intervals must have the same brackets and equal elements."""
    if max(len(a), len(b)) > _SYMPY_MAX_CHARS:
        return False
    try:
        import sympy
        from sympy.parsing.sympy_parser import (
            implicit_multiplication_application,
            parse_expr,
            standard_transformations,
        )
    except ImportError:
        return False
    if a[:1] + a[-1:] != b[:1] + b[-1:] and (a[:1] in "([" or b[:1] in "(["):
        return False
    if a[:1] in "([" and a[-1:] in ")]":
        a, b = a[1:-1], b[1:-1]
    left, right = _split_top_level(a), _split_top_level(b)
    if len(left) != len(right):
        return False
    transformations = standard_transformations + (implicit_multiplication_application,)
    try:
        for x, y in zip(left, right):
            ex = parse_expr(_safe_sympy_text(x), transformations=transformations, evaluate=True)
            ey = parse_expr(_safe_sympy_text(y), transformations=transformations, evaluate=True)
            diff = sympy.simplify(ex - ey)
            if diff != 0:
                return False
        return True
    except Exception:  # noqa: BLE001 - sympy raises many kinds of errors on odd input; any of them means "not equal"
        return False


@dataclass(frozen=True)
class MathScorer:
    name: str = "math"
    symbolic: bool = True

    def check_target(self, target: str) -> str | None:
        return None if normalize_math(target) else "empty target"

    def __call__(self, output: str, target: str) -> Score:
        if not output.strip():
            return Score(0.0, None, "empty reply")
        boxes = boxed_contents(output)
        if not boxes:
            return Score(0.0, None, "no \\boxed{} answer")
        answer, gold = normalize_math(boxes[-1]), normalize_math(target)
        shown = short(boxes[-1], 40)
        if answer == gold or (self.symbolic and sympy_equal(answer, gold)):
            return Score(1.0, boxes[-1], f"correct: answered {shown}")
        return Score(0.0, boxes[-1], f"answered {shown}, expected {short(target, 40)}")
