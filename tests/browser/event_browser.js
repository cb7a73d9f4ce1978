// The event browser (GET /ui/) in a real headless Chromium, driven with puppeteer-core,
// against a running example-server on a private redis-server (event_browser_test.sh starts
// both). Steps, each with a screenshot in --shots:
//   1. the list shows the examples created through HTTP first (and the foo search finds one);
//   2. the version slider at N shows the same state as GET /examples/<id>?at=N, and every
//      event's hash recomputed in the browser agrees with the server's (all "ok");
//   3. an event altered by hand in Redis shows as broken at its version, the others ok; and
//      es-verify --redis URL exits 1 naming the same entity (es-verify missing: a failure);
//   4. a new event appears in the live tail (server-sent events) within 2 s.
// Every step runs; the failures are listed at the end (exit 1).
"use strict";
const { execFileSync, spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");
const puppeteer = require("puppeteer-core");

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
for (const k of ["url", "redis-port", "chromium", "shots", "es-verify"]) {
  if (!args[k]) { console.error(`event_browser.js: --${k} is required`); process.exit(2); }
}
const base = args.url;
const redisUrl = `redis://127.0.0.1:${args["redis-port"]}`;
fs.mkdirSync(args.shots, { recursive: true });

const failures = [];
function check(ok, what) {
  console.log((ok ? "ok   " : "FAIL ") + what);
  if (!ok) failures.push(what);
  return ok;
}

async function http(method, url, body) {
  const res = await fetch(base + url, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    signal: AbortSignal.timeout(10000)
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

function redis(...command) {
  return execFileSync("redis-cli", ["-p", args["redis-port"], "--raw", ...command],
                      { encoding: "utf8", timeout: 10000 });
}

function deepEqual(a, b) { return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b)); }
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k]);
    return o;
  }
  return v;
}

async function shot(page, name) {
  const file = path.join(args.shots, name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  console.log("     screenshot " + file);
}

async function step(name, body) {
  try {
    await body();
  } catch (e) {
    check(false, `${name}: ${e.message || e}`);
  }
}

// Waits until the page shows `id`'s events, all verified (one verdict per event up to
// `version`); returns [{version, verdict}].
async function waitForEvents(page, version) {
  await page.waitForFunction((v) => {
    const rows = document.querySelectorAll("#events tbody tr");
    return rows.length === v + 1 && Array.from(rows).every((r) => r.querySelector(".verdict"));
  }, { timeout: 10000 }, version);
  return page.$$eval("#events tbody tr", (rows) => rows.map((r) => ({
    version: Number(r.dataset.version), verdict: r.querySelector(".verdict").textContent })));
}

async function selectExample(page, id) {
  await page.waitForSelector(`#examples tbody tr[data-id="${id}"]`, { timeout: 10000 });
  await page.click(`#examples tbody tr[data-id="${id}"]`);
  await page.waitForFunction((id) => document.getElementById("detail-id").textContent === id,
                             { timeout: 5000 }, id);
}

async function setSlider(page, n) {
  await page.$eval("#slider", (s, n) => {
    s.value = String(n);
    s.dispatchEvent(new Event("input", { bubbles: true }));
  }, n);
  await page.waitForFunction((n) => document.getElementById("state").dataset.version === String(n),
                             { timeout: 5000 }, n);
  return page.$eval("#state", (pre) => pre.textContent);
}

async function main() {
  // ---- data, through HTTP --------------------------------------------------------------
  const created = [];
  for (const foo of ["alpha", "beta", "gamma", "delta"]) {
    const r = await http("POST", "/examples", { foo, a: created.length, b: "x" });
    if (r.status !== 201) throw new Error("POST /examples answered " + r.status);
    created.push(r.body.id);
  }
  // Values that test the browser's canonical JSON against the C++ writer's.
  const tricky = await http("POST", "/examples",
    { foo: "héllo ✓ 𝄞 \"q\" \\ \n\ttab", a: 0.1, b: { z: [1e21, 1e-7, -0.0, 123456789012345, true, null], "é": {}, "a": "" } });
  created.push(tricky.body.id);
  const target = created[1];
  await http("PATCH", `/examples/${target}`, { a: 4242 });            // v1
  await http("POST", `/examples/${target}/heartbeats`, { count: 2 }); // v2, v3
  await http("PATCH", `/examples/${target}`, { foo: "beta two", b: [1, 2.5] }); // v4, v5
  const latest = (await http("GET", `/examples/${target}`)).body.version;
  check(latest === 5, `the target example is at version 5 (is ${latest})`);

  const browser = await puppeteer.launch({
    executablePath: args.chromium,
    headless: true,
    args: (process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [])
      .concat(["--disable-dev-shm-usage", "--disable-gpu"]),
    defaultViewport: { width: 1440, height: 900 },
    timeout: 30000
  });
  const consoleErrors = [];
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
    await page.goto(base + "/ui/", { waitUntil: "load", timeout: 20000 });

    // ---- 1. the list ----------------------------------------------------------------
    await step("1 list", async () => {
      await page.waitForFunction((ids) => ids.every((id) => {
        const tr = document.querySelector(`#examples tbody tr[data-id="${id}"]`);
        return tr && tr.cells[2].textContent !== "";
      }), { timeout: 15000 }, created);
      const rows = await page.$$eval("#examples tbody tr", (rs) =>
        rs.map((r) => ({ id: r.dataset.id, foo: r.cells[1].textContent, version: r.cells[2].textContent })));
      for (const id of created) check(rows.some((r) => r.id === id), `1 list: shows ${id}`);
      const beta = rows.find((r) => r.id === target);
      check(beta && beta.foo === "beta two" && beta.version === "5", "1 list: shows foo and version of " + target);
      await shot(page, "1-list");
      await page.type("#foo", "gamma");
      await page.click("#search button[type=submit]");
      await page.waitForFunction(() => /with foo/.test(document.getElementById("list-status").textContent),
                                 { timeout: 10000 });
      const found = await page.$$eval("#examples tbody tr", (rs) => rs.map((r) => r.dataset.id));
      check(found.length === 1 && found[0] === created[2], "1 list: the foo search finds exactly gamma");
      await shot(page, "1-search");
      await page.click("#clear");
      await page.waitForSelector(`#examples tbody tr[data-id="${target}"]`, { timeout: 10000 });
    });

    // ---- 2. the slider, and hashes verified in the browser --------------------------------
    await step("2 slider", async () => {
      await selectExample(page, tricky.body.id);
      const trickyVerdicts = await waitForEvents(page, 0);
      check(trickyVerdicts[0].verdict === "ok", "2 hashes: the browser's hash of unusual values equals the server's");
      await selectExample(page, target);
      const verdicts = await waitForEvents(page, 5);
      check(verdicts.every((v) => v.verdict === "ok"),
            "2 hashes: every event verifies in the browser: " + JSON.stringify(verdicts));
      for (const n of [0, 1, 3, 5]) {
        const shown = JSON.parse(await setSlider(page, n));
        const server = (await http("GET", `/examples/${target}?at=${n}`)).body;
        check(deepEqual(shown, server), `2 slider: at ${n} the page shows GET ?at=${n}`);
        if (n === 3) await shot(page, "2-slider-at-3");
      }
    });

    // ---- 3. tampering ---------------------------------------------------------------------
    const tamperedVersion = 1;
    await step("3 tampered", async () => {
      const keys = redis("--scan", "--pattern", `*:entity:${target}`).split("\n").filter(Boolean);
      if (keys.length !== 1) throw new Error("expected one stream key for " + target + ", found " + keys.length);
      const key = keys[0];
      // Streams cannot change an entry in place: the stream is written again, entry for entry,
      // with one field of version 1's state altered ("value":4242 -> 4243).
      const lines = redis("XRANGE", key, "-", "+").split("\n");
      if (lines[lines.length - 1] === "") lines.pop();
      const entries = [];
      for (let i = 0; i + 4 < lines.length + 1; i += 5) {
        if (lines[i + 1] !== "topic" || lines[i + 3] !== "state") throw new Error("unexpected entry layout at " + lines[i]);
        entries.push({ id: lines[i], topic: lines[i + 2], state: lines[i + 4] });
      }
      const victim = entries.find((e) => e.id === `${tamperedVersion}-1`);
      if (!victim || !victim.state.includes('"value":4242')) throw new Error("version 1 does not hold \"value\":4242");
      victim.state = victim.state.replace('"value":4242', '"value":4243');
      redis("DEL", key);
      for (const e of entries) redis("XADD", key, e.id, "topic", e.topic, "state", e.state);
      check(redis("XLEN", key).trim() === String(entries.length), "3 tampered: the stream was written back whole");

      await page.click("#clear");
      await selectExample(page, created[0]);
      await selectExample(page, target);
      const verdicts = await waitForEvents(page, 5);
      check(verdicts.find((v) => v.version === tamperedVersion).verdict === "broken",
            `3 tampered: version ${tamperedVersion} shows as broken`);
      check(verdicts.filter((v) => v.verdict === "broken").length === 1,
            "3 tampered: only that version is broken: " + JSON.stringify(verdicts));
      const summary = await page.$eval("#chain-summary", (s) => s.textContent);
      check(summary.includes(`broken at version ${tamperedVersion}`), "3 tampered: the summary says " + summary);
      await shot(page, "3-tampered-broken-at-1");
    });

    // ---- 4. the live tail -----------------------------------------------------------------
    await step("4 live tail", async () => {
      await page.waitForFunction(() => /^live/.test(document.getElementById("tail-status").textContent),
                                 { timeout: 5000 });
      const before = Date.now();
      const r = await http("POST", `/examples/${target}/heartbeats`, { count: 1 });
      if (r.status !== 200) throw new Error("heartbeat answered " + r.status);
      const version = r.body.version;
      await page.waitForSelector(`#tail tbody tr[data-id="${target}"][data-version="${version}"]`,
                                 { timeout: 2000 });
      const ms = Date.now() - before;
      check(ms <= 2000, `4 live tail: version ${version} of ${target} shown after ${ms} ms (at most 2000)`);
      // The selected example follows: its new event is listed and verifies.
      await page.waitForSelector(`#events tbody tr[data-version="${version}"] .verdict`, { timeout: 5000 });
      const verdict = await page.$eval(`#events tbody tr[data-version="${version}"] .verdict`, (v) => v.textContent);
      check(verdict === "ok", `4 live tail: the new event ${version} verifies (after the tampered one)`);
      await shot(page, "4-live-tail");
    });
    check(consoleErrors.length === 0, "no script errors in the page: " + JSON.stringify(consoleErrors));
  } finally {
    await browser.close();
  }

  // ---- 3, continued: es-verify sees the same entity -------------------------------------
  if (!fs.existsSync(args["es-verify"])) {
    check(false, `3 es-verify: ${args["es-verify"]} is missing (the offline verifier, built by its own ` +
                 "target es-verify); the tampered chain was not cross-checked");
  } else {
    const run = spawnSync(args["es-verify"], ["--redis", redisUrl], { encoding: "utf8", timeout: 60000 });
    const output = (run.stdout || "") + (run.stderr || "");
    check(run.status === 1, `3 es-verify: exit status 1 for a broken chain (got ${run.status})`);
    check(output.includes(target), "3 es-verify: names the tampered entity " + target + ":\n" + output);
  }
}

main().then(() => {
  if (failures.length) {
    console.error(`\nevent browser test: ${failures.length} failure(s):\n  - ` + failures.join("\n  - "));
    process.exit(1);
  }
  console.log("\nevent browser test: every step passed");
}, (e) => {
  console.error("event browser test: " + (e.stack || e));
  process.exit(1);
});
