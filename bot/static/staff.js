/* Relais staff lookup: results as you type from /api/directory/search. Text only, never HTML. */
"use strict";
(function () {
  var form = document.getElementById("lookup");
  var tbody = document.querySelector("#results tbody");
  var status = document.getElementById("status");
  var lang = "fr";
  var timer = null;
  var seq = 0;

  function fill(select, kind, labels) {
    Object.keys(labels).sort().forEach(function (code) {
      var o = document.createElement("option");
      o.value = code;
      o.textContent = labels[code].fr + " · " + labels[code].nl + " · " + labels[code].en;
      select.appendChild(o);
    });
  }

  fetch("/api/directory/taxonomy", { credentials: "omit" }).then(function (r) { return r.json(); }).then(function (t) {
    fill(document.getElementById("category"), "category", t.category || {});
    fill(document.getElementById("audience"), "audience", t.audience || {});
  })["catch"](function () {});

  function cell(row, text, cls, href) {
    var td = document.createElement("td");
    if (cls) { td.className = cls; }
    if (href) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      td.appendChild(a);
    } else {
      td.textContent = text || "";
    }
    row.appendChild(td);
    return td;
  }

  function render(results) {
    tbody.textContent = "";
    results.forEach(function (r) {
      var tr = document.createElement("tr");
      var name = r.names[lang] || r.names.fr || r.names.nl || r.names.en || r.id;
      var td = cell(tr, name);
      var sub = document.createElement("span");
      sub.className = "sub";
      sub.textContent = [r.type, r.address || "", r.organiser || ""].filter(Boolean).join(" — ");
      td.appendChild(sub);
      if (r.phone) { cell(tr, r.phone, "", "tel:" + r.phone.replace(/[^0-9+]/g, "")); } else { cell(tr, r.phone_note || "—"); }
      var hours = (r.hours && (r.hours[lang] || r.hours.fr)) || r.hours_source || "";
      if (r.open_now === true) { hours = "● " + hours; }
      cell(tr, hours);
      cell(tr, (r.languages || []).join(", "));
      cell(tr, r.distance_m !== undefined ? (r.distance_m < 1000 ? r.distance_m + " m" : (r.distance_m / 1000).toFixed(1) + " km") : "");
      cell(tr, r.confidence + (r.checked ? " (" + r.checked + ")" : ""), r.confidence);
      tbody.appendChild(tr);
    });
  }

  function search() {
    var params = new URLSearchParams();
    ["q", "type", "category", "audience", "language", "place"].forEach(function (k) {
      var v = document.getElementById(k).value.trim();
      if (v) { params.set(k, v); }
    });
    if (document.getElementById("open_now").checked) { params.set("open_now", "1"); }
    if (!params.get("q")) { tbody.textContent = ""; status.textContent = ""; return; }
    var mine = ++seq;
    fetch("/api/directory/search?" + params.toString(), { credentials: "omit", cache: "no-store" })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, json: j }; }); })
      .then(function (res) {
        if (mine !== seq) { return; }
        if (!res.ok) { tbody.textContent = ""; status.textContent = res.json.error ? res.json.error.message : "error"; return; }
        status.textContent = res.json.count + " résultat(s) · resultaten · results";
        render(res.json.results);
      })["catch"](function () { status.textContent = "Le serveur ne répond pas · De server antwoordt niet · The server is not answering"; });
  }

  document.getElementById("q").focus();  // type straight away, even where autofocus came too early

  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 120); });
  form.addEventListener("submit", function (e) { e.preventDefault(); search(); });
})();
