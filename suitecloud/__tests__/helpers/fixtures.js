/* Record fixtures shaped like the NetSuite records the scripts read. */

function seedItems(n) {
    n.put({ type: 'item', id: '501', fields: { itemid: 'TEE-RED-M' } });
    n.put({ type: 'item', id: '502', fields: { itemid: 'MUG-BLK' } });
    n.put({ type: 'item', id: '503', fields: { itemid: 'CAP-GRN' } });
}

function seedSalesOrder(n, overrides) {
    const o = overrides || {};
    return n.put({
        type: 'salesorder',
        id: o.id || '77',
        fields: Object.assign({
            tranid: 'SO-77',
            externalid: 'TTS-7495-5760001',
            custbody_ttns_order_id: '5760001',
            custbody_ttns_shop_id: '7495',
            location: '3',
            orderstatus: 'B',
        }, o.fields || {}),
        sublists: {
            item: o.lines || [
                { line: '1', item: '501', quantity: 2, location: '3', isclosed: false, custcol_ttns_line_item_ids: 'L1,L2' },
                { line: '2', item: '502', quantity: 1, location: '3', isclosed: false, custcol_ttns_line_item_ids: 'L3' },
            ],
        },
    });
}

function fulfillment(n, overrides) {
    const o = overrides || {};
    return n.newRecord({
        type: 'itemfulfillment',
        id: o.id || '900',
        fields: Object.assign({
            tranid: 'IF-900',
            shipstatus: 'C',
            createdfrom: '77',
            ordertype: 'SalesOrd',
            shipmethod: '12',
            shipcarrier: 'nonups',
            shippeddate: new Date(2025, 0, 15),
            trandate: new Date(2025, 0, 14),
            lastmodifieddate: new Date(Date.UTC(2025, 0, 15, 10, 0, 0)),
        }, o.fields || {}),
        texts: { shipmethod: 'USPS Priority', shipcarrier: 'FedEx/USPS/More' },
        sublists: {
            item: o.lines || [
                { line: '1', item: '501', itemreceive: true, quantity: 2, orderline: '1', location: '3', custcol_ttns_package: 1 },
                { line: '2', item: '502', itemreceive: true, quantity: 1, orderline: '2', location: '3', custcol_ttns_package: 2 },
            ],
            package: o.packages || [
                { packagetrackingnumber: '9400111202555842761234', packageweight: 1.5, packagedescr: 'box 1' },
                { packagetrackingnumber: '9400111202555842765678', packageweight: 0.5, packagedescr: 'box 2' },
            ],
        },
    });
}

module.exports = { seedItems, seedSalesOrder, fulfillment };
