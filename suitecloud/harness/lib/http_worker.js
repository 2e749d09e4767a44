'use strict';
/**
 * Worker thread doing the real HTTP(S) requests of N/https. The script thread blocks on an
 * Atomics.wait until this worker posts the response (SuiteScript's https calls are synchronous).
 */
const { parentPort, workerData } = require('worker_threads');
const http = require('http');
const https = require('https');

const flag = new Int32Array(workerData.flag);
const port = workerData.port;

function reply(result) {
    port.postMessage(result);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
}

parentPort.on('message', (req) => {
    const done = (result) => reply(Object.assign({ id: req.id }, result));
    let url;
    try {
        url = new URL(req.url);
    } catch (e) {
        done({ ok: false, name: 'SSS_INVALID_URL', message: 'The URL is not valid: ' + req.url });
        return;
    }
    const lib = url.protocol === 'https:' ? https : http;
    let finished = false;
    const finish = (result) => {
        if (finished) return;
        finished = true;
        clearTimeout(totalTimer);
        clearTimeout(connectTimer);
        done(result);
    };
    const started = Date.now();
    const request = lib.request(url, { method: req.method, headers: req.headers || {} }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => finish({
            ok: true,
            code: res.statusCode,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: Date.now() - started,
        }));
        res.on('error', (e) => finish({ ok: false, name: 'SSS_CONNECTION_CLOSED', message: String(e.message) }));
    });
    const connectTimer = setTimeout(() => {
        request.destroy();
        finish({ ok: false, name: 'SSS_CONNECTION_TIME_OUT', message: 'The host you are trying to connect to did not respond in time.' });
    }, req.connectTimeoutMs);
    const totalTimer = setTimeout(() => {
        request.destroy();
        finish({ ok: false, name: 'SSS_REQUEST_TIME_EXCEEDED', message: 'You have exceeded the maximum allowable total time for an HTTP(S) request.' });
    }, req.totalTimeoutMs);
    request.on('socket', (socket) => {
        if (!socket.connecting) clearTimeout(connectTimer);
        socket.on('connect', () => clearTimeout(connectTimer));
    });
    request.on('error', (e) => {
        const refused = e && (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH');
        finish({
            ok: false,
            name: refused ? 'SSS_CONNECTION_TIME_OUT' : 'SSS_CONNECTION_CLOSED',
            message: refused ? 'Could not connect to the host: ' + e.code : 'The connection was closed: ' + (e.code || e.message),
        });
    });
    if (req.body !== null && req.body !== undefined) request.write(req.body);
    request.end();
});
