/*
 * A minimal XML reader for SDF object files (elements, attributes, text, comments, CDATA,
 * the five predefined entities and numeric references). Node built-ins only.
 */
'use strict';

const ENTITIES = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(text) {
    return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e) => {
        if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
        if (ENTITIES[e] === undefined) throw new Error('unknown entity &' + e + ';');
        return ENTITIES[e];
    });
}

function lineOf(src, pos) {
    return src.slice(0, pos).split('\n').length;
}

/** @returns {{name, attrs, children, text, line}} the root element */
function parse(src) {
    let pos = 0;
    const fail = (msg) => { throw new Error(msg + ' at line ' + lineOf(src, pos)); };

    function skipMisc() {
        for (;;) {
            const ws = /^\s+/.exec(src.slice(pos));
            if (ws) pos += ws[0].length;
            if (src.startsWith('<?', pos)) {
                const end = src.indexOf('?>', pos);
                if (end < 0) fail('unterminated processing instruction');
                pos = end + 2;
            } else if (src.startsWith('<!--', pos)) {
                const end = src.indexOf('-->', pos);
                if (end < 0) fail('unterminated comment');
                pos = end + 3;
            } else {
                return;
            }
        }
    }

    function element() {
        const open = /^<([A-Za-z_][\w.:-]*)/.exec(src.slice(pos));
        if (!open) fail('expected an element');
        const el = { name: open[1], attrs: {}, children: [], text: '', line: lineOf(src, pos) };
        pos += open[0].length;
        for (;;) {
            const attr = /^\s+([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(src.slice(pos));
            if (!attr) break;
            if (el.attrs[attr[1]] !== undefined) fail('duplicate attribute ' + attr[1]);
            el.attrs[attr[1]] = decode(attr[3] !== undefined ? attr[3] : attr[4]);
            pos += attr[0].length;
        }
        const close = /^\s*(\/?)>/.exec(src.slice(pos));
        if (!close) fail('malformed tag <' + el.name + '>');
        pos += close[0].length;
        if (close[1]) return el;
        for (;;) {
            if (src.startsWith('</', pos)) {
                const end = /^<\/([A-Za-z_][\w.:-]*)\s*>/.exec(src.slice(pos));
                if (!end || end[1] !== el.name) fail('expected </' + el.name + '>');
                pos += end[0].length;
                el.text = el.text.trim();
                return el;
            }
            if (src.startsWith('<!--', pos)) {
                const end = src.indexOf('-->', pos);
                if (end < 0) fail('unterminated comment');
                pos = end + 3;
            } else if (src.startsWith('<![CDATA[', pos)) {
                const end = src.indexOf(']]>', pos);
                if (end < 0) fail('unterminated CDATA');
                el.text += src.slice(pos + 9, end);
                pos = end + 3;
            } else if (src[pos] === '<') {
                el.children.push(element());
            } else {
                const next = src.indexOf('<', pos);
                if (next < 0) fail('unexpected end of document inside <' + el.name + '>');
                const raw = src.slice(pos, next);
                el.text += decode(raw);
                pos = next;
            }
        }
    }

    skipMisc();
    const root = element();
    skipMisc();
    if (pos < src.length) fail('content after the root element');
    return root;
}

function child(el, name) {
    return el.children.filter((c) => c.name === name)[0] || null;
}

function children(el, name) {
    return el.children.filter((c) => c.name === name);
}

function textOf(el, name) {
    const c = child(el, name);
    return c ? c.text : null;
}

module.exports = { parse, child, children, textOf };
