/**
 * Batched order write path for the ttns bridge.
 * POST {orders: [...]} upserts sales orders / cash sales by external id; GET ?external_ids=a,b
 * resolves external ids to internal ids.
 *
 * @NApiVersion 2.1
 * @NScriptType Restlet
 * @NModuleScope SameAccount
 */
define(['N/record', 'N/query', 'N/runtime', 'N/log', 'N/error', './lib/config', './lib/orders'],
    (record, query, runtime, log, error, config, orders) => {
        const N = { record, query, runtime, log, error };

        function post(requestBody) {
            return JSON.stringify(orders.upsertBatch(N, requestBody, config.rl(N)));
        }

        function get(requestParams) {
            return JSON.stringify(orders.lookup(N, requestParams || {}));
        }

        return { get, post };
    });
