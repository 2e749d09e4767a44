/**
 * item.changed: an item the catalog lists (inventory or assembly item, matrix parent or child) was
 * created, edited or deleted in a way the TikTok listing or price depends on.
 *
 * What counts (old record against new):
 * - "listing": name, display name, descriptions, UPC, external id, weight and unit, class,
 *   matrix type and parent, and every custitem field (catalog.yaml may name any of them for
 *   images, variant attributes or dimensions);
 * - "price": any line of the pricing sublists (`price`, or `price<currency id>` with
 *   Multiple Currencies), every field of each line;
 * - "status": the inactive flag.
 * A save that changes none of these (cost, reorder point, bin numbers …) pushes nothing.
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './records', './util'], (C, R, util) => {
    /** Record types (lower case, as `record.type`) this module handles. */
    const ITEM_TYPES = ['inventoryitem', 'assemblyitem'];
    const LISTING_FIELDS = ['itemid', 'displayname', 'salesdescription', 'storedescription',
        'storedetaileddescription', 'upccode', 'externalid', 'weight', 'weightunit', 'weightunits', 'class',
        'matrixtype', 'parent'];
    const PRICE_SUBLIST = /^price\d*$/;

    function handles(recordType) {
        return ITEM_TYPES.indexOf(util.str(recordType).toLowerCase()) >= 0;
    }

    function fieldIds(rec) {
        try {
            return rec.getFields() || [];
        } catch (e) {
            return [];
        }
    }

    function listingSignature(rec) {
        if (!rec) return '';
        const ids = LISTING_FIELDS.concat(fieldIds(rec).filter((f) => /^custitem/i.test(f)).map((f) => f.toLowerCase()));
        const out = {};
        ids.sort().forEach((f) => {
            const v = R.value(rec, f);
            out[f] = v instanceof Date ? v.toISOString() : R.id(v);
        });
        return util.canonicalJson(out);
    }

    function priceSublists(rec) {
        let ids = [];
        try {
            ids = rec.getSublists() || [];
        } catch (e) {
            ids = [];
        }
        return ids.map((s) => util.str(s).toLowerCase()).filter((s) => PRICE_SUBLIST.test(s)).sort();
    }

    function sublistFields(rec, sublistId) {
        try {
            return (rec.getSublistFields({ sublistId: sublistId }) || []).map((f) => util.str(f).toLowerCase()).sort();
        } catch (e) {
            return [];
        }
    }

    function priceSignature(rec) {
        if (!rec) return '';
        const out = {};
        priceSublists(rec).forEach((s) => {
            const fields = sublistFields(rec, s);
            const rows = [];
            const n = R.lineCount(rec, s);
            for (let i = 0; i < n; i++) {
                rows.push(fields.map((f) => f + '=' + R.id(R.lineValue(rec, s, f, i))).join('&'));
            }
            out[s] = rows;
        });
        return util.canonicalJson(out);
    }

    function inactive(rec) {
        return !!rec && util.truthy(R.value(rec, 'isinactive'));
    }

    /** What changed between the two records (['created'] / ['deleted'] when one is missing). */
    function changes(oldRec, newRec) {
        if (!oldRec) return ['created'];
        if (!newRec) return ['deleted'];
        const out = [];
        if (listingSignature(oldRec) !== listingSignature(newRec)) out.push('listing');
        if (priceSignature(oldRec) !== priceSignature(newRec)) out.push('price');
        if (inactive(oldRec) !== inactive(newRec)) out.push('status');
        return out;
    }

    /**
     * @param {Object|null} oldRec  the item before the save (null on create)
     * @param {Object|null} newRec  the item after the save (null on delete)
     * @param {string} ueType  the user event type
     * @param {number} nowMs  fallback stamp when the record has no lastmodifieddate
     * @returns {{eventId, type, data}|null}
     */
    function event(oldRec, newRec, ueType, nowMs) {
        const rec = newRec || oldRec;
        if (!rec || !handles(rec.type)) return null;
        const changed = changes(oldRec, newRec);
        if (!changed.length) return null;
        const matrix = util.str(R.id(R.value(rec, 'matrixtype'))).toUpperCase();
        const data = {
            item_id: util.str(rec.id),
            record_type: util.str(rec.type).toLowerCase(),
            itemid: util.str(R.value(rec, 'itemid')),
            matrix: matrix,
            parent_id: matrix === 'CHILD' ? (R.id(R.value(rec, 'parent')) || null) : null,
            inactive: inactive(rec),
            context_type: util.str(ueType).toLowerCase(),
            changed: changed,
        };
        const stamp = (newRec && R.millis(R.value(newRec, 'lastmodifieddate'))) || nowMs;
        return {
            eventId: 'item:' + data.item_id + ':' + data.context_type + ':'
                + util.hash(util.canonicalJson(data) + '|' + listingSignature(newRec) + '|' + priceSignature(newRec)
                    + '|' + util.str(stamp)),
            type: C.EVENTS.ITEM_CHANGED,
            data: data,
        };
    }

    return { ITEM_TYPES, handles, changes, listingSignature, priceSignature, event };
});
