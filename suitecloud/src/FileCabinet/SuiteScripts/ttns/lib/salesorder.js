/**
 * sales_order.lines_closed: TikTok lines closed in NetSuite (e.g. out of stock) so the bridge can
 * request the cancellation on TikTok.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './records', './items', './util'], (C, R, items, util) => {
    const F = C.FIELDS;

    function tiktokLines(rec) {
        const out = {};
        const n = R.lineCount(rec, 'item');
        for (let i = 0; i < n; i++) {
            const ids = util.str(R.lineValue(rec, 'item', F.LINE_ITEM_IDS, i)).trim();
            if (!ids) continue;
            const line = util.str(R.lineValue(rec, 'item', 'line', i)) || String(i + 1);
            out[line] = {
                line: line,
                item_id: R.id(R.lineValue(rec, 'item', 'item', i)),
                quantity: util.toNumber(R.lineValue(rec, 'item', 'quantity', i)),
                tiktok_line_item_ids: ids,
                closed: util.truthy(R.lineValue(rec, 'item', 'isclosed', i)),
            };
        }
        return out;
    }

    /** Lines with TikTok ids that were open before and are closed now (a cancel closes them all). */
    function newlyClosed(oldRec, newRec, ueType) {
        const before = oldRec ? tiktokLines(oldRec) : {};
        const after = tiktokLines(newRec);
        const cancelled = util.str(ueType).toLowerCase() === 'cancel';
        return Object.keys(after)
            .filter((k) => (after[k].closed || cancelled) && before[k] && !before[k].closed)
            .sort((a, b) => (Number(a) - Number(b)) || (a < b ? -1 : 1))
            .map((k) => after[k]);
    }

    /**
     * @returns {{eventId, type, data}|null}
     */
    function event(N, oldRec, newRec, ueType) {
        if (!newRec || !oldRec) return null;
        const orderId = util.str(R.value(newRec, F.ORDER_ID)).trim();
        if (!orderId) return null;
        const closed = newlyClosed(oldRec, newRec, ueType);
        if (!closed.length) return null;
        const skus = items.skus(N, closed.map((l) => l.item_id));
        const data = {
            sales_order_id: util.str(newRec.id),
            tiktok_order_id: orderId,
            tiktok_shop_id: util.str(R.value(newRec, F.SHOP_ID)).trim(),
            lines: closed.map((l) => ({
                line: l.line,
                item_id: l.item_id,
                sku: skus[l.item_id] || '',
                quantity: l.quantity,
                tiktok_line_item_ids: l.tiktok_line_item_ids,
            })),
            reason: util.str(R.value(newRec, F.CANCEL_REASON)).trim(),
        };
        const key = data.lines.map((l) => l.line + '=' + l.tiktok_line_item_ids).join(';');
        return {
            eventId: 'so:' + data.sales_order_id + ':lines_closed:' + util.hash(key),
            type: C.EVENTS.LINES_CLOSED,
            data: data,
        };
    }

    return { tiktokLines, newlyClosed, event };
});
