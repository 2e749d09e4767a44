/* The user event entry point, run as NetSuite would: afterSubmit(scriptContext). */
const nodeCrypto = require('crypto');
const fakeN = require('./helpers/fakeN');
const fx = require('./helpers/fixtures');

jest.mock('N/record', () => require('./helpers/fakeN').proxy('record'));
jest.mock('N/search', () => require('./helpers/fakeN').proxy('search'));
jest.mock('N/query', () => require('./helpers/fakeN').proxy('query'));
jest.mock('N/https', () => require('./helpers/fakeN').proxy('https'));
jest.mock('N/crypto', () => require('./helpers/fakeN').proxy('crypto'));
jest.mock('N/encode', () => require('./helpers/fakeN').proxy('encode'));
jest.mock('N/runtime', () => require('./helpers/fakeN').proxy('runtime'));
jest.mock('N/log', () => require('./helpers/fakeN').proxy('log'));

const script = require('SuiteScripts/ttns/ttns_ue_events');

const BRIDGE = 'https://bridge.example.test';

function setup() {
    const n = fakeN.use(fakeN.createN());
    n.params.custscript_ttns_bridge_url = BRIDGE + '/';
    fx.seedItems(n);
    fx.seedSalesOrder(n);
    return n;
}

function pushes(n) {
    return n.all('customrecord_ttns_push');
}

describe('TTNS Events user event', () => {
    test('a shipped fulfillment is posted, signed, to <bridge>/netsuite/events, plus inventory.changed', () => {
        const n = setup();
        const rec = fx.fulfillment(n);
        script.afterSubmit({ type: 'ship', newRecord: rec, oldRecord: rec.clone() });

        expect(n.requests.map((r) => JSON.parse(r.body).type)).toEqual(['item_fulfillment.saved', 'inventory.changed']);
        const req = n.requests[0];
        expect(req.url).toBe(BRIDGE + '/netsuite/events');
        expect(req.headers['Content-Type']).toBe('application/json');
        const ts = req.headers['X-TTNS-Timestamp'];
        expect(ts).toMatch(/^\d{10}$/);
        const want = nodeCrypto.createHmac('sha256', n.secrets.custsecret_ttns_events).update(ts + '.' + req.body).digest('hex');
        expect(req.headers['X-TTNS-Signature']).toBe(want);
        const body = JSON.parse(req.body);
        expect(Object.keys(body)).toEqual(['event_id', 'type', 'account', 'occurred_at', 'data']);
        expect(body.account).toBe('TSTDRV0001');
        expect(body.occurred_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        expect(body.data.tiktok_order_id).toBe('5760001');
        expect(body.data.packages).toHaveLength(2);
        expect(pushes(n)).toHaveLength(0);
    });

    test('governance stays far below the 1,000-unit user event limit', () => {
        const n = setup();
        const rec = fx.fulfillment(n);
        script.afterSubmit({ type: 'ship', newRecord: rec, oldRecord: rec.clone() });
        expect(1000 - n.usage).toBeLessThan(100);
    });

    test('a non-2xx answer stores the push (same body, pending, no secret in the error) for the Map/Reduce', () => {
        const n = setup();
        n.http = () => ({ code: 503, body: 'unavailable' });
        const rec = fx.fulfillment(n);
        script.afterSubmit({ type: 'ship', newRecord: rec, oldRecord: rec.clone() });

        const queued = pushes(n);
        expect(queued).toHaveLength(2);
        const first = queued.find((q) => q.fields.custrecord_ttns_push_type === 'item_fulfillment.saved');
        expect(first.fields.custrecord_ttns_push_body).toBe(n.requests[0].body);
        expect(first.fields.custrecord_ttns_push_event_id).toBe(JSON.parse(n.requests[0].body).event_id);
        expect(first.fields.custrecord_ttns_push_status).toBe('pending');
        expect(first.fields.custrecord_ttns_push_attempts).toBe(1);
        expect(first.fields.custrecord_ttns_push_last_error).toBe('HTTP 503: unavailable');
        expect(first.fields.custrecord_ttns_push_next_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        const all = JSON.stringify(queued.map((q) => q.fields));
        expect(all).not.toContain(n.secrets.custsecret_ttns_events);
        expect(all).not.toContain(n.requests[0].headers['X-TTNS-Signature']);
    });

    test('a timeout (exception from N/https) is queued too', () => {
        const n = setup();
        n.http = () => {
            const e = new Error('The host you are trying to connect to is not responding.');
            e.name = 'SSS_REQUEST_TIME_EXCEEDED';
            throw e;
        };
        const rec = fx.fulfillment(n);
        script.afterSubmit({ type: 'create', newRecord: rec, oldRecord: null });
        expect(pushes(n).map((q) => q.fields.custrecord_ttns_push_last_error)[0]).toMatch(/^SSS_REQUEST_TIME_EXCEEDED: /);
    });

    test('409 (already received) counts as delivered', () => {
        const n = setup();
        n.http = () => ({ code: 409, body: '' });
        const rec = fx.fulfillment(n);
        script.afterSubmit({ type: 'ship', newRecord: rec, oldRecord: rec.clone() });
        expect(pushes(n)).toHaveLength(0);
    });

    test('no bridge URL configured: nothing is lost, the events wait in the queue', () => {
        const n = setup();
        delete n.params.custscript_ttns_bridge_url;
        const rec = fx.fulfillment(n);
        script.afterSubmit({ type: 'ship', newRecord: rec, oldRecord: rec.clone() });
        expect(n.requests).toHaveLength(0);
        expect(pushes(n)).toHaveLength(2);
        expect(pushes(n)[0].fields.custrecord_ttns_push_last_error).toMatch(/bridge URL not configured/);
    });

    test('ignored execution contexts and the kill switch push nothing', () => {
        const n = setup();
        n.params.custscript_ttns_ignore_contexts = 'csv_import, MAPREDUCE';
        n.executionContext = 'CSVIMPORT';
        const rec = fx.fulfillment(n);
        script.afterSubmit({ type: 'ship', newRecord: rec, oldRecord: rec.clone() });
        expect(n.requests).toHaveLength(0);

        n.executionContext = 'USERINTERFACE';
        n.params.custscript_ttns_ue_enabled = false;
        script.afterSubmit({ type: 'ship', newRecord: rec, oldRecord: rec.clone() });
        expect(n.requests).toHaveLength(0);
    });

    test('bridge-created (FBT) fulfillments push inventory.changed but not item_fulfillment.saved', () => {
        const n = setup();
        n.executionContext = 'RESTWEBSERVICES';
        const rec = fx.fulfillment(n, { fields: { custbody_ttns_shipped_by: 'TIKTOK' } });
        script.afterSubmit({ type: 'create', newRecord: rec, oldRecord: null });
        expect(n.requests.map((r) => JSON.parse(r.body).type)).toEqual(['inventory.changed']);
    });

    test('a warehouse fulfilling a bridge-written order pushes item_fulfillment.saved', () => {
        const n = setup();
        n.executionContext = 'USERINTERFACE';
        const rec = fx.fulfillment(n, { fields: { custbody_ttns_source: 'TTNS' } });
        script.afterSubmit({ type: 'create', newRecord: rec, oldRecord: null });
        expect(n.requests.map((r) => JSON.parse(r.body).type)).toEqual(['item_fulfillment.saved', 'inventory.changed']);
    });

    describe('sales orders', () => {
        function closeLine(n, executionContext, source) {
            n.executionContext = executionContext;
            const oldRec = n.get('salesorder', '77').clone();
            const newRec = oldRec.clone();
            newRec.fields.custbody_ttns_source = source;
            oldRec.fields.custbody_ttns_source = source;
            newRec.sublists.item[1].isclosed = true;
            script.afterSubmit({ type: 'edit', newRecord: newRec, oldRecord: oldRec });
            return n.requests.map((r) => JSON.parse(r.body).type);
        }

        test('a user closing a TikTok line pushes lines_closed and inventory.changed', () => {
            expect(closeLine(setup(), 'USERINTERFACE', '')).toEqual(['sales_order.lines_closed', 'inventory.changed']);
        });

        test('a user closing a line of a bridge-written order still pushes lines_closed', () => {
            expect(closeLine(setup(), 'USERINTERFACE', 'TTNS')).toEqual(['sales_order.lines_closed', 'inventory.changed']);
        });

        test('a bridge-driven close (TTNS marker, RESTlet context) does not loop back', () => {
            expect(closeLine(setup(), 'RESTLET', 'TTNS')).toEqual(['inventory.changed']);
        });
    });

    test('xedit loads the full record before building events', () => {
        const n = setup();
        const stored = n.put({
            type: 'itemreceipt', id: '55', fields: { location: '1' },
            sublists: { item: [{ line: '1', item: '501', quantity: 3 }] },
        });
        const partial = n.newRecord({ type: 'itemreceipt', id: '55', fields: { memo: 'x' } });
        script.afterSubmit({ type: 'xedit', newRecord: partial, oldRecord: stored.clone() });
        expect(n.calls).toContain('load:itemreceipt');
        expect(JSON.parse(n.requests[0].body).data.changes).toEqual([{ item_id: '501', location_id: '1' }]);
    });

    test('mark shipped without lines in the context record re-reads the fulfillment', () => {
        const n = setup();
        const full = fx.fulfillment(n);
        n.put({ type: 'itemfulfillment', id: '900', fields: full.fields, texts: full.texts, sublists: full.sublists });
        const bare = n.newRecord({ type: 'itemfulfillment', id: '900', fields: { shipstatus: 'C' } });
        script.afterSubmit({ type: 'ship', newRecord: bare, oldRecord: null });
        expect(n.calls).toContain('load:itemfulfillment');
        const body = JSON.parse(n.requests[0].body);
        expect(body.data.lines).toHaveLength(2);
        expect(body.data.packages).toHaveLength(2);
    });

    test('a role that cannot read items still pushes the fulfillment (sku empty)', () => {
        const n = setup();
        n.sql = (query) => {
            if (/FROM item/.test(query)) {
                const e = new Error('Insufficient permissions');
                e.name = 'INSUFFICIENT_PERMISSION';
                throw e;
            }
            return undefined;
        };
        const rec = fx.fulfillment(n);
        script.afterSubmit({ type: 'ship', newRecord: rec, oldRecord: rec.clone() });
        const body = JSON.parse(n.requests[0].body);
        expect(body.type).toBe('item_fulfillment.saved');
        expect(body.data.lines.map((l) => l.sku)).toEqual(['', '']);
    });

    test('one event failing to build does not cost the others', () => {
        const n = setup();
        n.N.record = Object.assign({}, n.N.record, { load: () => { throw new Error('gone'); } });
        const rec = fx.fulfillment(n);
        script.afterSubmit({ type: 'ship', newRecord: rec, oldRecord: rec.clone() });
        expect(n.requests.map((r) => JSON.parse(r.body).type)).toEqual(['inventory.changed']);
        expect(n.logs.some((l) => l.level === 'error' && /could not build fulfillment event/.test(l.title))).toBe(true);
    });

    test('an unexpected failure is logged and never thrown into the user\'s save', () => {
        const n = setup();
        n.N.runtime = Object.assign({}, n.N.runtime, { getCurrentScript: () => { throw new Error('boom'); } });
        const rec = fx.fulfillment(n);
        expect(() => script.afterSubmit({ type: 'ship', newRecord: rec, oldRecord: rec.clone() })).not.toThrow();
        expect(n.logs.some((l) => l.level === 'error' && /afterSubmit failed/.test(l.title))).toBe(true);
    });
});
