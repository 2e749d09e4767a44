// Drives two npm clients nobody here wrote against the NetSuite sandbox, as their READMEs show:
// `netsuite-rest` (REST record + SuiteQL, TBA via oauth-1.0a, `base_url` option) and `nsrestlet`
// (RESTlets, TBA, `url` = the deployment's external URL). Run by tests/netsuite/test_client_node_packages.py
// with NODE_PATH=suitecloud/node_modules (devDependencies of suitecloud/); reads the sandbox address and the
// TBA token from stdin as JSON, prints one JSON object with what each call answered. Assertions live in
// the Python test.
'use strict';

const NsApiWrapper = require('netsuite-rest');
const nsrestlet = require('nsrestlet');

function readStdin() {
    return new Promise((resolve) => {
        let data = '';
        process.stdin.on('data', (chunk) => { data += chunk; });
        process.stdin.on('end', () => resolve(JSON.parse(data)));
    });
}

// netsuite-rest resolves with got's response (plus `data`), rejects on a non-2xx answer
async function rest(api, opts) {
    try {
        const response = await api.request(opts);
        // the client's afterResponse hook spreads got's response into a plain object, which drops `headers`
        // (a getter): a create's Location never reaches the caller, so `location` stays null with this client
        const headers = response.headers || {};
        return { status: response.statusCode, data: response.data, location: headers.location || null };
    } catch (err) {
        const response = err.response || {};
        let data = null;
        try { data = JSON.parse(response.body); } catch (e) { data = response.body || String(err); }
        return { status: response.statusCode || null, data: data };
    }
}

async function restlet(link, method, payload) {
    try {
        return { ok: true, data: await link[method](payload) };
    } catch (err) {
        return { ok: false, error: JSON.stringify(err).slice(0, 2000) };
    }
}

async function main() {
    const cfg = await readStdin();
    const out = {};
    const NsApi = new NsApiWrapper({
        consumer_key: cfg.consumer_key,
        consumer_secret_key: cfg.consumer_secret,
        token: cfg.token_id,
        token_secret: cfg.token_secret,
        realm: cfg.account,
        base_url: cfg.base,
    });
    out.probe = await rest(NsApi, { path: '*', method: 'OPTIONS' });  // the README's "test request"
    out.get = await rest(NsApi, { path: `record/v1/customer/${cfg.customer}` });
    out.upsert = await rest(NsApi, {
        path: 'record/v1/customer/eid:NODE-CLIENT-1',
        method: 'PUT',
        body: JSON.stringify({ companyName: 'Node client Ltd', subsidiary: { id: '1' } }),
    });
    out.after_upsert = await rest(NsApi, { path: 'record/v1/customer/eid:NODE-CLIENT-1' });
    out.create = await rest(NsApi, {
        path: 'record/v1/customer',
        method: 'POST',
        body: JSON.stringify({ companyName: 'Node client two', subsidiary: { id: '1' }, externalId: 'NODE-CLIENT-2' }),
        heads: { 'content-type': 'application/json' },
    });
    // the README's SuiteQL call: the body as a string, no content type, `prefer: transient` added by the client
    out.suiteql = await rest(NsApi, {
        path: 'query/v1/suiteql?limit=2&offset=2',
        method: 'POST',
        body: JSON.stringify({ q: 'SELECT id, itemid FROM item ORDER BY id' }),
    });
    const wrong = new NsApiWrapper({
        consumer_key: cfg.consumer_key, consumer_secret_key: cfg.consumer_secret, token: cfg.token_id,
        token_secret: 'not-the-secret', realm: cfg.account, base_url: cfg.base,
    });
    out.wrong_secret = await rest(wrong, { path: `record/v1/customer/${cfg.customer}` });
    out.probe_wrong_secret = await rest(wrong, { path: '*', method: 'OPTIONS' });

    const account = {
        accountId: cfg.account,
        tokenKey: cfg.token_id,
        tokenSecret: cfg.token_secret,
        consumerKey: cfg.consumer_key,
        consumerSecret: cfg.consumer_secret,
    };
    const url = `${cfg.base}/app/site/hosting/restlet.nl?script=${cfg.script}&deploy=${cfg.deploy}`;
    const orders = nsrestlet.createLink(account, { url: url, retries: 1 });
    out.restlet_get = await restlet(orders, 'get', { external_ids: 'TTS-NOPE-1,TTS-NOPE-2' });
    // a signed write through the RESTlet: POST {orders: [...]} upserts by external id
    const order = {
        external_id: 'TTS-NODE-1',
        record_type: 'salesOrder',
        customer: { externalId: 'TTS-CUST-NODE-1', companyName: 'Node buyer' },
        record: { item: { items: [{ item: { id: cfg.item }, quantity: 2, rate: 12.5 }] } },
    };
    out.restlet_post = await restlet(orders, 'post', { orders: [order] });
    out.restlet_post_again = await restlet(orders, 'post', { orders: [order] });
    out.restlet_after_post = await restlet(orders, 'get', { external_ids: 'TTS-NODE-1' });
    const refused = nsrestlet.createLink({ ...account, tokenSecret: 'not-the-secret' }, { url: url, retries: 1 });
    out.restlet_wrong_secret = await restlet(refused, 'get', { external_ids: 'TTS-NOPE-1' });
    process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
    process.stderr.write(String((err && err.stack) || err));
    process.exit(1);
});
