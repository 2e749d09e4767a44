'use strict';
/** N/search: lookupFields, and create/run/each/getRange for simple AND-ed body-field filters. */
const { make, required } = require('../lib/errors');
const gov = require('../lib/governance');
const recordModule = require('./record');

const Operator = {
    ANYOF: 'anyof', NONEOF: 'noneof', IS: 'is', ISNOT: 'isnot', ISEMPTY: 'isempty', ISNOTEMPTY: 'isnotempty',
    CONTAINS: 'contains', STARTSWITH: 'startswith', EQUALTO: 'equalto', NOTEQUALTO: 'notequalto',
    GREATERTHAN: 'greaterthan', LESSTHAN: 'lessthan', GREATERTHANOREQUALTO: 'greaterthanorequalto',
    LESSTHANOREQUALTO: 'lessthanorequalto', ON: 'on', ONORAFTER: 'onorafter', ONORBEFORE: 'onorbefore',
    WITHIN: 'within', AFTER: 'after', BEFORE: 'before',
};

function makeModule(ctx, rpc) {
    function normFilters(filters) {
        const out = [];
        (filters || []).forEach((f) => {
            if (typeof f === 'string') {
                if (f.toLowerCase() === 'or') throw make('SSS_UNSUPPORTED_API', 'OR filter expressions are not supported by the sandbox harness');
                return;
            }
            if (f && f.name && f.operator) {
                out.push([f.name, f.operator].concat(Array.isArray(f.values) ? [f.values] : f.values === undefined ? [] : [f.values]));
            } else if (Array.isArray(f) && Array.isArray(f[0])) {
                out.push(...normFilters(f));
            } else if (Array.isArray(f)) {
                out.push(f.map((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v)));
            }
        });
        return out;
    }

    function columnName(c) {
        return typeof c === 'string' ? c : c && c.name;
    }

    class Result {
        constructor(row, columns) {
            this.id = row.id;
            this.recordType = row.recordType;
            this.columns = columns;
            this._row = row;
        }

        getValue(c) {
            const name = String(typeof c === 'string' ? c : (c && c.name)).toLowerCase();
            const v = this._row.values[name];
            return v === undefined || v === null ? '' : v;
        }

        getText(c) {
            const name = String(typeof c === 'string' ? c : (c && c.name)).toLowerCase();
            const t = this._row.texts[name];
            return t === undefined || t === null ? String(this.getValue(name)) : t;
        }
    }

    class Search {
        constructor(options) {
            this.searchType = String(required(options, 'type', 'search.create')).toLowerCase();
            this.filters = options.filters || [];
            this.columns = (options.columns || []).map((c) => (typeof c === 'string' ? { name: c } : c));
            this.title = options.title;
            this.id = options.id || null;
        }

        _rows() {
            return rpc('search.run', {
                type: this.searchType,
                filters: normFilters(this.filters),
                columns: this.columns.map(columnName),
            }).rows.map((r) => new Result(r, this.columns));
        }

        run() {
            const self = this;
            return {
                columns: self.columns,
                each(fn) {
                    gov.chargeApi(ctx, 'search.ResultSet.each');
                    const rows = self._rows();
                    for (let i = 0; i < rows.length && i < 4000; i++) {
                        if (fn(rows[i]) !== true) break;
                    }
                },
                getRange(o) {
                    gov.chargeApi(ctx, 'search.ResultSet.getRange');
                    const start = Number(required(o, 'start', 'ResultSet.getRange'));
                    const end = Number(required(o, 'end', 'ResultSet.getRange'));
                    if (end - start > 1000) throw make('SSS_INVALID_SEARCH_RANGE', 'getRange returns at most 1000 results');
                    return self._rows().slice(start, end);
                },
            };
        }

        runPaged(o) {
            gov.chargeApi(ctx, 'search.runPaged');
            const rows = this._rows();
            const pageSize = Math.min(1000, Math.max(5, Number((o && o.pageSize) || 50)));
            const pages = Math.ceil(rows.length / pageSize);
            const pageRanges = [];
            for (let i = 0; i < pages; i++) pageRanges.push({ index: i });
            return {
                count: rows.length,
                pageSize,
                pageRanges,
                fetch(p) {
                    gov.chargeApi(ctx, 'search.PagedData.fetch');
                    const index = typeof p === 'number' ? p : Number(p && p.index);
                    return { data: rows.slice(index * pageSize, (index + 1) * pageSize), isFirst: index === 0, isLast: index === pages - 1 };
                },
            };
        }
    }

    const Type = {};
    Object.keys(recordModule.Type).forEach((k) => { Type[k] = recordModule.Type[k]; });
    Type.TRANSACTION = 'transaction';
    Type.ITEM = 'item';

    return {
        Type,
        Operator,
        Summary: { GROUP: 'GROUP', COUNT: 'COUNT', SUM: 'SUM', AVG: 'AVG', MIN: 'MIN', MAX: 'MAX' },
        Sort: { ASC: 'ASC', DESC: 'DESC', NONE: 'NONE' },
        create(options) {
            return new Search(options);
        },
        createColumn(options) {
            return { name: required(options, 'name', 'search.createColumn'), join: options.join, summary: options.summary, label: options.label, sort: options.sort };
        },
        createFilter(options) {
            return { name: required(options, 'name', 'search.createFilter'), operator: required(options, 'operator', 'search.createFilter'), values: options.values };
        },
        lookupFields(options) {
            const type = String(required(options, 'type', 'search.lookupFields')).toLowerCase();
            const id = required(options, 'id', 'search.lookupFields');
            const columns = required(options, 'columns', 'search.lookupFields');
            gov.chargeApi(ctx, 'search.lookupFields');
            return rpc('search.lookupFields', { type, id: String(id), columns: Array.isArray(columns) ? columns : [columns] });
        },
        load() {
            throw make('SSS_UNSUPPORTED_API', 'search.load (saved searches) is not supported by the sandbox harness');
        },
    };
}

module.exports = { makeModule };
