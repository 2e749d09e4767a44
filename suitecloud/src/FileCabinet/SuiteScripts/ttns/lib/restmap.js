/**
 * NetSuite REST record JSON -> N/record operations.
 *
 * Property names are resolved against the generated REST schema digest (restschema.js): standard
 * fields become the lower-cased property name (otherRefNum -> otherrefnum), custom fields
 * (cust…) are used as given, references {id} become the id, enums {id} their id, dates
 * "YYYY-MM-DD" a Date, sublists {items: [...]} line operations and subrecords nested operations.
 * Anything else is refused with a MappingError naming the JSON path.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./restschema', './util'], (schema, util) => {
    const CUSTOM_FIELD = /^cust(body|col|entity|record|item|event|rec)[a-z0-9_]*$/i;
    /** Properties never written: identity and server-maintained values. */
    const READ_ONLY = ['id', 'internalId', 'links', 'createdDate', 'lastModifiedDate', 'dateCreated'];
    /** Properties ignored on input: display values the REST API echoes back. */
    const IGNORED = ['refName'];
    /** Fields set before all others (NetSuite sources defaults from them). */
    const FIRST = ['customform', 'isperson', 'entity', 'subsidiary', 'currency', 'trandate', 'location'];
    /** REST properties whose field id or value differs from the lower-case rule. */
    const OVERRIDES = {
        customer: { isPerson: { fieldId: 'isperson', value: (v) => (v ? 'T' : 'F') } },
    };

    function MappingError(code, message, path) {
        this.name = code;
        this.code = code;
        this.message = message;
        this.path = path;
    }
    MappingError.prototype = Object.create(Error.prototype);
    MappingError.prototype.constructor = MappingError;

    function fail(code, message, path) {
        throw new MappingError(code, message, path);
    }

    function isPlainObject(v) {
        return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
    }

    function resolve(def, name) {
        if (Object.prototype.hasOwnProperty.call(def, name)) return name;
        const lower = name.toLowerCase();
        const keys = Object.keys(def);
        for (let i = 0; i < keys.length; i++) if (keys[i].toLowerCase() === lower) return keys[i];
        return null;
    }

    function refId(v, path) {
        if (v === null) return '';
        if (typeof v === 'string' || typeof v === 'number') return util.str(v);
        if (isPlainObject(v)) {
            if (v.id !== undefined && v.id !== null && v.id !== '') return util.str(v.id);
            if (v.externalId !== undefined) fail('UNSUPPORTED_REFERENCE', 'references by externalId are not supported; send {"id": …}', path);
        }
        return fail('INVALID_SHAPE', 'expected a reference {"id": "…"}', path);
    }

    function dateValue(v, path) {
        const m = /^(\d{4})-(\d{2})-(\d{2})(T.*)?$/.exec(util.str(v));
        if (!m) fail('INVALID_SHAPE', 'expected a date "YYYY-MM-DD"', path);
        return { date: m[1] + '-' + m[2] + '-' + m[3] };
    }

    function scalar(kind, v, path) {
        if (v === null) return kind === 'boolean' ? false : '';
        switch (kind) {
        case 'string':
            if (isPlainObject(v) || Array.isArray(v)) fail('INVALID_SHAPE', 'expected a string', path);
            return util.str(v);
        case 'number':
        case 'integer': {
            const n = typeof v === 'string' || typeof v === 'number' ? util.toNumber(v) : null;
            if (n === null) fail('INVALID_SHAPE', 'expected a number', path);
            return kind === 'integer' ? Math.round(n) : n;
        }
        case 'boolean':
            if (v === true || v === 'T' || v === 'true') return true;
            if (v === false || v === 'F' || v === 'false') return false;
            return fail('INVALID_SHAPE', 'expected true or false', path);
        case 'date':
            return dateValue(v, path);
        case 'datetime': {
            const d = new Date(util.str(v));
            if (typeof v !== 'string' || isNaN(d.getTime())) fail('INVALID_SHAPE', 'expected an ISO-8601 date-time', path);
            return d;
        }
        case 'ref':
        case 'enum':
            return refId(v, path);
        default:
            return fail('UNSUPPORTED_FIELD', 'field kind ' + kind + ' is not supported', path);
        }
    }

    function customValue(v, path) {
        if (v === null) return '';
        if (Array.isArray(v)) return v.map((x, i) => refId(x, path + '[' + i + ']'));
        if (isPlainObject(v)) return refId(v, path);
        if (typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
        return fail('INVALID_SHAPE', 'unsupported value', path);
    }

    /**
     * Validate `body` against definition `defName` and turn it into a plan.
     * @returns {{fields: Array<{fieldId, kind, value, path}>, subrecords: Array<{fieldId, plan, path}>,
     *            sublists: Array<{sublistId, lines: Array<Object>, path}>}}
     */
    function plan(defName, body, path) {
        const def = schema[defName];
        if (!def) fail('UNSUPPORTED_RECORD', 'record type ' + defName + ' is not supported', path);
        if (!isPlainObject(body)) fail('INVALID_SHAPE', 'expected an object', path);
        const root = defName.split('-')[0];
        const overrides = defName.indexOf('-') < 0 ? OVERRIDES[root] || {} : {};
        const out = { fields: [], subrecords: [], sublists: [] };
        Object.keys(body).forEach((name) => {
            const v = body[name];
            const p = path + '.' + name;
            if (v === undefined || IGNORED.indexOf(name) >= 0) return;
            if (CUSTOM_FIELD.test(name)) {
                out.fields.push({ fieldId: name.toLowerCase(), kind: 'custom', value: customValue(v, p), path: p });
                return;
            }
            const prop = resolve(def, name);
            if (!prop) fail('UNKNOWN_FIELD', 'unknown property "' + name + '" for ' + defName, p);
            if (READ_ONLY.indexOf(prop) >= 0) fail('READ_ONLY_FIELD', 'property "' + prop + '" cannot be written', p);
            const kind = def[prop];
            if (kind === 'readonly') fail('READ_ONLY_FIELD', 'property "' + prop + '" cannot be written', p);
            if (kind === 'unsupported') fail('UNSUPPORTED_FIELD', 'property "' + prop + '" is not supported by this RESTlet', p);
            const fieldId = prop.toLowerCase();
            if (kind.indexOf('sub:') === 0) {
                out.subrecords.push({ fieldId: fieldId, plan: plan(kind.slice(4), v, p), path: p });
            } else if (kind.indexOf('list:') === 0) {
                const items = isPlainObject(v) && Array.isArray(v.items) ? v.items : null;
                if (!items) fail('INVALID_SHAPE', 'expected {"items": [...]}', p);
                out.sublists.push({
                    sublistId: fieldId,
                    lines: items.map((line, i) => plan(kind.slice(5), line, p + '.items[' + i + ']')),
                    path: p,
                });
            } else if (overrides[prop]) {
                const o = overrides[prop];
                out.fields.push({ fieldId: o.fieldId, kind: 'string', value: o.value(scalar(kind, v, p)), path: p });
            } else {
                out.fields.push({ fieldId: fieldId, kind: kind, value: scalar(kind, v, p), path: p });
            }
        });
        out.fields.sort((a, b) => rank(a.fieldId) - rank(b.fieldId));
        return out;
    }

    function rank(fieldId) {
        const i = FIRST.indexOf(fieldId);
        return i < 0 ? FIRST.length : i;
    }

    /** Value to hand to setValue / setSublistValue. */
    function toRecordValue(op) {
        if (op.value && op.value.date) {
            const parts = op.value.date.split('-').map(Number);
            // noon: the calendar day survives any server/company time-zone shift
            return new Date(parts[0], parts[1] - 1, parts[2], 12, 0, 0);
        }
        return op.value;
    }

    /** Does the record already hold the planned value? (for "unchanged") */
    function same(op, current) {
        const want = op.value;
        if (want && want.date) return current instanceof Date ? util.ymd(current) === want.date : util.str(current) === want.date;
        if (want instanceof Date) return current instanceof Date && current.getTime() === want.getTime();
        if (Array.isArray(want)) {
            const have = Array.isArray(current) ? current : util.str(current).split(/[,\u0005]/).filter(Boolean);
            return have.map(util.str).sort().join(',') === want.map(util.str).sort().join(',');
        }
        if (typeof want === 'boolean') return util.truthy(current) === want;
        const a = util.toNumber(want);
        const b = util.toNumber(current);
        if ((op.kind === 'number' || op.kind === 'integer' || typeof want === 'number') && a !== null && b !== null) {
            return Math.abs(a - b) < 1e-9;
        }
        return util.str(current) === util.str(want);
    }

    /** The value of one planned field in a plan (or undefined). */
    function fieldValue(p, fieldId) {
        for (let i = 0; i < p.fields.length; i++) if (p.fields[i].fieldId === fieldId) return p.fields[i].value;
        return undefined;
    }

    return { plan, toRecordValue, same, fieldValue, MappingError, isPlainObject };
});
