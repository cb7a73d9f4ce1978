// The event browser of example-server (GET /ui/): plain JavaScript over the server's own
// routes (docs/OPERATIONS.md, "Event browser"). Everything from the server is shown as text
// (textContent), never parsed as HTML.
"use strict";

(function () {
  var $ = function (id) { return document.getElementById(id); };
  var state = {
    partitions: 16,
    cursor: null,          // next page of the list, null when done
    listMode: "all",       // "all" or "search"
    seen: new Set(),       // ids listed (the store's scan may repeat one)
    selected: null,        // id of the example shown
    version: -1,           // its latest version (-1: unknown)
    events: [],            // its events loaded so far, in version order
    verdicts: [],
    nextEvents: null,      // the Link rel="next" of its events, if any
    cluster: null,
    tail: null,            // EventSource
    tailPartition: -1,
    refreshTimer: 0,
    sliderTimer: 0,
    sliderRequest: 0
  };

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      return r.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        return { status: r.status, body: body, link: r.headers.get("Link") };
      });
    });
  }

  function errorText(res) {
    return "HTTP " + res.status + (res.body && res.body.error ? ": " + res.body.error : "");
  }

  function shortHash(h) { return h ? h.slice(0, 12) + "…" : "(none)"; }

  function showValue(v) { return typeof v === "string" ? v : JSON.stringify(v); }

  // µs since the epoch -> 2026-12-07T03:15:20.123456Z
  function timestampText(us) {
    if (typeof us !== "number" || !Number.isFinite(us)) return String(us);
    var ms = Math.floor(us / 1000);
    var iso = new Date(ms).toISOString();
    var micros = String(((us % 1000) + 1000) % 1000).padStart(3, "0");
    return iso.slice(0, 23) + micros + "Z";
  }

  // Partition of an id: its first four bytes, big-endian, modulo the partition count
  // (docs/STORAGE.md).
  function partitionOf(id) { return parseInt(id.slice(0, 8), 16) % state.partitions; }

  // ---- cluster --------------------------------------------------------------------------
  function loadCluster() {
    return getJson("/cluster").then(function (res) {
      var box = $("cluster");
      box.textContent = "";
      if (res.status !== 200 || !res.body) {
        box.textContent = "cluster view unavailable (" + errorText(res) + ")";
        return;
      }
      state.cluster = res.body;
      var live = res.body.live || [];
      if (live.length <= 1) {
        box.appendChild(el("span", "standalone node " + res.body.node));
      } else {
        box.appendChild(el("span", "node " + res.body.node + " · live nodes: "));
        live.forEach(function (n) {
          box.appendChild(el("span", n, "badge" + (n === res.body.node ? " ok" : "")));
          box.appendChild(document.createTextNode(" "));
        });
      }
      box.appendChild(el("span", " · entity actors here: " + res.body.hosted));
    }).catch(function () { $("cluster").textContent = "cluster view unavailable"; });
  }

  // ---- list -----------------------------------------------------------------------------
  function clearList() {
    $("examples").tBodies[0].textContent = "";
    state.seen = new Set();
    state.cursor = null;
    $("more").hidden = true;
  }

  function addRows(items) {
    // Each row is filled from GET /examples/<id>; a few at a time.
    var body = $("examples").tBodies[0];
    var queue = [];
    items.forEach(function (item) {
      if (state.seen.has(item.id)) return;
      state.seen.add(item.id);
      var tr = el("tr");
      tr.dataset.id = item.id;
      tr.appendChild(el("td", item.id.slice(0, 8) + "…", "mono"));
      tr.cells[0].title = item.id;
      tr.appendChild(el("td", "…"));
      tr.appendChild(el("td", ""));
      tr.appendChild(el("td", item.node || ""));
      if (item.id === state.selected) tr.classList.add("selected");
      tr.addEventListener("click", function () { select(item.id); });
      body.appendChild(tr);
      queue.push(tr);
    });
    var next = function () {
      var tr = queue.shift();
      if (!tr) return Promise.resolve();
      return fillRow(tr).then(next, next);
    };
    return Promise.all([next(), next(), next(), next()]);
  }

  function fillRow(tr) {
    return getJson("/examples/" + tr.dataset.id).then(function (res) {
      if (res.status === 200) {
        tr.cells[1].textContent = showValue(res.body.foo);
        tr.cells[2].textContent = res.body.version;
        tr.dataset.live = "true";
      } else if (res.status === 404) {
        tr.cells[1].textContent = "(discarded)";
        tr.classList.add("discarded");
        tr.dataset.live = "false";
        tr.hidden = !$("show-discarded").checked;
      } else {
        tr.cells[1].textContent = errorText(res);
      }
    });
  }

  // One more page of the list: the store's scan may answer short pages (or empty ones) before
  // its end, so up to 10 requests are chained until 20 new ids are listed or the scan ends.
  function loadPage() {
    var wanted = state.seen.size + 20;
    var requests = 0;
    $("list-status").textContent = "loading…";
    var step = function () {
      var url = "/ui/api/examples?limit=20" + (state.cursor ? "&cursor=" + encodeURIComponent(state.cursor) : "");
      requests++;
      return getJson(url).then(function (res) {
        if (res.status !== 200) {
          $("list-status").textContent = errorText(res);
          return;
        }
        state.cursor = res.body.next;
        $("more").hidden = !state.cursor;
        return addRows(res.body.examples).then(function () {
          if (state.cursor && state.seen.size < wanted && requests < 10) return step();
          $("list-status").textContent = state.seen.size + " listed" + (state.cursor ? "" : " (all)");
        });
      });
    };
    return step().catch(function (e) { $("list-status").textContent = String(e); });
  }

  function listAll() {
    state.listMode = "all";
    clearList();
    return loadPage();
  }

  function search(foo) {
    state.listMode = "search";
    clearList();
    $("list-status").textContent = "searching…";
    return getJson("/examples?foo=" + encodeURIComponent(foo)).then(function (res) {
      if (res.status !== 200) {
        $("list-status").textContent = errorText(res);
        return;
      }
      var ids = res.body.ids.slice(0, 100);
      return Promise.all(ids.map(function (id) {
        return getJson("/cluster/locate/" + id).then(function (l) {
          return { id: id, node: l.status === 200 ? l.body.node : "" };
        });
      })).then(addRows).then(function () {
        $("list-status").textContent = res.body.ids.length + " with foo " + JSON.stringify(foo) +
          (res.body.ids.length > ids.length ? " (first 100 shown)" : "");
      });
    });
  }

  // ---- one example ----------------------------------------------------------------------
  function select(id) {
    state.selected = id;
    state.version = -1;
    state.events = [];
    state.verdicts = [];
    state.nextEvents = null;
    Array.prototype.forEach.call($("examples").tBodies[0].rows, function (tr) {
      tr.classList.toggle("selected", tr.dataset.id === id);
    });
    $("detail-empty").hidden = true;
    $("detail").hidden = false;
    $("detail-id").textContent = id;
    $("detail-node").textContent = "";
    $("detail-flag").textContent = "";
    $("detail-flag").className = "badge";
    $("state").textContent = "";
    $("events").tBodies[0].textContent = "";
    $("chain-summary").textContent = "";
    getJson("/cluster/locate/" + id).then(function (res) {
      if (res.status === 200 && id === state.selected) $("detail-node").textContent = "hosted on " + res.body.node;
    });
    if ($("follow").checked) openTail(partitionOf(id));
    return refresh(true);
  }

  // Reloads the latest state and the events after those already loaded; `jump` moves the
  // slider to the latest version.
  function refresh(jump) {
    var id = state.selected;
    if (!id) return Promise.resolve();
    return getJson("/examples/" + id).then(function (res) {
      if (id !== state.selected) return;
      var flag = $("detail-flag");
      if (res.status === 200) {
        state.version = res.body.version;
        flag.textContent = "live";
        flag.className = "badge ok";
      } else if (res.status === 404) {
        flag.textContent = "discarded or unknown";
        flag.className = "badge";
      } else {
        flag.textContent = errorText(res);
        flag.className = "badge error";
      }
      return loadEvents(id).then(function () {
        if (id !== state.selected) return;
        var last = state.events.length ? state.events[state.events.length - 1].version : 0;
        var max = state.version >= 0 ? state.version : Math.max(0, last - 1);
        var slider = $("slider");
        var atEnd = Number(slider.value) >= Number(slider.max);
        slider.max = String(max);
        if (jump || atEnd) slider.value = String(max);
        showAt(Number(slider.value));
      });
    });
  }

  // Loads event pages (following Link rel="next") until 2000 more are loaded; the rest on
  // demand.
  function loadEvents(id) {
    var after = state.events.length ? state.events[state.events.length - 1].version : -1;
    var url = state.nextEvents || ("/examples/" + id + "/events?limit=500" + (after >= 0 ? "&after=" + after : ""));
    var loaded = 0;
    var step = function (url) {
      return getJson(url).then(function (res) {
        if (id !== state.selected) return;
        if (res.status !== 200) {
          $("events-status").textContent = "events: " + errorText(res);
          return;
        }
        var items = res.body;
        var next = null;
        var m = res.link && /<([^>]+)>\s*;\s*rel="next"/.exec(res.link);
        if (m) next = m[1];
        var prev = state.events.length ? state.events[state.events.length - 1].hash : "";
        var expected = state.events.length ? state.events[state.events.length - 1].version + 1 : 0;
        return JCS.verifyEvents(id, items, prev, expected).then(function (verdicts) {
          if (id !== state.selected) return;
          items.forEach(function (item, i) { appendEventRow(item, verdicts[i]); });
          state.events = state.events.concat(items);
          state.verdicts = state.verdicts.concat(verdicts);
          loaded += items.length;
          state.nextEvents = next;
          if (next && loaded < 2000) return step(next);
          // A partial last page: later events are asked for after the last one held.
          if (!next) state.nextEvents = null;
        });
      });
    };
    return step(url).then(function () {
      if (id !== state.selected) return;
      $("more-events").hidden = !state.nextEvents;
      $("events-status").textContent = state.events.length + " events loaded" + (state.nextEvents ? ", more stored" : "");
      summarize();
    });
  }

  function appendEventRow(item, verdict) {
    var tr = el("tr");
    tr.dataset.version = item.version;
    tr.appendChild(el("td", String(item.version), "mono"));
    tr.appendChild(el("td", item.topic.replace(/^example\.Example\./, "")));
    tr.cells[1].title = item.topic;
    tr.appendChild(el("td", timestampText(item.timestamp), "mono"));
    tr.appendChild(el("td", JSON.stringify(item.data), "mono data"));
    var prev = el("td", item.previous_hash ? shortHash(item.previous_hash) : "(first)", "mono hash");
    prev.title = item.previous_hash;
    tr.appendChild(prev);
    var hash = el("td", shortHash(item.hash), "mono hash");
    hash.title = "stored " + item.hash + "\ncomputed " + verdict.computed;
    tr.appendChild(hash);
    var v = el("td", verdict.ok ? "ok" : "broken", "verdict " + (verdict.ok ? "ok" : "broken"));
    if (!verdict.ok) {
      v.title = verdict.reasons.join("\n");
      tr.classList.add("broken");
    }
    tr.appendChild(v);
    tr.addEventListener("click", function () {
      $("slider").value = String(Math.min(item.version, Number($("slider").max)));
      showAt(Number($("slider").value));
    });
    $("events").tBodies[0].appendChild(tr);
  }

  function summarize() {
    var broken = state.verdicts.filter(function (v) { return !v.ok; });
    var s = $("chain-summary");
    if (!state.verdicts.length) {
      s.textContent = "";
      s.className = "badge";
    } else if (broken.length === 0) {
      s.textContent = "chain ok: " + state.verdicts.length + " verified in the browser";
      s.className = "badge ok";
    } else {
      s.textContent = "chain broken at version" + (broken.length > 1 ? "s " : " ") +
        broken.map(function (v) { return v.version; }).join(", ");
      s.className = "badge broken";
    }
  }

  // The state as of version n (GET /examples/<id>?at=n), shown as the server answers it.
  function showAt(n) {
    $("slider-value").textContent = n + " / " + $("slider").max;
    Array.prototype.forEach.call($("events").tBodies[0].rows, function (tr) {
      tr.classList.toggle("current", Number(tr.dataset.version) === n);
    });
    var id = state.selected;
    var ticket = ++state.sliderRequest;
    return getJson("/examples/" + id + "?at=" + n).then(function (res) {
      if (ticket !== state.sliderRequest || id !== state.selected) return;
      var pre = $("state");
      pre.dataset.version = String(n);
      if (res.status === 200) {
        pre.textContent = JSON.stringify(res.body, null, 2);
        pre.dataset.ok = "true";
      } else {
        pre.textContent = errorText(res);
        pre.dataset.ok = "false";
      }
    });
  }

  // ---- live tail ------------------------------------------------------------------------
  function openTail(partition) {
    if (partition === state.tailPartition && state.tail) return;
    if (state.tail) state.tail.close();
    state.tailPartition = partition;
    $("partition").value = String(partition);
    $("tail").tBodies[0].textContent = "";
    var status = $("tail-status");
    status.textContent = "connecting";
    status.className = "badge";
    var source = new EventSource("/notifications/stream?partition=" + partition);
    state.tail = source;
    source.onopen = function () {
      status.textContent = "live: partition " + partition;
      status.className = "badge ok";
    };
    source.onerror = function () {
      status.textContent = source.readyState === EventSource.CLOSED ? "closed" : "reconnecting";
      status.className = "badge error";
    };
    source.onmessage = function (e) {
      var item;
      try { item = JSON.parse(e.data); } catch (err) { return; }
      var body = $("tail").tBodies[0];
      var tr = el("tr");
      tr.dataset.id = item.id;
      tr.dataset.version = item.version;
      tr.dataset.position = item.position;
      tr.appendChild(el("td", String(item.position), "mono"));
      tr.appendChild(el("td", item.id, "mono"));
      tr.appendChild(el("td", String(item.version), "mono"));
      tr.appendChild(el("td", item.topic));
      tr.appendChild(el("td", new Date().toISOString().slice(11, 23), "mono"));
      tr.addEventListener("click", function () { select(item.id); });
      body.insertBefore(tr, body.firstChild);
      while (body.rows.length > 200) body.deleteRow(body.rows.length - 1);
      if (item.id === state.selected) {
        clearTimeout(state.refreshTimer);
        state.refreshTimer = setTimeout(function () { refresh(false); }, 150);
      }
    };
  }

  // ---- start ----------------------------------------------------------------------------
  function start() {
    $("search").addEventListener("submit", function (e) {
      e.preventDefault();
      search($("foo").value);
    });
    $("clear").addEventListener("click", function () { $("foo").value = ""; listAll(); });
    $("more").addEventListener("click", loadPage);
    $("more-events").addEventListener("click", function () {
      if (state.selected) loadEvents(state.selected);
    });
    $("show-discarded").addEventListener("change", function () {
      var show = $("show-discarded").checked;
      Array.prototype.forEach.call($("examples").tBodies[0].rows, function (tr) {
        if (tr.dataset.live === "false") tr.hidden = !show;
      });
    });
    $("slider").addEventListener("input", function () {
      var n = Number($("slider").value);
      $("slider-value").textContent = n + " / " + $("slider").max;
      clearTimeout(state.sliderTimer);
      state.sliderTimer = setTimeout(function () { showAt(n); }, 80);
    });
    $("partition").addEventListener("change", function () {
      $("follow").checked = false;
      openTail(Number($("partition").value));
    });
    loadCluster();
    getJson("/stats").then(function (res) {
      if (res.status === 200 && res.body && res.body.position) {
        state.partitions = Object.keys(res.body.position).length || state.partitions;
      }
    }).catch(function () {}).then(function () {
      var partitions = $("partition");
      for (var p = 0; p < state.partitions; p++) partitions.appendChild(el("option", String(p)));
      openTail(0);
      var wanted = /^#([0-9a-f-]{36})$/i.exec(location.hash);
      return listAll().then(function () { if (wanted) select(wanted[1].toLowerCase()); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
