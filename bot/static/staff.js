/* Relais staff lookup: results as you type from /api/directory/search (a keyword, filters, or
   both), each with a copy button for its number and its facts' sources; the same list as CSV.
   Text only, never HTML. */
"use strict";
(function () {
  var form = document.getElementById("lookup");
  var tbody = document.querySelector("#results tbody");
  var status = document.getElementById("status");
  var lang = "fr";
  var timer = null;
  var seq = 0;
  var csv = document.getElementById("csv");

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
      var where = r.type === "pharmacy" ? [r.address, [r.postcode, r.municipality].filter(Boolean).join(" ")]
        .filter(Boolean).join(", ") : r.address;
      sub.textContent = [r.type, where || "", r.organiser || ""].filter(Boolean).join(" — ");
      td.appendChild(sub);
      td.appendChild(details(r));
      if (r.phone) {
        var phoneCell = cell(tr, r.phone, "", "tel:" + r.phone.replace(/[^0-9+]/g, ""));
        phoneCell.appendChild(copyButton(r.phone));
      } else { cell(tr, r.phone_note || "—"); }
      var hours = (r.hours && (r.hours[lang] || r.hours.fr)) || (r.hours_source ? "source : " + r.hours_source : "");
      if (r.open_now === true) { hours = "● " + hours; }
      cell(tr, hours);
      cell(tr, (r.languages || []).join(", "));
      cell(tr, r.distance_m !== undefined ? (r.distance_m < 1000 ? r.distance_m + " m" : (r.distance_m / 1000).toFixed(1) + " km") : "");
      cell(tr, r.confidence + (r.checked ? " (" + r.checked + ")" : ""), r.confidence);
      tbody.appendChild(tr);
    });
  }

  /* Every fact's source and check date, and the training's or service's web page. */
  function details(r) {
    var box = document.createElement("details");
    var summary = document.createElement("summary");
    summary.textContent = "Détails · Details";
    box.appendChild(summary);
    var list = document.createElement("dl");
    function add(term, value, href) {
      if (!value) { return; }
      var dt = document.createElement("dt");
      dt.textContent = term;
      var dd = document.createElement("dd");
      if (href) {
        var a = document.createElement("a");
        a.href = href;
        a.rel = "noopener noreferrer";
        a.target = "_blank";
        a.textContent = value;
        dd.appendChild(a);
      } else { dd.textContent = value; }
      list.appendChild(dt);
      list.appendChild(dd);
    }
    add("Description", r.what && (r.what[lang] || r.what.fr));
    add("Site · Website", r.url, /^https?:\/\//.test(r.url || "") ? r.url : null);
    add("Format", r.format && (r.format[lang] || r.format.fr));
    add("Heures (source) · Uren (bron)", r.hours_source);
    add("Source · Bron", r.source);
    add("Fiabilité · Betrouwbaarheid", r.confidence + (r.checked ? ", " + r.checked : ""));
    box.appendChild(list);
    return box;
  }

  function copyButton(phone) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "copy";
    b.textContent = "Copier · Kopiëren";
    b.setAttribute("aria-label", "Copier " + phone);
    b.addEventListener("click", function () {
      if (navigator.clipboard) {
        navigator.clipboard.writeText(phone).then(function () { status.textContent = phone + " : copié · gekopieerd"; });
      }
    });
    return b;
  }

  function explainEmpty(params) {
    var why = ["Aucun résultat · Geen resultaten · No results"];
    if (params.get("open_now")) { why.push("rien d'ouvert maintenant : décochez « ouvert » · niets nu open"); }
    if (params.toString().split("&").length > 1) { why.push("moins de filtres ? · minder filters?"); }
    return why.join(" — ");
  }

  function search() {
    var params = new URLSearchParams();
    ["q", "type", "category", "audience", "language", "place"].forEach(function (k) {
      var v = document.getElementById(k).value.trim();
      if (v) { params.set(k, v); }
    });
    if (document.getElementById("open_now").checked) { params.set("open_now", "1"); }
    if (!params.toString()) { tbody.textContent = ""; status.textContent = ""; csv.hidden = true; return; }
    var all = new URLSearchParams(params);
    all.set("limit", "100");
    csv.href = "/api/directory/search.csv?" + all.toString();
    csv.hidden = false;
    var mine = ++seq;
    fetch("/api/directory/search?" + params.toString(), { credentials: "omit", cache: "no-store" })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, json: j }; }); })
      .then(function (res) {
        if (mine !== seq) { return; }
        if (!res.ok) { tbody.textContent = ""; status.textContent = res.json.error ? res.json.error.message : "error"; return; }
        status.textContent = res.json.count ? res.json.count + " résultat(s) · resultaten · results" : explainEmpty(params);
        render(res.json.results);
      })["catch"](function () { status.textContent = "Le serveur ne répond pas · De server antwoordt niet · The server is not answering"; });
  }

  document.getElementById("q").focus();  // type straight away, even where autofocus came too early

  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 120); });
  form.addEventListener("submit", function (e) { e.preventDefault(); search(); });
})();
