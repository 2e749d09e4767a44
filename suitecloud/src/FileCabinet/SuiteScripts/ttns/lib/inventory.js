/**
 * inventory.changed: the distinct item/location pairs a stock-moving save touched (old and new
 * record, so moving a line to another location reports both).
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants', './records', './util'], (C, R, util) => {
    const SUBLISTS = ['item', 'inventory', 'component'];
    /** Line item types that never hold stock. */
    const NON_STOCK = ['Discount', 'Subtotal', 'Markup', 'Description', 'Payment', 'Group', 'EndGroup',
        'Service', 'NonInvtPart', 'OthCharge', 'ShipItem', 'TaxItem', 'TaxGroup', 'GiftCert', 'DwnLdItem'];
    /** Records whose body item is itself produced or consumed (assembly builds, completions). */
    const BODY_ITEM_TYPES = ['assemblybuild', 'assemblyunbuild', 'workordercompletion', 'workorder'];
    /** Sales order fields whose change alters commitment for every line. */
    const SO_BODY_FIELDS = ['location', 'orderstatus', 'status'];

    function lineEntries(rec) {
        const out = [];
        if (!rec) return out;
        const bodyLoc = R.id(R.value(rec, 'location'));
        const toLoc = R.id(R.value(rec, 'transferlocation'));
        SUBLISTS.forEach((sublist) => {
            const n = R.lineCount(rec, sublist);
            for (let i = 0; i < n; i++) {
                const item = R.id(R.lineValue(rec, sublist, 'item', i));
                if (!item) continue;
                const itemType = util.str(R.lineValue(rec, sublist, 'itemtype', i));
                if (NON_STOCK.indexOf(itemType) >= 0) continue;
                const loc = R.id(R.lineValue(rec, sublist, 'location', i)) || bodyLoc;
                const key = sublist + ':' + (util.str(R.lineValue(rec, sublist, 'line', i)) || 'idx' + i);
                const sig = [item, loc, util.str(R.lineValue(rec, sublist, 'quantity', i)),
                    util.truthy(R.lineValue(rec, sublist, 'isclosed', i)) ? 'closed' : 'open',
                    util.str(R.lineValue(rec, sublist, 'commitinventory', i))].join('|');
                const locations = toLoc && toLoc !== loc ? [loc, toLoc] : [loc];
                out.push({ key: key, sig: sig, item: item, locations: locations });
            }
        });
        const type = util.str(rec.type).toLowerCase();
        const bodyItem = BODY_ITEM_TYPES.indexOf(type) >= 0 ? R.id(R.value(rec, 'item')) : '';
        if (bodyItem) {
            out.push({ key: 'body', sig: bodyItem + '|' + bodyLoc + '|' + util.str(R.value(rec, 'quantity')),
                item: bodyItem, locations: [bodyLoc] });
        }
        return out;
    }

    function addPairs(acc, entry) {
        entry.locations.forEach((loc) => { acc[entry.item + '@' + loc] = { item_id: entry.item, location_id: loc || null }; });
    }

    function sorted(acc) {
        return Object.keys(acc).sort().map((k) => acc[k]);
    }

    /** Every pair on either record. */
    function allPairs(oldRec, newRec) {
        const acc = {};
        lineEntries(oldRec).concat(lineEntries(newRec)).forEach((e) => addPairs(acc, e));
        return sorted(acc);
    }

    /** Pairs whose line changed (item, location, quantity, closed, commit) or all when commitment-wide fields changed. */
    function changedPairs(oldRec, newRec) {
        if (!oldRec || !newRec) return allPairs(oldRec, newRec);
        const bodyChanged = SO_BODY_FIELDS.some((f) => R.id(R.value(oldRec, f)) !== R.id(R.value(newRec, f)));
        if (bodyChanged) return allPairs(oldRec, newRec);
        const before = {};
        const after = {};
        lineEntries(oldRec).forEach((e) => { before[e.key] = e; });
        lineEntries(newRec).forEach((e) => { after[e.key] = e; });
        const acc = {};
        Object.keys(before).concat(Object.keys(after)).forEach((k) => {
            const a = before[k];
            const b = after[k];
            if (a && b && a.sig === b.sig) return;
            if (a) addPairs(acc, a);
            if (b) addPairs(acc, b);
        });
        return sorted(acc);
    }

    /**
     * @param {Object|null} oldRec  record before the save (null on create)
     * @param {Object|null} newRec  record after the save (null on delete)
     * @returns {{eventId, type, data}|null} data: record_type, record_id, event (the user event type),
     *     external_id (when the record has one) and changes
     */
    function event(oldRec, newRec, ueType, nowMs) {
        const rec = newRec || oldRec;
        const recordType = util.str(rec.type).toLowerCase();
        const changes = recordType === 'salesorder' ? changedPairs(oldRec, newRec) : allPairs(oldRec, newRec);
        if (!changes.length) return null;
        const data = { record_type: recordType, record_id: util.str(rec.id), event: util.str(ueType).toLowerCase(),
            changes: changes };
        // The bridge knows its own TikTok sales orders by external id (TTS-{shop}-{order}): the creation of
        // one moves units it already counted into NetSuite's commitments to that shop's orders.
        const externalId = util.str(R.value(rec, 'externalid'));
        if (externalId) data.external_id = externalId;
        const stamp = (newRec && R.millis(R.value(newRec, 'lastmodifieddate'))) || nowMs;
        return {
            eventId: 'inv:' + recordType + ':' + data.record_id + ':' + util.str(ueType).toLowerCase() + ':'
                + util.hash(util.canonicalJson(changes) + '|' + util.str(stamp)),
            type: C.EVENTS.INVENTORY_CHANGED,
            data: data,
        };
    }

    return { lineEntries, allPairs, changedPairs, event };
});
