const { createN } = require('./helpers/fakeN');

test('stubs provide enums', () => {
    const n = createN();
    expect(n.N.record.Type.SALES_ORDER).toBe('salesorder');
    expect(n.N.search.Type.SALES_ORDER).toBe('salesorder');
    expect(n.N.crypto.HashAlg.SHA256).toBe('SHA256');
    expect(n.N.encode.Encoding.HEX).toBe('HEX');
    const util = require('SuiteScripts/ttns/lib/util');
    expect(util.hash('a')).toHaveLength(14);
});
