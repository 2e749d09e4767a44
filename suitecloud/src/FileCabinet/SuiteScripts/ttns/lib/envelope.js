/**
 * The event envelope agreed with the bridge: {event_id, type, account, occurred_at, data}.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./util'], (util) => {
    /**
     * @param {{eventId: string, type: string, account: string, occurredAt: Date|number, data: Object}} e
     */
    function build(e) {
        return {
            event_id: e.eventId,
            type: e.type,
            account: util.str(e.account),
            occurred_at: util.isoUtc(e.occurredAt === undefined ? Date.now() : e.occurredAt),
            data: e.data,
        };
    }

    return { build };
});
