const restmap = require('SuiteScripts/ttns/lib/restmap');

function plan(body, type) {
    return restmap.plan(type || 'salesOrder', body, 'record');
}

function fields(p) {
    const out = {};
    p.fields.forEach((f) => { out[f.fieldId] = f.value; });
    return out;
}

function error(fn) {
    try {
        fn();
    } catch (e) {
        return { code: e.code, path: e.path, message: e.message, isMapping: e instanceof restmap.MappingError };
    }
    throw new Error('expected a MappingError');
}

describe('REST record JSON -> N/record field ids', () => {
    test('standard fields are lower-cased, references and enums become ids, custom fields pass through', () => {
        const p = plan({
            entity: { id: '15', refName: 'Jane' },
            otherRefNum: '5760001',
            shippingCost: '4.99',
            shipMethod: { id: '12' },
            department: '7',
            class: { id: '2' },
            orderStatus: { id: 'B' },
            isMultiShipTo: false,
            custbody_ttns_order_id: '5760001',
            custbody_multi: [{ id: '1' }, { id: '2' }],
        });
        expect(fields(p)).toEqual({
            entity: '15', otherrefnum: '5760001', shippingcost: 4.99, shipmethod: '12', department: '7', class: '2',
            orderstatus: 'B', ismultishipto: false, custbody_ttns_order_id: '5760001', custbody_multi: ['1', '2'],
        });
        expect(p.fields[0].fieldId).toBe('entity');
    });

    test('dates become noon local Dates of that calendar day', () => {
        const p = plan({ tranDate: '2025-03-09' });
        expect(p.fields[0].value).toEqual({ date: '2025-03-09' });
        const d = restmap.toRecordValue(p.fields[0]);
        expect([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours()]).toEqual([2025, 2, 9, 12]);
        expect(restmap.same(p.fields[0], new Date(2025, 2, 9))).toBe(true);
        expect(restmap.same(p.fields[0], new Date(2025, 2, 10))).toBe(false);
    });

    test('item lines and addresses become sublist and subrecord plans', () => {
        const p = plan({
            item: { items: [{ item: { id: '501' }, quantity: 2, rate: '12.50', price: { id: '-1' }, taxCode: { id: '-7' }, isClosed: false, custcol_ttns_line_item_ids: 'L1,L2' }] },
            shippingAddress: { addressee: 'Jane Doe', addr1: '1 Main St', city: 'Austin', state: 'TX', zip: '78701', country: { id: 'US' }, addrPhone: '+1 512 555 0100' },
        });
        expect(p.sublists).toHaveLength(1);
        expect(p.sublists[0].sublistId).toBe('item');
        expect(fields(p.sublists[0].lines[0])).toEqual({
            item: '501', quantity: 2, rate: 12.5, price: '-1', taxcode: '-7', isclosed: false, custcol_ttns_line_item_ids: 'L1,L2',
        });
        expect(p.subrecords[0].fieldId).toBe('shippingaddress');
        expect(fields(p.subrecords[0].plan)).toEqual({
            addressee: 'Jane Doe', addr1: '1 Main St', city: 'Austin', state: 'TX', zip: '78701', country: 'US', addrphone: '+1 512 555 0100',
        });
    });

    test('customer: isPerson is the T/F radio, addressBook lines carry an address subrecord', () => {
        const p = plan({
            externalId: 'TTS-BUYER-1', isPerson: true, firstName: 'Jane', lastName: 'Doe', subsidiary: { id: '1' },
            addressbook: { items: [{ defaultShipping: true, addressBookAddress: { addr1: '1 Main St', country: { id: 'US' } } }] },
        }, 'customer');
        expect(fields(p)).toEqual({ externalid: 'TTS-BUYER-1', isperson: 'T', firstname: 'Jane', lastname: 'Doe', subsidiary: '1' });
        expect(p.fields[0].fieldId).toBe('isperson');
        expect(p.sublists[0].sublistId).toBe('addressbook');
        expect(p.sublists[0].lines[0].subrecords[0].fieldId).toBe('addressbookaddress');
    });

    test('property names resolve case-insensitively (otherrefnum == otherRefNum)', () => {
        expect(fields(plan({ otherrefnum: 'X' }))).toEqual({ otherrefnum: 'X' });
    });

    test.each([
        [{ bogusField: 1 }, 'UNKNOWN_FIELD', 'record.bogusField'],
        [{ links: [] }, 'READ_ONLY_FIELD', 'record.links'],
        [{ id: '5' }, 'READ_ONLY_FIELD', 'record.id'],
        [{ partners: { items: [] } }, 'UNSUPPORTED_FIELD', 'record.partners'],
        [{ entity: { externalId: 'C1' } }, 'UNSUPPORTED_REFERENCE', 'record.entity'],
        [{ entity: [1] }, 'INVALID_SHAPE', 'record.entity'],
        [{ tranDate: '03/09/2025' }, 'INVALID_SHAPE', 'record.tranDate'],
        [{ shippingCost: 'free' }, 'INVALID_SHAPE', 'record.shippingCost'],
        [{ item: [{ item: { id: '1' } }] }, 'INVALID_SHAPE', 'record.item'],
        [{ item: { items: [{ item: { id: '1' }, inventoryDetail: {} }] } }, 'UNSUPPORTED_FIELD', 'record.item.items[0].inventoryDetail'],
        [{ item: { items: [{ quantity: { id: 1 } }] } }, 'INVALID_SHAPE', 'record.item.items[0].quantity'],
        [{ custbody_x: { nested: true } }, 'INVALID_SHAPE', 'record.custbody_x'],
    ])('refuses %j with %s at %s', (body, code, path) => {
        const e = error(() => plan(body));
        expect(e).toMatchObject({ code: code, path: path, isMapping: true });
        expect(e.message.length).toBeGreaterThan(5);
    });
});
