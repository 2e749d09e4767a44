#!/usr/bin/env node
/*
 * Lint of the SDF project (src/): every object XML under src/Objects, manifest.xml and
 * deploy.xml, checked against the SDF object reference rules this project relies on.
 * Run by `npm test`; exits non-zero on any finding.
 *
 *   node tools/lint-objects.js [projectDir]
 */
'use strict';
const fs = require('fs');
const path = require('path');
const xml = require('./xml');

/** Root tag -> scriptid prefix (SDF custom object types). */
const OBJECT_TYPES = {
    usereventscript: 'customscript',
    restlet: 'customscript',
    mapreducescript: 'customscript',
    scheduledscript: 'customscript',
    suitelet: 'customscript',
    clientscript: 'customscript',
    workflowactionscript: 'customscript',
    massupdatescript: 'customscript',
    portlet: 'customscript',
    bundleinstallationscript: 'customscript',
    sdfinstallationscript: 'customscript',
    transactionbodycustomfield: 'custbody',
    transactioncolumncustomfield: 'custcol',
    entitycustomfield: 'custentity',
    itemcustomfield: 'custitem',
    crmcustomfield: 'custevent',
    itemoptioncustomfield: 'custcol',
    othercustomfield: 'custrecord',
    customrecordtype: 'customrecord',
    customlist: 'customlist',
    savedsearch: 'customsearch',
    role: 'customrole',
};
/** Script object type -> @NScriptType the file must declare. */
const SCRIPT_TYPES = {
    usereventscript: 'UserEventScript',
    restlet: 'Restlet',
    mapreducescript: 'MapReduceScript',
    scheduledscript: 'ScheduledScript',
    suitelet: 'Suitelet',
    clientscript: 'ClientScript',
    workflowactionscript: 'WorkflowActionScript',
    massupdatescript: 'MassUpdateScript',
    portlet: 'Portlet',
    bundleinstallationscript: 'BundleInstallationScript',
    sdfinstallationscript: 'SDFInstallationScript',
};
const SCRIPT_STATUS = ['COMPLETED', 'INPROGRESS', 'INQUEUE', 'NOTSCHEDULED', 'RELEASED', 'SCHEDULED', 'TESTING'];
const LOG_LEVELS = ['AUDIT', 'DEBUG', 'EMERGENCY', 'ERROR', 'INTERNAL', 'SYSTEM'];
const EVENT_TYPES = ['APPROVE', 'CANCEL', 'CHANGEPASSWORD', 'COPY', 'CREATE', 'DELETE', 'DROPSHIP', 'EDIT',
    'EDITFORECAST', 'EMAIL', 'GET', 'MARKCOMPLETE', 'ORDERITEMS', 'PACK', 'PAYBILLS', 'POST', 'PRINT', 'QUICKVIEW',
    'REASSIGN', 'REJECT', 'RETRACT', 'SAVESUBMIT', 'SHIP', 'SPECIALORDER', 'TRANSFORM', 'VIEW', 'XEDIT'];
const EXECUTION_CONTEXTS = ['ACTION', 'ADVANCEDREVREC', 'BANKCONNECTIVITY', 'BANKSTATEMENTPARSER', 'BUNDLEINSTALLATION',
    'CLIENT', 'CONSOLRATEADJUSTOR', 'CSVIMPORT', 'CUSTOMGLLINES', 'CUSTOMMASSUPDATE', 'DATASETBUILDER', 'DEBUGGER',
    'EMAILCAPTURE', 'FICONNECTIVITY', 'FIPARSER', 'MAPREDUCE', 'OCRPLUGIN', 'OFFLINECLIENT', 'OTHER', 'PAYMENTGATEWAY',
    'PAYMENTPOSTBACK', 'PLATFORMEXTENSION', 'PORTLET', 'PROMOTIONS', 'RECORDACTION', 'RESTLET', 'RESTWEBSERVICES',
    'SCHEDULED', 'SDFINSTALLATION', 'SHIPPINGPARTNERS', 'SUITELET', 'TAXCALCULATION', 'USEREVENT', 'USERINTERFACE',
    'WEBAPPLICATION', 'WEBSERVICES', 'WEBSTORE', 'WORKBOOKBUILDER', 'WORKFLOW'];
const FIELD_TYPES = ['CHECKBOX', 'CLOBTEXT', 'CURRENCY', 'DATE', 'DATETIMETZ', 'DOCUMENT', 'EMAIL', 'FLOAT', 'HELP',
    'IMAGE', 'INLINEHTML', 'INTEGER', 'MULTISELECT', 'PASSWORD', 'PERCENT', 'PHONE', 'RICHTEXT', 'SELECT', 'TEXT',
    'TEXTAREA', 'TIMEOFDAY', 'URL'];
const SETTINGS = ['', 'COMPANY', 'PORTLET', 'USER'];
const ACCESS_TYPES = ['CUSTRECORDENTRYPERM', 'NONENEEDED', 'USEPERMISSIONLIST'];
const REPEAT_TIMES = ['PT12H', 'PT15M', 'PT1H', 'PT2H', 'PT30M', 'PT4H', 'PT6H', 'PT8H'];
/** Standard record types a user event may be deployed on (the subset of generic_standard_recordtype we know). */
const RECORD_TYPES = ['ASSEMBLYBUILD', 'ASSEMBLYUNBUILD', 'BINTRANSFER', 'BINWORKSHEET', 'CASHREFUND', 'CASHSALE',
    'CREDITMEMO', 'CUSTOMER', 'CUSTOMERDEPOSIT', 'CUSTOMERPAYMENT', 'ESTIMATE', 'INVENTORYADJUSTMENT',
    'INVENTORYCOSTREVALUATION', 'INVENTORYCOUNT', 'INVENTORYITEM', 'INVENTORYSTATUSCHANGE', 'INVENTORYTRANSFER',
    'INVOICE', 'ITEMFULFILLMENT', 'ITEMRECEIPT', 'JOURNALENTRY', 'KITITEM', 'LOCATION', 'PURCHASEORDER',
    'RETURNAUTHORIZATION', 'SALESORDER', 'TRANSFERORDER', 'VENDORBILL', 'VENDORRETURNAUTHORIZATION', 'WORKORDER',
    'WORKORDERCLOSE', 'WORKORDERCOMPLETION', 'WORKORDERISSUE', 'ASSEMBLYITEM', 'DEPOSIT'];
const MAX_ID = 40;

/** Child elements the SDF reference allows, per object type and nested structure. */
const SCRIPT_FIELD = ['fieldtype', 'label', 'selectrecordtype', 'applyformatting', 'defaultchecked', 'defaultselection',
    'defaultvalue', 'description', 'displaytype', 'dynamicdefault', 'help', 'linktext', 'minvalue', 'maxvalue', 'storevalue',
    'accesslevel', 'checkspelling', 'displayheight', 'displaywidth', 'isformula', 'ismandatory', 'maxlength',
    'onparentdelete', 'searchcomparefield', 'searchdefault', 'searchlevel', 'setting', 'customfieldfilters', 'roleaccesses'];
const CUSTOM_FIELD_COMMON = ['fieldtype', 'label', 'selectrecordtype', 'applyformatting', 'defaultchecked', 'defaultselection',
    'defaultvalue', 'description', 'displaytype', 'dynamicdefault', 'help', 'linktext', 'minvalue', 'maxvalue', 'storevalue',
    'accesslevel', 'encryptatrest', 'displayheight', 'displaywidth', 'isformula', 'ismandatory', 'maxlength',
    'onparentdelete', 'searchcomparefield', 'searchdefault', 'searchlevel', 'sourcefilterby', 'sourcefrom', 'sourcelist',
    'customfieldfilters', 'roleaccesses'];
const ALLOWED = {
    usereventscript: ['name', 'scriptfile', 'description', 'isinactive', 'notifyadmins', 'notifyemails', 'notifygroup',
        'notifyowner', 'notifyuser', 'aftersubmitfunction', 'beforeloadfunction', 'beforesubmitfunction',
        'customplugintypes', 'libraries', 'scriptcustomfields', 'scriptdeployments'],
    'usereventscript.scriptdeployment': ['status', 'recordtype', 'allemployees', 'allpartners', 'allroles', 'auddepartment',
        'audemployee', 'audgroup', 'audpartner', 'audslctrole', 'audsubsidiary', 'eventtype', 'isdeployed', 'loglevel',
        'runasrole', 'alllocalizationcontexts', 'executioncontext', 'localizationcontext'],
    restlet: ['name', 'scriptfile', 'description', 'isinactive', 'notifyadmins', 'notifyemails', 'notifygroup', 'notifyowner',
        'notifyuser', 'deletefunction', 'getfunction', 'postfunction', 'putfunction', 'customplugintypes', 'libraries',
        'scriptcustomfields', 'scriptdeployments'],
    'restlet.scriptdeployment': ['status', 'title', 'allemployees', 'allpartners', 'allroles', 'auddepartment', 'audemployee',
        'audgroup', 'audpartner', 'audslctrole', 'audsubsidiary', 'isdeployed', 'loglevel'],
    mapreducescript: ['name', 'scriptfile', 'description', 'isinactive', 'notifyadmins', 'notifyemails', 'notifygroup',
        'notifyowner', 'customplugintypes', 'scriptcustomfields', 'scriptdeployments'],
    'mapreducescript.scriptdeployment': ['status', 'title', 'isdeployed', 'loglevel', 'runasrole', 'buffersize',
        'concurrencylimit', 'queueallstagesatonce', 'yieldaftermins', 'recurrence'],
    scriptcustomfield: SCRIPT_FIELD,
    recurrence: ['daily', 'everyweekday', 'monthly', 'monthlydayofweek', 'single', 'weekly', 'yearly', 'yearlydayofweek'],
    transactionbodycustomfield: CUSTOM_FIELD_COMMON.concat(['checkspelling', 'globalsearch', 'showhierarchy', 'showinlist',
        'isparent', 'parentsubtab', 'subtab', 'bodyassemblybuild', 'bodybom', 'bodycustomerpayment', 'bodydeposit',
        'bodydepositapplication', 'bodyexpensereport', 'bodyinventoryadjustment', 'bodyfulfillmentrequest', 'bodystorepickup',
        'bodyitemfulfillment', 'bodyitemfulfillmentorder', 'bodyitemreceipt', 'bodyitemreceiptorder', 'bodyjournal',
        'bodyperiodendjournal', 'bodyopportunity', 'bodyothertransaction', 'bodypaycheck', 'bodypickingticket',
        'bodyprintflag', 'bodyprintpackingslip', 'bodyprintstatement', 'bodypurchase', 'bodysale', 'bodystore',
        'bodytransferorder', 'bodyvendorpayment', 'bodybtegata', 'fldsizelabel', 'bodycustomtransactions']),
    transactioncolumncustomfield: CUSTOM_FIELD_COMMON.concat(['showhierarchy', 'colbuild', 'colexpense', 'colexpensereport',
        'colgrouponinvoices', 'colinventoryadjustment', 'colfulfillmentrequest', 'colstorepickup', 'colitemfulfillment',
        'colitemfulfillmentorder', 'colitemreceipt', 'colitemreceiptorder', 'coljournal', 'colperiodendjournal', 'colkititem',
        'colopportunity', 'colpackingslip', 'colpaycheckcompanycontribution', 'colpaycheckcompanytax', 'colpaycheckdeduction',
        'colpaycheckearning', 'colpaycheckemployeetax', 'colpickingticket', 'colprintflag', 'colpurchase', 'colreturnform',
        'colsale', 'colstore', 'colstorehidden', 'colstorewithgroups', 'coltime', 'coltransferorder',
        'columncustomtransactions']),
    customrecordtype: ['recordname', 'customsegment', 'accesstype', 'allowattachments', 'allowinlineediting',
        'allowinlinedeleting', 'allowinlinedetaching', 'allowmobileaccess', 'allownumberingoverride', 'allowquickadd',
        'allowquicksearch', 'allowuiaccess', 'description', 'enabledle', 'enablekeywords', 'enablemailmerge',
        'enablenametranslation', 'enablenumbering', 'enableoptimisticlocking', 'enablesystemnotes', 'hierarchical',
        'numberingprefix', 'numberingsuffix', 'numberingmindigits', 'numberinginit', 'icon', 'iconbuiltin', 'iconindex',
        'includeinsearchmenu', 'includename', 'isinactive', 'isordered', 'showcreationdate', 'showcreationdateonlist',
        'showid', 'showlastmodified', 'showlastmodifiedonlist', 'shownotes', 'showowner', 'showownerallowchange',
        'showowneronlist', 'customrecordcustomfields', 'instances', 'links', 'permissions', 'recordsublists', 'subtabs'],
    customrecordcustomfield: CUSTOM_FIELD_COMMON.concat(['checkspelling', 'globalsearch', 'showinlist', 'isparent',
        'parentsubtab', 'subtab', 'allowquickadd', 'rolerestrict']),
    schedule: ['startdate', 'starttime', 'enddate', 'repeat', 'everyxdays', 'everyxweeks', 'everyxmonths', 'orderofweek',
        'dayofweek', 'dayofmonth', 'month', 'sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'],
};

function walk(dir) {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).reduce((acc, d) => {
        const p = path.join(dir, d.name);
        return acc.concat(d.isDirectory() ? walk(p) : [p]);
    }, []);
}

/** deploy.xml path pattern ("~/Objects/*", "~/FileCabinet/SuiteScripts/x/*", exact file) -> matcher. */
function pathMatcher(pattern) {
    const p = pattern.replace(/^~\//, '');
    if (p.endsWith('/*')) {
        const prefix = p.slice(0, -1);
        return (rel) => rel.startsWith(prefix);
    }
    return (rel) => rel === p;
}

function lint(projectDir) {
    const src = path.join(projectDir, 'src');
    const errors = [];
    const err = (file, msg) => errors.push(path.relative(projectDir, file) + ': ' + msg);
    const ids = {};
    const claim = (file, id, what) => {
        if (ids[id]) err(file, 'duplicate scriptid ' + id + ' (' + what + '; also in ' + ids[id] + ')');
        else ids[id] = path.relative(projectDir, file);
    };
    const idRule = (file, id, prefix, what) => {
        if (!id) return err(file, what + ' without scriptid');
        if (!new RegExp('^' + prefix + '[0-9a-z_]+$').test(id)) err(file, what + ' scriptid ' + id + ' must match ^' + prefix + '[0-9a-z_]+$');
        if (id.length > MAX_ID) err(file, what + ' scriptid ' + id + ' is longer than ' + MAX_ID + ' characters');
        claim(file, id, what);
        return null;
    };
    const oneOf = (file, value, allowed, what) => {
        if (value !== null && allowed.indexOf(value) < 0) err(file, what + ' "' + value + '" is not one of ' + allowed.join(', '));
    };
    /** Only elements the SDF reference knows for `kind` (plus parameter values on deployments). */
    const elements = (file, el, kind, label) => {
        const allowed = ALLOWED[kind];
        if (!allowed) return;
        el.children.forEach((c) => {
            if (allowed.indexOf(c.name) >= 0) return;
            if (/scriptdeployment$/.test(kind) && /^custscript/.test(c.name)) return;
            err(file, 'unknown element <' + c.name + '> in ' + label);
        });
    };
    const bool = (file, el, name) => {
        const v = xml.textOf(el, name);
        if (v !== null && v !== 'T' && v !== 'F') err(file, '<' + name + '> must be T or F, not "' + v + '"');
    };

    // manifest.xml
    const manifestFile = path.join(src, 'manifest.xml');
    let features = [];
    if (!fs.existsSync(manifestFile)) {
        err(manifestFile, 'missing');
    } else {
        try {
            const m = xml.parse(fs.readFileSync(manifestFile, 'utf8'));
            if (m.name !== 'manifest') err(manifestFile, 'root must be <manifest>');
            if (m.attrs.projecttype !== 'ACCOUNTCUSTOMIZATION') err(manifestFile, 'projecttype must be ACCOUNTCUSTOMIZATION');
            if (!xml.textOf(m, 'projectname')) err(manifestFile, '<projectname> missing');
            if (!xml.textOf(m, 'frameworkversion')) err(manifestFile, '<frameworkversion> missing');
            const deps = xml.child(m, 'dependencies');
            const feats = deps && xml.child(deps, 'features');
            features = feats ? xml.children(feats, 'feature').filter((f) => f.attrs.required === 'true').map((f) => f.text) : [];
        } catch (e) {
            err(manifestFile, 'not well-formed: ' + e.message);
        }
    }

    // deploy.xml
    const deployFile = path.join(src, 'deploy.xml');
    let fileRules = [];
    let objectRules = [];
    if (!fs.existsSync(deployFile)) {
        err(deployFile, 'missing');
    } else {
        try {
            const d = xml.parse(fs.readFileSync(deployFile, 'utf8'));
            if (d.name !== 'deploy') err(deployFile, 'root must be <deploy>');
            const files = xml.child(d, 'files');
            const objects = xml.child(d, 'objects');
            fileRules = files ? xml.children(files, 'path').map((p) => pathMatcher(p.text)) : [];
            objectRules = objects ? xml.children(objects, 'path').map((p) => pathMatcher(p.text)) : [];
        } catch (e) {
            err(deployFile, 'not well-formed: ' + e.message);
        }
    }
    const covered = (rules, rel) => rules.some((r) => r(rel));

    // the FileCabinet: every script file deployed, every relative define() dependency present
    const cabinet = path.join(src, 'FileCabinet');
    walk(cabinet).filter((f) => f.endsWith('.js')).forEach((f) => {
        const rel = path.relative(src, f).split(path.sep).join('/');
        if (!covered(fileRules, rel)) err(f, 'not covered by any <files><path> in deploy.xml');
        const code = fs.readFileSync(f, 'utf8');
        const deps = /define\(\s*\[([^\]]*)\]/.exec(code);
        if (!deps) return err(f, 'no AMD define([...], …)');
        (deps[1].match(/['"][^'"]+['"]/g) || []).map((s) => s.slice(1, -1)).forEach((dep) => {
            if (dep.startsWith('N/')) return;
            if (!dep.startsWith('./') && !dep.startsWith('../')) return err(f, 'dependency "' + dep + '" must be relative');
            const target = path.resolve(path.dirname(f), dep.endsWith('.js') ? dep : dep + '.js');
            if (!fs.existsSync(target)) err(f, 'dependency "' + dep + '" not found');
        });
        if (!/@NApiVersion 2\.(1|x)/.test(code)) err(f, 'missing @NApiVersion 2.1 JSDoc tag');
    });

    const objectsDir = path.join(src, 'Objects');
    const objectFiles = walk(objectsDir).filter((f) => f.endsWith('.xml'));
    if (!objectFiles.length) err(objectsDir, 'no object XML files');
    const customRecords = [];
    let hasScripts = false;
    let hasCustomRecords = false;
    const deferred = [];

    objectFiles.forEach((file) => {
        const rel = path.relative(src, file).split(path.sep).join('/');
        if (!covered(objectRules, rel)) err(file, 'not covered by any <objects><path> in deploy.xml');
        let root;
        try {
            root = xml.parse(fs.readFileSync(file, 'utf8'));
        } catch (e) {
            return err(file, 'not well-formed: ' + e.message);
        }
        const type = root.name;
        const prefix = OBJECT_TYPES[type];
        if (!prefix) return err(file, 'root <' + type + '> is not a known SDF object type');
        const scriptid = root.attrs.scriptid;
        idRule(file, scriptid, prefix, type);
        if (scriptid && path.basename(file) !== scriptid + '.xml') err(file, 'file name must be ' + scriptid + '.xml');
        elements(file, root, type, '<' + type + '>');

        if (SCRIPT_TYPES[type]) {
            hasScripts = true;
            const name = xml.textOf(root, 'name');
            if (!name) err(file, '<name> missing');
            else if (name.length > MAX_ID) err(file, '<name> longer than ' + MAX_ID + ' characters');
            bool(file, root, 'isinactive');
            const ref = xml.textOf(root, 'scriptfile');
            const m = /^\[(\/SuiteScripts\/[^\]]+\.js)\]$/.exec(ref || '');
            if (!m) {
                err(file, '<scriptfile> must look like [/SuiteScripts/….js], got "' + ref + '"');
            } else {
                const js = path.join(cabinet, m[1]);
                if (!fs.existsSync(js)) {
                    err(file, 'script file ' + m[1] + ' does not exist under src/FileCabinet');
                } else {
                    const code = fs.readFileSync(js, 'utf8');
                    const declared = /@NScriptType\s+(\w+)/.exec(code);
                    if (!declared || declared[1].toLowerCase() !== SCRIPT_TYPES[type].toLowerCase()) {
                        err(file, m[1] + ' must declare @NScriptType ' + SCRIPT_TYPES[type]);
                    }
                    if (!covered(fileRules, ('FileCabinet' + m[1]))) err(file, m[1] + ' not covered by deploy.xml <files>');
                }
            }
            const params = xml.child(root, 'scriptcustomfields');
            (params ? xml.children(params, 'scriptcustomfield') : []).forEach((p) => {
                idRule(file, p.attrs.scriptid, 'custscript', 'scriptcustomfield');
                elements(file, p, 'scriptcustomfield', p.attrs.scriptid);
                oneOf(file, xml.textOf(p, 'fieldtype'), FIELD_TYPES, 'fieldtype of ' + p.attrs.scriptid);
                oneOf(file, xml.textOf(p, 'setting'), SETTINGS, 'setting of ' + p.attrs.scriptid);
                if (!xml.textOf(p, 'label')) err(file, p.attrs.scriptid + ' without <label>');
                ['defaultchecked', 'ismandatory', 'storevalue'].forEach((b) => bool(file, p, b));
            });
            const deployments = xml.child(root, 'scriptdeployments');
            const list = deployments ? xml.children(deployments, 'scriptdeployment') : [];
            if (!list.length) err(file, 'no <scriptdeployment>');
            list.forEach((d) => {
                const did = d.attrs.scriptid;
                idRule(file, did, 'customdeploy', 'scriptdeployment');
                elements(file, d, type + '.scriptdeployment', did);
                const status = xml.textOf(d, 'status');
                if (!status) err(file, did + ' without <status>');
                oneOf(file, status, SCRIPT_STATUS, 'status of ' + did);
                oneOf(file, xml.textOf(d, 'loglevel'), LOG_LEVELS, 'loglevel of ' + did);
                ['isdeployed', 'allroles', 'allemployees', 'allpartners'].forEach((b) => bool(file, d, b));
                if ((ALLOWED[type + '.scriptdeployment'] || ['title']).indexOf('title') >= 0 && !xml.textOf(d, 'title')) {
                    err(file, did + ' without <title>');
                }
                if (type === 'usereventscript' || type === 'clientscript') {
                    const rt = xml.textOf(d, 'recordtype');
                    if (!rt) err(file, did + ' without <recordtype>');
                    else if (/^\[.*\]$/.test(rt)) deferred.push({ file, ref: rt.slice(1, -1).replace(/^scriptid=/, ''), what: 'recordtype of ' + did });
                    else oneOf(file, rt, RECORD_TYPES, 'recordtype of ' + did);
                    const events = xml.textOf(d, 'eventtype');
                    if (events) oneOf(file, events, EVENT_TYPES, 'eventtype of ' + did);
                    const ctx = xml.textOf(d, 'executioncontext');
                    if (ctx) ctx.split('|').forEach((c) => oneOf(file, c, EXECUTION_CONTEXTS, 'executioncontext of ' + did));
                }
                const rec = xml.child(d, 'recurrence');
                if (status === 'SCHEDULED' && !rec) err(file, did + ' is SCHEDULED without <recurrence>');
                if (rec) {
                    elements(file, rec, 'recurrence', did + ' <recurrence>');
                    rec.children.forEach((r) => {
                        elements(file, r, 'schedule', did + ' <' + r.name + '>');
                        if (!xml.textOf(r, 'startdate') || !/^\d{4}-\d{2}-\d{2}$/.test(xml.textOf(r, 'startdate'))) err(file, did + ' recurrence needs <startdate> YYYY-MM-DD');
                        if (!xml.textOf(r, 'starttime')) err(file, did + ' recurrence needs <starttime>');
                        const repeat = xml.textOf(r, 'repeat');
                        if (repeat) oneOf(file, repeat, REPEAT_TIMES, 'repeat of ' + did);
                    });
                }
                // parameter values set on a deployment must be parameters of this script
                d.children.filter((c) => /^custscript/.test(c.name)).forEach((c) => {
                    const declared = (params ? xml.children(params, 'scriptcustomfield') : []).some((p) => p.attrs.scriptid === c.name);
                    if (!declared) err(file, did + ' sets undeclared parameter ' + c.name);
                });
            });
        } else if (type === 'transactionbodycustomfield' || type === 'transactioncolumncustomfield') {
            oneOf(file, xml.textOf(root, 'fieldtype'), FIELD_TYPES, 'fieldtype');
            if (!xml.textOf(root, 'label')) err(file, '<label> missing');
            const flag = type === 'transactionbodycustomfield' ? /^body/ : /^col/;
            const applied = root.children.filter((c) => flag.test(c.name));
            applied.forEach((c) => bool(file, root, c.name));
            if (!applied.some((c) => c.text === 'T')) err(file, 'applies to no transaction (no ' + flag.source.slice(1) + '… = T)');
            const st = xml.textOf(root, 'fieldtype');
            if ((st === 'SELECT' || st === 'MULTISELECT') && !xml.textOf(root, 'selectrecordtype')) err(file, 'SELECT field without <selectrecordtype>');
        } else if (type === 'customrecordtype') {
            hasCustomRecords = true;
            customRecords.push(scriptid);
            if (!xml.textOf(root, 'recordname')) err(file, '<recordname> missing');
            oneOf(file, xml.textOf(root, 'accesstype'), ACCESS_TYPES, 'accesstype');
            const fields = xml.child(root, 'customrecordcustomfields');
            (fields ? xml.children(fields, 'customrecordcustomfield') : []).forEach((f) => {
                idRule(file, f.attrs.scriptid, 'custrecord', 'customrecordcustomfield');
                elements(file, f, 'customrecordcustomfield', f.attrs.scriptid);
                oneOf(file, xml.textOf(f, 'fieldtype'), FIELD_TYPES, 'fieldtype of ' + f.attrs.scriptid);
                if (!xml.textOf(f, 'label')) err(file, f.attrs.scriptid + ' without <label>');
            });
        }
    });

    deferred.forEach((d) => {
        if (customRecords.indexOf(d.ref) < 0) err(d.file, d.what + ' references unknown custom record ' + d.ref);
    });
    if (hasScripts && features.indexOf('SERVERSIDESCRIPTING') < 0) err(manifestFile, 'scripts need <feature required="true">SERVERSIDESCRIPTING</feature>');
    if (hasCustomRecords && features.indexOf('CUSTOMRECORDS') < 0) err(manifestFile, 'custom records need <feature required="true">CUSTOMRECORDS</feature>');

    // every custom id the scripts name in lib/constants.js is defined by an object here
    const constantsFile = path.join(cabinet, 'SuiteScripts', 'ttns', 'lib', 'constants.js');
    if (fs.existsSync(constantsFile)) {
        const code = fs.readFileSync(constantsFile, 'utf8');
        (code.match(/'(custbody|custcol|custrecord|custscript|customrecord)_[0-9a-z_]+'/g) || [])
            .map((s) => s.slice(1, -1))
            .forEach((id) => { if (!ids[id]) err(constantsFile, id + ' is used by the scripts but defined by no object'); });
    }

    return { errors: errors, objects: objectFiles.length, ids: Object.keys(ids).length };
}

if (require.main === module) {
    const dir = path.resolve(process.argv[2] || path.join(__dirname, '..'));
    const result = lint(dir);
    if (result.errors.length) {
        result.errors.forEach((e) => process.stderr.write('lint-objects: ' + e + '\n'));
        process.stderr.write('lint-objects: ' + result.errors.length + ' problem(s)\n');
        process.exit(1);
    }
    process.stdout.write('lint-objects: ' + result.objects + ' object files, ' + result.ids + ' script ids OK\n');
}

module.exports = { lint, OBJECT_TYPES };
