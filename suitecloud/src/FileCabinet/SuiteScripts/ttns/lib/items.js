/**
 * Item lookups shared by the event builders.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./util'], (util) => {
    /** Map item internal id -> itemid (the SKU) with one SuiteQL query (10 units); {} when not readable. */
    function skus(N, itemIds) {
        const ids = Array.from(new Set(itemIds.map(util.str).filter(Boolean)));
        const out = {};
        if (!ids.length) return out;
        try {
            const rows = N.query.runSuiteQL({
                query: 'SELECT id, itemid FROM item WHERE id IN (' + ids.map(() => '?').join(', ') + ')',
                params: ids,
            }).asMappedResults();
            rows.forEach((r) => { out[util.str(r.id)] = util.str(r.itemid); });
        } catch (e) {
            // a role without item access still gets its event; the bridge maps by item id
            N.log.audit({ title: 'ttns: SKU lookup failed', details: util.errorText(e) });
        }
        return out;
    }

    return { skus };
});
