const { createN } = require('./helpers/fakeN');
const fx = require('./helpers/fixtures');
const fulfillment = require('SuiteScripts/ttns/lib/fulfillment');

function setup() {
    const n = createN();
    fx.seedItems(n);
    fx.seedSalesOrder(n);
    return n;
}

describe('item_fulfillment.saved event', () => {
    test('carries packages, lines with TikTok line ids (from the sales order) and order identity', () => {
        const n = setup();
        const ev = fulfillment.event(n.N, fx.fulfillment(n), 'ship');
        expect(ev.type).toBe('item_fulfillment.saved');
        expect(ev.data).toEqual({
            fulfillment_id: '900',
            tran_id: 'IF-900',
            context_type: 'ship',
            status: 'C',
            sales_order_id: '77',
            sales_order_external_id: 'TTS-7495-5760001',
            tiktok_order_id: '5760001',
            tiktok_shop_id: '7495',
            ship_method: { id: '12', text: 'USPS Priority' },
            carrier: 'FedEx/USPS/More',
            shipped_at: '2025-01-15',
            packages: [
                { index: 1, tracking_number: '9400111202555842761234', carrier: 'FedEx/USPS/More', weight: 1.5, description: 'box 1' },
                { index: 2, tracking_number: '9400111202555842765678', carrier: 'FedEx/USPS/More', weight: 0.5, description: 'box 2' },
            ],
            lines: [
                { line: '1', item_id: '501', sku: 'TEE-RED-M', quantity: 2, order_line: '1', tiktok_line_item_ids: 'L1,L2', package_index: 1 },
                { line: '2', item_id: '502', sku: 'MUG-BLK', quantity: 1, order_line: '2', tiktok_line_item_ids: 'L3', package_index: 2 },
            ],
            shipped_by: '',
        });
        expect(ev.eventId).toMatch(/^if:900:ship:[0-9a-f]{14}$/);
    });

    test('line ids already on the fulfillment lines are used without loading the sales order', () => {
        const n = setup();
        const rec = fx.fulfillment(n, {
            lines: [{ line: '1', item: '501', itemreceive: true, quantity: 2, orderline: '1', custcol_ttns_line_item_ids: 'L1,L2' }],
        });
        const ev = fulfillment.event(n.N, rec, 'create');
        expect(ev.data.lines[0].tiktok_line_item_ids).toBe('L1,L2');
        expect(n.calls).not.toContain('load:salesorder');
    });

    test('UPS package sublist and unreceived / kit member lines', () => {
        const n = setup();
        const rec = fx.fulfillment(n, {
            packages: [],
            lines: [
                { line: '1', item: '501', itemreceive: true, quantity: 2, orderline: '1' },
                { line: '2', item: '502', itemreceive: false, quantity: 1, orderline: '2' },
                { line: '3', item: '503', itemreceive: true, quantity: 1, orderline: '1', kitmemberof: '1' },
            ],
        });
        rec.sublists.packageups = [{ packagetrackingnumberups: '1Z999AA10123456784', packageweightups: 2, packagedescrups: '' }];
        const ev = fulfillment.event(n.N, rec, 'pack');
        expect(ev.data.packages).toEqual([{ index: 1, tracking_number: '1Z999AA10123456784', carrier: 'UPS', weight: 2, description: '' }]);
        expect(ev.data.lines.map((l) => l.item_id)).toEqual(['501']);
        expect(ev.data.context_type).toBe('pack');
        expect(ev.data.shipped_at).toBe('2025-01-15');
    });

    test('not shipped yet: no shipped_at', () => {
        const n = setup();
        const ev = fulfillment.event(n.N, fx.fulfillment(n, { fields: { shipstatus: 'B' } }), 'pack');
        expect(ev.data.status).toBe('B');
        expect(ev.data.shipped_at).toBeNull();
    });

    test('editing a tracking number gives a new event id; the same content the same id', () => {
        const n = setup();
        const a = fulfillment.event(n.N, fx.fulfillment(n), 'edit');
        const b = fulfillment.event(n.N, fx.fulfillment(n), 'edit');
        const edited = fx.fulfillment(n);
        edited.sublists.package[0].packagetrackingnumber = '9400111202555842760000';
        const c = fulfillment.event(n.N, edited, 'edit');
        expect(b.eventId).toBe(a.eventId);
        expect(c.eventId).not.toBe(a.eventId);
    });

    test('fulfillments of orders without a TikTok order id are ignored cheaply', () => {
        const n = createN();
        fx.seedItems(n);
        fx.seedSalesOrder(n, { fields: { custbody_ttns_order_id: '' } });
        const before = n.usage;
        expect(fulfillment.event(n.N, fx.fulfillment(n), 'ship')).toBeNull();
        expect(before - n.usage).toBeLessThanOrEqual(1);
    });

    test('transfer order fulfillments are ignored without any lookup', () => {
        const n = setup();
        const rec = fx.fulfillment(n, { fields: { ordertype: 'TrnfrOrd' } });
        expect(fulfillment.event(n.N, rec, 'ship')).toBeNull();
        expect(n.calls).toEqual([]);
    });

    test('fulfillments the bridge created because TikTok shipped (FBT, custbody_ttns_shipped_by = TIKTOK) are not pushed back', () => {
        const n = setup();
        const rec = fx.fulfillment(n, { fields: { custbody_ttns_shipped_by: 'TIKTOK' } });
        expect(fulfillment.event(n.N, rec, 'create')).toBeNull();
    });

    test('a fulfillment of a bridge-written order is pushed even if it carries the sales marker custbody_ttns_source', () => {
        // Regression: NetSuite copies custom body fields from the sales order on transform. When
        // custbody_ttns_source applied to fulfillments, every fulfillment of a bridge order carried
        // TTNS and was skipped as a bridge-created FBT fulfillment: nothing ever reached TikTok.
        const n = setup();
        const rec = fx.fulfillment(n, { fields: { custbody_ttns_source: 'TTNS' } });
        const ev = fulfillment.event(n.N, rec, 'create');
        expect(ev).not.toBeNull();
        expect(ev.type).toBe('item_fulfillment.saved');
        expect(ev.data.tiktok_order_id).toBe('5760001');
        expect(ev.data.shipped_by).toBe('');
    });

    test('the sales marker cannot reach a fulfillment: custbody_ttns_source is for sales transactions only, '
        + 'custbody_ttns_shipped_by for fulfillments only', () => {
        const fs = require('fs');
        const path = require('path');
        const flag = (field, name) => {
            const xml = fs.readFileSync(path.join(__dirname, '..', 'src', 'Objects', field + '.xml'), 'utf8');
            const m = xml.match(new RegExp('<' + name + '>([TF])</' + name + '>'));
            return m && m[1];
        };
        expect(flag('custbody_ttns_source', 'bodysale')).toBe('T');
        expect(flag('custbody_ttns_source', 'bodyitemfulfillment')).toBe('F');
        expect(flag('custbody_ttns_shipped_by', 'bodyitemfulfillment')).toBe('T');
        expect(flag('custbody_ttns_shipped_by', 'bodysale')).toBe('F');
    });

    test('delete produces item_fulfillment.deleted', () => {
        const n = setup();
        const ev = fulfillment.event(n.N, fx.fulfillment(n), 'delete');
        expect(ev.type).toBe('item_fulfillment.deleted');
        expect(ev.data.context_type).toBe('delete');
        expect(ev.eventId).toMatch(/^if:900:delete:/);
    });

    test('context types map xedit to edit', () => {
        expect(fulfillment.contextType('xedit')).toBe('edit');
        expect(fulfillment.contextType('ship')).toBe('ship');
        expect(fulfillment.contextType('approve')).toBe('edit');
    });
});
