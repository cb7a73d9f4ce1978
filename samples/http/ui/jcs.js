// The event hash of DESIGN.md ("Stored event format"), recomputed in the browser:
// event_hash = lowercase hex SHA-256 of the RFC 8785 (JCS) canonical JSON of the stored event
// object without its event_hash key. That object holds originator_id, originator_version,
// timestamp, topic, previous_hash and the event's own fields (the `data` of GET
// /examples/<id>/events). JCS serializes numbers as ECMAScript's Number-to-String, which is
// exactly what JSON.stringify does for a finite number, sorts keys by UTF-16 code units
// (Array.prototype.sort's default order) and escapes strings minimally (JSON.stringify's
// escaping). Also loaded by node in tests/browser/jcs_check.js against tests/data.
"use strict";

(function (root) {
  function canonicalize(value) {
    if (value === null) return "null";
    switch (typeof value) {
      case "boolean":
        return value ? "true" : "false";
      case "number":
        if (!Number.isFinite(value)) throw new Error("JCS: a number must be finite");
        return JSON.stringify(value); // -0 becomes "0", as RFC 8785 asks
      case "string":
        return JSON.stringify(value);
      case "object":
        if (Array.isArray(value)) return "[" + value.map(canonicalize).join(",") + "]";
        return "{" + Object.keys(value).sort().map(function (k) {
          return JSON.stringify(k) + ":" + canonicalize(value[k]);
        }).join(",") + "}";
      default:
        throw new Error("JCS: cannot serialize a " + typeof value);
    }
  }

  // The object an event's hash covers, from an item of GET /examples/<id>/events. A
  // null-prototype object, so that a field named "__proto__" stays a field.
  function hashedObject(entityId, item) {
    var o = Object.create(null);
    var data = item.data || {};
    Object.keys(data).forEach(function (k) { o[k] = data[k]; });
    o.originator_id = entityId;
    o.originator_version = item.version;
    o.timestamp = item.timestamp;
    o.topic = item.topic;
    o.previous_hash = item.previous_hash;
    return o;
  }

  function toHex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
  }

  function subtle() {
    var c = root.crypto || (typeof require === "function" ? require("crypto").webcrypto : null);
    if (!c || !c.subtle) throw new Error("WebCrypto is not available (a secure context is needed)");
    return c.subtle;
  }

  function sha256Hex(text) {
    return subtle().digest("SHA-256", new TextEncoder().encode(text)).then(toHex);
  }

  // Verdicts for a run of events in version order. `previousHash` is the stored hash of the
  // event before the first one ("" when the first is version 0). Each verdict: {version, ok,
  // computed, reasons: [...]}. A tampered event is broken at its own version; the next one
  // still links to the hash stored with it.
  function verifyEvents(entityId, items, previousHash, expectedVersion) {
    var prev = previousHash || "";
    var version = expectedVersion === undefined ? (items.length ? items[0].version : 0)
                                                : expectedVersion;
    var work = Promise.resolve([]);
    items.forEach(function (item) {
      var linkedTo = prev;
      var wanted = version;
      prev = item.hash;
      version = item.version + 1;
      work = work.then(function (verdicts) {
        var reasons = [];
        if (item.version !== wanted) reasons.push("version " + item.version + " where " + wanted + " was expected");
        if (item.previous_hash !== linkedTo) reasons.push("previous_hash does not link to the event before");
        var text;
        try {
          text = canonicalize(hashedObject(entityId, item));
        } catch (e) {
          reasons.push(String(e.message || e));
          verdicts.push({ version: item.version, ok: false, computed: "", reasons: reasons });
          return verdicts;
        }
        return sha256Hex(text).then(function (computed) {
          if (computed !== item.hash) reasons.push("hash mismatch: stored " + item.hash + ", computed " + computed);
          verdicts.push({ version: item.version, ok: reasons.length === 0, computed: computed, reasons: reasons });
          return verdicts;
        });
      });
    });
    return work;
  }

  var api = { canonicalize: canonicalize, hashedObject: hashedObject, sha256Hex: sha256Hex,
              verifyEvents: verifyEvents };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.JCS = api;
})(typeof globalThis !== "undefined" ? globalThis : this);
