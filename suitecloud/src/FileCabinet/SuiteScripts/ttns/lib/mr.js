/**
 * The Map/Reduce's logic: retry pending pushes with backoff, then sweep inventory deltas and
 * modified items (each with its own cursor).
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './config', './queue', './push', './sweep', './itemsweep', './state', './envelope', './util'],
(C, config, queue, push, sweep, itemsweep, state, envelope, util) => {
    const CURSOR = C.STATE.SWEEP_CURSOR_KEY;
    const ITEM_CURSOR = C.STATE.ITEM_SWEEP_CURSOR_KEY;
    /** Sweeps by work item kind: their module and cursor. */
    const SWEEPS = { sweep: { mod: sweep, cursor: CURSOR }, itemsweep: { mod: itemsweep, cursor: ITEM_CURSOR } };

    /** One sweep's work items after its cursor; the first run only records the cursor. */
    function sweepItems(N, cfg, kind) {
        const s = SWEEPS[kind];
        const cursor = state.get(N, s.cursor);
        if (!cursor) {
            // first run: start from now; the bridge's nightly full re-assertion covers the past
            const start = s.mod.currentMax(N);
            if (start) state.set(N, s.cursor, start);
            return [];
        }
        const since = s.mod.minusSeconds(cursor, cfg.sweepOverlapSeconds);
        const result = s.mod.changedSince(N, since);
        if (!result.complete) N.log.audit({ title: 'ttns: ' + kind + ' truncated by governance', details: 'until ' + result.until });
        return s.mod.workItems(since, result);
    }

    /** @returns {Array<Object>} work items: {kind: 'retry', id} and {kind: 'sweep', …} */
    function getInputData(N, nowMs) {
        const cfg = config.mr(N);
        const now = nowMs === undefined ? Date.now() : nowMs;
        const items = queue.dueIds(N, now, cfg.retryBatch).map((id) => ({ kind: 'retry', id: id }));
        if (!cfg.sweepEnabled) return items;
        return items.concat(sweepItems(N, cfg, 'sweep'), sweepItems(N, cfg, 'itemsweep'));
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
        } else if (SWEEPS[item.kind]) {
            const ev = SWEEPS[item.kind].mod.eventFor(item);
            const env = envelope.build({
                eventId: ev.eventId, type: ev.type, account: N.runtime.accountId, occurredAt: now, data: ev.data,
            });
            const result = push.send(N, cfg.bridgeUrl, env, now);
            context.write({
                key: item.kind + ':' + item.part,
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
        const runs = {};
        Object.keys(SWEEPS).forEach((k) => { runs[k] = { parts: {}, expected: 0, until: null }; });
        summary.output.iterator().each((key, value) => {
            const kind = util.str(key).split(':')[0];
            if (kind === 'retry') {
                counts[value] = (counts[value] || 0) + 1;
            } else if (runs[kind]) {
                const v = JSON.parse(value);
                runs[kind].parts[v.part] = true;
                runs[kind].expected = v.parts;
                runs[kind].until = v.until;
            }
            return true;
        });
        const out = {};
        Object.keys(SWEEPS).forEach((k) => {
            const r = runs[k];
            const done = Object.keys(r.parts).length;
            const advanced = !!r.until && mapErrors === 0 && done === r.expected;
            if (advanced) state.set(N, SWEEPS[k].cursor, r.until);
            out[k] = { done: done, advanced: advanced, until: r.until };
        });
        N.log.audit({
            title: 'ttns: sweep run',
            details: JSON.stringify({ retries: counts, sweep_parts: out.sweep.done, cursor: out.sweep.advanced ? out.sweep.until : 'unchanged',
                item_sweep_parts: out.itemsweep.done, item_cursor: out.itemsweep.advanced ? out.itemsweep.until : 'unchanged',
                map_errors: mapErrors }),
        });
        return { retries: counts, sweepParts: out.sweep.done, cursorAdvanced: out.sweep.advanced,
            itemSweepParts: out.itemsweep.done, itemCursorAdvanced: out.itemsweep.advanced, mapErrors: mapErrors };
    }

    return { getInputData, retry, map, summarize };
});
