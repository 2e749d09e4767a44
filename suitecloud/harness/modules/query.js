'use strict';
/** N/query: runSuiteQL and runSuiteQLPaged against the sandbox's SuiteQL tables. */
const { make } = require('../lib/errors');
const gov = require('../lib/governance');

function makeModule(ctx, rpc) {
    class Result {
        constructor(columns, values) {
            this.values = values;
            this._columns = columns;
        }

        asMap() {
            const out = {};
            this._columns.forEach((c, i) => { out[c] = this.values[i]; });
            return out;
        }
    }

    class ResultSet {
        constructor(columns, rows) {
            this.columns = columns.map((c) => ({ fieldId: c, label: c, type: 'STRING' }));
            this.types = columns.map(() => 'STRING');
            this.results = rows.map((r) => new Result(columns, r));
            this._columns = columns;
        }

        asMappedResults() {
            return this.results.map((r) => r.asMap());
        }

        iterator() {
            const results = this.results;
            return {
                each(fn) {
                    for (let i = 0; i < results.length; i++) {
                        if (fn({ value: results[i] }) === false) break;
                    }
                },
            };
        }
    }

    function args(options, params) {
        if (typeof options === 'string') return { query: options, params: params || [] };
        if (!options || !options.query) throw make('SSS_MISSING_REQD_ARGUMENT', 'query.runSuiteQL: Missing a required argument: query');
        return { query: String(options.query), params: options.params || [] };
    }

    function run(q) {
        const out = rpc('query.run', { query: q.query, params: q.params.map((p) => (p instanceof Date ? p.toISOString().slice(0, 10) : p)) });
        return out;
    }

    return {
        Type: {},
        runSuiteQL(options, params) {
            gov.chargeApi(ctx, 'query.runSuiteQL');
            const out = run(args(options, params));
            return new ResultSet(out.columns, out.rows);
        },
        runSuiteQLPaged(options) {
            gov.chargeApi(ctx, 'query.runSuiteQLPaged');
            const q = args(options);
            const pageSize = Math.min(1000, Math.max(5, Number((options && options.pageSize) || 50)));
            const out = run(q);
            const rows = out.rows;
            const count = rows.length;
            const pages = Math.ceil(count / pageSize);
            const pageRanges = [];
            for (let i = 0; i < pages; i++) pageRanges.push({ index: i, size: Math.min(pageSize, count - i * pageSize) });
            const paged = {
                count,
                pageSize,
                pageRanges,
                fetch(opt) {
                    const index = typeof opt === 'number' ? opt : Number(opt && opt.index);
                    if (!(index >= 0 && index < pages)) throw make('INVALID_PAGE_RANGE', 'Invalid page range: ' + index);
                    gov.chargeApi(ctx, 'query.PagedData.fetch');
                    const slice = rows.slice(index * pageSize, (index + 1) * pageSize);
                    return {
                        data: new ResultSet(out.columns, slice),
                        isFirst: index === 0,
                        isLast: index === pages - 1,
                        pageRange: pageRanges[index],
                    };
                },
                iterator() {
                    return {
                        each(fn) {
                            for (let i = 0; i < pages; i++) {
                                if (fn({ value: paged.fetch({ index: i }) }) === false) break;
                            }
                        },
                    };
                },
            };
            return paged;
        },
        create() {
            throw make('SSS_UNSUPPORTED_API', 'query.create (the query builder) is not supported by the sandbox harness; use runSuiteQL');
        },
    };
}

module.exports = { makeModule };
