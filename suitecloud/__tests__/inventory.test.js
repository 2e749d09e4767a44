const { createN } = require('./helpers/fakeN');
const inventory = require('SuiteScripts/ttns/lib/inventory');

function rec(n, type, fields, sublists) {
    return n.newRecord({ type: type, id: '42', fields: fields || {}, sublists: sublists || {} });
}

describe('inventory.changed', () => {
    test('item receipt: each received item at its line location, non-stock lines dropped', () => {
        const n = createN();
        const r = rec(n, 'itemreceipt', { location: '1' }, {
            item: [
                { line: '1', item: '501', location: '2', quantity: 5, itemtype: 'InvtPart' },
                { line: '2', item: '502', quantity: 1, itemtype: 'InvtPart' },
                { line: '3', item: '900', quantity: 1, itemtype: 'Service' },
            ],
        });
        const ev = inventory.event(null, r, 'create', 1000);
        expect(ev.type).toBe('inventory.changed');
        expect(ev.data).toEqual({
            record_type: 'itemreceipt',
            record_id: '42',
            event: 'create',
            changes: [{ item_id: '501', location_id: '2' }, { item_id: '502', location_id: '1' }],
        });
        expect(ev.eventId).toMatch(/^inv:itemreceipt:42:create:[0-9a-f]{14}$/);
    });

    test('a sales order names its external id, so the bridge knows its own TikTok orders', () => {
        const n = createN();
        const r = rec(n, 'salesorder', { location: '1', externalid: 'TTS-S1-77' }, {
            item: [{ line: '1', item: '501', quantity: 2, itemtype: 'InvtPart', commitinventory: '1' }],
        });
        const ev = inventory.event(null, r, 'create', 1000);
        expect(ev.data).toEqual({
            record_type: 'salesorder', record_id: '42', event: 'create', external_id: 'TTS-S1-77',
            changes: [{ item_id: '501', location_id: '1' }],
        });
    });

    test('a line moved to another location reports both locations', () => {
        const n = createN();
        const before = rec(n, 'inventoryadjustment', {}, { inventory: [{ line: '1', item: '501', location: '1', quantity: -2 }] });
        const after = rec(n, 'inventoryadjustment', {}, { inventory: [{ line: '1', item: '501', location: '2', quantity: -2 }] });
        expect(inventory.event(before, after, 'edit', 1).data.changes).toEqual([
            { item_id: '501', location_id: '1' }, { item_id: '501', location_id: '2' },
        ]);
    });

    test('inventory transfer reports the from and the to location', () => {
        const n = createN();
        const r = rec(n, 'inventorytransfer', { location: '1', transferlocation: '9' }, { inventory: [{ line: '1', item: '503', quantity: 4 }] });
        expect(inventory.event(null, r, 'create', 1).data.changes).toEqual([
            { item_id: '503', location_id: '1' }, { item_id: '503', location_id: '9' },
        ]);
    });

    test('assembly build reports the built item and its components', () => {
        const n = createN();
        const r = rec(n, 'assemblybuild', { item: '700', location: '1', quantity: 3 }, { component: [{ line: '1', item: '501', quantity: 6 }] });
        expect(inventory.event(null, r, 'create', 1).data.changes).toEqual([
            { item_id: '501', location_id: '1' }, { item_id: '700', location_id: '1' },
        ]);
    });

    test('delete reports the old record\'s pairs', () => {
        const n = createN();
        const old = rec(n, 'cashsale', { location: '4' }, { item: [{ line: '1', item: '502', quantity: 1 }] });
        expect(inventory.event(old, null, 'delete', 1).data.changes).toEqual([{ item_id: '502', location_id: '4' }]);
    });

    describe('sales orders report only what changes commitment', () => {
        const lines = () => [
            { line: '1', item: '501', quantity: 2, location: '3', isclosed: false },
            { line: '2', item: '502', quantity: 1, location: '3', isclosed: false },
        ];

        test('a memo edit pushes nothing', () => {
            const n = createN();
            const a = rec(n, 'salesorder', { memo: 'a', orderstatus: 'B' }, { item: lines() });
            const b = rec(n, 'salesorder', { memo: 'b', orderstatus: 'B' }, { item: lines() });
            expect(inventory.event(a, b, 'edit', 1)).toBeNull();
        });

        test('a quantity change or a closed line reports that line only', () => {
            const n = createN();
            const a = rec(n, 'salesorder', { orderstatus: 'B' }, { item: lines() });
            const changed = lines();
            changed[1].isclosed = true;
            const b = rec(n, 'salesorder', { orderstatus: 'B' }, { item: changed });
            expect(inventory.event(a, b, 'edit', 1).data.changes).toEqual([{ item_id: '502', location_id: '3' }]);
        });

        test('approval (status change) reports every line', () => {
            const n = createN();
            const a = rec(n, 'salesorder', { orderstatus: 'A' }, { item: lines() });
            const b = rec(n, 'salesorder', { orderstatus: 'B' }, { item: lines() });
            expect(inventory.event(a, b, 'approve', 1).data.changes).toHaveLength(2);
        });

        test('create reports every line', () => {
            const n = createN();
            const b = rec(n, 'salesorder', { orderstatus: 'B' }, { item: lines() });
            expect(inventory.event(null, b, 'create', 1).data.changes).toHaveLength(2);
        });
    });

    test('two saves of the same record give two event ids (each save is its own event)', () => {
        const n = createN();
        const r = rec(n, 'itemreceipt', { location: '1' }, { item: [{ line: '1', item: '501', quantity: 5 }] });
        expect(inventory.event(null, r, 'edit', 1000).eventId).not.toBe(inventory.event(null, r, 'edit', 2000).eventId);
    });
});
