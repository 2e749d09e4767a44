'use strict';
/**
 * Synchronous JSON-lines channel to the sandbox over stdin/stdout.
 *
 * SuiteScript APIs are synchronous, so the harness never yields to the event loop while a script
 * runs: it writes a request line and blocks reading stdin until the matching reply arrives. A reply
 * may be preceded by a nested `exec` (a user event fired by a save the script made); it runs
 * re-entrantly through the handler registered with `onExec`.
 */
const fs = require('fs');

const pause = new Int32Array(new SharedArrayBuffer(4));
let inBuf = Buffer.alloc(0);
let nextCallId = 1;
let execHandler = null;

function sleep(ms) {
    Atomics.wait(pause, 0, 0, ms);
}

function writeAll(fd, text) {
    let buf = Buffer.from(text, 'utf8');
    while (buf.length) {
        let n;
        try {
            n = fs.writeSync(fd, buf, 0, buf.length);
        } catch (e) {
            if (e.code === 'EAGAIN') { sleep(2); continue; }
            throw e;
        }
        buf = buf.subarray(n);
    }
}

function send(msg) {
    writeAll(1, JSON.stringify(msg) + '\n');
}

/** The next line from the sandbox, or null at end of input. */
function readLine() {
    const chunk = Buffer.alloc(1 << 16);
    for (;;) {
        const idx = inBuf.indexOf(10);
        if (idx >= 0) {
            const line = inBuf.subarray(0, idx).toString('utf8');
            inBuf = inBuf.subarray(idx + 1);
            return line;
        }
        let n;
        try {
            n = fs.readSync(0, chunk, 0, chunk.length, null);
        } catch (e) {
            if (e.code === 'EAGAIN') { sleep(2); continue; }
            if (e.code === 'EOF') return null;
            throw e;
        }
        if (n === 0) return null;
        inBuf = Buffer.concat([inBuf, chunk.subarray(0, n)]);
    }
}

function readMessage() {
    const line = readLine();
    if (line === null) process.exit(0);
    return JSON.parse(line);
}

function onExec(handler) {
    execHandler = handler;
}

/**
 * Ask the sandbox to perform a SuiteScript operation; returns its value or throws the error it
 * reported ({name, message}) through `makeError`.
 */
function call(op, args, makeError) {
    const id = 'c' + (nextCallId++);
    send({ t: 'call', id, op, args: args || {} });
    for (;;) {
        const msg = readMessage();
        if (msg.t === 'exec') {
            execHandler(msg);
            continue;
        }
        if (msg.t === 'reply' && msg.id === id) {
            if (msg.ok) return msg.value;
            const err = msg.error || {};
            throw makeError(err.name || 'UNEXPECTED_ERROR', err.message || '');
        }
    }
}

module.exports = { send, readMessage, call, onExec, sleep };
