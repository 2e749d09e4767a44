from __future__ import annotations

from typing import Any

import pytest

from bridge.netsuite.suiteql import MAX_LIMIT, OFFSET_CEILING, Pager, PageRequest, TooManyRows, check_page, keyed_query


@pytest.mark.parametrize(("limit", "offset"), [(1000, 0), (1000, 99_000), (500, 500), (1, 0), (7, 14)])
def test_valid_pages(limit: int, offset: int) -> None:
    check_page(limit, offset)


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (1001, 0), (1000, 500), (1000, -1000), (1000, 100_000),
                                               (300, 99_900)])
def test_pages_netsuite_would_refuse(limit: int, offset: int) -> None:
    with pytest.raises(ValueError):
        check_page(limit, offset)


def test_keyed_query_shape_and_literals() -> None:
    q = "SELECT id, tranid FROM transaction WHERE type = 'SalesOrd';"
    inner = "SELECT id, tranid FROM transaction WHERE type = 'SalesOrd'"
    assert keyed_query(q, "id") == f"SELECT * FROM ({inner}) ORDER BY id"
    assert keyed_query(q, "id", "1234").endswith("WHERE id > 1234 ORDER BY id")
    assert keyed_query(q, "tranid", "SO'7").endswith("WHERE tranid > 'SO''7' ORDER BY tranid")
    with pytest.raises(ValueError):
        keyed_query(q, "id; DROP")


def run(pager: Pager, fetch: Any) -> tuple[list[dict[str, Any]], list[PageRequest]]:
    rows: list[dict[str, Any]] = []
    asked: list[PageRequest] = []
    req: PageRequest | None = pager.first()
    while req is not None:
        asked.append(req)
        items, has_more = fetch(req)
        rows += items
        req = pager.next(req, items, has_more)
    return rows, asked


class FakeSuiteQL:
    """Serves ``n`` rows with ids 1..n the way NetSuite does (offset ceiling enforced)."""

    def __init__(self, n: int, ceiling: int) -> None:
        self.ids = list(range(1, n + 1))
        self.ceiling = ceiling

    def __call__(self, req: PageRequest) -> tuple[list[dict[str, Any]], bool]:
        check_page(req.limit, req.offset, self.ceiling)
        ids = self.ids
        if " WHERE id > " in req.query:
            after = int(req.query.rsplit(" WHERE id > ", 1)[1].split()[0])
            ids = [i for i in ids if i > after]
        window = ids[req.offset:req.offset + req.limit]
        return [{"id": str(i)} for i in window], req.offset + req.limit < len(ids)


@pytest.mark.parametrize(("n", "page", "ceiling"), [(0, 5, 20), (7, 5, 20), (20, 5, 20), (21, 5, 20),
                                                    (95, 5, 20), (64, 3, 10)])
def test_key_paging_returns_every_row_once_in_order(n: int, page: int, ceiling: int) -> None:
    fake = FakeSuiteQL(n, ceiling)
    rows, asked = run(Pager("SELECT id FROM item", page_size=page, key="id", ceiling=ceiling), fake)
    assert [int(r["id"]) for r in rows] == list(range(1, n + 1))
    assert all(r.offset + r.limit <= ceiling and r.offset % r.limit == 0 for r in asked)


def test_offset_paging_without_key_refuses_to_cross_the_ceiling() -> None:
    fake = FakeSuiteQL(25, 20)
    pager = Pager("SELECT id FROM item", page_size=5, ceiling=20)
    with pytest.raises(TooManyRows, match="key="):
        run(pager, fake)
    rows, _ = run(Pager("SELECT id FROM item", page_size=5, ceiling=20), FakeSuiteQL(20, 20))
    assert len(rows) == 20


def test_the_real_numbers_switch_to_key_paging_after_100k_rows() -> None:
    fake = FakeSuiteQL(250_500, OFFSET_CEILING)
    pager = Pager("SELECT id FROM transaction", key="id")
    rows, asked = run(pager, fake)
    assert len(rows) == 250_500 and rows[-1]["id"] == "250500"
    assert all(r.limit == MAX_LIMIT for r in asked)
    offsets = [r.offset for r in asked]
    assert offsets[:100] == list(range(0, 100_000, 1000))  # 100 offset pages
    assert asked[100].offset == 0 and asked[100].query.endswith("WHERE id > 100000 ORDER BY id")
    assert asked[200].offset == 0 and asked[200].query.endswith("WHERE id > 200000 ORDER BY id")
    assert pager.windows == 2 and len(asked) == 251
