'use strict';
/**
 * A SuiteScript 2.x AMD loader: `define([deps], factory)`, `define(factory)`, `define(object)`,
 * with `N/…` modules from the execution's own module instances, relative (`./lib/x`) and
 * File Cabinet absolute (`/SuiteScripts/ttns/x`) dependencies. Each execution gets a fresh module
 * cache, as every NetSuite script invocation evaluates its modules anew.
 */
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { make } = require('./errors');

const suiteUtil = {
    isArray: Array.isArray,
    isBoolean: (v) => typeof v === 'boolean',
    isDate: (v) => v instanceof Date,
    isFunction: (v) => typeof v === 'function',
    isNumber: (v) => typeof v === 'number',
    isObject: (v) => v !== null && typeof v === 'object',
    isRegExp: (v) => v instanceof RegExp,
    isString: (v) => typeof v === 'string',
    each(obj, fn) {
        if (Array.isArray(obj)) obj.forEach((v, i) => fn(v, i));
        else Object.keys(obj || {}).forEach((k) => fn(obj[k], k));
        return obj;
    },
    extend(target, source) {
        return Object.assign(target, source);
    },
    deepExtend(target, source) {
        return Object.assign(target, JSON.parse(JSON.stringify(source)));
    },
    nanoTime: () => Number(process.hrtime.bigint()),
};

class Loader {
    /**
     * @param {string} root  the File Cabinet root (…/src/FileCabinet)
     * @param {Object<string, Object>} nModules  'N/record' -> module instance
     */
    constructor(root, nModules) {
        this.root = root;
        this.nModules = nModules;
        this.cache = new Map();
    }

    resolve(id, fromDir) {
        if (this.nModules[id]) return { native: id };
        if (/^N\//.test(id)) throw make('MODULE_DOES_NOT_EXIST', 'Module does not exist: ' + id + ' (not supported by the sandbox harness)');
        let file;
        if (id.startsWith('./') || id.startsWith('../')) file = path.resolve(fromDir, id);
        else if (id.startsWith('/')) file = path.join(this.root, id);
        else file = path.join(this.root, 'SuiteScripts', id);
        if (!file.endsWith('.js')) file += '.js';
        return { file };
    }

    require(id, fromDir) {
        const r = this.resolve(id, fromDir);
        if (r.native) return this.nModules[r.native];
        return this.load(r.file);
    }

    load(file) {
        if (this.cache.has(file)) return this.cache.get(file).exports;
        if (!fs.existsSync(file)) throw make('MODULE_DOES_NOT_EXIST', 'Module does not exist: ' + file);
        const entry = { exports: {} };
        this.cache.set(file, entry);
        const dir = path.dirname(file);
        const source = fs.readFileSync(file, 'utf8');
        let captured = null;
        const define = (...args) => {
            if (typeof args[0] === 'string') args.shift();
            if (Array.isArray(args[0])) captured = { deps: args[0], factory: args[1] };
            else captured = { deps: null, factory: args[0] };
        };
        define.amd = {};
        const localRequire = (ids, cb) => {
            if (Array.isArray(ids)) {
                const mods = ids.map((d) => this.require(d, dir));
                if (typeof cb === 'function') cb(...mods);
                return undefined;
            }
            return this.require(ids, dir);
        };
        const fn = vm.compileFunction(source, ['define', 'require', 'log', 'util'], { filename: file });
        fn(define, localRequire, this.nModules['N/log'], suiteUtil);
        if (!captured) throw make('SSS_INVALID_SCRIPT_MODULE', 'The file ' + file + ' does not call define()');
        const { deps, factory } = captured;
        if (typeof factory !== 'function') {
            entry.exports = factory;
            return entry.exports;
        }
        let result;
        if (deps === null) {
            const mod = { exports: entry.exports };
            result = factory(localRequire, entry.exports, mod);
            if (result === undefined) result = mod.exports;
        } else {
            const resolved = deps.map((d) => {
                if (d === 'require') return localRequire;
                if (d === 'exports') return entry.exports;
                if (d === 'module') return entry;
                return this.require(d, dir);
            });
            result = factory(...resolved);
            if (result === undefined) result = entry.exports;
        }
        entry.exports = result;
        return result;
    }
}

module.exports = { Loader, suiteUtil };
