/**
 * The inventory delta sweep: item/location pairs on stock-moving transactions modified since the
 * last run. The cursor is NetSuite's own lastmodifieddate rendered as 'YYYY-MM-DD HH24:MI:SS', so
 * comparisons never cross time zones; each run re-reads an overlap window before the cursor.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './util'], (C, util) => {
    const TS_FORMAT = 'YYYY-MM-DD HH24:MI:SS';
    /** Transaction types (SuiteQL transaction.type) that commit, receive, relieve or move stock. */
    const STOCK_TYPES = ['ItemShip', 'ItemRcpt', 'InvAdjst', 'InvTrnfr', 'TrnfrOrd', 'SalesOrd', 'CashSale',
        'CustInvc', 'Build', 'Unbuild', 'WOCompl', 'WOIssue', 'BinTrnfr', 'InvCount', 'InvStChg',
        'RtnAuth', 'VendAuth', 'CashRfnd', 'CustCred'];
    const STOCK_ITEM_TYPES = ['InvtPart', 'Assembly', 'Kit'];
    const PAGE_SIZE = 1000;
    const MAX_PAIRS_PER_EVENT = 500;
    /** Units kept in hand while paging (getInputData allows 10,000). */
    const UNIT_FLOOR = 500;

    function placeholders(list) {
        return list.map(() => '?').join(', ');
    }

    const CHANGED_SQL = 'SELECT tl.item AS item_id, tl.location AS location_id, '
        + "TO_CHAR(MAX(t.lastmodifieddate), '" + TS_FORMAT + "') AS modified "
        + 'FROM transactionline tl INNER JOIN transaction t ON t.id = tl.transaction '
        + "WHERE t.lastmodifieddate > TO_TIMESTAMP(?, '" + TS_FORMAT + "') "
        + 'AND t.type IN (' + placeholders(STOCK_TYPES) + ') '
        + 'AND tl.item IS NOT NULL AND tl.itemtype IN (' + placeholders(STOCK_ITEM_TYPES) + ') '
        + 'GROUP BY tl.item, tl.location '
        + 'ORDER BY modified, item_id, location_id';

    const MAX_SQL = "SELECT TO_CHAR(MAX(t.lastmodifieddate), '" + TS_FORMAT + "') AS modified FROM transaction t";

    /** 'YYYY-MM-DD HH:MM:SS' minus `seconds`, as wall-clock arithmetic (no time zone involved). */
    function minusSeconds(ts, seconds) {
        const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(util.str(ts));
        if (!m) throw new Error('bad sweep cursor: ' + ts);
        const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) - seconds * 1000);
        return d.toISOString().slice(0, 19).replace('T', ' ');
    }

    /** Latest lastmodifieddate of any transaction (the starting cursor), or null. */
    function currentMax(N) {
        const rows = N.query.runSuiteQL({ query: MAX_SQL, params: [] }).asMappedResults();
        return rows.length && rows[0].modified ? util.str(rows[0].modified) : null;
    }

    /**
     * The cursor loop both sweeps share: page through `query` (ordered by its `modified` column),
     * keep the first row per `keyOf(row)` as `valueOf(row)`, and stop early when governance runs low.
     * Rows are ordered by modification time, so `until` (the last row's time) is always a safe next cursor.
     * @returns {{rows: Array, until: (string|null), complete: boolean}}
     */
    function collectSince(N, query, params, keyOf, valueOf) {
        const paged = N.query.runSuiteQLPaged({ query: query, params: params, pageSize: PAGE_SIZE });
        const script = N.runtime.getCurrentScript();
        const seen = {};
        const rows = [];
        let until = null;
        let complete = true;
        const ranges = paged.pageRanges || [];
        for (let i = 0; i < ranges.length; i++) {
            if (script.getRemainingUsage() < UNIT_FLOOR) {
                complete = false;
                break;
            }
            paged.fetch({ index: ranges[i].index }).data.asMappedResults().forEach((r) => {
                const key = keyOf(r);
                if (!seen[key]) {
                    seen[key] = true;
                    rows.push(valueOf(r));
                }
                until = util.str(r.modified);
            });
        }
        return { rows: rows, until: until, complete: complete };
    }

    /** The latest `modified` a one-row MAX query returns (the starting cursor), or null. */
    function maxModified(N, sql) {
        const rows = N.query.runSuiteQL({ query: sql, params: [] }).asMappedResults();
        return rows.length && rows[0].modified ? util.str(rows[0].modified) : null;
    }

    /**
     * Work items for the map stage, at most `perEvent` entries each, and the signed event of one:
     * `kind` names the sweep, `field` the list it carries, `eventType` the bridge event.
     */
    function chunked(kind, field, eventType, perEvent) {
        function workItems(since, result) {
            const parts = util.chunk(result[field], perEvent);
            return parts.map((list, i) => {
                const item = { kind: kind, since: since, until: result.until, part: i + 1, parts: parts.length };
                item[field] = list;
                return item;
            });
        }
        return { workItems: workItems, eventId: (item) => kind + ':' + item.since + ':' + item.until + ':' + item.part + '/' + item.parts, eventType: eventType };
    }

    function locationOf(r) {
        return r.location_id === null || r.location_id === undefined || r.location_id === '' ? null : util.str(r.location_id);
    }

    /** Latest lastmodifieddate of any transaction (the starting cursor), or null. */
    function currentMax(N) {
        return maxModified(N, MAX_SQL);
    }

    /** Item/location pairs changed after `since`. @returns {{pairs, until, complete}} */
    function changedSince(N, since) {
        const out = collectSince(N, CHANGED_SQL, [since].concat(STOCK_TYPES, STOCK_ITEM_TYPES),
            (r) => util.str(r.item_id) + '@' + locationOf(r),
            (r) => ({ item_id: util.str(r.item_id), location_id: locationOf(r) }));
        return { pairs: out.rows, until: out.until, complete: out.complete };
    }

    const shape = chunked('sweep', 'pairs', C.EVENTS.INVENTORY_SWEEP, MAX_PAIRS_PER_EVENT);
    const workItems = shape.workItems;

    function eventFor(item) {
        return {
            eventId: shape.eventId(item),
            type: shape.eventType,
            data: { since: item.since, until: item.until, part: item.part, parts: item.parts, changes: item.pairs },
        };
    }

    return {
        CHANGED_SQL, MAX_SQL, STOCK_TYPES, STOCK_ITEM_TYPES, minusSeconds, currentMax, changedSince, workItems, eventFor,
        collectSince, maxModified, chunked,
    };
});
