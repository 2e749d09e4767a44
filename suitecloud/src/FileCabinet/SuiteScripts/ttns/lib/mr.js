/**
 * The Map/Reduce's logic: retry pending pushes with backoff, then sweep inventory deltas.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './config', './queue', './push', './sweep', './state', './envelope', './util'],
(C, config, queue, push, sweep, state, envelope, util) => {
    const CURSOR = C.STATE.SWEEP_CURSOR_KEY;

    /** @returns {Array<Object>} work items: {kind: 'retry', id} and {kind: 'sweep', …} */
    function getInputData(N, nowMs) {
        const cfg = config.mr(N);
        const now = nowMs === undefined ? Date.now() : nowMs;
        const items = queue.dueIds(N, now, cfg.retryBatch).map((id) => ({ kind: 'retry', id: id }));
        if (!cfg.sweepEnabled) return items;
        const cursor = state.get(N, CURSOR);
        if (!cursor) {
            // first run: start from now; the bridge's nightly full re-assertion covers the past
            const start = sweep.currentMax(N);
            if (start) state.set(N, CURSOR, start);
            return items;
        }
        const since = sweep.minusSeconds(cursor, cfg.sweepOverlapSeconds);
        const result = sweep.changedSince(N, since);
        if (!result.complete) N.log.audit({ title: 'ttns: sweep truncated by governance', details: 'until ' + result.until });
        return items.concat(sweep.workItems(since, result));
    }

    /** Retry one queued push. @returns {string} sent | pending | dead | skipped */
    function retry(N, cfg, id, nowMs) {
        const item = queue.load(N, id);
        if (item.status !== C.PUSH_STATUS.PENDING) return 'skipped';
        const attempts = item.attempts + 1;
        const result = push.post(N, cfg.bridgeUrl, item.body, nowMs);
        if (result.ok) {
            queue.markSent(N, id, attempts, nowMs);
            return 'sent';
        }
        return queue.markFailed(N, id, attempts, result.error, nowMs, cfg.maxAttempts);
    }

    /** One map invocation; writes {key: 'retry:<id>' | 'sweep:<part>', value: outcome} for summarize. */
    function map(N, context, nowMs) {
        const cfg = config.mr(N);
        const now = nowMs === undefined ? Date.now() : nowMs;
        const item = JSON.parse(context.value);
        if (item.kind === 'retry') {
            context.write({ key: 'retry:' + item.id, value: retry(N, cfg, item.id, now) });
        } else if (item.kind === 'sweep') {
            const ev = sweep.eventFor(item);
            const env = envelope.build({
                eventId: ev.eventId, type: ev.type, account: N.runtime.accountId, occurredAt: now, data: ev.data,
            });
            const result = push.send(N, cfg.bridgeUrl, env, now);
            context.write({
                key: 'sweep:' + item.part,
                value: JSON.stringify({ until: item.until, part: item.part, parts: item.parts, delivered: result.delivered }),
            });
        }
    }

    /** Advance the sweep cursor once every part was pushed or queued; log the run. */
    function summarize(N, summary) {
        let mapErrors = 0;
        if (summary.inputSummary && summary.inputSummary.error) {
            N.log.error({ title: 'ttns: getInputData failed', details: util.str(summary.inputSummary.error) });
        }
        summary.mapSummary.errors.iterator().each((key, error) => {
            mapErrors += 1;
            N.log.error({ title: 'ttns: map failed for ' + key, details: util.truncate(error, 1000) });
            return true;
        });
        const counts = { sent: 0, pending: 0, dead: 0, skipped: 0 };
        const parts = {};
        let expected = 0;
        let until = null;
        summary.output.iterator().each((key, value) => {
            const kind = util.str(key).split(':')[0];
            if (kind === 'retry') {
                counts[value] = (counts[value] || 0) + 1;
            } else if (kind === 'sweep') {
                const v = JSON.parse(value);
                parts[v.part] = true;
                expected = v.parts;
                until = v.until;
            }
            return true;
        });
        const done = Object.keys(parts).length;
        let advanced = false;
        if (until && mapErrors === 0 && done === expected) {
            state.set(N, CURSOR, until);
            advanced = true;
        }
        N.log.audit({
            title: 'ttns: sweep run',
            details: JSON.stringify({ retries: counts, sweep_parts: done, cursor: advanced ? until : 'unchanged', map_errors: mapErrors }),
        });
        return { retries: counts, sweepParts: done, cursorAdvanced: advanced, mapErrors: mapErrors };
    }

    return { getInputData, retry, map, summarize };
});
