/*
 * An in-memory stand-in for the N/ modules the ttns scripts use, with a simple governance model.
 * Enum constants come from @oracle/suitecloud-unit-testing's stubs (mapped by jest.config.js).
 */
const nodeCrypto = require('crypto');

const COSTS = {
    transaction: { create: 10, load: 10, save: 20, submitFields: 10 },
    custom: { create: 2, load: 2, save: 4, submitFields: 2 },
    entity: { create: 5, load: 5, save: 10, submitFields: 5 },
};
const ENTITY_TYPES = ['customer'];

function costClass(type) {
    if (/^customrecord/.test(type)) return 'custom';
    if (ENTITY_TYPES.indexOf(type) >= 0) return 'entity';
    return 'transaction';
}

function clone(v) {
    if (v instanceof Date) return new Date(v.getTime());
    if (Array.isArray(v)) return v.map(clone);
    if (v instanceof FakeRecord) return v.clone();
    if (v && typeof v === 'object') {
        const out = {};
        Object.keys(v).forEach((k) => { out[k] = clone(v[k]); });
        return out;
    }
    return v;
}

function nsError(name, message) {
    const e = new Error(message);
    e.name = name;
    return e;
}

/**
 * While env.recording is on, remember every member the scripts touch ("Record.getValue",
 * "query.runSuiteQL" …) so a test can check each against the documented API (Oracle's stubs).
 */
/** Members of the fakes that only tests and the fakes themselves use. */
const FAKE_ONLY = ['clone', 'fields', 'texts', 'sublists', 'subrecords', 'env'];

function watch(obj, name, env) {
    return new Proxy(obj, {
        get(target, prop, receiver) {
            if (env && env.recording && typeof prop === 'string' && prop[0] !== '_' && FAKE_ONLY.indexOf(prop) < 0) {
                env.touched.add(name + '.' + prop);
            }
            const value = Reflect.get(target, prop, receiver);
            // methods run against the raw object, so their own bookkeeping is not recorded
            return typeof value === 'function' && name === 'Record' ? value.bind(target) : value;
        },
    });
}

class FakeRecord {
    /**
     * @param {{type, id, fields, texts, sublists: {id: [{field: value, _sub: {fieldId: FakeRecord}}]}, subrecords}} spec
     */
    constructor(spec, env) {
        this.type = spec.type;
        this.id = spec.id === undefined ? null : spec.id;
        this.fields = clone(spec.fields || {});
        this.texts = clone(spec.texts || {});
        this.sublists = {};
        Object.keys(spec.sublists || {}).forEach((s) => {
            this.sublists[s] = spec.sublists[s].map((line) => clone(line));
        });
        this.subrecords = {};
        Object.keys(spec.subrecords || {}).forEach((k) => {
            this.subrecords[k] = new FakeRecord(spec.subrecords[k], env);
        });
        this.env = env;
        this.isDynamic = false;
        return watch(this, 'Record', env);
    }

    clone() {
        const r = new FakeRecord({ type: this.type, id: this.id }, this.env);
        r.fields = clone(this.fields);
        r.texts = clone(this.texts);
        Object.keys(this.sublists).forEach((s) => { r.sublists[s] = this.sublists[s].map((l) => clone(l)); });
        Object.keys(this.subrecords).forEach((k) => { r.subrecords[k] = this.subrecords[k].clone(); });
        return r;
    }

    getValue(o) {
        if (o.fieldId === 'id') return this.id;
        const v = this.fields[o.fieldId];
        return v === undefined ? null : v;
    }

    setValue(o) {
        if (this.env.failOnSet && this.env.failOnSet(o.fieldId, o.value)) {
            throw nsError('INVALID_FLD_VALUE', 'You have entered an Invalid Field Value ' + o.value + ' for the following field: ' + o.fieldId);
        }
        this.fields[o.fieldId] = o.value;
        delete this.texts[o.fieldId];
        return this;
    }

    getText(o) {
        if (this.texts[o.fieldId] !== undefined) return this.texts[o.fieldId];
        const v = this.fields[o.fieldId];
        return v === undefined || v === null ? '' : String(v);
    }

    _line(sublistId, line) {
        const list = this.sublists[sublistId];
        if (!list) throw nsError('SSS_INVALID_SUBLIST_OPERATION', 'no sublist ' + sublistId);
        if (line < 0 || line >= list.length) throw nsError('SSS_INVALID_SUBLIST_OPERATION', 'line ' + line + ' out of range');
        return list[line];
    }

    getFields() {
        return Object.keys(this.fields);
    }

    getSublists() {
        return Object.keys(this.sublists);
    }

    getSublistFields(o) {
        const seen = {};
        (this.sublists[o.sublistId] || []).forEach((l) => {
            Object.keys(l).filter((f) => f.indexOf('_text_') !== 0 && f !== '_sub').forEach((f) => { seen[f] = true; });
        });
        return Object.keys(seen);
    }

    getLineCount(o) {
        const list = this.sublists[o.sublistId];
        return list ? list.length : -1;
    }

    getSublistValue(o) {
        const v = this._line(o.sublistId, o.line)[o.fieldId];
        return v === undefined ? null : v;
    }

    getSublistText(o) {
        const l = this._line(o.sublistId, o.line);
        if (l['_text_' + o.fieldId] !== undefined) return l['_text_' + o.fieldId];
        const v = l[o.fieldId];
        return v === undefined || v === null ? '' : String(v);
    }

    setSublistValue(o) {
        if (this.env.failOnSet && this.env.failOnSet(o.fieldId, o.value)) {
            throw nsError('INVALID_FLD_VALUE', 'Invalid value for ' + o.fieldId);
        }
        this._line(o.sublistId, o.line)[o.fieldId] = o.value;
        return this;
    }

    insertLine(o) {
        if (!this.sublists[o.sublistId]) this.sublists[o.sublistId] = [];
        this.sublists[o.sublistId].splice(o.line, 0, {});
        return this;
    }

    removeLine(o) {
        this._line(o.sublistId, o.line);
        this.sublists[o.sublistId].splice(o.line, 1);
        return this;
    }

    getSubrecord(o) {
        if (!this.subrecords[o.fieldId]) this.subrecords[o.fieldId] = new FakeRecord({ type: 'address' }, this.env);
        return this.subrecords[o.fieldId];
    }

    getSublistSubrecord(o) {
        const l = this._line(o.sublistId, o.line);
        if (!l._sub) l._sub = {};
        if (!l._sub[o.fieldId]) l._sub[o.fieldId] = new FakeRecord({ type: 'address' }, this.env);
        return l._sub[o.fieldId];
    }

    save() {
        return this.env.saveRecord(this);
    }
}

function resultSet(rows, env) {
    return watch({ asMappedResults: () => rows.map((r) => Object.assign({}, r)) }, 'ResultSet', env);
}

/**
 * Create a fresh fake NetSuite. Tests configure:
 *   n.params (script parameters), n.http (function(req) -> {code, body} | throws),
 *   n.sql (optional function(query, params) -> rows | undefined to fall through to the store),
 *   n.usage (remaining units), n.executionContext, n.accountId.
 */
function createN() {
    const recordStub = jest.requireActual('N/record');
    const searchStub = jest.requireActual('N/search');
    const encodeStub = jest.requireActual('N/encode');
    const cryptoStub = jest.requireActual('N/crypto');
    const httpsStub = jest.requireActual('N/https');

    const env = {
        store: {},
        nextId: 1000,
        usage: 1000,
        calls: [],
        requests: [],
        logs: [],
        params: {},
        secrets: { custsecret_ttns_events: 'test-secret-' + nodeCrypto.randomBytes(8).toString('hex') },
        http: () => ({ code: 202, body: '' }),
        sql: null,
        executionContext: 'USERINTERFACE',
        accountId: 'TSTDRV0001',
        failOnSet: null,
        failOnSave: null,
        nowIso: null,
        recording: false,
        touched: new Set(),
    };

    function spend(units, what) {
        env.usage -= units;
        env.calls.push(what);
        if (env.usage < 0) throw nsError('SSS_USAGE_LIMIT_EXCEEDED', 'Script Execution Usage Limit Exceeded');
    }

    function table(type) {
        if (!env.store[type]) env.store[type] = {};
        return env.store[type];
    }

    env.saveRecord = (rec) => {
        spend(COSTS[costClass(rec.type)].save, 'save:' + rec.type);
        if (env.failOnSave) {
            const err = env.failOnSave(rec);
            if (err) throw err;
        }
        if (!rec.id) rec.id = String(env.nextId++);
        rec.fields.id = rec.id;
        table(rec.type)[rec.id] = rec.clone();
        return rec.id;
    };

    /** Put a record straight into the store (no governance). */
    env.put = (spec) => {
        const rec = new FakeRecord(spec, env);
        if (!rec.id) rec.id = String(env.nextId++);
        table(rec.type)[rec.id] = rec;
        return rec;
    };

    env.get = (type, id) => table(type)[String(id)] || null;
    env.all = (type) => Object.keys(table(type)).map((k) => table(type)[k]);

    env.newRecord = (spec) => new FakeRecord(spec, env);

    const record = {
        Type: recordStub.Type,
        create: (o) => {
            spend(COSTS[costClass(o.type)].create, 'create:' + o.type);
            const rec = new FakeRecord({ type: o.type }, env);
            rec.isDynamic = !!o.isDynamic;
            return rec;
        },
        load: (o) => {
            spend(COSTS[costClass(o.type)].load, 'load:' + o.type);
            const rec = env.get(o.type, o.id);
            if (!rec) throw nsError('RCRD_DSNT_EXIST', 'That record does not exist. ' + o.type + ' ' + o.id);
            return rec.clone();
        },
        submitFields: (o) => {
            spend(COSTS[costClass(o.type)].submitFields, 'submitFields:' + o.type);
            const rec = env.get(o.type, o.id);
            if (!rec) throw nsError('RCRD_DSNT_EXIST', 'That record does not exist.');
            Object.keys(o.values).forEach((k) => { rec.fields[k] = o.values[k]; });
            return o.id;
        },
    };

    function storeQuery(query, params) {
        let m;
        if (/FROM customrecord_ttns_push WHERE/.test(query)) {
            return env.all('customrecord_ttns_push')
                .filter((r) => r.fields.custrecord_ttns_push_status === params[0] && r.fields.custrecord_ttns_push_next_at <= params[1])
                .sort((a, b) => Number(a.id) - Number(b.id))
                .map((r) => ({ id: Number(r.id) }));
        }
        if (/FROM customrecord_ttns_state WHERE name = \?/.test(query)) {
            return env.all('customrecord_ttns_state').filter((r) => r.fields.name === params[0])
                .map((r) => ({ id: Number(r.id), value: r.fields.custrecord_ttns_state_value }));
        }
        if (/FROM transaction WHERE externalid = \? AND type = \?/.test(query)) {
            const type = { SalesOrd: 'salesorder', CashSale: 'cashsale' }[params[1]];
            return env.all(type).filter((r) => r.fields.externalid === params[0]).map((r) => ({ id: Number(r.id) }));
        }
        if ((m = /FROM transaction WHERE externalid IN/.exec(query))) {
            const rows = [];
            [['salesorder', 'SalesOrd'], ['cashsale', 'CashSale']].forEach(([type, code]) => {
                if (params.indexOf(code) < 0) return;
                env.all(type).forEach((r) => {
                    if (params.indexOf(r.fields.externalid) >= 0) rows.push({ id: Number(r.id), externalid: r.fields.externalid, type: code });
                });
            });
            return rows;
        }
        if (/FROM customer WHERE externalid = \?/.test(query)) {
            return env.all('customer').filter((r) => r.fields.externalid === params[0]).map((r) => ({ id: Number(r.id) }));
        }
        if (/AS modified FROM item/.test(query)) {
            // the item sweep: items carry `lastmodified` ('YYYY-MM-DD HH:MM:SS') in the fake store
            const items = env.all('item').filter((r) => r.fields.lastmodified);
            if (/MAX\(lastmodifieddate\)/.test(query)) {
                const max = items.map((r) => r.fields.lastmodified).sort().pop();
                return [{ modified: max || null }];
            }
            return items.filter((r) => r.fields.lastmodified > params[0] && params.slice(1).indexOf(r.fields.itemtype) >= 0)
                .sort((a, b) => (a.fields.lastmodified < b.fields.lastmodified ? -1 : 1))
                .map((r) => ({ item_id: Number(r.id), parent_id: r.fields.parent || null, modified: r.fields.lastmodified }));
        }
        if (/SELECT id, itemid FROM item WHERE id IN/.test(query)) {
            return env.all('item').filter((r) => params.indexOf(String(r.id)) >= 0)
                .map((r) => ({ id: Number(r.id), itemid: r.fields.itemid }));
        }
        throw new Error('fake N/query: no rows configured for ' + query);
    }

    function runQuery(query, params) {
        const custom = env.sql ? env.sql(query, params || []) : undefined;
        return custom === undefined ? storeQuery(query, params || []) : custom;
    }

    const query = {
        runSuiteQL: (o) => {
            spend(10, 'suiteql');
            return resultSet(runQuery(o.query, o.params), env);
        },
        runSuiteQLPaged: (o) => {
            spend(10, 'suiteql-paged');
            const rows = runQuery(o.query, o.params);
            const size = o.pageSize || 50;
            const ranges = [];
            for (let i = 0; i * size < rows.length; i++) ranges.push({ index: i, compoundLabel: String(i) });
            return watch({
                count: rows.length,
                pageRanges: ranges,
                fetch: (f) => {
                    spend(10, 'suiteql-page');
                    return watch({ data: resultSet(rows.slice(f.index * size, (f.index + 1) * size), env) }, 'Page', env);
                },
            }, 'PagedData', env);
        },
    };

    const search = {
        Type: searchStub.Type,
        lookupFields: (o) => {
            spend(1, 'lookupFields:' + o.type);
            const rec = env.get(o.type, o.id);
            if (!rec) throw nsError('SSS_INVALID_SRCH_OPRND', 'record not found');
            const out = {};
            o.columns.forEach((c) => {
                const v = rec.fields[c];
                if (c === 'externalid') out[c] = v ? [{ value: v, text: v }] : [];
                else out[c] = v === undefined || v === null ? '' : v;
            });
            return out;
        },
    };

    const https = {
        Method: httpsStub.Method,
        post: (o) => {
            spend(10, 'https.post');
            const req = { url: o.url, body: o.body, headers: Object.assign({}, o.headers) };
            env.requests.push(req);
            const res = env.http(req);
            return { code: res.code, body: res.body === undefined ? '' : res.body, headers: {} };
        },
    };

    const crypto = {
        HashAlg: cryptoStub.HashAlg,
        Encoding: cryptoStub.Encoding,
        createSecretKey: (o) => {
            if (!env.secrets[o.secret]) throw nsError('INVALID_SECRET_KEY', 'unknown secret ' + o.secret);
            return { secret: o.secret, encoding: o.encoding };
        },
        createHmac: (o) => {
            if (o.algorithm !== cryptoStub.HashAlg.SHA256) throw new Error('fake N/crypto: only SHA256');
            const h = nodeCrypto.createHmac('sha256', Buffer.from(env.secrets[o.key.secret], 'utf8'));
            return watch({
                update: (u) => { h.update(Buffer.from(u.input, 'utf8')); },
                // NetSuite returns upper-case hex; the scripts must lower-case it
                digest: (d) => {
                    if (d.outputEncoding !== encodeStub.Encoding.HEX) throw new Error('fake N/crypto: HEX only');
                    return h.digest('hex').toUpperCase();
                },
            }, 'Hmac', env);
        },
    };

    const runtime = {
        ContextType: { USER_INTERFACE: 'USERINTERFACE', RESTLET: 'RESTLET', REST_WEBSERVICES: 'RESTWEBSERVICES', CSV_IMPORT: 'CSVIMPORT', MAP_REDUCE: 'MAPREDUCE' },
        get accountId() { return env.accountId; },
        get executionContext() { return env.executionContext; },
        getCurrentScript: () => watch({
            getParameter: (o) => (env.params[o.name] === undefined ? null : env.params[o.name]),
            getRemainingUsage: () => env.usage,
        }, 'Script', env),
    };

    const log = {};
    ['debug', 'audit', 'error', 'emergency'].forEach((level) => {
        log[level] = (o) => { env.logs.push({ level: level, title: o.title, details: o.details }); };
    });

    const error = { create: (o) => nsError(o.name, o.message) };

    const modules = { record, query, search, https, crypto, encode: { Encoding: encodeStub.Encoding }, runtime, log, error };
    env.N = {};
    Object.keys(modules).forEach((k) => { env.N[k] = watch(modules[k], k, env); });
    env.FakeRecord = FakeRecord;
    return env;
}

/** The env entry-point tests talk to through jest.mock('N/…', () => proxy('…')). */
let current = null;
function use(env) {
    current = env;
    return env;
}
/** A module object whose members are looked up on the current env at call time. */
function proxy(name) {
    return new Proxy({}, {
        get: (target, prop) => {
            if (!current) throw new Error('fakeN: call use(createN()) before using N/' + name);
            return current.N[name][prop];
        },
    });
}

module.exports = { createN, use, proxy, FakeRecord, nsError };
