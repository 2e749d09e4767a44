/* The Map/Reduce entry point: getInputData -> map (per item) -> summarize, driven like NetSuite would. */
const nodeCrypto = require('crypto');
const fakeN = require('./helpers/fakeN');
const queue = require('SuiteScripts/ttns/lib/queue');
const sweep = require('SuiteScripts/ttns/lib/sweep');

jest.mock('N/record', () => require('./helpers/fakeN').proxy('record'));
jest.mock('N/query', () => require('./helpers/fakeN').proxy('query'));
jest.mock('N/https', () => require('./helpers/fakeN').proxy('https'));
jest.mock('N/crypto', () => require('./helpers/fakeN').proxy('crypto'));
jest.mock('N/encode', () => require('./helpers/fakeN').proxy('encode'));
jest.mock('N/runtime', () => require('./helpers/fakeN').proxy('runtime'));
jest.mock('N/log', () => require('./helpers/fakeN').proxy('log'));

const script = require('SuiteScripts/ttns/ttns_mr_sweep');

const BRIDGE = 'https://bridge.example.test';

function setup() {
    const n = fakeN.use(fakeN.createN());
    n.usage = 10000;
    n.params.custscript_ttns_mr_bridge_url = BRIDGE;
    n.params.custscript_ttns_mr_sweep_enabled = false;
    return n;
}

function queuePush(n, eventId, nextAt, extra) {
    return n.put({
        type: 'customrecord_ttns_push',
        fields: Object.assign({
            name: eventId,
            custrecord_ttns_push_event_id: eventId,
            custrecord_ttns_push_type: 'item_fulfillment.saved',
            custrecord_ttns_push_body: JSON.stringify({ event_id: eventId, type: 'item_fulfillment.saved', account: 'TSTDRV0001', occurred_at: '2025-01-01T00:00:00Z', data: { n: 1 } }),
            custrecord_ttns_push_attempts: 1,
            custrecord_ttns_push_status: 'pending',
            custrecord_ttns_push_next_at: nextAt,
        }, extra || {}),
    });
}

/** Run one Map/Reduce execution; map errors are recorded like NetSuite does. */
function run(n) {
    n.usage = 10000;
    const input = script.getInputData();
    const output = [];
    const errors = [];
    input.forEach((value, i) => {
        n.usage = 1000;
        const ctx = { key: String(i), value: JSON.stringify(value), write: (o) => output.push([o.key, o.value]) };
        try {
            script.map(ctx);
        } catch (e) {
            errors.push([String(i), e.name + ': ' + e.message]);
        }
    });
    const iter = (pairs) => ({ iterator: () => ({ each: (fn) => { pairs.every(([k, v]) => fn(k, v) !== false); } }) });
    n.usage = 10000;
    script.summarize({ inputSummary: { error: null }, mapSummary: { errors: iter(errors) }, output: iter(output) });
    return { input, output, errors };
}

describe('push retry', () => {
    test('due pending pushes are retried with the same body and event id, freshly signed, then marked sent', () => {
        const n = setup();
        const due = queuePush(n, 'if:1:ship:aaa', '2000-01-01T00:00:00Z');
        queuePush(n, 'if:2:ship:bbb', '2999-01-01T00:00:00Z');
        queuePush(n, 'if:3:ship:ccc', '2000-01-01T00:00:00Z', { custrecord_ttns_push_status: 'dead' });
        const { input } = run(n);
        expect(input).toEqual([{ kind: 'retry', id: due.id }]);
        expect(n.requests).toHaveLength(1);
        const req = n.requests[0];
        expect(req.url).toBe(BRIDGE + '/netsuite/events');
        expect(req.body).toBe(due.fields.custrecord_ttns_push_body);
        const ts = req.headers['X-TTNS-Timestamp'];
        expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(600);
        expect(req.headers['X-TTNS-Signature']).toBe(
            nodeCrypto.createHmac('sha256', n.secrets.custsecret_ttns_events).update(ts + '.' + req.body).digest('hex'));
        const after = n.get('customrecord_ttns_push', due.id).fields;
        expect(after).toMatchObject({ custrecord_ttns_push_status: 'sent', custrecord_ttns_push_attempts: 2, custrecord_ttns_push_last_error: '' });
        expect(after.custrecord_ttns_push_sent_at).toMatch(/Z$/);
    });

    test('a failed retry backs off (5 min doubling) and stays pending', () => {
        const n = setup();
        n.http = () => ({ code: 502, body: 'bad gateway' });
        const p = queuePush(n, 'if:1:ship:aaa', '2000-01-01T00:00:00Z', { custrecord_ttns_push_attempts: 3 });
        const before = Date.now();
        run(n);
        const f = n.get('customrecord_ttns_push', p.id).fields;
        expect(f.custrecord_ttns_push_status).toBe('pending');
        expect(f.custrecord_ttns_push_attempts).toBe(4);
        expect(f.custrecord_ttns_push_last_error).toBe('HTTP 502: bad gateway');
        const waited = (Date.parse(f.custrecord_ttns_push_next_at) - before) / 1000;
        expect(waited).toBeGreaterThan(2400 - 5);
        expect(waited).toBeLessThan(2400 + 5);
    });

    test('backoff schedule is capped at 6 hours', () => {
        expect([1, 2, 3, 4, 5, 6, 7, 8, 12].map(queue.backoffSeconds)).toEqual([300, 600, 1200, 2400, 4800, 9600, 19200, 21600, 21600]);
    });

    test('after the configured attempts the push is dead and never retried again', () => {
        const n = setup();
        n.params.custscript_ttns_mr_max_attempts = 3;
        n.http = () => { throw fakeN.nsError('SSS_CONNECTION_TIME_OUT', 'connect timeout'); };
        const p = queuePush(n, 'if:1:ship:aaa', '2000-01-01T00:00:00Z', { custrecord_ttns_push_attempts: 2 });
        run(n);
        expect(n.get('customrecord_ttns_push', p.id).fields).toMatchObject({
            custrecord_ttns_push_status: 'dead', custrecord_ttns_push_attempts: 3, custrecord_ttns_push_next_at: '',
            custrecord_ttns_push_last_error: 'SSS_CONNECTION_TIME_OUT: connect timeout',
        });
        n.requests.length = 0;
        expect(run(n).input).toEqual([]);
        expect(n.requests).toHaveLength(0);
    });

    test('a push no longer pending when its turn comes is skipped', () => {
        const n = setup();
        const p = queuePush(n, 'if:1:ship:aaa', '2000-01-01T00:00:00Z');
        const input = script.getInputData();
        n.get('customrecord_ttns_push', p.id).fields.custrecord_ttns_push_status = 'sent';
        const out = [];
        script.map({ key: '0', value: JSON.stringify(input[0]), write: (o) => out.push(o) });
        expect(out).toEqual([{ key: 'retry:' + p.id, value: 'skipped' }]);
        expect(n.requests).toHaveLength(0);
    });

    test('the retry batch size bounds one run', () => {
        const n = setup();
        n.params.custscript_ttns_mr_retry_batch = 2;
        [1, 2, 3].forEach((i) => queuePush(n, 'e' + i, '2000-01-01T00:00:00Z'));
        expect(script.getInputData()).toHaveLength(2);
    });
});

describe('inventory sweep', () => {
    function sweepSetup(rows, maxModified) {
        const n = setup();
        n.params.custscript_ttns_mr_sweep_enabled = true;
        n.seenSql = [];
        n.sql = (query, params) => {
            if (query === sweep.MAX_SQL) return [{ modified: maxModified }];
            if (query === sweep.CHANGED_SQL) {
                n.seenSql.push(params);
                return rows.filter((r) => r.modified > params[0]);
            }
            return undefined;
        };
        return n;
    }
    const cursorOf = (n) => n.all('customrecord_ttns_state').map((r) => r.fields.custrecord_ttns_state_value)[0];

    test('the first run only records the cursor', () => {
        const n = sweepSetup([], '2025-01-15 10:00:00');
        expect(run(n).input).toEqual([]);
        expect(cursorOf(n)).toBe('2025-01-15 10:00:00');
    });

    test('later runs push changed pairs since the cursor (minus the overlap) and advance it', () => {
        const rows = [
            { item_id: 501, location_id: 3, modified: '2025-01-15 10:05:00' },
            { item_id: 502, location_id: null, modified: '2025-01-15 10:06:00' },
        ];
        const n = sweepSetup(rows, '2025-01-15 10:00:00');
        run(n);
        const { input } = run(n);
        expect(n.seenSql[0][0]).toBe('2025-01-15 09:58:00');
        expect(n.seenSql[0].slice(1)).toEqual(sweep.STOCK_TYPES.concat(sweep.STOCK_ITEM_TYPES));
        expect(input).toEqual([{
            kind: 'sweep', since: '2025-01-15 09:58:00', until: '2025-01-15 10:06:00', part: 1, parts: 1,
            pairs: [{ item_id: '501', location_id: '3' }, { item_id: '502', location_id: null }],
        }]);
        const body = JSON.parse(n.requests[0].body);
        expect(body.type).toBe('inventory.sweep');
        expect(body.event_id).toBe('sweep:2025-01-15 09:58:00:2025-01-15 10:06:00:1/1');
        expect(body.data).toEqual({
            since: '2025-01-15 09:58:00', until: '2025-01-15 10:06:00', part: 1, parts: 1,
            changes: [{ item_id: '501', location_id: '3' }, { item_id: '502', location_id: null }],
        });
        expect(cursorOf(n)).toBe('2025-01-15 10:06:00');
    });

    test('large sweeps are split into events of at most 500 pairs', () => {
        const rows = [];
        for (let i = 0; i < 1201; i++) rows.push({ item_id: 1000 + i, location_id: 1, modified: '2025-01-15 10:05:00' });
        const n = sweepSetup(rows, '2025-01-15 10:00:00');
        run(n);
        const { input } = run(n);
        expect(input.map((x) => x.pairs.length)).toEqual([500, 500, 201]);
        expect(n.requests.map((r) => JSON.parse(r.body).data.part)).toEqual([1, 2, 3]);
    });

    test('a failed sweep push is queued and the cursor still advances (nothing is lost)', () => {
        const n = sweepSetup([{ item_id: 501, location_id: 3, modified: '2025-01-15 10:05:00' }], '2025-01-15 10:00:00');
        run(n);
        n.http = () => ({ code: 500, body: '' });
        run(n);
        const queued = n.all('customrecord_ttns_push');
        expect(queued.map((q) => q.fields.custrecord_ttns_push_type)).toEqual(['inventory.sweep']);
        expect(cursorOf(n)).toBe('2025-01-15 10:05:00');
    });

    test('a map error keeps the cursor where it was, so the next run sweeps the window again', () => {
        const n = sweepSetup([], '2025-01-15 10:05:00');
        run(n);
        const summary = (errs) => ({
            inputSummary: { error: null },
            mapSummary: { errors: { iterator: () => ({ each: (fn) => errs.forEach(([k, v]) => fn(k, v)) }) } },
            output: { iterator: () => ({ each: (fn) => fn('sweep:1', JSON.stringify({ until: '2025-01-15 11:00:00', part: 1, parts: 1 })) }) },
        });
        script.summarize(summary([['0', 'SSS_USAGE_LIMIT_EXCEEDED']]));
        expect(cursorOf(n)).toBe('2025-01-15 10:05:00');
        script.summarize(summary([]));
        expect(cursorOf(n)).toBe('2025-01-15 11:00:00');
    });

    test('a missing part keeps the cursor too', () => {
        const n = sweepSetup([], '2025-01-15 10:05:00');
        run(n);
        script.summarize({
            inputSummary: { error: null },
            mapSummary: { errors: { iterator: () => ({ each: () => {} }) } },
            output: { iterator: () => ({ each: (fn) => fn('sweep:1', JSON.stringify({ until: '2025-01-15 11:00:00', part: 1, parts: 2 })) }) },
        });
        expect(cursorOf(n)).toBe('2025-01-15 10:05:00');
    });

    test('paging stops early on low governance with a cursor that is safe to resume from', () => {
        const rows = [];
        for (let i = 0; i < 2500; i++) rows.push({ item_id: i, location_id: 1, modified: '2025-01-15 10:' + String(10 + Math.floor(i / 100)).padStart(2, '0') + ':00' });
        const n = sweepSetup(rows, '2025-01-15 10:00:00');
        n.usage = 515;
        const result = sweep.changedSince(n.N, '2025-01-15 10:00:00');
        expect(result.complete).toBe(false);
        expect(result.pairs.length).toBe(1000);
        expect(result.until).toBe(rows[999].modified);
        n.usage = 10000;
        expect(sweep.changedSince(n.N, '2025-01-15 10:00:00')).toMatchObject({ complete: true, until: rows[2499].modified });
    });

    test('minusSeconds is plain wall-clock arithmetic', () => {
        expect(sweep.minusSeconds('2025-03-01 00:01:00', 120)).toBe('2025-02-28 23:59:00');
        expect(() => sweep.minusSeconds('garbage', 1)).toThrow();
    });
});

describe('item sweep', () => {
    const itemsweep = require('SuiteScripts/ttns/lib/itemsweep');
    function itemSetup() {
        const n = setup();
        n.params.custscript_ttns_mr_sweep_enabled = true;
        n.sql = (query) => (query === sweep.MAX_SQL ? [{ modified: null }] : query === sweep.CHANGED_SQL ? [] : undefined);
        return n;
    }
    const item = (n, id, fields) => n.put({ type: 'item', id: id, fields: Object.assign({ itemtype: 'InvtPart' }, fields) });
    const itemCursor = (n) => n.all('customrecord_ttns_state').filter((r) => r.fields.name === 'item_sweep_cursor')
        .map((r) => r.fields.custrecord_ttns_state_value)[0];

    test('the first run records the cursor; later runs push items modified since (minus the overlap) and advance it', () => {
        const n = itemSetup();
        item(n, '510', { itemid: 'TSHIRT', lastmodified: '2025-01-15 10:00:00' });
        expect(run(n).input).toEqual([]);
        expect(itemCursor(n)).toBe('2025-01-15 10:00:00');
        item(n, '511', { itemid: 'TSHIRT-RED-M', parent: '510', lastmodified: '2025-01-15 10:04:00' });
        item(n, '600', { itemid: 'KIT-1', itemtype: 'Kit', lastmodified: '2025-01-15 10:05:00' });
        item(n, '512', { itemid: 'MUG', lastmodified: '2025-01-15 10:06:00' });
        const { input } = run(n);
        expect(input).toEqual([{
            kind: 'itemsweep', since: '2025-01-15 09:58:00', until: '2025-01-15 10:06:00', part: 1, parts: 1,
            items: [{ item_id: '510', parent_id: null }, { item_id: '511', parent_id: '510' }, { item_id: '512', parent_id: null }],
        }]);
        const body = JSON.parse(n.requests[0].body);
        expect(body.type).toBe('item.sweep');
        expect(body.event_id).toBe('itemsweep:2025-01-15 09:58:00:2025-01-15 10:06:00:1/1');
        expect(body.data.items.map((i) => i.item_id)).toEqual(['510', '511', '512']);
        expect(itemCursor(n)).toBe('2025-01-15 10:06:00');
        expect(itemsweep.ITEM_TYPES).toEqual(['InvtPart', 'Assembly']);
    });

    test('a map error on an item part keeps the item cursor', () => {
        const n = itemSetup();
        item(n, '512', { itemid: 'MUG', lastmodified: '2025-01-15 10:00:00' });
        run(n);
        script.summarize({
            inputSummary: { error: null },
            mapSummary: { errors: { iterator: () => ({ each: (fn) => fn('0', 'SSS_USAGE_LIMIT_EXCEEDED') }) } },
            output: { iterator: () => ({ each: (fn) => fn('itemsweep:1', JSON.stringify({ until: '2025-01-15 11:00:00', part: 1, parts: 1 })) }) },
        });
        expect(itemCursor(n)).toBe('2025-01-15 10:00:00');
    });
});
