"""SoQL tokens, read by hand: no regular expression ever sees a query, and nothing here builds SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.common.errors import BadRequest
from services.common.query_tree import MAX_TEXT

MAX_NAME = 64
# Keywords that end an expression or stand for a value; a column with one of these names is written `backquoted`.
KEYWORDS = frozenset({"and", "or", "not", "is", "null", "like", "between", "in", "true", "false", "as", "asc", "desc"})
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_DIGITS = frozenset("0123456789")
_NAME_CHARS = _LETTERS | _DIGITS
_SPACE = frozenset(" \t\r\n")
_OPERATORS = ("<=", ">=", "<>", "!=", "==", "(", ")", ",", "*", "+", "-", "/", "=", "<", ">")
_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class SoqlError(BadRequest, ValueError):
    """A SoQL parameter that cannot be read, in the spirit of Socrata's `query.compiler.malformed` errors: the
    message, the parameter (`$where`, or a column name for a plain filter) and the character offset in it."""

    slug = "soql-malformed"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        position: int | None = None,
        code: str = "query.compiler.malformed",
    ) -> None:
        location = ""
        if param is not None:
            location = f" (in {param}" + (f" at position {position})" if position is not None else ")")
        detail = message + location
        data: dict[str, Any] = {"parameter": param, "position": position}
        # `code` and `message` are what Socrata clients read from an error body (sodapy shows `message`).
        super().__init__(detail, extra={"code": code, "message": detail, "data": data})
        self.message = message
        self.param = param
        self.position = position
        self.code = code


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # name, quoted_name, string, number, op, eof
    value: str
    pos: int

    def is_keyword(self, *words: str) -> bool:
        return self.kind == "name" and self.value in words

    def printable(self) -> str:
        if self.kind == "eof":
            return "end of input"
        if self.kind == "string":
            return "a string"
        return f"`{self.value}`"


class _Lexer:
    def __init__(self, text: str, param: str) -> None:
        self.text = text
        self.param = param
        self.pos = 0

    def error(self, message: str, pos: int) -> SoqlError:
        return SoqlError(message, param=self.param, position=pos)

    def tokens(self) -> list[Token]:
        out: list[Token] = []
        text, n = self.text, len(self.text)
        while self.pos < n:
            start, char = self.pos, text[self.pos]
            if char in _SPACE:
                self.pos += 1
            elif text.startswith("--", start):
                end = text.find("\n", start)
                self.pos = n if end < 0 else end + 1
            elif text.startswith("/*", start):
                end = text.find("*/", start + 2)
                if end < 0:
                    raise self.error("unterminated /* comment", start)
                self.pos = end + 2
            elif char in _LETTERS:
                out.append(Token("name", self._name(start), start))
            elif char == ":":
                out.append(self._system_name(start))
            elif char == "`":
                out.append(self._quoted_name(start))
            elif char in _DIGITS:
                out.append(Token("number", self._number(start), start))
            elif char == "'":
                out.append(Token("string", self._single_quoted(start), start))
            elif char == '"':
                out.append(Token("string", self._double_quoted(start), start))
            else:
                op = next((op for op in _OPERATORS if text.startswith(op, start)), None)
                if op is None:
                    raise self.error(f"unexpected character {char!r}", start)
                self.pos += len(op)
                out.append(Token("op", "!=" if op == "<>" else "=" if op == "==" else op, start))
        out.append(Token("eof", "", n))
        return out

    def _name(self, start: int) -> str:
        end = start
        while end < len(self.text) and self.text[end] in _NAME_CHARS:
            end += 1
        self.pos = end
        if end - start > MAX_NAME:
            raise self.error(f"name longer than {MAX_NAME} characters", start)
        # SoQL field names are lowercase and Socrata matches them without regard to case.
        return self.text[start:end].lower()

    def _system_name(self, start: int) -> Token:
        following = self.text[start + 1 : start + 2]
        if following == ":":
            raise self.error("`::` casts are not supported", start)
        if following == "*":
            raise self.error("`:*` (all system fields) is not supported", start)
        if following not in _LETTERS:
            raise self.error("unexpected character ':'", start)
        return Token("name", ":" + self._name(start + 1), start)

    def _quoted_name(self, start: int) -> Token:
        end = self.text.find("`", start + 1)
        if end < 0:
            raise self.error("unterminated `quoted name`", start)
        # Checked before lowercasing: str.lower() turns some non-ASCII letters (the Kelvin sign) into ASCII ones.
        raw = self.text[start + 1 : end]
        body = raw[1:] if raw.startswith(":") else raw
        if not body or body[0] not in _LETTERS or any(char not in _NAME_CHARS for char in body) or len(raw) > MAX_NAME:
            raise self.error(f"`{raw[:MAX_NAME]}` is not a field name (letters, digits, _)", start)
        self.pos = end + 1
        return Token("quoted_name", raw.lower(), start)

    def _number(self, start: int) -> str:
        text, end = self.text, start
        while end < len(text) and text[end] in _DIGITS:
            end += 1
        if end < len(text) and text[end] == ".":
            end += 1
            while end < len(text) and text[end] in _DIGITS:
                end += 1
        if end < len(text) and text[end] in "eE":
            exponent = end + 1
            if exponent < len(text) and text[exponent] in "+-":
                exponent += 1
            if exponent < len(text) and text[exponent] in _DIGITS:
                end = exponent
                while end < len(text) and text[end] in _DIGITS:
                    end += 1
        self.pos = end
        return text[start:end]

    def _single_quoted(self, start: int) -> str:
        parts: list[str] = []
        cursor = start + 1
        while True:
            end = self.text.find("'", cursor)
            if end < 0:
                raise self.error("unterminated string", start)
            parts.append(self.text[cursor:end])
            if self.text.startswith("''", end):
                parts.append("'")
                cursor = end + 2
                continue
            self.pos = end + 1
            return self._checked("".join(parts), start)

    def _double_quoted(self, start: int) -> str:
        text, parts, cursor = self.text, [], start + 1
        while True:
            if cursor >= len(text) or text[cursor] == "\n":
                raise self.error("unterminated string", start)
            char = text[cursor]
            if char == '"':
                self.pos = cursor + 1
                return self._checked("".join(parts), start)
            if char != "\\":
                parts.append(char)
                cursor += 1
                continue
            escape = text[cursor + 1 : cursor + 2]
            if escape in _ESCAPES:
                parts.append(_ESCAPES[escape])
                cursor += 2
            elif escape in ("u", "U"):
                width = 4 if escape == "u" else 6
                digits = text[cursor + 2 : cursor + 2 + width]
                if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                    raise self.error(f"\\{escape} needs {width} hexadecimal digits", cursor)
                code = int(digits, 16)
                if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise self.error(f"\\{escape}{digits} is not a Unicode character", cursor)
                parts.append(chr(code))
                cursor += 2 + width
            else:
                raise self.error(f"unknown escape \\{escape}", cursor)

    def _checked(self, value: str, start: int) -> str:
        if len(value) > MAX_TEXT:
            raise self.error(f"string longer than {MAX_TEXT} characters", start)
        if "\x00" in value:
            raise self.error("strings must not contain NUL characters", start)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise self.error("strings must be valid Unicode (no lone surrogates)", start) from None
        return value


def tokenize(text: str, param: str) -> list[Token]:
    return _Lexer(text, param).tokens()
