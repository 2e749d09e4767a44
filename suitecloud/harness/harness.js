#!/usr/bin/env node
'use strict';
/**
 * SuiteScript 2.1 harness: runs the SuiteCloud project's RESTlets, user events and Map/Reduce
 * scripts for the NetSuite sandbox. Started by the sandbox (bridge/sandbox/netsuite/harness.py)
 * as `node suitecloud/harness/harness.js`; it speaks JSON lines on stdin/stdout (see lib/io.js)
 * and calls back into the sandbox for everything that touches the account.
 *
 * Node ≥ 20, built-ins only.
 */
const io = require('./lib/io');
const { Loader } = require('./lib/loader');
const { SuiteScriptError, make } = require('./lib/errors');
const record = require('./modules/record');
const query = require('./modules/query');
const search = require('./modules/search');
const https = require('./modules/https');
const small = require('./modules/small');
const { runMapReduce } = require('./lib/mapreduce');

// The sandbox's clock (it can be advanced for scenarios): Date.now() and `new Date()` follow it.
const RealDate = Date;
let clockOffsetMs = 0;
class SandboxDate extends RealDate {
    constructor(...args) {
        if (args.length === 0) super(RealDate.now() + clockOffsetMs);
        else super(...args);
    }

    static now() {
        return RealDate.now() + clockOffsetMs;
    }
}
global.Date = SandboxDate;

// stdout is the protocol channel: whatever scripts print goes to stderr
['log', 'info', 'warn', 'error', 'debug'].forEach((k) => {
    console[k] = (...args) => process.stderr.write(args.map(String).join(' ') + '\n');
});

const USER_EVENT_TYPES = {
    APPROVE: 'approve', CANCEL: 'cancel', CHANGEPASSWORD: 'changepassword', COPY: 'copy', CREATE: 'create',
    DELETE: 'delete', DROPSHIP: 'dropship', EDIT: 'edit', EDITFORECAST: 'editforecast', EMAIL: 'email',
    MARKCOMPLETE: 'markcomplete', ORDERITEMS: 'orderitems', PACK: 'pack', PAYBILLS: 'paybills', PRINT: 'print',
    QUICKVIEW: 'quickview', REASSIGN: 'reassign', REJECT: 'reject', SHIP: 'ship', SPECIALORDER: 'specialorder',
    TRANSFORM: 'transform', VIEW: 'view', XEDIT: 'xedit',
};

function errorPayload(e, ctx) {
    if (ctx && ctx.terminated) {
        return { name: 'SSS_USAGE_LIMIT_EXCEEDED', message: 'Script Execution Usage Limit Exceeded' };
    }
    if (e instanceof SuiteScriptError || (e && e.type === 'error.SuiteScriptError')) {
        return { name: e.name, message: e.message };
    }
    if (e && typeof e === 'object' && e.name && e.message !== undefined && !(e instanceof Error)) {
        return { name: String(e.name), message: String(e.message) };
    }
    const name = e && e.name && e.name !== 'Error' && !(e instanceof TypeError) && !(e instanceof ReferenceError)
        && !(e instanceof SyntaxError) && !(e instanceof RangeError) ? e.name : 'JS_EXCEPTION';
    const message = e instanceof Error ? (name === 'JS_EXCEPTION' ? e.name + ': ' + e.message : e.message) : String(e);
    return { name, message };
}

function newContext(msg) {
    const s = msg.script || {};
    const c = msg.context || {};
    return {
        scriptId: s.id,
        deploymentId: s.deploymentId,
        scriptType: s.type,
        params: Object.fromEntries(Object.entries(s.params || {}).map(([k, v]) => [k.toLowerCase(), v])),
        paramTypes: Object.fromEntries(Object.entries(s.paramTypes || {}).map(([k, v]) => [k.toLowerCase(), v])),
        logLevel: s.logLevel || 'DEBUG',
        executionContext: c.executionContext,
        account: c.account,
        envType: c.envType,
        version: c.version,
        user: c.user,
        timeouts: c.timeouts,
        httpsAllowHttp: c.httpsAllowHttp,
        limit: c.usageLimit || 1000,
        usage: 0,
        totalUsage: 0,
        terminated: false,
    };
}

function buildModules(ctx) {
    const rpc = (op, args) => {
        if (ctx.terminated) throw make('SSS_USAGE_LIMIT_EXCEEDED', 'Script Execution Usage Limit Exceeded');
        return io.call(op, args, make);
    };
    const secrets = (id) => rpc('secret.get', { id }).value;
    const N = {
        'N/record': record.makeModule(ctx, rpc),
        'N/query': query.makeModule(ctx, rpc),
        'N/search': search.makeModule(ctx, rpc),
        'N/https': https.makeModule(ctx, rpc, secrets),
        'N/crypto': small.cryptoModule(ctx, secrets),
        'N/encode': small.encodeModule(),
        'N/runtime': small.runtimeModule(ctx),
        'N/log': small.logModule(ctx, io.send),
        'N/error': small.errorModule(),
        'N/format': small.formatModule(),
        'N/task': small.taskModule(ctx, rpc),
        'N/url': small.urlModule(ctx),
    };
    N['N/http'] = N['N/https'];
    return N;
}

function runRestlet(ctx, N, entry, args) {
    const fn = entry[args.method];
    if (typeof fn !== 'function') {
        throw Object.assign(make('SSS_INVALID_HTTP_METHOD', 'The RESTlet has no ' + args.method.toUpperCase() + ' entry point.'), { status: 405 });
    }
    let input;
    if (args.method === 'get' || args.method === 'delete') {
        input = args.params || {};
    } else {
        input = args.body === undefined || args.body === null ? '' : args.body;
        if (/json/i.test(args.contentType || '') && typeof input === 'string' && input.trim()) {
            try {
                input = JSON.parse(input);
            } catch (e) {
                throw make('SSS_INVALID_JSON', 'Invalid JSON in the request body: ' + e.message);
            }
        }
    }
    const out = fn(input);
    if (out === undefined || out === null) return { body: '' };
    return { body: typeof out === 'string' ? out : JSON.stringify(out) };
}

function runUserEvent(ctx, N, entry, args) {
    const fn = entry[args.entryName];
    if (typeof fn !== 'function') return { changes: null };
    const Rec = N['N/record'].Record;
    const isAfter = args.entryName === 'afterSubmit';
    const newRecord = args.newRecord ? new Rec(args.newRecord, { readOnly: isAfter }) : null;
    const oldRecord = args.oldRecord ? new Rec(args.oldRecord, { readOnly: true, emptyNull: true }) : null;
    const context = { type: args.type, newRecord, oldRecord, UserEventType: USER_EVENT_TYPES };
    if (args.entryName === 'beforeLoad') context.form = {};
    fn(context);
    return { changes: args.entryName === 'beforeSubmit' && newRecord ? newRecord._changes() : null };
}

function execute(msg) {
    clockOffsetMs = Number((msg.context || {}).clockOffsetMs || 0);
    const ctx = newContext(msg);
    let result;
    try {
        const N = buildModules(ctx);
        const loader = new Loader(msg.root, N);
        ctx.loader = loader;
        if (msg.kind === 'mapreduce') {
            result = runMapReduce(ctx, N, () => new Loader(msg.root, N).load(msg.file));
        } else {
            const entry = loader.load(msg.file);
            if (msg.kind === 'restlet') {
                result = runRestlet(ctx, N, entry, Object.assign({ method: msg.entry }, msg.args));
            } else if (msg.kind === 'userevent') {
                result = runUserEvent(ctx, N, entry, Object.assign({ entryName: msg.entry }, msg.args));
            } else {
                throw make('SSS_UNSUPPORTED_API', 'Unknown execution kind ' + msg.kind);
            }
        }
        if (ctx.terminated) throw make('SSS_USAGE_LIMIT_EXCEEDED', 'Script Execution Usage Limit Exceeded');
        io.send({ t: 'result', id: msg.id, ok: true, value: result, usage: ctx.totalUsage });
    } catch (e) {
        const err = errorPayload(e, ctx);
        if (e && e.status) err.status = e.status;
        io.send({ t: 'result', id: msg.id, ok: false, error: err, usage: ctx.totalUsage });
    }
}

io.onExec(execute);
io.send({ t: 'ready', node: process.version });
for (;;) {
    const msg = io.readMessage();
    if (msg.t === 'exec') execute(msg);
}
