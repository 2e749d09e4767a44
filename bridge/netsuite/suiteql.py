"""SuiteQL paging as pure arithmetic: which page to ask for next.

NetSuite's REST SuiteQL takes ``limit`` ≤ 1000 and an ``offset`` that is a multiple of ``limit``,
and serves at most 100,000 rows of one result by offset. Past that, the only way on is key paging:
order by a unique key and ask again for ``key > last`` — so a keyed iteration is ordered by its key
from the first page, and restarts its offset at 0 after each 100,000 rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bridge.errors import FatalError

MAX_LIMIT = 1000
OFFSET_CEILING = 100_000
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMBER = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?$")


def check_page(limit: int, offset: int, ceiling: int = OFFSET_CEILING) -> None:
    """Refuse a page NetSuite would refuse (a bug in the caller, so a ValueError)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"SuiteQL limit must be 1..{MAX_LIMIT}, not {limit}")
    if offset < 0 or offset % limit:
        raise ValueError(f"SuiteQL offset must be a non-negative multiple of the limit ({limit}), not {offset}")
    if offset + limit > ceiling:
        raise ValueError(f"SuiteQL serves at most {ceiling} rows by offset; page by key beyond")


def literal(value: Any) -> str:
    """A key value as a SuiteQL literal (ids come back as strings: numbers stay numbers)."""
    text = str(value)
    if isinstance(value, int | float) or _NUMBER.match(text):
        return text
    return "'" + text.replace("'", "''") + "'"


def keyed_query(query: str, key: str, after: Any = None) -> str:
    """``query`` ordered by ``key``, restricted to rows after ``after`` when given."""
    if not _IDENT.match(key):
        raise ValueError(f"key must be a column name, not {key!r}")
    inner = query.strip().rstrip(";").strip()
    where = "" if after is None else f" WHERE {key} > {literal(after)}"
    # the caller's own query; the key is checked to be an identifier and the value is a quoted literal
    return f"SELECT * FROM ({inner}){where} ORDER BY {key}"  # noqa: S608


@dataclass(frozen=True)
class PageRequest:
    query: str
    limit: int
    offset: int


class TooManyRows(FatalError):
    """More than 100,000 rows by offset paging and no key to page by."""


class Pager:
    """Plans the pages of one SuiteQL iteration.

    Without ``key`` it pages by offset and refuses to cross the 100,000-row ceiling; with ``key``
    it pages by offset inside each 100,000-row window and moves the window by key.
    """

    def __init__(self, query: str, *, page_size: int = MAX_LIMIT, key: str | None = None,
                 ceiling: int = OFFSET_CEILING) -> None:
        check_page(page_size, 0, ceiling)
        self.base = query
        self.page_size = page_size
        self.key = key
        self.ceiling = ceiling
        self.windows = 0  # how many times the key window moved

    def first(self) -> PageRequest:
        q = self.base if self.key is None else keyed_query(self.base, self.key)
        return PageRequest(q, self.page_size, 0)

    def next(self, current: PageRequest, items: list[dict[str, Any]], has_more: bool) -> PageRequest | None:
        """The page after ``current`` (which returned ``items``), or None when done."""
        if not has_more or not items:
            return None
        offset = current.offset + current.limit
        if offset + current.limit <= self.ceiling:
            return PageRequest(current.query, current.limit, offset)
        if self.key is None:
            raise TooManyRows(
                f"the SuiteQL result has more than {self.ceiling} rows; iterate with key='id' (or another unique, "
                "sortable column) to page past them"
            )
        last = items[-1].get(self.key)
        if last is None:
            raise FatalError(f"SuiteQL key paging: the rows have no column {self.key!r}")
        self.windows += 1
        return PageRequest(keyed_query(self.base, self.key, last), current.limit, 0)
