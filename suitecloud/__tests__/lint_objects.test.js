const fs = require('fs');
const os = require('os');
const path = require('path');
const { lint } = require('../tools/lint-objects');
const xml = require('../tools/xml');
const gen = require('../tools/gen-rest-schema');

const PROJECT = path.join(__dirname, '..');

/** Copy src/ of this project into a temp dir, apply `mutate(dir)`, lint it. */
function lintMutated(mutate) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ttns-lint-'));
    fs.cpSync(path.join(PROJECT, 'src'), path.join(dir, 'src'), { recursive: true });
    mutate(dir);
    const result = lint(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    return result.errors;
}

const obj = (dir, name) => path.join(dir, 'src', 'Objects', name);
const edit = (file, from, to) => fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(from, to));

describe('object XML lint', () => {
    test('this project is clean', () => {
        const result = lint(PROJECT);
        expect(result.errors).toEqual([]);
        expect(result.objects).toBe(16);
    });

    test.each([
        ['unknown root tag', (d) => edit(obj(d, 'custcol_ttns_package.xml'), /transactioncolumncustomfield/g, 'columnfield'),
            /root <columnfield> is not a known SDF object type/],
        ['scriptid prefix of the wrong type', (d) => {
            edit(obj(d, 'custcol_ttns_package.xml'), 'scriptid="custcol_ttns_package"', 'scriptid="custbody_ttns_package"');
            fs.renameSync(obj(d, 'custcol_ttns_package.xml'), obj(d, 'custbody_ttns_package.xml'));
        }, /must match \^custcol/],
        ['file name differs from scriptid', (d) => fs.renameSync(obj(d, 'custcol_ttns_package.xml'), obj(d, 'custcol_other.xml')),
            /file name must be custcol_ttns_package\.xml/],
        ['missing script file', (d) => fs.rmSync(path.join(d, 'src/FileCabinet/SuiteScripts/ttns/ttns_rl_orders.js')),
            /ttns_rl_orders\.js does not exist/],
        ['script type mismatch', (d) => edit(path.join(d, 'src/FileCabinet/SuiteScripts/ttns/ttns_rl_orders.js'), '@NScriptType Restlet', '@NScriptType Suitelet'),
            /must declare @NScriptType Restlet/],
        ['duplicate deployment id', (d) => edit(obj(d, 'customscript_ttns_rl_orders.xml'), 'customdeploy_ttns_rl_orders', 'customdeploy_ttns_ue_salesorder'),
            /duplicate scriptid customdeploy_ttns_ue_salesorder/],
        ['unknown record type', (d) => edit(obj(d, 'customscript_ttns_ue_events.xml'), '<recordtype>INVOICE</recordtype>', '<recordtype>INVOICES</recordtype>'),
            /recordtype of customdeploy_ttns_ue_invoice "INVOICES"/],
        ['bad status', (d) => edit(obj(d, 'customscript_ttns_rl_orders.xml'), '<status>RELEASED</status>', '<status>LIVE</status>'),
            /status of customdeploy_ttns_rl_orders "LIVE"/],
        ['bad repeat', (d) => edit(obj(d, 'customscript_ttns_mr_sweep.xml'), 'PT15M', 'PT10M'), /repeat of customdeploy_ttns_mr_sweep "PT10M"/],
        ['scheduled without recurrence', (d) => edit(obj(d, 'customscript_ttns_mr_sweep.xml'), /<recurrence>[\s\S]*<\/recurrence>/, ''),
            /SCHEDULED without <recurrence>/],
        ['object not covered by deploy.xml', (d) => edit(path.join(d, 'src/deploy.xml'), '~/Objects/*', '~/Objects/customscript_ttns_ue_events.xml'),
            /custbody_ttns_order_id\.xml: not covered by any <objects><path>/],
        ['script file not covered by deploy.xml', (d) => edit(path.join(d, 'src/deploy.xml'), '~/FileCabinet/SuiteScripts/ttns/*', '~/FileCabinet/SuiteScripts/other/*'),
            /ttns_ue_events\.js: not covered by any <files><path>/],
        ['a field the scripts use is not defined', (d) => fs.rmSync(obj(d, 'custbody_ttns_source.xml')),
            /custbody_ttns_source is used by the scripts but defined by no object/],
        ['missing lib dependency', (d) => fs.rmSync(path.join(d, 'src/FileCabinet/SuiteScripts/ttns/lib/queue.js')),
            /dependency "\.\/queue" not found/],
        ['malformed XML', (d) => edit(obj(d, 'custbody_ttns_order_id.xml'), '</label>', '</lable>'), /not well-formed/],
        ['manifest without CUSTOMRECORDS', (d) => edit(path.join(d, 'src/manifest.xml'), /\s*<feature required="true">CUSTOMRECORDS<\/feature>/, ''),
            /custom records need/],
        ['scriptid too long', (d) => edit(obj(d, 'customscript_ttns_ue_events.xml'), 'customdeploy_ttns_ue_bintransfer', 'customdeploy_ttns_ue_bintransfer_and_more_things'),
            /longer than 40 characters/],
        ['an element the SDF type does not have (title on a user event deployment)',
            (d) => edit(obj(d, 'customscript_ttns_ue_events.xml'), '<status>RELEASED</status>', '<status>RELEASED</status><title>x</title>'),
            /unknown element <title> in customdeploy_ttns_ue_itemfulfillment/],
        ['an unknown element on a custom field', (d) => edit(obj(d, 'custcol_ttns_package.xml'), '<label>', '<checkspelling>F</checkspelling><label>'),
            /unknown element <checkspelling> in <transactioncolumncustomfield>/],
        ['a deployment setting an undeclared parameter', (d) => edit(obj(d, 'customscript_ttns_rl_orders.xml'), '<title>TTNS Orders</title>', '<title>TTNS Orders</title><custscript_nope>1</custscript_nope>'),
            /sets undeclared parameter custscript_nope/],
        ['parameter with a bad setting', (d) => edit(obj(d, 'customscript_ttns_rl_orders.xml'), '<setting>COMPANY</setting>', '<setting>GLOBAL</setting>'),
            /setting of custscript_ttns_rl_unit_reserve "GLOBAL"/],
    ])('catches: %s', (name, mutate, pattern) => {
        const errors = lintMutated(mutate);
        expect(errors.join('\n')).toMatch(pattern);
    });
});

describe('xml reader', () => {
    test('attributes, entities, comments, self-closing elements', () => {
        const root = xml.parse('<?xml version="1.0"?>\n<!-- c --><a x="1&amp;2"><b>t &lt; u</b><c/><![CDATA[<raw>]]></a>');
        expect(root.attrs.x).toBe('1&2');
        expect(xml.textOf(root, 'b')).toBe('t < u');
        expect(xml.child(root, 'c')).not.toBeNull();
        expect(root.text).toBe('<raw>');
        expect(() => xml.parse('<a><b></a>')).toThrow(/expected <\/b>/);
    });
});

describe('generated REST schema digest', () => {
    const specs = path.join(PROJECT, '..', '..', 'shared', 'specs', 'netsuite', 'record-schemas.json');

    // Fails, never skips, without its input: a stale restschema.js must not pass unseen.
    test('restschema.js is up to date with the schema digest', () => {
        if (!fs.existsSync(specs)) {
            throw new Error(`${specs} is missing: the freshness check needs the NetSuite record schema digest ` +
                '(../shared/specs next to the repository)');
        }
        const fresh = gen.digest(JSON.parse(fs.readFileSync(specs, 'utf8')));
        const committed = require('SuiteScripts/ttns/lib/restschema');
        expect(JSON.parse(JSON.stringify(committed))).toEqual(fresh);
    });

    test('kinds', () => {
        const defs = { 'x-shippingAddress': { addr1: {} }, 'xCollection': {}, xElement: {} };
        expect(gen.kindOf(defs, 'tranDate', { type: 'string', format: 'date' }, [])).toBe('date');
        expect(gen.kindOf(defs, 'links', { type: 'nsLink[]', flags: ['read-only'] }, [])).toBe('readonly');
        expect(gen.kindOf(defs, 'entity', { type: 'customer', ref: 'customer' }, [])).toBe('ref');
        expect(gen.kindOf(defs, 'shippingAddress', { type: 'x-shippingAddress', ref: 'x-shippingAddress' }, [])).toBe('sub:x-shippingAddress');
        expect(gen.kindOf(defs, 'item', { type: 'xCollection', ref: 'xCollection' }, ['item'])).toBe('list:xElement');
        expect(gen.kindOf(defs, 'partners', { type: 'xCollection', ref: 'xCollection' }, ['item'])).toBe('unsupported');
    });
});
