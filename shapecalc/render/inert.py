"""Untrusted text (names from model files, file names, echoed values) made inert, per medium.

A model file chooses its layer names, so a name may hold terminal escape
sequences, bidi overrides, NUL, lone surrogates, ``<script>`` or markdown. Each
output medium gets the text it can show and nothing it would obey:

* terminals (tables, ``Error:`` lines): :func:`terminal` writes every control,
  bidi, line-separator and surrogate character as a visible escape (``\\x1b``);
* SVG and HTML: :func:`xml` does the same (XML 1.0 forbids most of them) and
  escapes ``& < > "``;
* markdown: :func:`markdown_code` (a code span, for names) and
  :func:`markdown_text` (backslash escapes, for prose);
* JSON stays exact: ``json.dumps`` escapes controls itself.

Names are also cut in the middle (:func:`cut`) where a person reads them, so
a 16 MB name costs a table no more than a 100-character one.

>>> terminal("\\x1b[2Jevil\\u202e")
'\\\\x1b[2Jevil\\\\u202e'
>>> xml('<b a="1">\\x00</b>')
'&lt;b a=&quot;1&quot;&gt;\\\\x00&lt;/b&gt;'
>>> markdown_code("a|b`c")
'`` a\\\\|b`c ``'
>>> len(cut("x" * 10_000))
100
"""

from __future__ import annotations

import re

#: Longest name shown in a table, markdown or a picture; JSON keeps the whole name.
NAME_LENGTH = 100

#: What no medium may receive raw: C0 and C1 controls and DEL, the bidi controls, line and
#: paragraph separators, lone surrogates, and the two non-characters XML forbids.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
#: Control characters a whole rendered text may keep: line breaks.
_UNSAFE_IN_OUTPUT = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
#: The colour codes a table on a terminal is written with (SGR), kept by :func:`terminal_output`.
_SGR = re.compile(r"\x1b\[[0-9;]*m")
#: ASCII punctuation markdown gives a meaning to inside a line (CommonMark lets any of it be
#: backslash-escaped); ``_`` between two letters or digits never emphasises, so it stays.
_MARKDOWN = re.compile(r"([\\`*\[\]<>#|~&]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
#: Short escapes people know, for the commonest controls.
_SHORT = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every unsafe character written as its escape, ``\\x1b`` or ``\\u202e``.

    >>> visible("a\\nb\\udcff")
    'a\\\\nb\\\\udcff'
    """
    return _UNSAFE.sub(_escape, text)


def cut(text: str, limit: int = NAME_LENGTH) -> str:
    """``text`` cut in the middle to ``limit`` characters (an ellipsis marks the cut).

    >>> cut("encoder_" * 20, 20)
    'encoder_e…r_encoder_'
    """
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return f"{text[:head]}…{text[len(text) - (limit - 1 - head) :]}"


def terminal(text: str, limit: int | None = NAME_LENGTH) -> str:
    """One piece of text for a terminal: cut to ``limit`` (``None``: not cut), escapes visible."""
    return visible(text if limit is None else cut(text, limit))


def terminal_output(text: str, *, color: bool = False) -> str:
    """A whole rendered text made safe for a terminal: line breaks stay, colour codes too when
    ``color``; every other control character becomes visible.

    >>> terminal_output("\\x1b[1mok\\x1b[0m\\n\\x1b]0;title\\x07", color=True)
    '\\x1b[1mok\\x1b[0m\\n\\\\x1b]0;title\\\\x07'
    """
    if not color:
        return _UNSAFE_IN_OUTPUT.sub(_escape, text)
    parts, position = [], 0
    for match in _SGR.finditer(text):
        parts += [_UNSAFE_IN_OUTPUT.sub(_escape, text[position : match.start()]), match.group(0)]
        position = match.end()
    parts.append(_UNSAFE_IN_OUTPUT.sub(_escape, text[position:]))
    return "".join(parts)


def xml(text: str) -> str:
    """``text`` for XML or HTML text and double-quoted attributes (no cut: see :func:`cut`)."""
    return (
        visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def markdown_text(text: str, limit: int | None = None) -> str:
    """Prose for markdown: every metacharacter backslash-escaped, so nothing becomes markup.

    >>> markdown_text("<script> *x* [a](b)")
    '\\\\<script\\\\> \\\\*x\\\\* \\\\[a\\\\](b)'
    """
    return _MARKDOWN.sub(r"\\\g<0>", terminal(text, limit))


def markdown_code(text: str, limit: int | None = NAME_LENGTH) -> str:
    """``text`` as a markdown code span, safe in a table cell: nothing inside a code span is
    markup, a fence longer than any run of backticks inside keeps it closed, ``|`` is escaped.

    >>> markdown_code("encoder")
    '`encoder`'
    """
    shown = terminal(text, limit).replace("|", "\\|")
    runs = [len(run) for run in re.findall("`+", shown)]
    fence = "`" * (max(runs, default=0) + 1)
    if runs or shown.startswith(" ") or shown.endswith(" "):
        shown = f" {shown} "
    return f"{fence}{shown}{fence}"
