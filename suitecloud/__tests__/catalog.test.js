/* item.changed: item saves the catalog and price flows depend on, and nothing else. */
const nodeCrypto = require('crypto');
const fakeN = require('./helpers/fakeN');

jest.mock('N/record', () => require('./helpers/fakeN').proxy('record'));
jest.mock('N/search', () => require('./helpers/fakeN').proxy('search'));
jest.mock('N/query', () => require('./helpers/fakeN').proxy('query'));
jest.mock('N/https', () => require('./helpers/fakeN').proxy('https'));
jest.mock('N/crypto', () => require('./helpers/fakeN').proxy('crypto'));
jest.mock('N/encode', () => require('./helpers/fakeN').proxy('encode'));
jest.mock('N/runtime', () => require('./helpers/fakeN').proxy('runtime'));
jest.mock('N/log', () => require('./helpers/fakeN').proxy('log'));

const catalog = require('SuiteScripts/ttns/lib/catalog');
const script = require('SuiteScripts/ttns/ttns_ue_events');

const BRIDGE = 'https://bridge.example.test';

function item(n, fields, prices, type) {
    return n.newRecord({
        type: type || 'inventoryitem', id: '511',
        fields: Object.assign({ itemid: 'TSHIRT-RED-M', displayname: 'T-shirt red M', salesdescription: 'Soft tee',
            matrixtype: 'CHILD', parent: '510', isinactive: false, cost: 4, lastmodifieddate: '2026-12-07T10:00:00Z' },
        fields || {}),
        sublists: { price1: prices || [{ pricelevel: '1', price_1_: 19.99 }, { pricelevel: '2', price_1_: 17.99 }],
            binnumber: [{ binnumber: 'A-1' }] },
    });
}

describe('item.changed', () => {
    test('a title edit of a matrix child names the item, its parent and "listing"', () => {
        const n = fakeN.createN();
        const ev = catalog.event(item(n), item(n, { displayname: 'T-shirt red, medium' }), 'edit', 1);
        expect(ev.type).toBe('item.changed');
        expect(ev.data).toEqual({ item_id: '511', record_type: 'inventoryitem', itemid: 'TSHIRT-RED-M', matrix: 'CHILD',
            parent_id: '510', inactive: false, context_type: 'edit', changed: ['listing'] });
        expect(ev.eventId).toMatch(/^item:511:edit:[0-9a-f]{14}$/);
    });

    test('a price line edit is "price"; a custitem (image URL, colour) is "listing"; inactive is "status"', () => {
        const n = fakeN.createN();
        const cheaper = [{ pricelevel: '1', price_1_: 18.5 }, { pricelevel: '2', price_1_: 17.99 }];
        expect(catalog.changes(item(n), item(n, {}, cheaper))).toEqual(['price']);
        expect(catalog.changes(item(n), item(n, { custitem_image_url: 'https://img.example/1.jpg' }))).toEqual(['listing']);
        expect(catalog.changes(item(n), item(n, { isinactive: true }))).toEqual(['status']);
        expect(catalog.changes(item(n), item(n, { weight: 2 }, cheaper))).toEqual(['listing', 'price']);
        expect(catalog.changes(null, item(n))).toEqual(['created']);
        expect(catalog.changes(item(n), null)).toEqual(['deleted']);
    });

    test('a save that changes nothing a listing shows (cost, bins) pushes nothing', () => {
        const n = fakeN.createN();
        const after = item(n, { cost: 5, lastmodifieddate: '2026-12-07T11:00:00Z' });
        after.sublists.binnumber = [{ binnumber: 'B-7' }];
        expect(catalog.event(item(n), after, 'edit', 1)).toBeNull();
    });

    test('the same edit saved twice is one event id; a later edit is another', () => {
        const n = fakeN.createN();
        const a = catalog.event(item(n), item(n, { displayname: 'X' }), 'edit', 1);
        const b = catalog.event(item(n), item(n, { displayname: 'X' }), 'edit', 2);
        const c = catalog.event(item(n), item(n, { displayname: 'X', lastmodifieddate: '2026-12-07T10:05:00Z' }), 'edit', 1);
        expect(a.eventId).toBe(b.eventId);
        expect(c.eventId).not.toBe(a.eventId);
    });

    test('only inventory and assembly items are handled; a stand-alone item has no parent', () => {
        const n = fakeN.createN();
        expect(catalog.handles('inventoryitem') && catalog.handles('assemblyitem')).toBe(true);
        expect(catalog.handles('kititem') || catalog.handles('salesorder')).toBe(false);
        const solo = catalog.event(null, item(n, { matrixtype: '', parent: '' }, null, 'assemblyitem'), 'create', 1);
        expect(solo.data.parent_id).toBeNull();
        expect(solo.data.changed).toEqual(['created']);
    });

    test('the user event posts one signed item.changed and no inventory.changed', () => {
        const n = fakeN.use(fakeN.createN());
        n.params.custscript_ttns_bridge_url = BRIDGE;
        const before = item(n);
        const after = item(n, {}, [{ pricelevel: '1', price_1_: 21 }, { pricelevel: '2', price_1_: 17.99 }]);
        script.afterSubmit({ type: 'edit', newRecord: after, oldRecord: before });
        expect(n.requests.map((r) => JSON.parse(r.body).type)).toEqual(['item.changed']);
        const req = n.requests[0];
        const want = nodeCrypto.createHmac('sha256', n.secrets.custsecret_ttns_events)
            .update(req.headers['X-TTNS-Timestamp'] + '.' + req.body).digest('hex');
        expect(req.headers['X-TTNS-Signature']).toBe(want);
        expect(JSON.parse(req.body).data.changed).toEqual(['price']);
    });
});
