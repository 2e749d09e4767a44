'use strict';
/**
 * N/record against the sandbox: record.create/load/copy/transform/submitFields/delete and the
 * Record object (standard and dynamic mode). Field ids are SuiteScript's lower-case ids; select
 * fields hold internal ids as strings, date fields Date objects.
 */
const { make, required } = require('../lib/errors');
const gov = require('../lib/governance');

const Type = {
    ACCOUNT: 'account', CASH_REFUND: 'cashrefund', CASH_SALE: 'cashsale', CLASSIFICATION: 'classification',
    CREDIT_MEMO: 'creditmemo', CURRENCY: 'currency', CUSTOMER: 'customer', CUSTOMER_DEPOSIT: 'customerdeposit',
    CUSTOMER_REFUND: 'customerrefund', DEPARTMENT: 'department', DEPOSIT: 'deposit', DISCOUNT_ITEM: 'discountitem',
    INVENTORY_ADJUSTMENT: 'inventoryadjustment', INVENTORY_ITEM: 'inventoryitem', INVENTORY_TRANSFER: 'inventorytransfer',
    INVOICE: 'invoice', ITEM_FULFILLMENT: 'itemfulfillment', ITEM_RECEIPT: 'itemreceipt', JOURNAL_ENTRY: 'journalentry',
    LOCATION: 'location', PAYMENT_METHOD: 'paymentmethod', RETURN_AUTHORIZATION: 'returnauthorization',
    SALES_ORDER: 'salesorder', SALES_TAX_ITEM: 'salestaxitem', SHIP_ITEM: 'shipitem', SUBSIDIARY: 'subsidiary',
    TRANSFER_ORDER: 'transferorder', ASSEMBLY_BUILD: 'assemblybuild', ASSEMBLY_UNBUILD: 'assemblyunbuild',
    BIN_TRANSFER: 'bintransfer', WORK_ORDER_COMPLETION: 'workordercompletion', WORK_ORDER_ISSUE: 'workorderissue',
    PURCHASE_ORDER: 'purchaseorder', VENDOR_BILL: 'vendorbill', CUSTOMER_PAYMENT: 'customerpayment',
};

function opt(options, key) {
    return options && typeof options === 'object' ? options[key] : undefined;
}

function fieldArg(options, api) {
    if (typeof options === 'string') return options.toLowerCase();
    return String(required(options, 'fieldId', api)).toLowerCase();
}

function pad(n) {
    return (n < 10 ? '0' : '') + n;
}

function toWire(value) {
    if (value instanceof Date) {
        return value.getFullYear() + '-' + pad(value.getMonth() + 1) + '-' + pad(value.getDate());
    }
    if (Array.isArray(value)) return value.map(toWire);
    return value;
}

function fromWire(value, type) {
    if (type === 'date' && typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) {
        const p = value.slice(0, 10).split('-').map(Number);
        return new Date(p[0], p[1] - 1, p[2]);
    }
    return value;
}

function formatDate(d) {
    return (d.getMonth() + 1) + '/' + d.getDate() + '/' + d.getFullYear();
}

class Subrecord {
    constructor(view) {
        this.fields = Object.assign({}, (view && view.fields) || {});
        this.texts = Object.assign({}, (view && view.texts) || {});
        this.changed = false;
    }

    getValue(options) {
        const f = fieldArg(options, 'Subrecord.getValue');
        const v = this.fields[f];
        return v === undefined || v === null ? '' : v;
    }

    getText(options) {
        const f = fieldArg(options, 'Subrecord.getText');
        return this.texts[f] !== undefined ? this.texts[f] : String(this.getValue(f));
    }

    setValue(options) {
        const f = String(required(options, 'fieldId', 'Subrecord.setValue')).toLowerCase();
        this.fields[f] = options.value;
        delete this.texts[f];
        this.changed = true;
        return this;
    }

    setText(options) {
        const f = String(required(options, 'fieldId', 'Subrecord.setText')).toLowerCase();
        this.fields[f] = options.text;
        this.texts[f] = options.text;
        this.changed = true;
        return this;
    }

    getFields() {
        return Object.keys(this.fields);
    }

    wire() {
        const out = {};
        Object.keys(this.fields).forEach((k) => { out[k] = toWire(this.fields[k]); });
        return { fields: out };
    }
}

function makeModule(ctx, rpc) {
    class Record {
        constructor(view, options) {
            this.type = view.type;
            this.id = view.id === null || view.id === undefined ? null : Number(view.id);
            this.isDynamic = !!(options && options.isDynamic);
            this._fields = Object.assign({}, view.fields || {});
            this._texts = Object.assign({}, view.texts || {});
            this._types = Object.assign({}, view.types || {});
            this._sublists = {};
            this._sublistTexts = {};
            Object.keys(view.sublists || {}).forEach((s) => {
                this._sublists[s] = (view.sublists[s] || []).map((l) => Object.assign({}, l));
                this._sublistTexts[s] = ((view.sublistTexts || {})[s] || []).map((l) => Object.assign({}, l || {}));
            });
            this._subrecords = {};
            Object.keys(view.subrecords || {}).forEach((s) => { this._subrecords[s] = new Subrecord(view.subrecords[s]); });
            this._changed = new Set(options && options.allChanged ? Object.keys(this._fields) : []);
            this._changedSublists = new Set(options && options.allChanged ? Object.keys(this._sublists) : []);
            this._transformedFrom = view.transformedFrom || null;
            this._current = {};
            this._readOnly = !!(options && options.readOnly);
            // a user event's oldRecord answers null for an empty field, newRecord ''
            this._empty = options && options.emptyNull ? null : '';
        }

        _guard(api) {
            if (this._readOnly) throw make('SSS_INVALID_API_USAGE', api + ' is not allowed on a read-only record');
        }

        // -- body fields --------------------------------------------------------------------------
        getValue(options) {
            const f = fieldArg(options, 'Record.getValue');
            if (f === 'id') return this.id === null ? '' : String(this.id);
            const v = this._fields[f];
            if (v === undefined || v === null) return this._empty;
            return fromWire(v, this._types[f]);
        }

        getText(options) {
            const f = fieldArg(options, 'Record.getText');
            if (this._texts[f] !== undefined) return this._texts[f];
            const v = this.getValue(f);
            if (v === null) return '';
            if (v instanceof Date) return formatDate(v);
            return v === true ? 'T' : v === false ? 'F' : String(v);
        }

        setValue(options) {
            this._guard('Record.setValue');
            const f = String(required(options, 'fieldId', 'Record.setValue')).toLowerCase();
            const value = options.value;
            this._fields[f] = value instanceof Date ? toWire(value) : value;
            if (value instanceof Date) this._types[f] = 'date';
            delete this._texts[f];
            this._changed.add(f);
            return this;
        }

        setText(options) {
            this._guard('Record.setText');
            const f = String(required(options, 'fieldId', 'Record.setText')).toLowerCase();
            this._fields[f] = options.text;
            this._texts[f] = options.text;
            this._changed.add(f);
            return this;
        }

        getFields() {
            return Object.keys(this._fields);
        }

        getSublists() {
            return Object.keys(this._sublists);
        }

        getSublistFields(options) {
            const s = String(typeof options === 'string' ? options
                : required(options, 'sublistId', 'Record.getSublistFields')).toLowerCase();
            const seen = {};
            (this._sublists[s] || []).forEach((row) => { Object.keys(row).forEach((f) => { seen[f] = true; }); });
            return Object.keys(seen);
        }

        getSubrecord(options) {
            const f = fieldArg(options, 'Record.getSubrecord');
            if (!this._subrecords[f]) this._subrecords[f] = new Subrecord(null);
            return this._subrecords[f];
        }

        hasSubrecord(options) {
            return !!this._subrecords[fieldArg(options, 'Record.hasSubrecord')];
        }

        removeSubrecord(options) {
            delete this._subrecords[fieldArg(options, 'Record.removeSubrecord')];
            return this;
        }

        // -- sublists (standard mode) -------------------------------------------------------------
        _lines(sublistId, create) {
            const s = String(sublistId).toLowerCase();
            if (!this._sublists[s] && create) {
                this._sublists[s] = [];
                this._sublistTexts[s] = [];
            }
            return this._sublists[s];
        }

        _line(options, api) {
            const s = String(required(options, 'sublistId', api)).toLowerCase();
            const line = Number(required(options, 'line', api));
            const lines = this._lines(s, false) || [];
            if (!(line >= 0 && line < lines.length)) {
                throw make('SSS_INVALID_SUBLIST_OPERATION', 'You have attempted an invalid sublist or line item operation. ' +
                    'You are either trying to access a field on a non-existent line or you are trying to add or remove lines from a static sublist.');
            }
            return { s, line, row: lines[line] };
        }

        getLineCount(options) {
            const s = typeof options === 'string' ? options : required(options, 'sublistId', 'Record.getLineCount');
            const lines = this._lines(s, false);
            return lines ? lines.length : -1;
        }

        getSublistValue(options) {
            const { s, row } = this._line(options, 'Record.getSublistValue');
            const f = String(required(options, 'fieldId', 'Record.getSublistValue')).toLowerCase();
            const v = row[f];
            if (v === undefined || v === null) return '';
            return fromWire(v, this._types[s + '.' + f]);
        }

        getSublistText(options) {
            const { s, line, row } = this._line(options, 'Record.getSublistText');
            const f = String(required(options, 'fieldId', 'Record.getSublistText')).toLowerCase();
            const texts = (this._sublistTexts[s] || [])[line] || {};
            if (texts[f] !== undefined) return texts[f];
            const v = row[f];
            return v === undefined || v === null ? '' : String(v);
        }

        setSublistValue(options) {
            this._guard('Record.setSublistValue');
            const s = String(required(options, 'sublistId', 'Record.setSublistValue')).toLowerCase();
            const line = Number(required(options, 'line', 'Record.setSublistValue'));
            const lines = this._lines(s, true);
            if (line === lines.length) {
                lines.push({});
                this._sublistTexts[s].push({});
            }
            const { row } = this._line(options, 'Record.setSublistValue');
            const f = String(required(options, 'fieldId', 'Record.setSublistValue')).toLowerCase();
            row[f] = toWire(options.value);
            if (options.value instanceof Date) this._types[s + '.' + f] = 'date';
            const texts = this._sublistTexts[s][line];
            if (texts) delete texts[f];
            this._changedSublists.add(s);
            return this;
        }

        setSublistText(options) {
            return this.setSublistValue(Object.assign({}, options, { value: options.text }));
        }

        insertLine(options) {
            this._guard('Record.insertLine');
            const s = String(required(options, 'sublistId', 'Record.insertLine')).toLowerCase();
            const line = Number(required(options, 'line', 'Record.insertLine'));
            const lines = this._lines(s, true);
            if (!(line >= 0 && line <= lines.length)) {
                throw make('SSS_INVALID_SUBLIST_OPERATION', 'You have attempted an invalid sublist or line item operation.');
            }
            lines.splice(line, 0, {});
            this._sublistTexts[s].splice(line, 0, {});
            this._changedSublists.add(s);
            return this;
        }

        removeLine(options) {
            this._guard('Record.removeLine');
            const { s, line } = this._line(options, 'Record.removeLine');
            this._sublists[s].splice(line, 1);
            this._sublistTexts[s].splice(line, 1);
            this._changedSublists.add(s);
            return this;
        }

        findSublistLineWithValue(options) {
            const s = String(required(options, 'sublistId', 'Record.findSublistLineWithValue')).toLowerCase();
            const f = String(required(options, 'fieldId', 'Record.findSublistLineWithValue')).toLowerCase();
            const want = String(toWire(options.value));
            const lines = this._lines(s, false) || [];
            for (let i = 0; i < lines.length; i++) {
                const v = lines[i][f];
                if (v !== undefined && v !== null && String(v) === want) return i;
            }
            return -1;
        }

        getSublistSubrecord(options) {
            const { row } = this._line(options, 'Record.getSublistSubrecord');
            const f = String(required(options, 'fieldId', 'Record.getSublistSubrecord')).toLowerCase();
            if (!(row[f] instanceof Subrecord)) row[f] = new Subrecord(null);
            this._changedSublists.add(String(options.sublistId).toLowerCase());
            return row[f];
        }

        hasSublistSubrecord(options) {
            const { row } = this._line(options, 'Record.hasSublistSubrecord');
            return row[String(options.fieldId).toLowerCase()] instanceof Subrecord;
        }

        // -- dynamic mode --------------------------------------------------------------------------
        selectNewLine(options) {
            const s = String(required(options, 'sublistId', 'Record.selectNewLine')).toLowerCase();
            this._lines(s, true);
            this._current[s] = { index: this._sublists[s].length, row: {}, isNew: true };
            return this;
        }

        selectLine(options) {
            const { s, line, row } = this._line(options, 'Record.selectLine');
            this._current[s] = { index: line, row: Object.assign({}, row), isNew: false };
            return this;
        }

        _cur(options, api) {
            const s = String(required(options, 'sublistId', api)).toLowerCase();
            if (!this._current[s]) this.selectNewLine({ sublistId: s });
            return { s, cur: this._current[s] };
        }

        setCurrentSublistValue(options) {
            const { cur } = this._cur(options, 'Record.setCurrentSublistValue');
            cur.row[String(required(options, 'fieldId', 'Record.setCurrentSublistValue')).toLowerCase()] = toWire(options.value);
            return this;
        }

        setCurrentSublistText(options) {
            return this.setCurrentSublistValue(Object.assign({}, options, { value: options.text }));
        }

        getCurrentSublistValue(options) {
            const { cur } = this._cur(options, 'Record.getCurrentSublistValue');
            const v = cur.row[String(required(options, 'fieldId', 'Record.getCurrentSublistValue')).toLowerCase()];
            return v === undefined || v === null ? '' : v;
        }

        getCurrentSublistText(options) {
            return String(this.getCurrentSublistValue(options));
        }

        getCurrentSublistIndex(options) {
            const s = String(required(options, 'sublistId', 'Record.getCurrentSublistIndex')).toLowerCase();
            return this._current[s] ? this._current[s].index : -1;
        }

        commitLine(options) {
            const { s, cur } = this._cur(options, 'Record.commitLine');
            if (cur.isNew) {
                this._sublists[s].push(cur.row);
                this._sublistTexts[s].push({});
            } else {
                this._sublists[s][cur.index] = cur.row;
                this._sublistTexts[s][cur.index] = {};
            }
            this._changedSublists.add(s);
            delete this._current[s];
            return this;
        }

        cancelLine(options) {
            delete this._current[String(required(options, 'sublistId', 'Record.cancelLine')).toLowerCase()];
            return this;
        }

        // -- save ----------------------------------------------------------------------------------
        _wire(all) {
            const fields = {};
            const keys = all ? Object.keys(this._fields) : Array.from(this._changed);
            keys.forEach((k) => { fields[k] = toWire(this._fields[k]); });
            const sublists = {};
            const names = all ? Object.keys(this._sublists) : Array.from(this._changedSublists);
            names.forEach((s) => {
                sublists[s] = (this._sublists[s] || []).map((row) => {
                    const out = {};
                    Object.keys(row).forEach((k) => {
                        if (!(row[k] instanceof Subrecord)) out[k] = toWire(row[k]);
                    });
                    return out;
                });
            });
            const subrecords = {};
            Object.keys(this._subrecords).forEach((s) => {
                if (all || this._subrecords[s].changed) subrecords[s] = this._subrecords[s].wire();
            });
            return { fields, sublists, subrecords };
        }

        save(options) {
            this._guard('Record.save');
            gov.chargeRecord(ctx, 'save', this.type);
            const isNew = this.id === null;
            const result = rpc('record.save', {
                type: this.type,
                id: isNew ? null : String(this.id),
                record: this._wire(isNew),
                transformedFrom: this._transformedFrom,
                options: {
                    enableSourcing: !!opt(options, 'enableSourcing'),
                    ignoreMandatoryFields: !!opt(options, 'ignoreMandatoryFields'),
                },
            });
            this.id = Number(result.id);
            this._transformedFrom = null;
            this._changed.clear();
            this._changedSublists.clear();
            Object.keys(this._subrecords).forEach((s) => { this._subrecords[s].changed = false; });
            return this.id;
        }

        /** For user events: the changes a beforeSubmit script made to context.newRecord. */
        _changes() {
            const w = this._wire(false);
            if (!Object.keys(w.fields).length && !Object.keys(w.sublists).length && !Object.keys(w.subrecords).length) {
                return null;
            }
            return w;
        }

        toJSON() {
            return { id: this.id, type: this.type, isDynamic: this.isDynamic, fields: this._fields, sublists: this._sublists };
        }
    }

    function typeArg(options, key, api) {
        return String(required(options, key || 'type', api)).toLowerCase();
    }

    return {
        Type,
        Record,
        create(options) {
            const type = typeArg(options, 'type', 'record.create');
            gov.chargeRecord(ctx, 'create', type);
            const view = rpc('record.create', { type, defaultValues: opt(options, 'defaultValues') || {} });
            return new Record(view, { isDynamic: opt(options, 'isDynamic'), allChanged: true });
        },
        load(options) {
            const type = typeArg(options, 'type', 'record.load');
            const id = required(options, 'id', 'record.load');
            gov.chargeRecord(ctx, 'load', type);
            return new Record(rpc('record.load', { type, id: String(id) }), { isDynamic: opt(options, 'isDynamic') });
        },
        copy(options) {
            const type = typeArg(options, 'type', 'record.copy');
            const id = required(options, 'id', 'record.copy');
            gov.chargeRecord(ctx, 'copy', type);
            return new Record(rpc('record.copy', { type, id: String(id) }), { isDynamic: opt(options, 'isDynamic'), allChanged: true });
        },
        transform(options) {
            const fromType = typeArg(options, 'fromType', 'record.transform');
            const fromId = required(options, 'fromId', 'record.transform');
            const toType = typeArg(options, 'toType', 'record.transform');
            gov.chargeRecord(ctx, 'transform', fromType);
            const view = rpc('record.transform', { fromType, fromId: String(fromId), toType });
            const rec = new Record(view, { isDynamic: opt(options, 'isDynamic'), allChanged: true });
            const defaults = opt(options, 'defaultValues') || {};
            Object.keys(defaults).forEach((k) => rec.setValue({ fieldId: k, value: defaults[k] }));
            return rec;
        },
        submitFields(options) {
            const type = typeArg(options, 'type', 'record.submitFields');
            const id = required(options, 'id', 'record.submitFields');
            const values = required(options, 'values', 'record.submitFields');
            gov.chargeRecord(ctx, 'submitFields', type);
            const wire = {};
            Object.keys(values).forEach((k) => { wire[k.toLowerCase()] = toWire(values[k]); });
            return Number(rpc('record.submitFields', { type, id: String(id), values: wire, options: opt(options, 'options') || {} }).id);
        },
        delete(options) {
            const type = typeArg(options, 'type', 'record.delete');
            const id = required(options, 'id', 'record.delete');
            gov.chargeRecord(ctx, 'delete', type);
            return Number(rpc('record.delete', { type, id: String(id) }).id);
        },
        attach() {
            throw make('SSS_UNSUPPORTED_API', 'record.attach is not supported by the sandbox harness');
        },
        detach() {
            throw make('SSS_UNSUPPORTED_API', 'record.detach is not supported by the sandbox harness');
        },
    };
}

module.exports = { makeModule, Type };
