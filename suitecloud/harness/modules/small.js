'use strict';
/**
 * The smaller N/ modules: N/encode, N/crypto (real HMAC/hash; API secrets from the sandbox),
 * N/runtime, N/log, N/error, N/format, N/task, N/url.
 */
const nodeCrypto = require('crypto');
const { SuiteScriptError, UserEventError, make, required } = require('../lib/errors');
const gov = require('../lib/governance');

const Encoding = {
    UTF_8: 'UTF_8', BASE_16: 'BASE_16', BASE_32: 'BASE_32', BASE_64: 'BASE_64',
    BASE_64_URL_SAFE: 'BASE_64_URL_SAFE', HEX: 'HEX', ISO_8859_1: 'ISO_8859_1', ASCII: 'ASCII',
    WINDOWS_1252: 'WINDOWS_1252',
};

function toBuffer(value, encoding) {
    const s = String(value === undefined || value === null ? '' : value);
    switch (encoding || Encoding.UTF_8) {
    case Encoding.HEX:
    case Encoding.BASE_16:
        return Buffer.from(s, 'hex');
    case Encoding.BASE_64:
        return Buffer.from(s, 'base64');
    case Encoding.BASE_64_URL_SAFE:
        return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    case Encoding.ISO_8859_1:
    case Encoding.WINDOWS_1252:
        return Buffer.from(s, 'latin1');
    case Encoding.ASCII:
        return Buffer.from(s, 'ascii');
    default:
        return Buffer.from(s, 'utf8');
    }
}

function fromBuffer(buf, encoding) {
    switch (encoding || Encoding.UTF_8) {
    case Encoding.HEX:
        return buf.toString('hex');
    case Encoding.BASE_16:
        return buf.toString('hex').toUpperCase();
    case Encoding.BASE_64:
        return buf.toString('base64');
    case Encoding.BASE_64_URL_SAFE:
        return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    case Encoding.ISO_8859_1:
    case Encoding.WINDOWS_1252:
        return buf.toString('latin1');
    case Encoding.ASCII:
        return buf.toString('ascii');
    default:
        return buf.toString('utf8');
    }
}

function encodeModule() {
    return {
        Encoding,
        convert(options) {
            const s = required(options, 'string', 'encode.convert');
            return fromBuffer(toBuffer(s, options.inputEncoding), options.outputEncoding);
        },
    };
}

const HashAlg = { SHA1: 'SHA1', SHA256: 'SHA256', SHA512: 'SHA512', MD5: 'MD5' };
const NODE_ALG = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512', MD5: 'md5' };

function cryptoModule(ctx, secrets) {
    class SecretKey {
        constructor(guid, encoding) {
            this.guid = guid;
            this.encoding = encoding || Encoding.UTF_8;
        }

        _bytes() {
            return toBuffer(secrets(String(this.guid).toLowerCase()), this.encoding);
        }
    }

    function digester(hasher) {
        return {
            update(o) {
                hasher.update(toBuffer(required(o, 'input', 'update'), o.inputEncoding));
            },
            digest(o) {
                return fromBuffer(hasher.digest(), (o && o.outputEncoding) || Encoding.HEX);
            },
        };
    }

    function alg(options, api) {
        const a = NODE_ALG[String(required(options, 'algorithm', api)).toUpperCase()];
        if (!a) throw make('SSS_INVALID_ALGORITHM', api + ': unsupported algorithm ' + options.algorithm);
        return a;
    }

    return {
        HashAlg,
        EncryptionAlg: { AES: 'AES' },
        Padding: { NoPadding: 'NoPadding', PKCS5Padding: 'PKCS5Padding' },
        Encoding,
        createSecretKey(options) {
            const guid = options && (options.secret || options.guid);
            if (!guid) throw make('SSS_MISSING_REQD_ARGUMENT', 'crypto.createSecretKey: Missing a required argument: secret');
            return new SecretKey(guid, options.encoding);
        },
        createHmac(options) {
            const a = alg(options, 'crypto.createHmac');
            const key = required(options, 'key', 'crypto.createHmac');
            if (!(key instanceof SecretKey)) throw make('SSS_INVALID_TYPE_ARG', 'crypto.createHmac: key must be a SecretKey');
            return digester(nodeCrypto.createHmac(a, key._bytes()));
        },
        createHash(options) {
            return digester(nodeCrypto.createHash(alg(options, 'crypto.createHash')));
        },
        createCipher() {
            throw make('SSS_UNSUPPORTED_API', 'crypto.createCipher is not supported by the sandbox harness');
        },
        createDecipher() {
            throw make('SSS_UNSUPPORTED_API', 'crypto.createDecipher is not supported by the sandbox harness');
        },
    };
}

const ContextType = {
    ACTION: 'ACTION', BUNDLE_INSTALLATION: 'BUNDLEINSTALLATION', CLIENT: 'CLIENT', CSV_IMPORT: 'CSVIMPORT',
    CUSTOMGLLINES: 'CUSTOMGLLINES', CUSTOM_MASSUPDATE: 'CUSTOMMASSUPDATE', DEBUGGER: 'DEBUGGER',
    EMAIL_CAPTURE: 'EMAILCAPTURE', MAP_REDUCE: 'MAPREDUCE', NONE: 'NONE', PAYMENTGATEWAY: 'PAYMENTGATEWAY',
    PAYMENTPOSTBACK: 'PAYMENTPOSTBACK', PLATFORMEXTENSION: 'PLATFORMEXTENSION', PORTLET: 'PORTLET',
    PROMOTIONS: 'PROMOTIONS', RECORDACTION: 'RECORDACTION', RESTLET: 'RESTLET', REST_WEBSERVICES: 'RESTWEBSERVICES',
    SCHEDULED: 'SCHEDULED', SDF_INSTALLATION: 'SDFINSTALLATION', SHIPPING_PARTNERS: 'SHIPPINGPARTNERS',
    SUITELET: 'SUITELET', TAX_CALCULATION: 'TAXCALCULATION', USEREVENT: 'USEREVENT', USER_INTERFACE: 'USERINTERFACE',
    WEBSERVICES: 'WEBSERVICES', WEBSTORE: 'WEBSTORE', WORKFLOW: 'WORKFLOW',
};

function paramValue(raw, type) {
    if (raw === null || raw === undefined) return type === 'CHECKBOX' ? false : null;
    switch (String(type || 'TEXT').toUpperCase()) {
    case 'CHECKBOX':
        return raw === true || raw === 'T' || raw === 'true';
    case 'INTEGER': {
        if (raw === '') return null;
        const n = parseInt(raw, 10);
        return isNaN(n) ? null : n;
    }
    case 'FLOAT':
    case 'CURRENCY':
    case 'CURRENCY2':
    case 'PERCENT': {
        if (raw === '') return null;
        const n = parseFloat(raw);
        return isNaN(n) ? null : n;
    }
    case 'DATE': {
        const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(raw));
        return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : raw;
    }
    default:
        return String(raw);
    }
}

function runtimeModule(ctx) {
    const script = {
        id: ctx.scriptId,
        deploymentId: ctx.deploymentId,
        logLevel: ctx.logLevel,
        apiVersion: '2.1',
        bundleIds: [],
        percentComplete: 0,
        getParameter(options) {
            const name = String(typeof options === 'string' ? options : required(options, 'name', 'Script.getParameter')).toLowerCase();
            if (!Object.prototype.hasOwnProperty.call(ctx.params, name)) return null;
            return paramValue(ctx.params[name], ctx.paramTypes[name]);
        },
        getRemainingUsage() {
            return Math.max(0, ctx.limit - ctx.usage);
        },
    };
    const u = ctx.user || {};
    const user = {
        id: u.id, name: u.name, email: u.email, role: u.role, roleId: u.roleId, roleCenter: u.roleCenter,
        subsidiary: u.subsidiary, location: u.location, department: u.department, contact: 0,
        getPreference(o) {
            const name = typeof o === 'string' ? o : o && o.name;
            return { DATEFORMAT: 'M/D/YYYY', TIMEFORMAT: 'h:mm a', TIMEZONE: 'Etc/UTC' }[String(name).toUpperCase()] || null;
        },
        getPermission() {
            return 4;
        },
    };
    const session = {};
    return {
        ContextType,
        EnvType: { SANDBOX: 'SANDBOX', PRODUCTION: 'PRODUCTION', BETA: 'BETA', INTERNAL: 'INTERNAL' },
        Permission: { NONE: 0, VIEW: 1, CREATE: 2, EDIT: 3, FULL: 4 },
        executionContext: ctx.executionContext,
        accountId: ctx.account,
        envType: ctx.envType || 'SANDBOX',
        version: ctx.version || '2026.1',
        queueCount: 1,
        processorCount: 2,
        getCurrentScript() {
            return script;
        },
        getCurrentUser() {
            return user;
        },
        getCurrentSession() {
            return { get: (o) => session[o && o.name], set: (o) => { session[o.name] = o.value; } };
        },
        isFeatureInEffect() {
            return true;
        },
    };
}

const LEVELS = { DEBUG: 0, AUDIT: 1, ERROR: 2, EMERGENCY: 3 };

function logModule(ctx, send) {
    function write(level, a, b) {
        const min = LEVELS[String(ctx.logLevel || 'DEBUG').toUpperCase()] || 0;
        if (LEVELS[level] < min) return;
        let title;
        let details;
        if (a && typeof a === 'object' && !Array.isArray(a) && ('title' in a || 'details' in a)) {
            title = a.title;
            details = a.details;
        } else {
            title = a;
            details = b;
        }
        if (details !== undefined && typeof details !== 'string') {
            try {
                details = JSON.stringify(details);
            } catch (e) {
                details = String(details);
            }
        }
        send({
            t: 'log', level, script: ctx.scriptId, deployment: ctx.deploymentId,
            title: String(title === undefined ? '' : title).slice(0, 99),
            details: details === undefined ? '' : String(details).slice(0, 3999),
        });
    }
    return {
        debug: (a, b) => write('DEBUG', a, b),
        audit: (a, b) => write('AUDIT', a, b),
        error: (a, b) => write('ERROR', a, b),
        emergency: (a, b) => write('EMERGENCY', a, b),
    };
}

function errorModule() {
    return {
        Type: { SUITESCRIPT_ERROR: 'error.SuiteScriptError', USER_EVENT_ERROR: 'error.UserEventError' },
        SuiteScriptError,
        UserEventError,
        create(options) {
            const name = required(options, 'name', 'error.create');
            const err = new SuiteScriptError(name, options.message);
            err.notifyOff = !!options.notifyOff;
            return err;
        },
    };
}

function pad(n) {
    return (n < 10 ? '0' : '') + n;
}

function formatModule() {
    const Type = {
        CHECKBOX: 'checkbox', CURRENCY: 'currency', CURRENCY2: 'currency2', DATE: 'date', DATETIME: 'datetime',
        DATETIMETZ: 'datetimetz', EMAIL: 'email', FLOAT: 'float', INTEGER: 'integer', PERCENT: 'percent',
        PHONE: 'phone', TEXT: 'text', TIMEOFDAY: 'timeofday', URL: 'url',
    };
    function fmtDate(d) {
        return (d.getMonth() + 1) + '/' + d.getDate() + '/' + d.getFullYear();
    }
    function fmtTime(d) {
        const h = d.getHours();
        return (h % 12 || 12) + ':' + pad(d.getMinutes()) + ' ' + (h < 12 ? 'am' : 'pm');
    }
    return {
        Type,
        Timezone: { ETC_UTC: 'Etc/UTC', AMERICA_LOS_ANGELES: 'America/Los_Angeles', AMERICA_NEW_YORK: 'America/New_York' },
        format(options) {
            const v = options.value;
            const t = String(options.type || '').toLowerCase();
            if (v === null || v === undefined || v === '') return '';
            if (t === 'date' && v instanceof Date) return fmtDate(v);
            if ((t === 'datetime' || t === 'datetimetz') && v instanceof Date) return fmtDate(v) + ' ' + fmtTime(v);
            if (t === 'currency' || t === 'currency2') return Number(v).toFixed(2);
            if (t === 'checkbox') return v === true || v === 'T' ? 'T' : 'F';
            return String(v);
        },
        parse(options) {
            const v = options.value;
            const t = String(options.type || '').toLowerCase();
            if (v === null || v === undefined || v === '') return null;
            if (t === 'date' || t === 'datetime' || t === 'datetimetz') {
                if (v instanceof Date) return v;
                const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(am|pm)?)?/i.exec(String(v));
                if (!m) {
                    const d = new Date(String(v));
                    if (isNaN(d.getTime())) throw make('INVALID_FLD_VALUE', 'Invalid date value ' + v);
                    return d;
                }
                let h = Number(m[4] || 0);
                if (m[7]) h = (h % 12) + (m[7].toLowerCase() === 'pm' ? 12 : 0);
                return new Date(Number(m[3]), Number(m[1]) - 1, Number(m[2]), h, Number(m[5] || 0), Number(m[6] || 0));
            }
            if (t === 'integer') return parseInt(v, 10);
            if (t === 'float' || t === 'currency' || t === 'currency2' || t === 'percent') return parseFloat(String(v).replace(/[,%]/g, ''));
            if (t === 'checkbox') return v === true || v === 'T';
            return v;
        },
    };
}

function taskModule(ctx, rpc) {
    const TaskType = {
        MAP_REDUCE: 'MAP_REDUCE', SCHEDULED_SCRIPT: 'SCHEDULED_SCRIPT', CSV_IMPORT: 'CSV_IMPORT',
        SEARCH: 'SEARCH', QUERY: 'QUERY', SUITE_QL: 'SUITE_QL',
    };
    const TaskStatus = { PENDING: 'PENDING', PROCESSING: 'PROCESSING', COMPLETE: 'COMPLETE', FAILED: 'FAILED' };
    return {
        TaskType,
        TaskStatus,
        MapReduceStage: { GET_INPUT: 'GET_INPUT', MAP: 'MAP', SHUFFLE: 'SHUFFLE', REDUCE: 'REDUCE', SUMMARIZE: 'SUMMARIZE' },
        create(options) {
            const taskType = required(options, 'taskType', 'task.create');
            const t = {
                taskType,
                scriptId: options.scriptId,
                deploymentId: options.deploymentId,
                params: options.params || {},
                submit() {
                    if (taskType !== TaskType.MAP_REDUCE) {
                        throw make('SSS_UNSUPPORTED_API', 'Only MAP_REDUCE tasks are supported by the sandbox harness');
                    }
                    gov.chargeApi(ctx, 'task.submit');
                    return rpc('task.submit', { taskType, scriptId: t.scriptId, deploymentId: t.deploymentId, params: t.params }).taskId;
                },
            };
            return t;
        },
        checkStatus(options) {
            gov.chargeApi(ctx, 'task.checkStatus');
            const s = rpc('task.status', { taskId: required(options, 'taskId', 'task.checkStatus') });
            return { taskId: options.taskId, status: s.status, stage: null, getPercentageCompleted: () => (s.status === 'COMPLETE' ? 100 : 0) };
        },
    };
}

function urlModule(ctx) {
    return {
        HostType: { APPLICATION: 'APPLICATION', RESTLET: 'RESTLET', SUITETALK: 'SUITETALK', CUSTOMER_CENTER: 'CUSTOMER_CENTER', FORM: 'FORM' },
        resolveDomain(o) {
            const host = String(ctx.account || '').toLowerCase().replace(/_/g, '-');
            const kind = String((o && o.hostType) || 'APPLICATION');
            return host + (kind === 'RESTLET' ? '.restlets.api.netsuite.com' : kind === 'SUITETALK' ? '.suitetalk.api.netsuite.com' : '.app.netsuite.com');
        },
        resolveScript(o) {
            return '/app/site/hosting/restlet.nl?script=' + encodeURIComponent(o.scriptId) + '&deploy=' + encodeURIComponent(o.deploymentId);
        },
        resolveRecord(o) {
            return '/app/common/entity/record.nl?rectype=' + encodeURIComponent(o.recordType) + '&id=' + encodeURIComponent(o.recordId || '');
        },
        format(o) {
            const params = o.params || {};
            const qs = Object.keys(params).map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(params[k])).join('&');
            return o.domain + (qs ? (o.domain.indexOf('?') >= 0 ? '&' : '?') + qs : '');
        },
    };
}

module.exports = {
    encodeModule, cryptoModule, runtimeModule, logModule, errorModule, formatModule, taskModule, urlModule, Encoding,
};
