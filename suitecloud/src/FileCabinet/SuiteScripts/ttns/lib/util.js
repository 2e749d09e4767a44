/**
 * Small pure helpers (no N/ modules): hashing, string coercion, time formatting.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define([], () => {
    /** '' for null/undefined, otherwise String(value); arrays are comma-joined. */
    function str(value) {
        if (value === null || value === undefined) return '';
        if (Array.isArray(value)) return value.map(str).join(',');
        return String(value);
    }

    /** A stable 56-bit content hash as 14 lower-hex chars (two independent 32-bit lanes). */
    function hash(text) {
        const s = str(text);
        let h1 = 0xdeadbeef ^ s.length;
        let h2 = 0x41c6ce57 ^ s.length;
        for (let i = 0; i < s.length; i++) {
            const c = s.charCodeAt(i);
            h1 = Math.imul(h1 ^ c, 2654435761);
            h2 = Math.imul(h2 ^ c, 1597334677);
        }
        h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
        h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
        const hi = (h2 >>> 0) & 0x00ffffff;
        return ('000000' + hi.toString(16)).slice(-6) + ('00000000' + (h1 >>> 0).toString(16)).slice(-8);
    }

    /** JSON with object keys sorted, so equal content always serialises (and hashes) the same. */
    function canonicalJson(value) {
        if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
        if (value && typeof value === 'object' && !(value instanceof Date)) {
            return '{' + Object.keys(value).sort()
                .map((k) => JSON.stringify(k) + ':' + canonicalJson(value[k])).join(',') + '}';
        }
        return JSON.stringify(value === undefined ? null : value);
    }

    /** ISO-8601 UTC without milliseconds, e.g. 2025-01-31T12:00:00Z. */
    function isoUtc(date) {
        return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }

    /** YYYY-MM-DD of a Date in the script's local calendar (how NetSuite hands out date fields). */
    function ymd(date) {
        if (!(date instanceof Date) || isNaN(date.getTime())) return '';
        const pad = (n) => (n < 10 ? '0' : '') + n;
        return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate());
    }

    /** Execution context names compared without case or underscores (USER_INTERFACE == USERINTERFACE). */
    function normContext(name) {
        return str(name).replace(/[^A-Za-z]/g, '').toUpperCase();
    }

    function truncate(text, max) {
        const s = str(text);
        return s.length > max ? s.slice(0, max - 1) + '…' : s;
    }

    /** name: message of an error, never its stack or request details. */
    function errorText(e) {
        if (!e) return 'unknown error';
        const name = e.name || e.type || 'Error';
        const message = e.message !== undefined ? e.message : str(e);
        return truncate(name + ': ' + message, 1000);
    }

    function toNumber(value) {
        if (value === null || value === undefined || value === '') return null;
        const n = Number(value);
        return isFinite(n) ? n : null;
    }

    /** NetSuite checkbox values come back as true/false or 'T'/'F'. */
    function truthy(value) {
        return value === true || value === 'T' || value === 'true';
    }

    function chunk(items, size) {
        const out = [];
        for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
        return out;
    }

    return { str, hash, canonicalJson, isoUtc, ymd, normContext, truncate, errorText, toNumber, truthy, chunk };
});
