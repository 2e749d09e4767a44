/**
 * Small persistent key/value state (customrecord_ttns_state: name = key).
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './util'], (C, util) => {
    const S = C.STATE;

    function find(N, key) {
        const rows = N.query.runSuiteQL({
            query: 'SELECT id, ' + S.VALUE + ' AS value FROM ' + S.TYPE + ' WHERE name = ?',
            params: [key],
        }).asMappedResults();
        return rows.length ? { id: util.str(rows[0].id), value: util.str(rows[0].value) } : null;
    }

    function get(N, key) {
        const row = find(N, key);
        return row ? row.value : null;
    }

    function set(N, key, value) {
        const row = find(N, key);
        if (row) {
            const values = {};
            values[S.VALUE] = value;
            N.record.submitFields({ type: S.TYPE, id: row.id, values: values, options: { ignoreMandatoryFields: true } });
            return row.id;
        }
        const rec = N.record.create({ type: S.TYPE });
        rec.setValue({ fieldId: 'name', value: key });
        rec.setValue({ fieldId: S.VALUE, value: value });
        return util.str(rec.save({ ignoreMandatoryFields: true }));
    }

    return { get, set };
});
