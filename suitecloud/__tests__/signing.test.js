const nodeCrypto = require('crypto');
const { createN } = require('./helpers/fakeN');
const signing = require('SuiteScripts/ttns/lib/signing');

function expected(secret, timestamp, body) {
    return nodeCrypto.createHmac('sha256', secret).update(String(timestamp) + '.' + body).digest('hex');
}

describe('signing', () => {
    test('matches an HMAC-SHA256 vector over timestamp + "." + body, lower-case hex', () => {
        const n = createN();
        const body = '{"event_id":"if:1:ship:abc","type":"item_fulfillment.saved","data":{"x":"é"}}';
        const sig = signing.sign(n.N, 1735689600, body);
        expect(sig).toBe(expected(n.secrets.custsecret_ttns_events, 1735689600, body));
        expect(sig).toMatch(/^[0-9a-f]{64}$/);
    });

    test('a fixed vector: key "k", message "1.{}"', () => {
        const n = createN();
        n.secrets.custsecret_ttns_events = 'k';
        const known = nodeCrypto.createHmac('sha256', 'k').update('1.{}').digest('hex');
        expect(signing.sign(n.N, 1, '{}')).toBe(known);
    });

    test('headers carry Unix seconds and the signature of exactly that timestamp', () => {
        const n = createN();
        const body = '{"a":1}';
        const h = signing.headers(n.N, body, 1735689600999);
        expect(h['Content-Type']).toBe('application/json');
        expect(h['X-TTNS-Timestamp']).toBe('1735689600');
        expect(h['X-TTNS-Signature']).toBe(expected(n.secrets.custsecret_ttns_events, '1735689600', body));
    });

    test('the key is the API secret named custsecret_ttns_events, never a literal', () => {
        const n = createN();
        const spy = jest.spyOn(n.N.crypto, 'createSecretKey');
        signing.sign(n.N, 1, 'x');
        expect(spy).toHaveBeenCalledWith({ secret: 'custsecret_ttns_events', encoding: 'UTF_8' });
    });

    test('a different body gives a different signature', () => {
        const n = createN();
        expect(signing.sign(n.N, 1, '{"a":1}')).not.toBe(signing.sign(n.N, 1, '{"a":2}'));
    });
});
