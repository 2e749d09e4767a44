/**
 * The user event afterSubmit logic: decide which events a save produces and push them.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './config', './guards', './envelope', './push', './fulfillment', './inventory',
    './salesorder', './catalog', './records', './util'],
(C, config, guards, envelope, push, fulfillment, inventory, salesorder, catalog, R, util) => {
    /** UE types that never move stock or ship anything. */
    const IGNORED_TYPES = ['view', 'print', 'email', 'quickview', 'copy'];

    /**
     * Inline edits (xedit) hand the script only the changed fields; mass "mark packed / shipped"
     * may hand a fulfillment without its lines. Both are re-read in full (10 units).
     */
    function needsFullRecord(ueType, rec) {
        if (ueType === 'xedit') return true;
        return (ueType === 'ship' || ueType === 'pack') && R.lineCount(rec, 'item') === 0;
    }

    /**
     * Events (without envelope) for one save.
     * @returns {Array<{eventId, type, data}>}
     */
    function collect(N, ctx) {
        const ueType = util.str(ctx.type).toLowerCase();
        const recType = util.str((ctx.newRecord || ctx.oldRecord).type).toLowerCase();
        const executionContext = N.runtime.executionContext;
        const oldRec = ueType === 'create' ? null : ctx.oldRecord || null;
        let newRec = ueType === 'delete' ? null : ctx.newRecord || null;
        if (newRec && newRec.id && needsFullRecord(ueType, newRec)) {
            newRec = N.record.load({ type: newRec.type, id: newRec.id });
        }
        const nowMs = Date.now();
        const out = [];
        const attempt = (name, build) => {
            // one builder failing (permissions, a deleted source record) must not cost the others
            try {
                const ev = build();
                if (ev) out.push(ev);
            } catch (e) {
                N.log.error({ title: 'ttns: could not build ' + name, details: util.errorText(e) });
            }
        };
        if (recType === 'itemfulfillment') {
            attempt('fulfillment event', () => fulfillment.event(N, newRec || oldRec, ueType));
        }
        if (recType === 'salesorder' && !guards.bridgeWrite(newRec, executionContext)) {
            attempt('lines_closed event', () => salesorder.event(N, oldRec, newRec, ueType));
        }
        if (catalog.handles(recType)) {
            // an item save moves no stock: only its listing, price or status can change
            attempt('item event', () => catalog.event(oldRec, newRec, ueType, nowMs));
            return out;
        }
        attempt('inventory event', () => inventory.event(oldRec, newRec, ueType, nowMs));
        return out;
    }

    /**
     * @param {Object} N  {record, search, query, https, crypto, encode, runtime, log}
     * @param {Object} ctx  the afterSubmit scriptContext
     * @returns {Array<Object>} one result per pushed event (for logs and tests)
     */
    function afterSubmit(N, ctx) {
        const cfg = config.ue(N);
        if (!cfg.enabled) return [];
        if (guards.contextIgnored(cfg, N.runtime.executionContext)) return [];
        if (IGNORED_TYPES.indexOf(util.str(ctx.type).toLowerCase()) >= 0) return [];
        const account = N.runtime.accountId;
        return collect(N, ctx).map((ev) => {
            const env = envelope.build({ eventId: ev.eventId, type: ev.type, account: account, data: ev.data });
            const result = push.send(N, cfg.bridgeUrl, env);
            N.log.debug({
                title: 'ttns: ' + ev.type,
                details: ev.eventId + (result.delivered ? ' delivered' : ' queued ' + util.str(result.queuedId)),
            });
            return { eventId: ev.eventId, type: ev.type, delivered: result.delivered, queuedId: result.queuedId };
        });
    }

    return { collect, afterSubmit };
});
