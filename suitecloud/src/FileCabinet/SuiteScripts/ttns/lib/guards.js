/**
 * Skip rules: configured execution contexts, and the bridge's own writes where a push would loop.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './records', './util'], (C, R, util) => {
    function contextIgnored(cfg, executionContext) {
        return cfg.ignoreContexts.indexOf(util.normContext(executionContext)) >= 0;
    }

    function bridgeContext(executionContext) {
        return C.BRIDGE_CONTEXTS.indexOf(util.normContext(executionContext)) >= 0;
    }

    /** The record carries the bridge's marker (custbody_ttns_source = "TTNS"). */
    function bridgeMarked(rec) {
        return !!rec && util.str(R.value(rec, C.FIELDS.SOURCE)).trim() === C.SOURCE_BRIDGE;
    }

    /** This save was made by the bridge: marked record written through a bridge execution context. */
    function bridgeWrite(rec, executionContext) {
        return bridgeMarked(rec) && bridgeContext(executionContext);
    }

    return { contextIgnored, bridgeContext, bridgeMarked, bridgeWrite };
});
