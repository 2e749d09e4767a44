/* The orders RESTlet entry point, called as NetSuite would: post(requestBody) / get(requestParams). */
const fakeN = require('./helpers/fakeN');

jest.mock('N/record', () => require('./helpers/fakeN').proxy('record'));
jest.mock('N/query', () => require('./helpers/fakeN').proxy('query'));
jest.mock('N/runtime', () => require('./helpers/fakeN').proxy('runtime'));
jest.mock('N/log', () => require('./helpers/fakeN').proxy('log'));
jest.mock('N/error', () => require('./helpers/fakeN').proxy('error'));

const restlet = require('SuiteScripts/ttns/ttns_rl_orders');

function setup(usage) {
    const n = fakeN.use(fakeN.createN());
    n.usage = usage === undefined ? 5000 : usage;
    return n;
}

function order(externalId, overrides) {
    const o = overrides || {};
    return Object.assign({
        external_id: externalId,
        record_type: 'salesOrder',
        customer: {
            externalId: 'TTS-BUYER-' + externalId,
            isPerson: true,
            firstName: 'Jane',
            lastName: 'Doe',
            email: 'jane@example.test',
            subsidiary: { id: '1' },
            addressBook: { items: [{ defaultShipping: true, defaultBilling: true, label: 'Home',
                addressBookAddress: { addr1: '1 Main St', city: 'Austin', state: 'TX', zip: '78701', country: { id: 'US' } } }] },
        },
        record: Object.assign({
            externalId: externalId,
            tranDate: '2025-01-15',
            subsidiary: { id: '1' },
            location: { id: '3' },
            currency: { id: '1' },
            otherRefNum: '5760001',
            memo: 'TikTok order 5760001',
            shippingCost: '4.99',
            shipMethod: { id: '12' },
            custbody_ttns_order_id: '5760001',
            custbody_ttns_shop_id: '7495',
            shippingAddress: { addressee: 'Jane Doe', addr1: '1 Main St', city: 'Austin', state: 'TX', zip: '78701', country: { id: 'US' } },
            item: { items: [
                { item: { id: '501' }, quantity: 2, rate: '12.50', amount: '25.00', price: { id: '-1' }, taxCode: { id: '-7' }, custcol_ttns_line_item_ids: 'L1,L2' },
                { item: { id: '502' }, quantity: 1, rate: '8.00', amount: '8.00', price: { id: '-1' }, taxCode: { id: '-7' }, custcol_ttns_line_item_ids: 'L3' },
            ] },
        }, o.record || {}),
    }, o.top || {});
}

function post(body) {
    const out = restlet.post(body);
    expect(typeof out).toBe('string');
    return JSON.parse(out).results;
}

describe('POST /orders (upsert batch)', () => {
    test('creates the customer and the sales order with external id, lines, address and the TTNS marker', () => {
        const n = setup();
        const [r] = post({ orders: [order('TTS-7495-5760001')] });
        expect(r).toEqual({ external_id: 'TTS-7495-5760001', status: 'created', id: expect.any(String), customer_id: expect.any(String), error: null });
        const so = n.get('salesorder', r.id);
        expect(so.fields).toMatchObject({
            externalid: 'TTS-7495-5760001', entity: r.customer_id, otherrefnum: '5760001', shippingcost: 4.99,
            custbody_ttns_source: 'TTNS', custbody_ttns_order_id: '5760001', location: '3',
        });
        expect(so.fields.trandate.getDate()).toBe(15);
        expect(so.sublists.item).toHaveLength(2);
        expect(so.sublists.item[0]).toMatchObject({ item: '501', quantity: 2, rate: 12.5, price: '-1', taxcode: '-7', custcol_ttns_line_item_ids: 'L1,L2' });
        expect(so.subrecords.shippingaddress.fields).toMatchObject({ addr1: '1 Main St', country: 'US' });
        const customer = n.get('customer', r.customer_id);
        expect(customer.fields).toMatchObject({ externalid: 'TTS-BUYER-TTS-7495-5760001', isperson: 'T', firstname: 'Jane' });
        expect(customer.sublists.addressbook[0]).toMatchObject({ defaultshipping: true, label: 'Home' });
        expect(customer.sublists.addressbook[0]._sub.addressbookaddress.fields).toMatchObject({ city: 'Austin', country: 'US' });
    });

    test('the same payload again is unchanged (nothing saved); the customer is found, not duplicated', () => {
        const n = setup();
        const [first] = post({ orders: [order('TTS-1')] });
        const saves = n.calls.filter((c) => c.startsWith('save:')).length;
        const [again] = post({ orders: [order('TTS-1')] });
        expect(again).toEqual({ external_id: 'TTS-1', status: 'unchanged', id: first.id, customer_id: first.customer_id, error: null });
        expect(n.calls.filter((c) => c.startsWith('save:')).length).toBe(saves);
        expect(n.all('customer')).toHaveLength(1);
        expect(n.all('salesorder')).toHaveLength(1);
    });

    test('a changed payload updates in place: fields, lines matched by TikTok line ids, a line cancelled whole closed at no charge, new lines appended', () => {
        const n = setup();
        const [first] = post({ orders: [order('TTS-2')] });
        const changed = order('TTS-2', { record: {
            memo: 'edited',
            item: { items: [
                // one unit (L2) cancelled on TikTok: same line, fewer ids and units
                { item: { id: '501' }, quantity: 1, rate: '12.50', amount: '12.50', price: { id: '-1' }, taxCode: { id: '-7' }, custcol_ttns_line_item_ids: 'L1' },
                { item: { id: '503' }, quantity: 1, rate: '5.00', amount: '5.00', price: { id: '-1' }, taxCode: { id: '-7' }, custcol_ttns_line_item_ids: 'L9' },
            ] },
        } });
        const [r] = post({ orders: [changed] });
        expect(r.status).toBe('updated');
        expect(r.id).toBe(first.id);
        const so = n.get('salesorder', first.id);
        expect(so.fields.memo).toBe('edited');
        // the L3 line left TikTok before anything of it shipped: closed at no charge, not removed
        expect(so.sublists.item).toHaveLength(3);
        expect(so.sublists.item[0]).toMatchObject({ item: '501', quantity: 1, custcol_ttns_line_item_ids: 'L1' });
        expect(so.sublists.item[1]).toMatchObject({ item: '502', custcol_ttns_line_item_ids: 'L3', isclosed: true, amount: 0 });
        expect(so.sublists.item[2]).toMatchObject({ item: '503', custcol_ttns_line_item_ids: 'L9' });
    });

    test('a TikTok line no longer sent is closed, not removed, once some of it was fulfilled', () => {
        const n = setup();
        const [first] = post({ orders: [order('TTS-3')] });
        n.get('salesorder', first.id).sublists.item[1].quantityfulfilled = 1;
        const changed = order('TTS-3', { record: { item: { items: [
            { item: { id: '501' }, quantity: 2, rate: '12.50', amount: '25.00', price: { id: '-1' }, taxCode: { id: '-7' }, custcol_ttns_line_item_ids: 'L1,L2' },
        ] } } });
        const [r] = post({ orders: [changed] });
        expect(r.status).toBe('updated');
        const so = n.get('salesorder', first.id);
        expect(so.sublists.item).toHaveLength(2);
        expect(so.sublists.item[1]).toMatchObject({ item: '502', custcol_ttns_line_item_ids: 'L3', isclosed: true });
    });

    test('one order failing never aborts the batch; the error names the JSON path', () => {
        const n = setup();
        const bad = order('TTS-BAD', { record: { bogusField: 1 } });
        const results = post({ orders: [order('TTS-A'), bad, order('TTS-B')] });
        expect(results.map((r) => r.status)).toEqual(['created', 'error', 'created']);
        expect(results[1]).toEqual({
            external_id: 'TTS-BAD', status: 'error', id: null, customer_id: null,
            error: { code: 'UNKNOWN_FIELD', message: expect.stringContaining('bogusField'), path: 'orders[1].record.bogusField' },
        });
        expect(n.all('salesorder')).toHaveLength(2);
    });

    test('a NetSuite error while writing a field is reported with that field\'s path', () => {
        const n = setup();
        n.failOnSet = (fieldId, value) => fieldId === 'taxcode' && value === '-999';
        const o = order('TTS-TAX');
        o.record.item.items[1].taxCode = { id: '-999' };
        const [r] = post({ orders: [o] });
        expect(r.status).toBe('error');
        expect(r.error).toMatchObject({ code: 'INVALID_FLD_VALUE', path: 'orders[0].record.item.items[1].taxCode' });
        expect(n.all('salesorder')).toHaveLength(0);
    });

    test('an error on save is isolated too', () => {
        const n = setup();
        n.failOnSave = (rec) => (rec.type === 'salesorder' && rec.fields.externalid === 'TTS-X' ? fakeN.nsError('USER_ERROR', 'Please enter value(s) for: Department') : null);
        const results = post({ orders: [order('TTS-X'), order('TTS-Y')] });
        expect(results[0]).toMatchObject({ status: 'error', error: { code: 'USER_ERROR', path: null } });
        expect(results[1].status).toBe('created');
    });

    test('shape errors are refused before any NetSuite call', () => {
        const n = setup();
        const results = post({ orders: [
            { external_id: '', record: {} },
            { external_id: 'E1', record_type: 'invoice', record: {} },
            { external_id: 'E2', record: { externalId: 'OTHER' } },
            { external_id: 'E3', record: {}, customer: { firstName: 'no external id' } },
            'not an object',
        ] });
        expect(results.map((r) => r.error.code)).toEqual(['INVALID_SHAPE', 'UNSUPPORTED_RECORD', 'INVALID_SHAPE', 'INVALID_SHAPE', 'INVALID_SHAPE']);
        expect(results.map((r) => r.error.path)).toEqual([
            'orders[0].external_id', 'orders[1].record_type', 'orders[2].record.externalId', 'orders[3].customer.externalId', 'orders[4]',
        ]);
        expect(n.calls).toEqual([]);
    });

    test('low governance defers the remaining orders for the bridge to send again', () => {
        const n = setup(360);
        const results = post({ orders: [order('TTS-G1'), order('TTS-G2'), order('TTS-G3')] });
        expect(results.map((r) => r.status)).toEqual(['created', 'deferred', 'deferred']);
        expect(results[1]).toEqual({ external_id: 'TTS-G2', status: 'deferred', id: null, customer_id: null, error: null });
        expect(n.usage).toBeGreaterThan(0);
        expect(n.all('salesorder')).toHaveLength(1);
    });

    test('a batch that fits is not deferred', () => {
        setup(5000);
        const results = post({ orders: [1, 2, 3, 4, 5].map((i) => order('TTS-F' + i)) });
        expect(results.every((r) => r.status === 'created')).toBe(true);
    });

    test('cash sales use the same path', () => {
        const n = setup();
        const [r] = post({ orders: [order('TTS-CS', { top: { record_type: 'cashSale' } })] });
        expect(r.status).toBe('created');
        expect(n.get('cashsale', r.id).fields.externalid).toBe('TTS-CS');
    });

    test('an explicit entity wins over the customer spec; no spec means no customer lookup', () => {
        const n = setup();
        const o = order('TTS-E', { record: { entity: { id: '88' } } });
        delete o.customer;
        const [r] = post({ orders: [o] });
        expect(r.customer_id).toBeNull();
        expect(n.get('salesorder', r.id).fields.entity).toBe('88');
    });

    test('a body that is not {orders: [...]} is a request error', () => {
        setup();
        expect(() => restlet.post({ order: [] })).toThrow(expect.objectContaining({ name: 'TTNS_INVALID_REQUEST' }));
        expect(() => restlet.post('not json')).toThrow(expect.objectContaining({ name: 'TTNS_INVALID_REQUEST' }));
        expect(JSON.parse(restlet.post(JSON.stringify({ orders: [] })))).toEqual({ results: [] });
    });
});

describe('GET /orders (lookup by external id)', () => {
    test('resolves known and unknown external ids', () => {
        setup();
        const [created] = post({ orders: [order('TTS-L1')] });
        const out = JSON.parse(restlet.get({ external_ids: 'TTS-L1, TTS-NOPE' }));
        expect(out.results).toEqual([
            { external_id: 'TTS-L1', found: true, id: created.id, record_type: 'salesOrder' },
            { external_id: 'TTS-NOPE', found: false, id: null, record_type: null },
        ]);
    });

    test('filters by record_type and validates input', () => {
        setup();
        post({ orders: [order('TTS-L2')] });
        expect(JSON.parse(restlet.get({ external_ids: 'TTS-L2', record_type: 'cashSale' })).results[0].found).toBe(false);
        expect(() => restlet.get({})).toThrow(expect.objectContaining({ name: 'TTNS_INVALID_REQUEST' }));
        expect(() => restlet.get({ external_ids: 'a', record_type: 'invoice' })).toThrow(expect.objectContaining({ name: 'TTNS_INVALID_REQUEST' }));
    });
});
