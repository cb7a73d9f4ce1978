// Checks the event browser's hash code (samples/http/ui/jcs.js) against the C++ side's test
// data, under node (no browser needed): every number of tests/data/jcs-numbers.txt
// serializes as RFC 8785 says, and every event of tests/data/example-chain.jsonl (stored by
// the C++ code) canonicalizes back to its stored text and verifies, while a tampered copy is
// broken at its own version only.
// Usage: node jcs_check.js <jcs.js> <tests/data>
"use strict";
const fs = require("fs");
const path = require("path");
const JCS = require(path.resolve(process.argv[2]));
const dataDir = process.argv[3];
let failures = 0;
function check(ok, what) {
  if (!ok) { failures++; console.error("FAIL " + what); }
}

// "0x1.4000000000000p+1" -> 2.5 (exact: the mantissa fits 53 bits, scaling by 2^n is exact)
function hexFloat(text) {
  const m = /^(-)?0x([01])\.([0-9a-f]+)p([+-]\d+)$/.exec(text);
  if (!m) throw new Error("not a hex float: " + text);
  const digits = m[3].length;
  const mantissa = Number(BigInt(m[2]) * (16n ** BigInt(digits)) + BigInt("0x" + m[3]));
  const value = mantissa * Math.pow(2, Number(m[4]) - 4 * digits);
  return m[1] ? -value : value;
}

let numbers = 0;
for (const line of fs.readFileSync(path.join(dataDir, "jcs-numbers.txt"), "utf8").split("\n")) {
  if (!line.trim()) continue;
  const [hex, expected] = line.trim().split(/\s+/);
  const got = JCS.canonicalize(hexFloat(hex));
  check(got === expected, `number ${hex}: ${got} != ${expected}`);
  numbers++;
}

async function chain() {
  const lines = fs.readFileSync(path.join(dataDir, "example-chain.jsonl"), "utf8")
    .split("\n").filter((l) => l.trim());
  const items = [];
  let id = null;
  let previous = "";
  for (const line of lines) {
    const entry = JSON.parse(line);
    const event = JSON.parse(entry.state);
    check(JCS.canonicalize(event) === entry.state, `v${event.originator_version}: not canonical again`);
    const stored = event.event_hash;
    delete event.event_hash;
    const computed = await JCS.sha256Hex(JCS.canonicalize(event));
    check(computed === stored, `v${event.originator_version}: hash ${computed} != ${stored}`);
    check(event.previous_hash === previous, `v${event.originator_version}: previous_hash`);
    previous = stored;
    id = event.originator_id;
    // The item GET /examples/<id>/events would answer for it.
    const data = {};
    for (const k of Object.keys(event)) {
      if (!["originator_id", "originator_version", "timestamp", "topic", "previous_hash"].includes(k)) data[k] = event[k];
    }
    items.push({ version: event.originator_version, topic: event.topic, timestamp: event.timestamp,
                 previous_hash: event.previous_hash, hash: stored, data });
  }
  const verdicts = await JCS.verifyEvents(id, items, "", 0);
  check(verdicts.length === items.length && verdicts.every((v) => v.ok),
        "verifyEvents on the stored chain: " + JSON.stringify(verdicts.filter((v) => !v.ok)));
  const tampered = JSON.parse(JSON.stringify(items));
  tampered[1].data.value = 51;
  const after = await JCS.verifyEvents(id, tampered, "", 0);
  check(!after[1].ok && after.filter((v) => !v.ok).length === 1,
        "a tampered event must be broken at its own version only: " + JSON.stringify(after));
  return items.length;
}

chain().then((events) => {
  if (failures) {
    console.error(`jcs_check: ${failures} failure(s)`);
    process.exit(1);
  }
  console.log(`jcs_check: ok (${numbers} numbers, ${events} stored events, tampering found)`);
}, (e) => { console.error("jcs_check: " + (e.stack || e)); process.exit(1); });
