/**
 * The orders RESTlet's logic: upsert a batch of sales orders (or cash sales) by external id, with
 * customer find-or-create, per-order results and governance-aware deferral.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './restmap', './util'], (C, restmap, util) => {
    const RECORD_TYPES = {
        salesOrder: { recordType: 'salesorder', tranType: 'SalesOrd' },
        cashSale: { recordType: 'cashsale', tranType: 'CashSale' },
    };
    const TRAN_TYPES = { SalesOrd: 'salesOrder', CashSale: 'cashSale' };
    const KEY = C.FIELDS.LINE_ITEM_IDS;
    const MAX_LOOKUP_IDS = 200;

    /** Tracks the JSON path being written so a NetSuite error can name it. */
    function tracker() {
        return { path: null, changed: false };
    }

    function failure(e, t) {
        if (e instanceof restmap.MappingError) return { code: e.code, message: e.message, path: e.path };
        return {
            code: util.str(e && (e.name || e.type)) || 'UNEXPECTED_ERROR',
            message: util.truncate(e && e.message !== undefined ? e.message : util.str(e), 1000),
            path: t && t.path ? t.path : null,
        };
    }

    function findTransaction(N, tranType, externalId) {
        const rows = N.query.runSuiteQL({
            query: 'SELECT id FROM transaction WHERE externalid = ? AND type = ?',
            params: [externalId, tranType],
        }).asMappedResults();
        return rows.length ? util.str(rows[0].id) : null;
    }

    function findCustomer(N, externalId) {
        const rows = N.query.runSuiteQL({
            query: 'SELECT id FROM customer WHERE externalid = ?',
            params: [externalId],
        }).asMappedResults();
        return rows.length ? util.str(rows[0].id) : null;
    }

    /** Apply planned body fields (and subrecords) to a record; with `compare`, only what differs. */
    function applyFields(rec, p, t, compare) {
        p.fields.forEach((op) => {
            t.path = op.path;
            if (compare && restmap.same(op, rec.getValue({ fieldId: op.fieldId }))) return;
            rec.setValue({ fieldId: op.fieldId, value: restmap.toRecordValue(op) });
            t.changed = true;
        });
        p.subrecords.forEach((s) => {
            t.path = s.path;
            applyFields(rec.getSubrecord({ fieldId: s.fieldId }), s.plan, t, compare);
        });
    }

    function applyLine(rec, sublistId, line, p, t, compare) {
        p.fields.forEach((op) => {
            t.path = op.path;
            if (compare && restmap.same(op, rec.getSublistValue({ sublistId: sublistId, fieldId: op.fieldId, line: line }))) return;
            rec.setSublistValue({ sublistId: sublistId, fieldId: op.fieldId, line: line, value: restmap.toRecordValue(op) });
            t.changed = true;
        });
        p.subrecords.forEach((s) => {
            t.path = s.path;
            const sub = rec.getSublistSubrecord({ sublistId: sublistId, fieldId: s.fieldId, line: line });
            applyFields(sub, s.plan, t, compare);
        });
    }

    function appendLine(rec, sublistId, p, t) {
        const line = Math.max(0, rec.getLineCount({ sublistId: sublistId }));
        rec.insertLine({ sublistId: sublistId, line: line });
        t.changed = true;
        applyLine(rec, sublistId, line, p, t, false);
    }

    function idSet(value) {
        return util.str(value).split(',').map((s) => s.trim()).filter(Boolean);
    }

    /**
     * Reconcile the item sublist of an existing transaction with the planned lines:
     * a planned line with TikTok line-item ids updates the existing line sharing most of those ids,
     * a planned line without ids updates the next unmatched existing line of the same item,
     * anything unmatched is appended, and existing TikTok lines no longer sent are removed, or
     * closed once some of their units were fulfilled. Lines a person added are never touched.
     */
    function reconcileItems(rec, s, t) {
        const count = Math.max(0, rec.getLineCount({ sublistId: 'item' }));
        const existing = [];
        for (let i = 0; i < count; i++) {
            existing.push({
                index: i,
                item: util.str(rec.getSublistValue({ sublistId: 'item', fieldId: 'item', line: i })),
                ids: idSet(rec.getSublistValue({ sublistId: 'item', fieldId: KEY, line: i })),
                closed: util.truthy(rec.getSublistValue({ sublistId: 'item', fieldId: 'isclosed', line: i })),
                used: false,
            });
        }
        const appends = [];
        s.lines.forEach((lp) => {
            const ids = idSet(restmap.fieldValue(lp, KEY));
            const item = util.str(restmap.fieldValue(lp, 'item'));
            let match = null;
            if (ids.length) {
                let best = 0;
                existing.forEach((e) => {
                    if (e.used || !e.ids.length) return;
                    const overlap = e.ids.filter((x) => ids.indexOf(x) >= 0).length;
                    if (overlap > best) { best = overlap; match = e; }
                });
            } else {
                match = existing.filter((e) => !e.used && !e.ids.length && (!item || e.item === item))[0] || null;
            }
            if (match) {
                match.used = true;
                applyLine(rec, 'item', match.index, lp, t, true);
            } else {
                appends.push(lp);
            }
        });
        // TikTok lines no longer sent are closed, never removed: the sales order keeps what was ordered
        // and cancelled. One cancelled whole before anything of it shipped is closed at no charge (a
        // closed line still counts in the order total); a partly fulfilled one keeps its amount.
        existing.forEach((e) => {
            if (e.used || !e.ids.length) return;
            t.path = s.path;
            const fulfilled = util.toNumber(rec.getSublistValue({ sublistId: 'item', fieldId: 'quantityfulfilled', line: e.index }));
            if (!fulfilled && util.toNumber(rec.getSublistValue({ sublistId: 'item', fieldId: 'amount', line: e.index }))) {
                rec.setSublistValue({ sublistId: 'item', fieldId: 'rate', line: e.index, value: 0 });
                rec.setSublistValue({ sublistId: 'item', fieldId: 'amount', line: e.index, value: 0 });
                t.changed = true;
            }
            if (!e.closed) {
                rec.setSublistValue({ sublistId: 'item', fieldId: 'isclosed', line: e.index, value: true });
                t.changed = true;
            }
        });
        appends.forEach((lp) => appendLine(rec, 'item', lp, t));
    }

    function applyTransaction(rec, p, t, isNew) {
        applyFields(rec, { fields: p.fields, subrecords: [] }, t, !isNew);
        p.sublists.forEach((s) => {
            if (isNew) {
                s.lines.forEach((lp) => appendLine(rec, s.sublistId, lp, t));
            } else {
                reconcileItems(rec, s, t);
            }
        });
        applyFields(rec, { fields: [], subrecords: p.subrecords }, t, !isNew);
    }

    function createCustomer(N, p, t) {
        const rec = N.record.create({ type: N.record.Type.CUSTOMER, isDynamic: false });
        applyFields(rec, { fields: p.fields, subrecords: [] }, t, false);
        p.sublists.forEach((s) => s.lines.forEach((lp) => appendLine(rec, s.sublistId, lp, t)));
        applyFields(rec, { fields: [], subrecords: p.subrecords }, t, false);
        t.path = null;
        return util.str(rec.save({ enableSourcing: true, ignoreMandatoryFields: false }));
    }

    function validateOrder(order, path) {
        if (!restmap.isPlainObject(order)) throw new restmap.MappingError('INVALID_SHAPE', 'expected an order object', path);
        const externalId = util.str(order.external_id).trim();
        if (!externalId) throw new restmap.MappingError('INVALID_SHAPE', 'external_id is required', path + '.external_id');
        const recordType = order.record_type === undefined ? 'salesOrder' : order.record_type;
        if (!RECORD_TYPES[recordType]) {
            throw new restmap.MappingError('UNSUPPORTED_RECORD', 'record_type must be salesOrder or cashSale', path + '.record_type');
        }
        if (!restmap.isPlainObject(order.record)) {
            throw new restmap.MappingError('INVALID_SHAPE', 'record must be an object', path + '.record');
        }
        const recExternal = order.record.externalId;
        if (recExternal !== undefined && recExternal !== null && util.str(recExternal) !== externalId) {
            throw new restmap.MappingError('INVALID_SHAPE', 'record.externalId differs from external_id', path + '.record.externalId');
        }
        if (order.customer !== undefined && order.customer !== null) {
            if (!restmap.isPlainObject(order.customer) || !util.str(order.customer.externalId).trim()) {
                throw new restmap.MappingError('INVALID_SHAPE', 'customer.externalId is required', path + '.customer.externalId');
            }
        }
        return { externalId: externalId, recordType: recordType };
    }

    /** Upsert one order. Throws on failure (the caller turns it into an error result). */
    function upsertOne(N, order, path, t) {
        const v = validateOrder(order, path);
        const types = RECORD_TYPES[v.recordType];
        const record = Object.assign({}, order.record);
        delete record.externalId;
        const p = restmap.plan(v.recordType, record, path + '.record');
        const customerPlan = order.customer ? restmap.plan('customer', order.customer, path + '.customer') : null;

        let customerId = null;
        if (customerPlan) {
            const customerExternal = util.str(order.customer.externalId).trim();
            t.path = path + '.customer';
            customerId = findCustomer(N, customerExternal) || createCustomer(N, customerPlan, t);
        }
        const marker = { fieldId: C.FIELDS.SOURCE, kind: 'custom', value: C.SOURCE_BRIDGE, path: path + '.record.' + C.FIELDS.SOURCE };
        if (restmap.fieldValue(p, C.FIELDS.SOURCE) === undefined) p.fields.push(marker);
        if (customerId && restmap.fieldValue(p, 'entity') === undefined) {
            p.fields.unshift({ fieldId: 'entity', kind: 'ref', value: customerId, path: path + '.customer' });
        }

        t.path = path;
        const existingId = findTransaction(N, types.tranType, v.externalId);
        let rec;
        if (existingId) {
            rec = N.record.load({ type: types.recordType, id: existingId, isDynamic: false });
        } else {
            rec = N.record.create({ type: types.recordType, isDynamic: false });
            rec.setValue({ fieldId: 'externalid', value: v.externalId });
        }
        t.changed = false;
        applyTransaction(rec, p, t, !existingId);
        if (existingId && !t.changed) {
            return { external_id: v.externalId, status: 'unchanged', id: existingId, customer_id: customerId, error: null };
        }
        t.path = null;
        const id = util.str(rec.save({ enableSourcing: true, ignoreMandatoryFields: false }));
        return {
            external_id: v.externalId,
            status: existingId ? 'updated' : 'created',
            id: id,
            customer_id: customerId,
            error: null,
        };
    }

    function parseBody(N, body) {
        let value = body;
        if (typeof body === 'string') {
            try {
                value = JSON.parse(body);
            } catch (e) {
                value = null;
            }
        }
        if (!restmap.isPlainObject(value) || !Array.isArray(value.orders)) {
            throw N.error.create({ name: 'TTNS_INVALID_REQUEST', message: 'body must be {"orders": [...]}', notifyOff: true });
        }
        return value.orders;
    }

    /**
     * POST: upsert every order; one order's failure never aborts the batch; when governance runs
     * low the remaining orders come back "deferred" for the bridge to send again.
     * @returns {{results: Array<Object>}}
     */
    function upsertBatch(N, body, opts) {
        const orders = parseBody(N, body);
        const reserve = (opts && opts.unitReserve) || 300;
        const script = N.runtime.getCurrentScript();
        let deferred = false;
        let maxCost = 0;
        const results = orders.map((order, i) => {
            const externalId = restmap.isPlainObject(order) ? util.str(order.external_id) : '';
            const before = script.getRemainingUsage();
            if (deferred || before < Math.max(reserve, 2 * maxCost)) {
                deferred = true;
                return { external_id: externalId, status: 'deferred', id: null, customer_id: null, error: null };
            }
            const t = tracker();
            let result;
            try {
                result = upsertOne(N, order, 'orders[' + i + ']', t);
            } catch (e) {
                result = { external_id: externalId, status: 'error', id: null, customer_id: null, error: failure(e, t) };
                N.log.error({ title: 'ttns: order ' + externalId, details: result.error.code + ' ' + result.error.message });
            }
            maxCost = Math.max(maxCost, before - script.getRemainingUsage());
            return result;
        });
        return { results: results };
    }

    /**
     * GET: resolve external ids (comma-separated `external_ids`, or `external_id`) to internal ids,
     * so the bridge can settle a timed-out batch by looking up instead of writing again.
     */
    function lookup(N, params) {
        const raw = util.str(params && (params.external_ids || params.external_id));
        const ids = Array.from(new Set(raw.split(',').map((s) => s.trim()).filter(Boolean)));
        if (!ids.length || ids.length > MAX_LOOKUP_IDS) {
            throw N.error.create({
                name: 'TTNS_INVALID_REQUEST',
                message: 'external_ids must list 1 to ' + MAX_LOOKUP_IDS + ' comma-separated external ids',
                notifyOff: true,
            });
        }
        const recordType = params.record_type ? util.str(params.record_type) : null;
        if (recordType && !RECORD_TYPES[recordType]) {
            throw N.error.create({ name: 'TTNS_INVALID_REQUEST', message: 'record_type must be salesOrder or cashSale', notifyOff: true });
        }
        const types = recordType ? [RECORD_TYPES[recordType].tranType] : Object.keys(TRAN_TYPES);
        const rows = N.query.runSuiteQL({
            query: 'SELECT id, externalid, type FROM transaction WHERE externalid IN ('
                + ids.map(() => '?').join(', ') + ') AND type IN (' + types.map(() => '?').join(', ') + ')',
            params: ids.concat(types),
        }).asMappedResults();
        const found = {};
        rows.forEach((r) => { found[util.str(r.externalid)] = r; });
        return {
            results: ids.map((externalId) => {
                const r = found[externalId];
                return r
                    ? { external_id: externalId, found: true, id: util.str(r.id), record_type: TRAN_TYPES[util.str(r.type)] || util.str(r.type) }
                    : { external_id: externalId, found: false, id: null, record_type: null };
            }),
        };
    }

    return { upsertBatch, upsertOne, lookup, findTransaction, findCustomer, reconcileItems };
});
