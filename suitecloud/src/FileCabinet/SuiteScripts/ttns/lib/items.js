/**
 * Item lookups shared by the event builders.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./util'], (util) => {
    /** Map item internal id -> itemid (the SKU) with one SuiteQL query (10 units). */
    function skus(N, itemIds) {
        const ids = Array.from(new Set(itemIds.map(util.str).filter(Boolean)));
        const out = {};
        if (!ids.length) return out;
        const rows = N.query.runSuiteQL({
            query: 'SELECT id, itemid FROM item WHERE id IN (' + ids.map(() => '?').join(', ') + ')',
            params: ids,
        }).asMappedResults();
        rows.forEach((r) => { out[util.str(r.id)] = util.str(r.itemid); });
        return out;
    }

    return { skus };
});
