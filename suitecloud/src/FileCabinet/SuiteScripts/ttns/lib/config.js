/**
 * Script parameters of each ttns script, read once per entry point invocation.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './util'], (C, util) => {
    function reader(N) {
        const script = N.runtime.getCurrentScript();
        const raw = (name) => {
            try {
                return script.getParameter({ name: name });
            } catch (e) {
                return null;
            }
        };
        return {
            text: (name) => util.str(raw(name)).trim(),
            int: (name, dflt) => {
                const n = util.toNumber(raw(name));
                return n === null ? dflt : Math.floor(n);
            },
            flag: (name, dflt) => {
                const v = raw(name);
                return v === null || v === undefined || v === '' ? dflt : util.truthy(v);
            },
        };
    }

    function cleanUrl(url) {
        return util.str(url).trim().replace(/\/+$/, '');
    }

    /** User event script (customscript_ttns_ue_events). */
    function ue(N) {
        const p = reader(N);
        return {
            bridgeUrl: cleanUrl(p.text(C.PARAMS.UE_BRIDGE_URL)),
            ignoreContexts: p.text(C.PARAMS.UE_IGNORE_CONTEXTS).split(/[\s,|;]+/)
                .map(util.normContext).filter(Boolean),
            enabled: p.flag(C.PARAMS.UE_ENABLED, true),
        };
    }

    /** Map/Reduce (customscript_ttns_mr_sweep). */
    function mr(N) {
        const p = reader(N);
        return {
            bridgeUrl: cleanUrl(p.text(C.PARAMS.MR_BRIDGE_URL)),
            maxAttempts: Math.max(1, p.int(C.PARAMS.MR_MAX_ATTEMPTS, 12)),
            retryBatch: Math.max(1, p.int(C.PARAMS.MR_RETRY_BATCH, 500)),
            sweepOverlapSeconds: Math.max(0, p.int(C.PARAMS.MR_SWEEP_OVERLAP, 120)),
            sweepEnabled: p.flag(C.PARAMS.MR_SWEEP_ENABLED, true),
        };
    }

    /** RESTlet (customscript_ttns_rl_orders). */
    function rl(N) {
        const p = reader(N);
        return { unitReserve: Math.max(50, p.int(C.PARAMS.RL_UNIT_RESERVE, 300)) };
    }

    return { ue, mr, rl, cleanUrl };
});
