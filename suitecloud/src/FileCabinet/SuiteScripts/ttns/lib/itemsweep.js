/**
 * The item sweep: inventory and assembly items (matrix parents and children) modified since the
 * last run, for the catalog and price flows — what a user event missed (CSV imports in an ignored
 * context, a failed push that went dead, mass updates, a deployment set to Not Deployed). Same cursor
 * rules as the inventory sweep (NetSuite's lastmodifieddate as text, an overlap re-read each run).
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './sweep', './util'], (C, sweep, util) => {
    const TS_FORMAT = 'YYYY-MM-DD HH24:MI:SS';
    const ITEM_TYPES = ['InvtPart', 'Assembly'];
    const PAGE_SIZE = 1000;
    const MAX_ITEMS_PER_EVENT = 500;
    const UNIT_FLOOR = 500;

    const CHANGED_SQL = 'SELECT id AS item_id, parent AS parent_id, '
        + "TO_CHAR(lastmodifieddate, '" + TS_FORMAT + "') AS modified FROM item "
        + "WHERE lastmodifieddate > TO_TIMESTAMP(?, '" + TS_FORMAT + "') "
        + 'AND itemtype IN (' + ITEM_TYPES.map(() => '?').join(', ') + ') '
        + 'ORDER BY modified, item_id';

    const MAX_SQL = "SELECT TO_CHAR(MAX(lastmodifieddate), '" + TS_FORMAT + "') AS modified FROM item";

    /** Latest lastmodifieddate of any item (the starting cursor), or null. */
    function currentMax(N) {
        const rows = N.query.runSuiteQL({ query: MAX_SQL, params: [] }).asMappedResults();
        return rows.length && rows[0].modified ? util.str(rows[0].modified) : null;
    }

    /** @returns {{items: Array<{item_id, parent_id}>, until: (string|null), complete: boolean}} */
    function changedSince(N, since) {
        const paged = N.query.runSuiteQLPaged({ query: CHANGED_SQL, params: [since].concat(ITEM_TYPES), pageSize: PAGE_SIZE });
        const script = N.runtime.getCurrentScript();
        const seen = {};
        const items = [];
        let until = null;
        let complete = true;
        const ranges = paged.pageRanges || [];
        for (let i = 0; i < ranges.length; i++) {
            if (script.getRemainingUsage() < UNIT_FLOOR) {
                complete = false;
                break;
            }
            paged.fetch({ index: ranges[i].index }).data.asMappedResults().forEach((r) => {
                const id = util.str(r.item_id);
                if (!seen[id]) {
                    seen[id] = true;
                    const parent = util.str(r.parent_id);
                    items.push({ item_id: id, parent_id: parent || null });
                }
                until = util.str(r.modified);
            });
        }
        return { items: items, until: until, complete: complete };
    }

    function workItems(since, result) {
        const parts = util.chunk(result.items, MAX_ITEMS_PER_EVENT);
        return parts.map((items, i) => ({
            kind: 'itemsweep', since: since, until: result.until, part: i + 1, parts: parts.length, items: items,
        }));
    }

    function eventFor(item) {
        return {
            eventId: 'itemsweep:' + item.since + ':' + item.until + ':' + item.part + '/' + item.parts,
            type: C.EVENTS.ITEM_SWEEP,
            data: { since: item.since, until: item.until, part: item.part, parts: item.parts, items: item.items },
        };
    }

    return { CHANGED_SQL, MAX_SQL, ITEM_TYPES, minusSeconds: sweep.minusSeconds, currentMax, changedSince, workItems, eventFor };
});
