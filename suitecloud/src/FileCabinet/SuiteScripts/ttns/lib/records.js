/**
 * Defensive readers over N/record Record objects: a field or sublist the record type does not
 * have reads as null / 0 lines instead of throwing.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./util'], (util) => {
    function value(rec, fieldId) {
        try {
            const v = rec.getValue({ fieldId: fieldId });
            return v === undefined ? null : v;
        } catch (e) {
            return null;
        }
    }

    function text(rec, fieldId) {
        try {
            return util.str(rec.getText({ fieldId: fieldId }));
        } catch (e) {
            return '';
        }
    }

    function lineCount(rec, sublistId) {
        try {
            const n = rec.getLineCount({ sublistId: sublistId });
            return n > 0 ? n : 0;
        } catch (e) {
            return 0;
        }
    }

    function lineValue(rec, sublistId, fieldId, line) {
        try {
            const v = rec.getSublistValue({ sublistId: sublistId, fieldId: fieldId, line: line });
            return v === undefined ? null : v;
        } catch (e) {
            return null;
        }
    }

    /** Internal id as a string ('' when absent). */
    function id(v) {
        if (v && typeof v === 'object' && !(v instanceof Date)) {
            if (Array.isArray(v)) return v.length ? util.str(v[0] && v[0].value !== undefined ? v[0].value : v[0]) : '';
            if (v.value !== undefined) return util.str(v.value);
        }
        return util.str(v);
    }

    /** Milliseconds of a Date-ish value, or null. */
    function millis(v) {
        if (v instanceof Date) return isNaN(v.getTime()) ? null : v.getTime();
        if (v === null || v === undefined || v === '') return null;
        const t = new Date(v).getTime();
        return isNaN(t) ? null : t;
    }

    return { value, text, lineCount, lineValue, id, millis };
});
