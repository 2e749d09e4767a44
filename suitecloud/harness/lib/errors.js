'use strict';
/** SuiteScriptError as N/error creates it and as the N/ modules throw it. */

let counter = 0;

class SuiteScriptError extends Error {
    constructor(name, message, cause) {
        super(message === undefined || message === null ? '' : String(message));
        this.name = String(name || 'UNEXPECTED_ERROR');
        this.id = String(Date.now()) + String(++counter);
        this.type = 'error.SuiteScriptError';
        this.cause = cause === undefined ? null : cause;
        this.notifyOff = false;
        this.userFacing = true;
    }

    toString() {
        return this.name + ': ' + this.message;
    }

    toJSON() {
        return {
            type: this.type, name: this.name, message: this.message, id: this.id,
            stack: String(this.stack || '').split('\n'), cause: this.cause, notifyOff: this.notifyOff,
            userFacing: this.userFacing,
        };
    }
}

class UserEventError extends SuiteScriptError {
    constructor(name, message, recordId, eventType) {
        super(name, message);
        this.type = 'error.UserEventError';
        this.recordId = recordId;
        this.eventType = eventType;
    }
}

function make(name, message) {
    return new SuiteScriptError(name, message);
}

function required(options, key, api) {
    if (options === null || options === undefined || options[key] === undefined || options[key] === null || options[key] === '') {
        throw make('SSS_MISSING_REQD_ARGUMENT', api + ': Missing a required argument: ' + key);
    }
    return options[key];
}

module.exports = { SuiteScriptError, UserEventError, make, required };
