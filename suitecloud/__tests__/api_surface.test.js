/*
 * "Documented APIs only": run every entry point through its main paths while recording each N/
 * member the scripts touch, then check each one exists on Oracle's stubs (which mirror the
 * SuiteScript 2.1 reference). The sandbox harness implements exactly this list.
 */
const fakeN = require('./helpers/fakeN');
const fx = require('./helpers/fixtures');
const sweep = require('SuiteScripts/ttns/lib/sweep');

jest.mock('N/record', () => require('./helpers/fakeN').proxy('record'));
jest.mock('N/search', () => require('./helpers/fakeN').proxy('search'));
jest.mock('N/query', () => require('./helpers/fakeN').proxy('query'));
jest.mock('N/https', () => require('./helpers/fakeN').proxy('https'));
jest.mock('N/crypto', () => require('./helpers/fakeN').proxy('crypto'));
jest.mock('N/encode', () => require('./helpers/fakeN').proxy('encode'));
jest.mock('N/runtime', () => require('./helpers/fakeN').proxy('runtime'));
jest.mock('N/log', () => require('./helpers/fakeN').proxy('log'));
jest.mock('N/error', () => require('./helpers/fakeN').proxy('error'));

const ue = require('SuiteScripts/ttns/ttns_ue_events');
const rl = require('SuiteScripts/ttns/ttns_rl_orders');
const mr = require('SuiteScripts/ttns/ttns_mr_sweep');

/** Recorded prefix -> the Oracle stub module that documents it. */
const STUBS = {
    record: 'N/record', Record: 'N/record/instance', query: 'N/query', ResultSet: 'N/query/resultSet',
    PagedData: 'N/query/pagedData', Page: 'N/query/page', search: 'N/search', https: 'N/https', crypto: 'N/crypto',
    Hmac: 'N/crypto/hmac', encode: 'N/encode', runtime: 'N/runtime', Script: 'N/runtime/script', log: 'N/log', error: 'N/error',
};
/** Members the stubs leave out although the reference documents them. */
const DOCUMENTED_EXTRA = {
    Record: ['id', 'type', 'isDynamic'],
    Page: ['data'],
    PagedData: ['pageRanges'],
};

function exercise() {
    const n = fakeN.use(fakeN.createN());
    n.usage = 100000;
    n.params.custscript_ttns_bridge_url = 'https://bridge.example.test';
    n.params.custscript_ttns_mr_bridge_url = 'https://bridge.example.test';
    fx.seedItems(n);
    fx.seedSalesOrder(n);
    n.recording = true;

    // user event: fulfillment (push fails -> queued), sales order close, xedit
    n.http = () => ({ code: 500, body: '' });
    const f = fx.fulfillment(n);
    ue.afterSubmit({ type: 'ship', newRecord: f, oldRecord: f.clone() });
    n.http = () => ({ code: 202, body: '' });
    const oldSo = n.get('salesorder', '77').clone();
    const newSo = oldSo.clone();
    newSo.sublists.item[0].isclosed = true;
    ue.afterSubmit({ type: 'edit', newRecord: newSo, oldRecord: oldSo });
    ue.afterSubmit({ type: 'xedit', newRecord: n.newRecord({ type: 'salesorder', id: '77' }), oldRecord: oldSo });

    // RESTlet: create with customer, update, lookup, bad request
    const order = {
        external_id: 'TTS-API-1',
        customer: { externalId: 'B-1', isPerson: true, lastName: 'Doe', addressBook: { items: [{ addressBookAddress: { addr1: 'x' } }] } },
        record: { tranDate: '2025-01-01', shippingAddress: { addr1: 'x' }, item: { items: [{ item: { id: '501' }, quantity: 1, custcol_ttns_line_item_ids: 'A' }] } },
    };
    rl.post({ orders: [order] });
    order.record.memo = 'changed';
    order.record.item.items.push({ item: { id: '502' }, quantity: 1, custcol_ttns_line_item_ids: 'B' });
    rl.post({ orders: [order] });
    rl.get({ external_ids: 'TTS-API-1' });
    try {
        rl.post({});
    } catch (e) { /* expected */ }

    // Map/Reduce: retry the queued pushes and sweep
    n.params.custscript_ttns_mr_sweep_enabled = true;
    n.sql = (query) => {
        if (query === sweep.MAX_SQL) return [{ modified: '2025-01-01 00:00:00' }];
        if (query === sweep.CHANGED_SQL) return [{ item_id: 501, location_id: 3, modified: '2025-01-01 00:01:00' }];
        return undefined;
    };
    n.all('customrecord_ttns_push').forEach((r) => { r.fields.custrecord_ttns_push_next_at = '2000-01-01T00:00:00Z'; });
    mr.getInputData();
    const items = mr.getInputData();
    const out = [];
    items.forEach((it, i) => mr.map({ key: String(i), value: JSON.stringify(it), write: (o) => out.push([o.key, o.value]) }));
    const iter = (pairs) => ({ iterator: () => ({ each: (fn) => pairs.forEach(([k, v]) => fn(k, v)) }) });
    mr.summarize({ inputSummary: { error: null }, mapSummary: { errors: iter([]) }, output: iter(out) });
    n.recording = false;
    return { n, items };
}

test('every N/ member the scripts use is part of the documented SuiteScript API', () => {
    const { n, items } = exercise();
    expect(items.map((i) => i.kind).sort()).toEqual(['retry', 'retry', 'sweep']);
    const touched = Array.from(n.touched).sort();
    if (process.env.TTNS_PRINT_API) process.stdout.write(touched.join('\n') + '\n');
    const unknown = touched.filter((t) => {
        const [prefix, member] = t.split('.');
        const stub = jest.requireActual(STUBS[prefix]);
        return !(member in stub) && (DOCUMENTED_EXTRA[prefix] || []).indexOf(member) < 0;
    });
    expect(unknown).toEqual([]);
    // the list the harness implements (kept in docs/suitecloud.md)
    expect(touched).toEqual(expect.arrayContaining([
        'record.create', 'record.load', 'record.submitFields', 'Record.getValue', 'Record.setValue', 'Record.save',
        'Record.getLineCount', 'Record.getSublistValue', 'Record.setSublistValue', 'Record.insertLine',
        'Record.getSubrecord', 'Record.getSublistSubrecord', 'query.runSuiteQL', 'query.runSuiteQLPaged',
        'ResultSet.asMappedResults', 'PagedData.fetch', 'search.lookupFields', 'https.post', 'crypto.createSecretKey',
        'crypto.createHmac', 'Hmac.update', 'Hmac.digest', 'runtime.getCurrentScript', 'runtime.accountId',
        'runtime.executionContext', 'Script.getParameter', 'Script.getRemainingUsage', 'error.create',
    ]));
});
