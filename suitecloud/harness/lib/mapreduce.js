'use strict';
/**
 * Map/Reduce driver: getInputData → map (per key/value) → shuffle → reduce (per key) → summarize,
 * each invocation with its own governance budget (getInputData 10,000, map 1,000, reduce 5,000,
 * summarize 10,000). A failing map/reduce invocation is recorded in the stage summary's errors and
 * the run goes on, as in NetSuite.
 */
const { make } = require('./errors');

const LIMITS = { getInputData: 10000, map: 1000, reduce: 5000, summarize: 10000 };

function str(v) {
    return typeof v === 'string' ? v : JSON.stringify(v);
}

/** SuiteScript's Iterator: `x.iterator().each(fn)`; `fn` returns true to go on. */
function iterator(list) {
    return {
        iterator() {
            return {
                each(fn) {
                    for (let i = 0; i < list.length; i++) {
                        if (fn(...list[i]) !== true) break;
                    }
                },
            };
        },
    };
}

function stage(ctx, name, fn) {
    ctx.usage = 0;
    ctx.limit = LIMITS[name];
    ctx.terminated = false;
    const started = Date.now();
    try {
        fn();
        if (ctx.terminated) throw make('SSS_USAGE_LIMIT_EXCEEDED', 'Script Execution Usage Limit Exceeded');
        return { error: null, usage: ctx.usage, ms: Date.now() - started };
    } catch (e) {
        const err = ctx.terminated ? make('SSS_USAGE_LIMIT_EXCEEDED', 'Script Execution Usage Limit Exceeded') : e;
        return { error: err, usage: ctx.usage, ms: Date.now() - started };
    }
}

function errJson(e) {
    if (e && typeof e.toJSON === 'function') return JSON.stringify(e.toJSON());
    return JSON.stringify({ type: 'error.SuiteScriptError', name: (e && e.name) || 'JS_EXCEPTION', message: String(e && e.message ? e.message : e) });
}

function normalizeInput(N, input) {
    if (input === null || input === undefined) return [];
    if (Array.isArray(input)) return input.map((v, i) => [String(i), str(v)]);
    if (typeof input === 'object' && input.type === 'suiteql' && input.query) {
        const rs = N['N/query'].runSuiteQL({ query: input.query, params: input.params || [] });
        return rs.results.map((r, i) => [String(i), JSON.stringify({ types: rs.types, values: r.values })]);
    }
    if (typeof input === 'object' && typeof input._rows === 'function') {
        return input._rows().map((r) => [String(r.id), JSON.stringify({ recordType: r.recordType, id: r.id, values: r._row.values })]);
    }
    if (typeof input === 'object') return Object.keys(input).map((k) => [k, str(input[k])]);
    throw make('SSS_INVALID_INPUT', 'getInputData must return an array, an object, a search or a SuiteQL object');
}

function runMapReduce(ctx, N, loadEntry) {
    const totals = { usage: 0 };
    let entry;
    let input = [];
    const inputStage = stage(ctx, 'getInputData', () => {
        entry = loadEntry();
        if (typeof entry.getInputData !== 'function') throw make('SSS_MISSING_ENTRY_POINT', 'getInputData is required');
        input = normalizeInput(N, entry.getInputData({ isRestarted: false, ObjectRef: null }));
    });
    totals.usage += inputStage.usage;

    const mapErrors = [];
    const mapKeys = [];
    let shuffled = new Map();
    const output = [];
    const emit = (target) => (a, b) => {
        const key = a && typeof a === 'object' && 'key' in a ? a.key : a;
        const value = a && typeof a === 'object' && 'key' in a ? a.value : b;
        target.push([String(key), str(value)]);
    };
    let mapUsage = 0;
    if (!inputStage.error) {
        input.forEach(([key, value]) => {
            if (typeof entry.map !== 'function') {
                if (!shuffled.has(key)) shuffled.set(key, []);
                shuffled.get(key).push(value);
                return;
            }
            const written = [];
            const s = stage(ctx, 'map', () => {
                entry.map({ key, value, write: emit(written), isRestarted: false, executionNo: 1, errors: iterator([]) });
            });
            mapUsage += s.usage;
            mapKeys.push(key);
            if (s.error) {
                mapErrors.push([key, errJson(s.error), 1]);
                return;
            }
            written.forEach(([k, v]) => {
                if (!shuffled.has(k)) shuffled.set(k, []);
                shuffled.get(k).push(v);
            });
        });
    }
    totals.usage += mapUsage;

    const reduceErrors = [];
    const reduceKeys = [];
    let reduceUsage = 0;
    if (typeof entry === 'object' && typeof entry.reduce === 'function') {
        shuffled.forEach((values, key) => {
            const written = [];
            const s = stage(ctx, 'reduce', () => {
                entry.reduce({ key, values, write: emit(written), isRestarted: false, executionNo: 1, errors: iterator([]) });
            });
            reduceUsage += s.usage;
            reduceKeys.push(key);
            if (s.error) reduceErrors.push([key, errJson(s.error), 1]);
            else output.push(...written);
        });
    } else {
        shuffled.forEach((values, key) => values.forEach((v) => output.push([key, v])));
    }
    shuffled = null;
    totals.usage += reduceUsage;

    const now = new Date();
    const summary = {
        isRestarted: false,
        dateCreated: now,
        seconds: 0,
        usage: totals.usage,
        concurrency: 1,
        yields: 0,
        inputSummary: { error: inputStage.error ? errJson(inputStage.error) : null, dateCreated: now, seconds: 0, usage: inputStage.usage },
        mapSummary: {
            keys: iterator(mapKeys.map((k) => [k])), errors: iterator(mapErrors), concurrency: 1, dateCreated: now,
            seconds: 0, usage: mapUsage, yields: 0,
        },
        reduceSummary: {
            keys: iterator(reduceKeys.map((k) => [k])), errors: iterator(reduceErrors), concurrency: 1, dateCreated: now,
            seconds: 0, usage: reduceUsage, yields: 0,
        },
        output: iterator(output),
    };
    let summarizeError = null;
    if (entry && typeof entry.summarize === 'function') {
        const s = stage(ctx, 'summarize', () => entry.summarize(summary));
        totals.usage += s.usage;
        summarizeError = s.error ? errJson(s.error) : null;
    }
    return {
        inputError: summary.inputSummary.error,
        inputCount: input.length,
        mapErrors: mapErrors.map(([k, e]) => ({ key: k, error: e })),
        reduceErrors: reduceErrors.map(([k, e]) => ({ key: k, error: e })),
        outputCount: output.length,
        summarizeError,
        usage: totals.usage,
    };
}

module.exports = { runMapReduce };
