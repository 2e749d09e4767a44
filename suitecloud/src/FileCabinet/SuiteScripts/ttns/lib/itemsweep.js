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
    const MAX_ITEMS_PER_EVENT = 500;

    const CHANGED_SQL = 'SELECT id AS item_id, parent AS parent_id, '
        + "TO_CHAR(lastmodifieddate, '" + TS_FORMAT + "') AS modified FROM item "
        + "WHERE lastmodifieddate > TO_TIMESTAMP(?, '" + TS_FORMAT + "') "
        + 'AND itemtype IN (' + ITEM_TYPES.map(() => '?').join(', ') + ') '
        + 'ORDER BY modified, item_id';

    const MAX_SQL = "SELECT TO_CHAR(MAX(lastmodifieddate), '" + TS_FORMAT + "') AS modified FROM item";

    /** Latest lastmodifieddate of any item (the starting cursor), or null. */
    function currentMax(N) {
        return sweep.maxModified(N, MAX_SQL);
    }

    /** @returns {{items: Array<{item_id, parent_id}>, until: (string|null), complete: boolean}} */
    function changedSince(N, since) {
        const out = sweep.collectSince(N, CHANGED_SQL, [since].concat(ITEM_TYPES),
            (r) => util.str(r.item_id),
            (r) => ({ item_id: util.str(r.item_id), parent_id: util.str(r.parent_id) || null }));
        return { items: out.rows, until: out.until, complete: out.complete };
    }

    const shape = sweep.chunked('itemsweep', 'items', C.EVENTS.ITEM_SWEEP, MAX_ITEMS_PER_EVENT);
    const workItems = shape.workItems;

    function eventFor(item) {
        return {
            eventId: shape.eventId(item),
            type: shape.eventType,
            data: { since: item.since, until: item.until, part: item.part, parts: item.parts, items: item.items },
        };
    }

    return { CHANGED_SQL, MAX_SQL, ITEM_TYPES, minusSeconds: sweep.minusSeconds, currentMax, changedSince, workItems, eventFor };
});
