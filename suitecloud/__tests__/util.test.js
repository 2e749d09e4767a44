const util = require('SuiteScripts/ttns/lib/util');
const envelope = require('SuiteScripts/ttns/lib/envelope');

describe('util', () => {
    test('hash is stable, 14 hex chars, and content-sensitive', () => {
        expect(util.hash('tracking=1Z999')).toBe(util.hash('tracking=1Z999'));
        expect(util.hash('tracking=1Z999')).toMatch(/^[0-9a-f]{14}$/);
        expect(util.hash('tracking=1Z999')).not.toBe(util.hash('tracking=1Z998'));
    });

    test('canonicalJson sorts keys so equal content serialises equally', () => {
        expect(util.canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(util.canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
        expect(util.canonicalJson({ a: undefined })).toBe('{"a":null}');
    });

    test('isoUtc drops milliseconds', () => {
        expect(util.isoUtc(Date.UTC(2025, 0, 31, 12, 0, 0, 123))).toBe('2025-01-31T12:00:00Z');
    });

    test('normContext ignores case and underscores', () => {
        expect(util.normContext('REST_WEBSERVICES')).toBe('RESTWEBSERVICES');
        expect(util.normContext('csvImport')).toBe('CSVIMPORT');
    });

    test('errorText keeps name and message only, truncated', () => {
        const e = new Error('x'.repeat(2000));
        e.name = 'SSS_REQUEST_TIME_EXCEEDED';
        const t = util.errorText(e);
        expect(t.startsWith('SSS_REQUEST_TIME_EXCEEDED: x')).toBe(true);
        expect(t.length).toBeLessThanOrEqual(1000);
    });
});

describe('envelope', () => {
    test('has exactly the agreed keys in order', () => {
        const env = envelope.build({ eventId: 'e1', type: 't', account: 'TSTDRV1', occurredAt: Date.UTC(2025, 0, 1), data: { k: 1 } });
        expect(Object.keys(env)).toEqual(['event_id', 'type', 'account', 'occurred_at', 'data']);
        expect(env).toEqual({ event_id: 'e1', type: 't', account: 'TSTDRV1', occurred_at: '2025-01-01T00:00:00Z', data: { k: 1 } });
    });
});
