'use strict';
/**
 * Governance: usage units per SuiteScript 2.x API call (transaction / custom record / other record
 * costs for N/record) against the per-script limit. Exceeding it throws SSS_USAGE_LIMIT_EXCEEDED and
 * ends the execution even if the script catches the error.
 */
const { make } = require('./errors');

const TRANSACTIONS = new Set([
    'salesorder', 'itemfulfillment', 'returnauthorization', 'creditmemo', 'cashrefund', 'customerdeposit',
    'customerrefund', 'cashsale', 'invoice', 'journalentry', 'deposit', 'inventoryadjustment', 'inventorytransfer',
    'itemreceipt', 'transferorder', 'purchaseorder', 'vendorbill', 'customerpayment', 'estimate', 'opportunity',
    'workorder', 'assemblybuild', 'assemblyunbuild', 'bintransfer', 'workordercompletion', 'workorderissue',
    'vendorpayment', 'check', 'depositapplication',
]);

/** [transaction, custom record, other] */
const RECORD_COSTS = {
    create: [10, 2, 5],
    load: [10, 2, 5],
    copy: [10, 2, 5],
    transform: [10, 2, 5],
    submitFields: [10, 2, 5],
    save: [20, 4, 10],
    delete: [20, 4, 10],
};

const COSTS = {
    'query.runSuiteQL': 10,
    'query.runSuiteQLPaged': 10,
    'query.PagedData.fetch': 5,
    'search.lookupFields': 1,
    'search.ResultSet.each': 10,
    'search.ResultSet.getRange': 10,
    'search.runPaged': 5,
    'search.PagedData.fetch': 5,
    'https.request': 10,
    'task.submit': 20,
    'task.checkStatus': 10,
};

function recordCost(op, type) {
    const t = String(type || '').toLowerCase();
    const row = RECORD_COSTS[op] || [10, 2, 5];
    if (TRANSACTIONS.has(t)) return row[0];
    if (t.indexOf('customrecord') === 0) return row[1];
    return row[2];
}

function charge(ctx, units) {
    if (ctx.terminated) throw make('SSS_USAGE_LIMIT_EXCEEDED', 'Script Execution Usage Limit Exceeded');
    ctx.usage += units;
    ctx.totalUsage += units;
    if (ctx.usage > ctx.limit) {
        ctx.terminated = true;
        throw make('SSS_USAGE_LIMIT_EXCEEDED', 'Script Execution Usage Limit Exceeded');
    }
}

function chargeApi(ctx, api) {
    charge(ctx, COSTS[api] || 0);
}

function chargeRecord(ctx, op, type) {
    charge(ctx, recordCost(op, type));
}

module.exports = { charge, chargeApi, chargeRecord, recordCost, TRANSACTIONS };
