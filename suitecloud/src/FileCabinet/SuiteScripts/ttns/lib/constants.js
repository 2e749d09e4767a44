/**
 * Ids shared by every ttns script: custom fields, custom records, script parameters, event types.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define([], () => {
    const FIELDS = Object.freeze({
        ORDER_ID: 'custbody_ttns_order_id',
        SHOP_ID: 'custbody_ttns_shop_id',
        SOURCE: 'custbody_ttns_source',
        SHIPPED_BY: 'custbody_ttns_shipped_by',
        SYNC_STATUS: 'custbody_ttns_sync_status',
        BUYER_MESSAGE: 'custbody_ttns_buyer_message',
        CANCEL_REASON: 'custbody_ttns_cancel_reason',
        LINE_ITEM_IDS: 'custcol_ttns_line_item_ids',
        PACKAGE: 'custcol_ttns_package',
    });

    const PUSH = Object.freeze({
        TYPE: 'customrecord_ttns_push',
        EVENT_ID: 'custrecord_ttns_push_event_id',
        EVENT_TYPE: 'custrecord_ttns_push_type',
        BODY: 'custrecord_ttns_push_body',
        ATTEMPTS: 'custrecord_ttns_push_attempts',
        STATUS: 'custrecord_ttns_push_status',
        LAST_ERROR: 'custrecord_ttns_push_last_error',
        NEXT_AT: 'custrecord_ttns_push_next_at',
        SENT_AT: 'custrecord_ttns_push_sent_at',
    });

    const PUSH_STATUS = Object.freeze({ PENDING: 'pending', SENT: 'sent', DEAD: 'dead' });

    const STATE = Object.freeze({
        TYPE: 'customrecord_ttns_state',
        VALUE: 'custrecord_ttns_state_value',
        SWEEP_CURSOR_KEY: 'inventory_sweep_cursor',
        ITEM_SWEEP_CURSOR_KEY: 'item_sweep_cursor',
    });

    const PARAMS = Object.freeze({
        UE_BRIDGE_URL: 'custscript_ttns_bridge_url',
        UE_IGNORE_CONTEXTS: 'custscript_ttns_ignore_contexts',
        UE_ENABLED: 'custscript_ttns_ue_enabled',
        MR_BRIDGE_URL: 'custscript_ttns_mr_bridge_url',
        MR_MAX_ATTEMPTS: 'custscript_ttns_mr_max_attempts',
        MR_RETRY_BATCH: 'custscript_ttns_mr_retry_batch',
        MR_SWEEP_OVERLAP: 'custscript_ttns_mr_sweep_overlap',
        MR_SWEEP_ENABLED: 'custscript_ttns_mr_sweep_enabled',
        RL_UNIT_RESERVE: 'custscript_ttns_rl_unit_reserve',
    });

    const EVENTS = Object.freeze({
        FULFILLMENT_SAVED: 'item_fulfillment.saved',
        FULFILLMENT_DELETED: 'item_fulfillment.deleted',
        INVENTORY_CHANGED: 'inventory.changed',
        LINES_CLOSED: 'sales_order.lines_closed',
        INVENTORY_SWEEP: 'inventory.sweep',
        ITEM_CHANGED: 'item.changed',
        ITEM_SWEEP: 'item.sweep',
    });

    return Object.freeze({
        FIELDS,
        PUSH,
        PUSH_STATUS,
        STATE,
        PARAMS,
        EVENTS,
        SOURCE_BRIDGE: 'TTNS',
        /** custbody_ttns_shipped_by on a fulfillment the bridge created because TikTok shipped it (FBT). */
        SHIPPED_BY_TIKTOK: 'TIKTOK',
        SECRET_ID: 'custsecret_ttns_events',
        EVENTS_PATH: '/netsuite/events',
        /** Execution contexts the bridge writes through (REST record API, our RESTlet, SOAP). */
        BRIDGE_CONTEXTS: Object.freeze(['RESTLET', 'RESTWEBSERVICES', 'WEBSERVICES']),
    });
});
