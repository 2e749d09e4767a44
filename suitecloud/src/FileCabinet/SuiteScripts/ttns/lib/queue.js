/**
 * The outbound push queue: customrecord_ttns_push rows for events the bridge has not acknowledged.
 * A row keeps the exact body (and so the event_id); every retry signs it afresh.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './util'], (C, util) => {
    const P = C.PUSH;
    const BASE_BACKOFF_SECONDS = 300;
    const MAX_BACKOFF_SECONDS = 6 * 3600;

    /** Seconds to wait after the n-th failed attempt: 5 min, 10, 20, 40 … capped at 6 h. */
    function backoffSeconds(attempts) {
        const n = Math.max(1, attempts);
        return Math.min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * Math.pow(2, n - 1));
    }

    function nextAttemptIso(attempts, nowMs) {
        return util.isoUtc(nowMs + backoffSeconds(attempts) * 1000);
    }

    /**
     * Record a push that failed once already (the caller's attempt counts as attempt 1).
     * @returns {string} internal id of the new customrecord_ttns_push
     */
    function enqueue(N, item) {
        const nowMs = item.nowMs === undefined ? Date.now() : item.nowMs;
        const attempts = item.attempts === undefined ? 1 : item.attempts;
        const rec = N.record.create({ type: P.TYPE });
        rec.setValue({ fieldId: 'name', value: util.truncate(item.eventId, 300) });
        rec.setValue({ fieldId: P.EVENT_ID, value: util.truncate(item.eventId, 300) });
        rec.setValue({ fieldId: P.EVENT_TYPE, value: util.str(item.type) });
        rec.setValue({ fieldId: P.BODY, value: item.body });
        rec.setValue({ fieldId: P.ATTEMPTS, value: attempts });
        rec.setValue({ fieldId: P.STATUS, value: C.PUSH_STATUS.PENDING });
        rec.setValue({ fieldId: P.LAST_ERROR, value: util.truncate(item.error, 3900) });
        rec.setValue({ fieldId: P.NEXT_AT, value: nextAttemptIso(attempts, nowMs) });
        return util.str(rec.save({ ignoreMandatoryFields: true }));
    }

    /** Ids of pending pushes whose next attempt is due, oldest first, at most `limit`. */
    function dueIds(N, nowMs, limit) {
        const rows = N.query.runSuiteQL({
            query: 'SELECT id FROM ' + P.TYPE + ' WHERE ' + P.STATUS + ' = ? AND ' + P.NEXT_AT + ' <= ? ORDER BY id',
            params: [C.PUSH_STATUS.PENDING, util.isoUtc(nowMs)],
        }).asMappedResults();
        return rows.slice(0, limit).map((r) => util.str(r.id));
    }

    function load(N, id) {
        const rec = N.record.load({ type: P.TYPE, id: id });
        return {
            id: util.str(id),
            eventId: util.str(rec.getValue({ fieldId: P.EVENT_ID })),
            type: util.str(rec.getValue({ fieldId: P.EVENT_TYPE })),
            body: util.str(rec.getValue({ fieldId: P.BODY })),
            attempts: util.toNumber(rec.getValue({ fieldId: P.ATTEMPTS })) || 0,
            status: util.str(rec.getValue({ fieldId: P.STATUS })),
        };
    }

    function markSent(N, id, attempts, nowMs) {
        const values = {};
        values[P.STATUS] = C.PUSH_STATUS.SENT;
        values[P.ATTEMPTS] = attempts;
        values[P.SENT_AT] = util.isoUtc(nowMs);
        values[P.LAST_ERROR] = '';
        N.record.submitFields({ type: P.TYPE, id: id, values: values, options: { ignoreMandatoryFields: true } });
    }

    /** @returns {string} the new status (pending or dead) */
    function markFailed(N, id, attempts, error, nowMs, maxAttempts) {
        const dead = attempts >= maxAttempts;
        const values = {};
        values[P.STATUS] = dead ? C.PUSH_STATUS.DEAD : C.PUSH_STATUS.PENDING;
        values[P.ATTEMPTS] = attempts;
        values[P.LAST_ERROR] = util.truncate(error, 3900);
        values[P.NEXT_AT] = dead ? '' : nextAttemptIso(attempts, nowMs);
        N.record.submitFields({ type: P.TYPE, id: id, values: values, options: { ignoreMandatoryFields: true } });
        return values[P.STATUS];
    }

    return { backoffSeconds, nextAttemptIso, enqueue, dueIds, load, markSent, markFailed };
});
