/**
 * item_fulfillment.saved / item_fulfillment.deleted: what a warehouse shipped, for the bridge to
 * mark TikTok packages shipped.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './records', './items', './util'], (C, R, items, util) => {
    const F = C.FIELDS;

    /** Package sublists in the order they are numbered (1-based index across all of them). */
    const PACKAGE_SUBLISTS = [
        { sublist: 'package', suffix: '', carrier: null },
        { sublist: 'packageups', suffix: 'ups', carrier: 'UPS' },
        { sublist: 'packagefedex', suffix: 'fedex', carrier: 'FedEx' },
        { sublist: 'packageusps', suffix: 'usps', carrier: 'USPS' },
    ];

    const CONTEXT_TYPES = { create: 'create', edit: 'edit', xedit: 'edit', ship: 'ship', pack: 'pack', delete: 'delete' };

    function contextType(ueType) {
        return CONTEXT_TYPES[util.str(ueType).toLowerCase()] || 'edit';
    }

    function readPackages(rec, carrierText) {
        const out = [];
        PACKAGE_SUBLISTS.forEach((p) => {
            const n = R.lineCount(rec, p.sublist);
            for (let i = 0; i < n; i++) {
                const tracking = util.str(R.lineValue(rec, p.sublist, 'packagetrackingnumber' + p.suffix, i)).trim();
                out.push({
                    index: out.length + 1,
                    tracking_number: tracking,
                    carrier: p.carrier || carrierText,
                    weight: util.toNumber(R.lineValue(rec, p.sublist, 'packageweight' + p.suffix, i)),
                    description: util.str(R.lineValue(rec, p.sublist, 'packagedescr' + p.suffix, i)),
                });
            }
        });
        return out;
    }

    function readLines(rec) {
        const out = [];
        const n = R.lineCount(rec, 'item');
        for (let i = 0; i < n; i++) {
            const receive = R.lineValue(rec, 'item', 'itemreceive', i);
            if (receive !== null && !util.truthy(receive)) continue;
            if (R.id(R.lineValue(rec, 'item', 'kitmemberof', i))) continue;
            const itemId = R.id(R.lineValue(rec, 'item', 'item', i));
            if (!itemId) continue;
            const pkg = util.toNumber(R.lineValue(rec, 'item', F.PACKAGE, i));
            out.push({
                line: util.str(R.lineValue(rec, 'item', 'line', i)) || String(i + 1),
                item_id: itemId,
                sku: '',
                quantity: util.toNumber(R.lineValue(rec, 'item', 'quantity', i)),
                order_line: util.str(R.lineValue(rec, 'item', 'orderline', i)),
                tiktok_line_item_ids: util.str(R.lineValue(rec, 'item', F.LINE_ITEM_IDS, i)).trim(),
                package_index: pkg === null ? null : Math.floor(pkg),
            });
        }
        return out;
    }

    /** Everything the event needs that lives on the fulfillment itself (no I/O). */
    function read(rec) {
        const carrierText = R.text(rec, 'shipcarrier');
        const status = util.str(R.value(rec, 'shipstatus'));
        const shipped = status === 'C'
            ? (R.value(rec, 'shippeddate') || R.value(rec, 'trandate'))
            : null;
        return {
            id: util.str(rec.id),
            tranId: util.str(R.value(rec, 'tranid')),
            status: status,
            createdFrom: R.id(R.value(rec, 'createdfrom')),
            orderType: util.str(R.value(rec, 'ordertype')),
            orderIdOnRecord: util.str(R.value(rec, F.ORDER_ID)).trim(),
            shopIdOnRecord: util.str(R.value(rec, F.SHOP_ID)).trim(),
            shippedBy: util.str(R.value(rec, F.SHIPPED_BY)).trim().toUpperCase(),
            shipMethod: { id: R.id(R.value(rec, 'shipmethod')), text: R.text(rec, 'shipmethod') },
            carrier: carrierText,
            shippedAt: shipped instanceof Date ? util.ymd(shipped) : util.str(shipped),
            lastModified: R.millis(R.value(rec, 'lastmodifieddate')),
            packages: readPackages(rec, carrierText),
            lines: readLines(rec),
        };
    }

    /**
     * The sales order behind a fulfillment, or null when it is not a TikTok order (1 unit).
     * @returns {{id, externalId, orderId, shopId}|null}
     */
    function salesOrderOf(N, raw) {
        if (!raw.createdFrom) return null;
        if (raw.orderType && raw.orderType !== 'SalesOrd') return null;
        let fields;
        try {
            fields = N.search.lookupFields({
                type: N.search.Type.SALES_ORDER,
                id: raw.createdFrom,
                columns: [F.ORDER_ID, F.SHOP_ID, 'externalid'],
            });
        } catch (e) {
            return null; // created from a transfer order or a record we cannot see
        }
        const orderId = util.str(R.id(fields[F.ORDER_ID])).trim() || raw.orderIdOnRecord;
        if (!orderId) return null;
        return {
            id: raw.createdFrom,
            externalId: util.str(R.id(fields.externalid)),
            orderId: orderId,
            shopId: util.str(R.id(fields[F.SHOP_ID])).trim() || raw.shopIdOnRecord,
        };
    }

    /** Fill tiktok_line_item_ids (and package) from the sales order lines where the fulfillment lacks them (10 units). */
    function fillFromSalesOrder(N, so, lines) {
        if (!lines.some((l) => !l.tiktok_line_item_ids)) return;
        const order = N.record.load({ type: N.record.Type.SALES_ORDER, id: so.id });
        const byLine = {};
        const n = R.lineCount(order, 'item');
        for (let i = 0; i < n; i++) {
            byLine[util.str(R.lineValue(order, 'item', 'line', i))] = {
                ids: util.str(R.lineValue(order, 'item', F.LINE_ITEM_IDS, i)).trim(),
            };
        }
        lines.forEach((l) => {
            const soLine = byLine[l.order_line];
            if (!l.tiktok_line_item_ids && soLine) l.tiktok_line_item_ids = soLine.ids;
        });
    }

    function toData(raw, so, ueType) {
        return {
            fulfillment_id: raw.id,
            tran_id: raw.tranId,
            context_type: contextType(ueType),
            status: raw.status,
            sales_order_id: so.id,
            sales_order_external_id: so.externalId,
            tiktok_order_id: so.orderId,
            tiktok_shop_id: so.shopId,
            ship_method: raw.shipMethod,
            carrier: raw.carrier,
            shipped_at: raw.shippedAt || null,
            packages: raw.packages,
            lines: raw.lines,
            shipped_by: raw.shippedBy,
        };
    }

    function eventId(data, lastModified) {
        return 'if:' + data.fulfillment_id + ':' + data.context_type + ':'
            + util.hash(util.canonicalJson(data) + '|' + util.str(lastModified));
    }

    /**
     * Build the event for one fulfillment save, or null when there is nothing to push.
     * @param {Object} rec  the fulfillment (new record, or old record on delete)
     * @returns {{eventId, type, data}|null}
     */
    function event(N, rec, ueType) {
        const raw = read(rec);
        // Created by the bridge because TikTok shipped the order (FBT): nothing to tell TikTok. The
        // sales-side marker custbody_ttns_source is deliberately not looked at: it does not apply to
        // fulfillments (a transform would copy it from every bridge-written order).
        if (raw.shippedBy === C.SHIPPED_BY_TIKTOK) return null;
        const so = salesOrderOf(N, raw);
        if (!so) return null;
        if (contextType(ueType) !== 'delete') fillFromSalesOrder(N, so, raw.lines);
        const skus = items.skus(N, raw.lines.map((l) => l.item_id));
        raw.lines.forEach((l) => { l.sku = skus[l.item_id] || ''; });
        const data = toData(raw, so, ueType);
        return {
            eventId: eventId(data, raw.lastModified),
            type: data.context_type === 'delete' ? C.EVENTS.FULFILLMENT_DELETED : C.EVENTS.FULFILLMENT_SAVED,
            data: data,
        };
    }

    return { read, salesOrderOf, toData, eventId, event, contextType };
});
