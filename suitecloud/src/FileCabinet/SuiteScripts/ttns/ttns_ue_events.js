/**
 * Pushes NetSuite changes to the ttns bridge: item_fulfillment.saved/deleted, inventory.changed,
 * sales_order.lines_closed. Deployed on item fulfillments, sales orders and stock-moving records.
 *
 * @NApiVersion 2.1
 * @NScriptType UserEventScript
 * @NModuleScope SameAccount
 */
define(['N/record', 'N/search', 'N/query', 'N/https', 'N/crypto', 'N/encode', 'N/runtime', 'N/log', './lib/events'],
    (record, search, query, https, crypto, encode, runtime, log, events) => {
        const N = { record, search, query, https, crypto, encode, runtime, log };

        function afterSubmit(context) {
            try {
                events.afterSubmit(N, context);
            } catch (e) {
                // never fail the user's save because the bridge could not be told
                log.error({ title: 'ttns: afterSubmit failed', details: (e && e.name) + ': ' + (e && e.message) });
            }
        }

        return { afterSubmit };
    });
