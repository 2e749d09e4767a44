const { createN } = require('./helpers/fakeN');
const fx = require('./helpers/fixtures');
const salesorder = require('SuiteScripts/ttns/lib/salesorder');

function pair(n, change, fields) {
    const oldRec = fx.seedSalesOrder(n).clone();
    const newRec = oldRec.clone();
    Object.assign(newRec.fields, fields || {});
    change(newRec.sublists.item);
    return { oldRec, newRec };
}

describe('sales_order.lines_closed', () => {
    test('a TikTok line closed in NetSuite is reported with its line item ids and SKU', () => {
        const n = createN();
        fx.seedItems(n);
        const { oldRec, newRec } = pair(n, (lines) => { lines[1].isclosed = true; }, { custbody_ttns_cancel_reason: 'out of stock' });
        const ev = salesorder.event(n.N, oldRec, newRec, 'edit');
        expect(ev.type).toBe('sales_order.lines_closed');
        expect(ev.data).toEqual({
            sales_order_id: '77',
            tiktok_order_id: '5760001',
            tiktok_shop_id: '7495',
            lines: [{ line: '2', item_id: '502', sku: 'MUG-BLK', quantity: 1, tiktok_line_item_ids: 'L3' }],
            reason: 'out of stock',
        });
        expect(ev.eventId).toMatch(/^so:77:lines_closed:[0-9a-f]{14}$/);
    });

    test('closing the whole order reports every TikTok line; reason defaults to ""', () => {
        const n = createN();
        fx.seedItems(n);
        const { oldRec, newRec } = pair(n, (lines) => lines.forEach((l) => { l.isclosed = true; }));
        const ev = salesorder.event(n.N, oldRec, newRec, 'edit');
        expect(ev.data.lines.map((l) => l.tiktok_line_item_ids)).toEqual(['L1,L2', 'L3']);
        expect(ev.data.reason).toBe('');
    });

    test('lines already closed, lines without TikTok ids and orders without a TikTok order id push nothing', () => {
        const n = createN();
        fx.seedItems(n);
        const already = pair(n, (lines) => { lines[0].isclosed = true; });
        already.oldRec.sublists.item[0].isclosed = true;
        expect(salesorder.event(n.N, already.oldRec, already.newRec, 'edit')).toBeNull();

        const noIds = pair(n, (lines) => { lines[0].isclosed = true; lines[0].custcol_ttns_line_item_ids = ''; });
        noIds.oldRec.sublists.item[0].custcol_ttns_line_item_ids = '';
        expect(salesorder.event(n.N, noIds.oldRec, noIds.newRec, 'edit')).toBeNull();

        const notTikTok = pair(n, (lines) => { lines[0].isclosed = true; }, { custbody_ttns_order_id: '' });
        expect(salesorder.event(n.N, notTikTok.oldRec, notTikTok.newRec, 'edit')).toBeNull();
    });

    test('cancel closes every open TikTok line', () => {
        const n = createN();
        fx.seedItems(n);
        const { oldRec, newRec } = pair(n, () => {});
        expect(salesorder.event(n.N, oldRec, newRec, 'cancel').data.lines).toHaveLength(2);
    });

    test('the same closed set gives the same event id', () => {
        const n = createN();
        fx.seedItems(n);
        const a = pair(n, (lines) => { lines[1].isclosed = true; });
        const b = pair(n, (lines) => { lines[1].isclosed = true; });
        expect(salesorder.event(n.N, a.oldRec, a.newRec, 'edit').eventId).toBe(salesorder.event(n.N, b.oldRec, b.newRec, 'xedit').eventId);
    });
});
