"""Minimal, comment-preserving edits of JSON and JSON-with-comments files.

Client configuration files are the user's: an edit must change only the one
server entry it is about, byte for byte everything else, comments and
formatting included. So this does not load and re-dump the document; it
parses it into a tree that remembers where each key and value starts and
ends, and splices text. Three edits exist: set ``object[key]`` (insert or
replace), delete ``object[key]``, and read the document as data.

``comments=True`` accepts what VS Code accepts in ``mcp.json`` (its schema
sets ``allowComments`` and ``allowTrailingCommas``): ``//`` and ``/* */``
comments and a trailing comma in objects and arrays. ``comments=False`` is
strict JSON (RFC 8259), what Claude Desktop, Claude Code, Cursor and
Windsurf read. Anything else (a syntax error, a duplicate key on the edited
path, a root that is not an object) raises :class:`JsoncError` with the line
and column, and nothing is changed.

PyPI was checked for a kept library first: ``json-five`` (round-trips JSON5
through a node model, last release 2024), ``json5kit`` (2023) and
``json5-document`` (new) parse JSON5, a wider language than the clients
read, and none offers a minimal "set this member" edit; the module is
property-tested against Python's ``json`` and Microsoft's ``jsonc-parser``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["JsoncError", "Document", "parse"]

_TOKEN = re.compile(
    r"""(?P<ws>[ \t\r\n]+)
      | (?P<line>//[^\n]*)
      | (?P<block>/\*.*?\*/)
      | (?P<str>"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")
      | (?P<num>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
      | (?P<lit>true|false|null)
      | (?P<punct>[{}\[\]:,])
    """,
    re.VERBOSE | re.DOTALL,
)


class JsoncError(ValueError):
    """The text is not what the client reads, or the edit is not possible; nothing was changed."""


@dataclass
class Node:
    start: int
    end: int
    kind: str  # "object", "array" or "scalar"
    members: list[Member] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)
    close: int = 0  # offset of the closing bracket (containers)


@dataclass
class Member:
    key: str
    key_start: int
    value: Node
    comma: int | None = None  # offset of the comma after the value, if any


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {col}"


class _Parser:
    def __init__(self, text: str, comments: bool) -> None:
        self.text = text
        self.comments = comments
        self.tokens: list[tuple[str, int, int]] = []
        self.comment_spans: list[tuple[int, int]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or (m.lastgroup in ("line", "block") and not comments):
                what = "a comment" if m is not None else "unexpected text"
                raise JsoncError(f"{what} at {_where(text, pos)}")
            kind = m.lastgroup or ""
            if kind in ("line", "block"):
                self.comment_spans.append((m.start(), m.end()))
            elif kind != "ws":
                self.tokens.append((kind, m.start(), m.end()))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, int, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, int, int]:
        tok = self.peek()
        if tok is None:
            raise JsoncError(f"unexpected end of file ({_where(self.text, len(self.text))})")
        if expected is not None and self.text[tok[1] : tok[2]] != expected:
            raise JsoncError(f"expected {expected!r} at {_where(self.text, tok[1])}")
        self.i += 1
        return tok

    def value(self, depth: int = 0) -> Node:
        if depth > 200:
            raise JsoncError("nesting is too deep")
        kind, start, end = self.take()
        lexeme = self.text[start:end]
        if lexeme in ("{", "["):
            return self._container(start, "}" if lexeme == "{" else "]", depth)
        if kind in ("str", "num", "lit"):
            return Node(start, end, "scalar")
        raise JsoncError(f"unexpected {lexeme!r} at {_where(self.text, start)}")

    def _container(self, start: int, closer: str, depth: int) -> Node:
        node = Node(start, start, "object" if closer == "}" else "array")
        comma: int | None = None
        while True:
            tok = self.peek()
            if tok is not None and self.text[tok[1] : tok[2]] == closer:
                self.i += 1
                node.close, node.end = tok[1], tok[2]
                return node
            if (node.members or node.items) and comma is None:
                at = tok[1] if tok else len(self.text)
                raise JsoncError(f"expected ',' or {closer!r} at {_where(self.text, at)}")
            if closer == "}":
                kind, kstart, kend = self.take()
                if kind != "str":
                    raise JsoncError(f"expected a key in quotes at {_where(self.text, kstart)}")
                key = json.loads(self.text[kstart:kend])
                self.take(":")
                member = Member(key, kstart, self.value(depth + 1))
                node.members.append(member)
                comma = member.comma = self._comma(closer)
            else:
                node.items.append(self.value(depth + 1))
                comma = self._comma(closer)

    def _comma(self, closer: str) -> int | None:
        tok = self.peek()
        if tok is None or self.text[tok[1] : tok[2]] != ",":
            return None
        self.i += 1
        nxt = self.peek()
        if nxt is not None and self.text[nxt[1] : nxt[2]] == closer and not self.comments:
            raise JsoncError(f"a trailing comma at {_where(self.text, tok[1])}")
        return tok[1]


def _data(text: str, node: Node) -> Any:
    if node.kind == "object":
        out: dict[str, Any] = {}
        for m in node.members:
            out[m.key] = _data(text, m.value)
        return out
    if node.kind == "array":
        return [_data(text, n) for n in node.items]
    return json.loads(text[node.start : node.end])


class Document:
    """A parsed configuration file that can be edited by splicing text."""

    def __init__(self, text: str, *, comments: bool) -> None:
        self.comments = comments
        self._load(text)

    def _load(self, text: str) -> None:
        """Parse ``text`` and take it as the document; on JsoncError nothing changes."""
        bom = text.startswith("\ufeff")
        body = text[1:] if bom else text
        newline = "\r\n" if "\r\n" in body else "\n"
        if not body.strip():
            body = "{}" + (body or newline)
        parser = _Parser(body, self.comments)
        root = parser.value()
        extra = parser.peek()
        if extra is not None:
            raise JsoncError(f"text after the end of the document at {_where(body, extra[1])}")
        if root.kind != "object":
            raise JsoncError("the file's top level is not a JSON object")
        if not self.comments:
            try:
                json.loads(body)  # strict JSON must also satisfy Python's own parser
            except ValueError as exc:
                raise JsoncError(str(exc)) from None
        self.bom, self.text, self.newline = bom, body, newline
        self.comment_spans, self.root = parser.comment_spans, root

    def dump(self) -> str:
        return ("\ufeff" if self.bom else "") + self.text

    def data(self) -> Any:
        return _data(self.text, self.root)

    # -- lookup ----------------------------------------------------------------

    def _member(self, obj: Node, key: str) -> Member | None:
        found = [m for m in obj.members if m.key == key]
        if len(found) > 1:
            raise JsoncError(f"the key {key!r} appears {len(found)} times; fix the file first")
        return found[0] if found else None

    def object_at(self, path: tuple[str, ...]) -> Node | None:
        """The object at ``path`` from the root, None if a key is absent; JsoncError if not an object."""
        node = self.root
        for key in path:
            member = self._member(node, key)
            if member is None:
                return None
            node = member.value
            if node.kind != "object":
                raise JsoncError(f"{'.'.join(path)!r} is not a JSON object in this file")
        return node

    def get(self, path: tuple[str, ...], key: str) -> Any:
        obj = self.object_at(path)
        member = self._member(obj, key) if obj is not None else None
        return None if member is None else _data(self.text, member.value)

    # -- edits -----------------------------------------------------------------

    def _indent_unit(self) -> str:
        m = re.search(r"\n([ \t]+)\S", self.text)
        if m is None:
            return "  "
        ws = m.group(1)
        return "\t" if ws.startswith("\t") else " " * min(len(ws), 8)

    def _line_indent(self, pos: int) -> str:
        line_start = self.text.rfind("\n", 0, pos) + 1
        m = re.match(r"[ \t]*", self.text[line_start:pos])
        return m.group(0) if m else ""

    def _render(self, value: Any, indent: str) -> str:
        unit = self._indent_unit()
        text = json.dumps(value, indent=unit, ensure_ascii=False)
        return text.replace("\n", self.newline + indent)

    def _splice(self, start: int, end: int, new: str) -> None:
        # Re-parsed at once: the result must read as the client reads it, or this raises.
        self._load(("\ufeff" if self.bom else "") + self.text[:start] + new + self.text[end:])

    def set(self, path: tuple[str, ...], key: str, value: Any) -> bool:
        """Make ``path[key] == value``, creating missing objects on the path; True if changed."""
        node = self.root
        for i, part in enumerate(path):
            member = self._member(node, part)
            if member is None:
                nested: Any = {key: value}
                for outer in reversed(path[i + 1 :]):
                    nested = {outer: nested}
                self._insert(node, part, nested)
                return True
            if member.value.kind != "object":
                raise JsoncError(f"{'.'.join(path[: i + 1])!r} is not a JSON object in this file")
            node = member.value
        member = self._member(node, key)
        if member is None:
            self._insert(node, key, value)
            return True
        if _data(self.text, member.value) == value:
            return False
        indent = self._line_indent(member.key_start)
        self._splice(member.value.start, member.value.end, self._render(value, indent))
        return True

    def _eol_after(self, pos: int) -> int:
        """Where the line of ``pos`` ends, if only blanks and comments follow on it; else ``pos``."""
        text, i = self.text, pos
        while True:
            while i < len(text) and text[i] in " \t":
                i += 1
            span = next(((a, b) for a, b in self.comment_spans if a == i), None)
            if span is None or "\n" in text[span[0] : span[1]]:
                break
            i = span[1]
        if text.startswith("\r\n", i) or text.startswith("\n", i):
            return i
        return pos

    def _insert(self, obj: Node, key: str, value: Any) -> None:
        unit = self._indent_unit()
        nl = self.newline
        text = self.text
        if obj.members:
            last = obj.members[-1]
            indent = self._line_indent(last.key_start)
            if text[text.rfind("\n", 0, last.key_start) + 1 : last.key_start].strip():
                indent = self._line_indent(obj.start) + unit  # a one-line object: start a column
            entry = json.dumps(key, ensure_ascii=False) + ": " + self._render(value, indent)
            if last.comma is not None:  # keep a trailing-comma style
                at = self._eol_after(last.comma + 1)
                new = text[:at] + nl + indent + entry + "," + text[at:]
            else:
                at = self._eol_after(last.value.end)
                end = last.value.end
                new = text[:end] + "," + text[end:at] + nl + indent + entry + text[at:]
            self._replace(new)
            return
        outer = self._line_indent(obj.start)
        indent = outer + unit
        entry = json.dumps(key, ensure_ascii=False) + ": " + self._render(value, indent)
        if self._has_comment(obj.start + 1, obj.close):  # only comments inside: keep them
            self._splice(obj.close, obj.close, nl + indent + entry + nl + outer)
        else:
            self._splice(obj.start + 1, obj.close, nl + indent + entry + nl + outer)

    def _replace(self, body: str) -> None:
        self._load(("\ufeff" if self.bom else "") + body)

    def delete(self, path: tuple[str, ...], key: str, *, prune: bool = False) -> bool:
        """Remove ``path[key]``; with ``prune``, also an object on ``path`` it leaves empty.

        The inverse of :meth:`set` inserting a member next to others: the text
        it added goes, and nothing else (comments around it stay). The last
        member of an object leaves it ``{}``.
        """
        obj = self.object_at(path)
        member = self._member(obj, key) if obj is not None else None
        if obj is None or member is None:
            return False
        clean_inside = not self._has_comment(obj.start + 1, obj.close)
        if len(obj.members) == 1 and clean_inside:
            if prune and path:
                return self.delete(path[:-1], path[-1], prune=True)
            self._splice(obj.start + 1, obj.close, "")
            return True
        text = self.text
        line_start = text.rfind("\n", 0, member.key_start)
        start = member.key_start
        if line_start >= 0 and not text[line_start + 1 : member.key_start].strip():
            start = line_start - 1 if line_start > 0 and text[line_start - 1] == "\r" else line_start
        end = member.comma + 1 if member.comma is not None else member.value.end
        index = obj.members.index(member)
        if member.comma is None and index > 0:  # it was last: the one before loses its comma
            prev_comma = obj.members[index - 1].comma
            assert prev_comma is not None
            self._replace(text[:prev_comma] + text[prev_comma + 1 : start] + text[end:])
        else:
            self._replace(text[:start] + text[end:])
        return True

    def _has_comment(self, start: int, end: int) -> bool:
        return any(start <= a < end for a, _ in self.comment_spans)


def parse(text: str, *, comments: bool) -> Document:
    """A :class:`Document`, or JsoncError naming where the text stops being what the client reads."""
    return Document(text, comments=comments)
