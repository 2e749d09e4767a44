/**
 * Delivery to the bridge: one signed POST to <bridge_url>/netsuite/events; anything but a 2xx
 * (or 409 = already received) is recorded in the push queue so it is never lost.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './signing', './queue', './util'], (C, signing, queue, util) => {
    /**
     * POST exactly `body` once. Never throws.
     * @returns {{ok: boolean, code: (number|null), error: string}}
     */
    function post(N, bridgeUrl, body, nowMs) {
        if (!bridgeUrl) {
            return { ok: false, code: null, error: 'bridge URL not configured (script parameter)' };
        }
        let response;
        try {
            const headers = signing.headers(N, body, nowMs === undefined ? Date.now() : nowMs);
            response = N.https.post({ url: bridgeUrl + C.EVENTS_PATH, body: body, headers: headers });
        } catch (e) {
            return { ok: false, code: null, error: util.errorText(e) };
        }
        const code = util.toNumber(response && response.code);
        if (code !== null && ((code >= 200 && code < 300) || code === 409)) {
            return { ok: true, code: code, error: '' };
        }
        return {
            ok: false,
            code: code,
            error: 'HTTP ' + util.str(code) + ': ' + util.truncate(response && response.body, 300),
        };
    }

    /**
     * Push one envelope; on failure store it for the Map/Reduce retry.
     * @returns {{delivered: boolean, code: (number|null), error: string, queuedId: (string|null)}}
     */
    function send(N, bridgeUrl, envelope, nowMs) {
        const body = JSON.stringify(envelope);
        const result = post(N, bridgeUrl, body, nowMs);
        if (result.ok) return { delivered: true, code: result.code, error: '', queuedId: null };
        let queuedId = null;
        try {
            queuedId = queue.enqueue(N, {
                eventId: envelope.event_id, type: envelope.type, body: body, error: result.error, nowMs: nowMs,
            });
        } catch (e) {
            N.log.error({
                title: 'ttns: push not delivered and not queued',
                details: envelope.event_id + ' ' + util.errorText(e),
            });
        }
        N.log.audit({ title: 'ttns: push queued for retry', details: envelope.event_id + ' ' + result.error });
        return { delivered: false, code: result.code, error: result.error, queuedId: queuedId };
    }

    return { post, send };
});
