/**
 * Signs bodies for the bridge: lower-hex HMAC-SHA256(key = API secret, message = timestamp + "." + body).
 *
 * @NApiVersion 2.1
 * @NModuleScope SameAccount
 */
define(['./constants'], (C) => {
    /**
     * @param {{crypto: Object, encode: Object}} N  N/crypto and N/encode
     * @param {number|string} timestamp  Unix seconds, exactly as sent in X-TTNS-Timestamp
     * @param {string} body  the exact bytes that are sent
     * @param {string} [secretId]  API secret script id (default custsecret_ttns_events)
     * @returns {string} lower-case hex digest
     */
    function sign(N, timestamp, body, secretId) {
        const key = N.crypto.createSecretKey({
            secret: secretId || C.SECRET_ID,
            encoding: N.encode.Encoding.UTF_8,
        });
        const hmac = N.crypto.createHmac({ algorithm: N.crypto.HashAlg.SHA256, key: key });
        hmac.update({ input: String(timestamp) + '.' + body, inputEncoding: N.encode.Encoding.UTF_8 });
        return String(hmac.digest({ outputEncoding: N.encode.Encoding.HEX })).toLowerCase();
    }

    /** The three request headers for one POST of `body` at `nowMs`. */
    function headers(N, body, nowMs, secretId) {
        const timestamp = Math.floor(nowMs / 1000);
        return {
            'Content-Type': 'application/json',
            'X-TTNS-Timestamp': String(timestamp),
            'X-TTNS-Signature': sign(N, timestamp, body, secretId),
        };
    }

    return { sign, headers };
});
