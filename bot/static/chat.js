/* Relais chat page: talks to POST /api/chat, keeps nothing but page memory.
   Messages are inserted as text nodes, never as HTML. */
"use strict";
(function () {
  var data = JSON.parse(document.getElementById("i18n").textContent);
  var texts = data.texts;
  var phones = data.phones;
  var lang = data["default"];
  var chosen = null;            // language the user picked, sent with every message
  var session = newSession();   // page memory only: a reload starts a new conversation
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var EXIT_URL = data.exit || "https://www.meteo.be/";
  var RTL = ["ar", "he", "fa", "ur"];        // ready for right-to-left languages to come
  var pendingLocation = null;                // sent with one message only, then forgotten
  var locate = document.getElementById("locate");

  function newSession() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function t(key) { return (texts[lang] || texts[data["default"]])[key] || ""; }

  function applyLanguage(next) {
    if (!texts[next]) { return; }
    lang = next;
    document.documentElement.lang = next;
    document.documentElement.dir = RTL.indexOf(next) >= 0 ? "rtl" : "ltr";
    document.querySelectorAll("[data-i18n]").forEach(function (el) { setTextWithPhones(el, t(el.dataset.i18n)); });
    document.querySelectorAll("[data-i18n-label]").forEach(function (el) { el.setAttribute("aria-label", t(el.dataset.i18nLabel)); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (el) { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.querySelectorAll("button.lang").forEach(function (b) { b.setAttribute("aria-pressed", String(b.dataset.lang === next)); });
  }

  /* Text with the directory's phone numbers as tel: links and web addresses as links;
     everything else stays text. */
  var URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"]+|\b[a-z0-9-]+\.(?:be|brussels|org)(?:\/[^\s<>"]*)?/i;

  function setTextWithPhones(el, text) {
    el.textContent = "";
    var rest = String(text);
    while (rest.length) {
      var best = null;
      phones.forEach(function (p) {
        var i = indexOfNumber(rest, p);
        if (i >= 0 && (best === null || i < best.i || (i === best.i && p.length > best.p.length))) { best = { i: i, p: p, tel: true }; }
      });
      var u = URL_RE.exec(rest);
      if (u && (best === null || u.index < best.i)) {
        best = { i: u.index, p: u[0].replace(/[.,;:)]+$/, ""), tel: false };
      }
      if (!best) { el.appendChild(document.createTextNode(rest)); break; }
      if (best.i > 0) { el.appendChild(document.createTextNode(rest.slice(0, best.i))); }
      var a = document.createElement("a");
      if (best.tel) {
        a.href = "tel:" + best.p.replace(/[^0-9+]/g, "");
      } else {
        a.href = /^https?:/i.test(best.p) ? best.p : "https://" + best.p;
        a.rel = "noopener noreferrer";
        a.target = "_blank";
      }
      a.textContent = best.p;
      el.appendChild(a);
      rest = rest.slice(best.i + best.p.length);
    }
  }

  function indexOfNumber(text, number) {
    var from = 0;
    for (;;) {
      var i = text.indexOf(number, from);
      if (i < 0) { return -1; }
      var before = i > 0 ? text.charAt(i - 1) : "";
      var after = text.charAt(i + number.length);
      if (!/[0-9]/.test(before) && !/[0-9]/.test(after)) { return i; }
      from = i + 1;
    }
  }

  function addMessage(kind, text) {
    var div = document.createElement("div");
    div.className = "msg " + kind;
    setTextWithPhones(div, text);
    log.appendChild(div);
    div.scrollIntoView({ block: "end" });
    return div;
  }

  function addButtons(buttons) {
    var row = document.createElement("div");
    row.className = "choices";
    buttons.forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      btn.addEventListener("click", function () {
        var m = /"language"\s*:\s*"(fr|nl|en)"/.exec(b.payload || "");
        if (m) { chosen = m[1]; applyLanguage(m[1]); }
        send(b.payload, b.title);
      });
      row.appendChild(btn);
    });
    log.appendChild(row);
  }

  function send(message, shown) {
    if (shown !== null) { addMessage("me", shown); }
    var body = { session: session, message: message };
    if (chosen) { body.lang = chosen; }
    if (pendingLocation) {
      body.location = pendingLocation;
      pendingLocation = null;
      locate.setAttribute("aria-pressed", "false");
      locate.textContent = t("locate");
    }
    return fetch("/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer"
    }).then(function (r) {
      return r.json().then(function (json) { return { ok: r.ok, status: r.status, json: json }; });
    }).then(function (res) {
      if (res.status === 429) { addMessage("notice", t("busy")); return; }
      if (!res.ok) { addMessage("notice", t("error")); return; }
      if (res.json.lang && res.json.lang !== lang) { applyLanguage(res.json.lang); }
      (res.json.messages || []).forEach(function (m) {
        addMessage(res.json.degraded ? "notice" : "bot", m.text || "");
        if (m.buttons && m.buttons.length) { addButtons(m.buttons); }
      });
    })["catch"](function () { addMessage("notice", t("offline")); });
  }

  function quickExit() {
    log.textContent = "";
    input.value = "";
    session = null;
    pendingLocation = null;
    window.location.replace(EXIT_URL);
  }

  document.getElementById("quick-exit").addEventListener("click", quickExit);

  locate.addEventListener("click", function () {
    if (!navigator.geolocation) { addMessage("notice", t("no_location")); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      pendingLocation = { lat: pos.coords.latitude, lon: pos.coords.longitude };
      locate.setAttribute("aria-pressed", "true");
      locate.textContent = t("located");
    }, function () { addMessage("notice", t("no_location")); }, { timeout: 10000, maximumAge: 0 });
  });
  var shifts = [];
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { quickExit(); return; }
    if (e.key === "Shift" && !e.repeat) {
      var now = Date.now();
      shifts = shifts.filter(function (s) { return now - s < 1500; });
      shifts.push(now);
      if (shifts.length >= 3) { quickExit(); }
    }
  });

  document.querySelectorAll("button.lang").forEach(function (b) {
    b.addEventListener("click", function () { chosen = b.dataset.lang; applyLanguage(b.dataset.lang); });
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text, text);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  var preferred = (navigator.language || "").slice(0, 2);
  applyLanguage(texts[preferred] ? preferred : lang);
  send('/greet{"language":"' + lang + '"}', null);
})();
