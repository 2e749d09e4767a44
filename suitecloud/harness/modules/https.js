'use strict';
/**
 * N/https with real HTTP requests (a worker thread does the I/O while the script thread blocks):
 * get/post/put/delete/request, createSecureString, 10 usage units per call, NetSuite's connect
 * (5 s) and total (45 s) timeouts. `{custsecret_…}` placeholders listed in `credentials` and
 * SecureString values are resolved from the sandbox's API secrets when the request is sent.
 */
const path = require('path');
const { Worker, MessageChannel, receiveMessageOnPort } = require('worker_threads');
const { make, required } = require('../lib/errors');
const gov = require('../lib/governance');

const Method = { GET: 'GET', POST: 'POST', PUT: 'PUT', DELETE: 'DELETE', HEAD: 'HEAD' };
const BLOCKED_HEADERS = new Set(['connection', 'content-length', 'host', 'jsessionid', 'trailer', 'transfer-encoding', 'upgrade', 'via']);

let worker = null;
let flag = null;
let port = null;

function ensureWorker() {
    if (worker) return;
    const sab = new SharedArrayBuffer(4);
    flag = new Int32Array(sab);
    const channel = new MessageChannel();
    port = channel.port1;
    worker = new Worker(path.join(__dirname, '..', 'lib', 'http_worker.js'), {
        workerData: { flag: sab, port: channel.port2 },
        transferList: [channel.port2],
    });
    worker.unref();
}

let nextRequestId = 1;

function syncRequest(req) {
    ensureWorker();
    const id = nextRequestId++;
    worker.postMessage(Object.assign({ id }, req));
    const limit = req.totalTimeoutMs + 5000;
    const started = Date.now();
    for (;;) {
        Atomics.store(flag, 0, 0);
        for (let msg = receiveMessageOnPort(port); msg; msg = receiveMessageOnPort(port)) {
            if (msg.message && msg.message.id === id) return msg.message;
        }
        if (Date.now() - started > limit) {
            return { ok: false, name: 'SSS_REQUEST_TIME_EXCEEDED', message: 'You have exceeded the maximum allowable total time for an HTTP(S) request.' };
        }
        Atomics.wait(flag, 0, 0, 250);
    }
}

function makeModule(ctx, rpc, secrets) {
    class SecureString {
        constructor(input) {
            this._input = String(input);
            this._parts = [];
        }

        appendString(o) {
            this._input += String(required(o, 'input', 'SecureString.appendString'));
            return this;
        }

        appendSecureString(o) {
            const other = required(o, 'secureString', 'SecureString.appendSecureString');
            this._input += other._input;
            return this;
        }

        /** The value with every {custsecret_…} placeholder resolved. */
        _reveal() {
            return this._input.replace(/\{(custsecret_[a-z0-9_]+)\}/gi, (_, id) => secrets(id.toLowerCase()));
        }

        toString() {
            return '[SecureString]';
        }
    }

    function resolve(value, credentials) {
        if (value instanceof SecureString) return value._reveal();
        if (typeof value !== 'string') return value;
        if (!credentials || !credentials.length) return value;
        return value.replace(/\{(custsecret_[a-z0-9_]+)\}/gi, (m, id) => (credentials.indexOf(id.toLowerCase()) >= 0 ? secrets(id.toLowerCase()) : m));
    }

    function encodeBody(body) {
        if (body === null || body === undefined) return null;
        if (typeof body === 'object' && !(body instanceof SecureString)) {
            return Object.keys(body).map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(String(body[k]))).join('&');
        }
        return body;
    }

    function request(options) {
        const method = String(required(options, 'method', 'https.request')).toUpperCase();
        const rawUrl = resolve(required(options, 'url', 'https.request'), options.credentials);
        gov.chargeApi(ctx, 'https.request');
        const url = String(rawUrl);
        if (!/^https?:\/\//i.test(url)) throw make('SSS_INVALID_URL', 'The URL must be a fully qualified HTTPS URL.');
        const headers = {};
        const given = options.headers || {};
        Object.keys(given).forEach((k) => {
            if (BLOCKED_HEADERS.has(k.toLowerCase())) return;
            headers[k] = String(resolve(given[k], options.credentials));
        });
        let body = encodeBody(options.body);
        if (body !== null) {
            body = String(resolve(body, options.credentials));
            const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
            if (!hasType) {
                headers['Content-Type'] = typeof options.body === 'object' ? 'application/x-www-form-urlencoded' : 'text/plain; charset=UTF-8';
            }
        }
        if (ctx.httpsAllowHttp === false && !/^https:\/\//i.test(url)) {
            // NetSuite's N/https requests HTTPS URLs only (the sandbox's https_allow_http knob relaxes it)
            throw make('SSS_INVALID_URL', 'The URL must be a fully qualified HTTPS URL: ' + url.split('?')[0]);
        }
        const t = ctx.timeouts || {};
        const res = syncRequest({
            method,
            url,
            headers,
            body,
            connectTimeoutMs: Math.round((t.connect || 5) * 1000),
            totalTimeoutMs: Math.round((t.total || 45) * 1000),
        });
        const safeUrl = url.split('?')[0];
        rpc('https.log', {
            method, url: safeUrl, status: res.ok ? res.code : null, ms: res.ms || null,
            error: res.ok ? null : res.name, script: ctx.scriptId,
        });
        if (!res.ok) throw make(res.name, res.message);
        return { code: res.code, body: res.body, headers: res.headers };
    }

    return {
        Method,
        CacheDuration: { UNIQUE: 'UNIQUE', SHORT: 'SHORT', MEDIUM: 'MEDIUM', LONG: 'LONG' },
        request,
        get(options) {
            return request(Object.assign({}, options, { method: 'GET', body: null }));
        },
        post(options) {
            return request(Object.assign({}, options, { method: 'POST' }));
        },
        put(options) {
            return request(Object.assign({}, options, { method: 'PUT' }));
        },
        delete(options) {
            return request(Object.assign({}, options, { method: 'DELETE', body: null }));
        },
        createSecureString(options) {
            return new SecureString(required(options, 'input', 'https.createSecureString'));
        },
        SecureString,
    };
}

module.exports = { makeModule };
