/**
 * Scheduled every 15 minutes: retries pushes the bridge did not acknowledge (same body and
 * event_id, freshly signed, with backoff; dead after the configured attempts) and pushes the
 * inventory delta sweep (inventory.sweep).
 *
 * @NApiVersion 2.1
 * @NScriptType MapReduceScript
 * @NModuleScope SameAccount
 */
define(['N/record', 'N/query', 'N/https', 'N/crypto', 'N/encode', 'N/runtime', 'N/log', './lib/mr'],
    (record, query, https, crypto, encode, runtime, log, mr) => {
        const N = { record, query, https, crypto, encode, runtime, log };

        function getInputData() {
            return mr.getInputData(N);
        }

        function map(context) {
            mr.map(N, context);
        }

        function summarize(summary) {
            mr.summarize(N, summary);
        }

        return { getInputData, map, summarize };
    });
