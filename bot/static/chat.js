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
  var pendingLocation = null;                // sent with one message only, then forgotten
  var locate = document.getElementById("locate");
  var scroller = document.getElementById("scroll");
  var app = document.querySelector(".app");
  var statusLine = document.getElementById("status");
  var menu = document.getElementById("lang");  // the language menu (bot/page.py)

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
    document.documentElement.dir = data.directions[next] || "ltr";  // from the language registry
    document.querySelectorAll("[data-i18n]").forEach(function (el) { setTextWithPhones(el, t(el.dataset.i18n)); });
    document.querySelectorAll("[data-i18n-label]").forEach(function (el) {
      el.setAttribute("aria-label", t(el.dataset.i18nLabel));
      if (el.title) { el.title = t(el.dataset.i18nLabel); }
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (el) { el.placeholder = t(el.dataset.i18nPlaceholder); });
    if (menu) { menu.value = next; }
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
        a.className = "call";
        a.dir = "ltr";  // "02 535 45 42" keeps its order on a right-to-left page
        a.setAttribute("aria-label", t("call") + " " + best.p);
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
      // "103" in "103ecoute.be" is part of a web address, not the phone number 103
      if (!/[0-9\p{L}]/u.test(before) && !/[0-9\p{L}]/u.test(after)) { return i; }
      from = i + 1;
    }
  }

  function scrollToEnd() {  // the conversation scrolls, or the whole page when the screen is very short
    scroller.scrollTop = scroller.scrollHeight;
    app.scrollTop = app.scrollHeight;
  }

  /* One turn: who speaks (for screen readers), then the message, added to the log as one unit. */
  function addMessage(kind, text) {
    var turn = document.createElement("div");
    turn.className = "turn " + kind;
    var who = document.createElement("span");
    who.className = "sr-only";
    who.textContent = t(kind === "me" ? "me" : "bot") + " : ";
    var div = document.createElement("div");
    div.className = "msg " + kind;
    setTextWithPhones(div, text);
    turn.appendChild(who);
    turn.appendChild(div);
    log.appendChild(turn);
    scrollToEnd();
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
        var m = /"language"\s*:\s*"([a-z]{2,3})"/.exec(b.payload || "");
        if (m && texts[m[1]]) { chosen = m[1]; applyLanguage(m[1]); }
        send(b.payload, b.title);
      });
      row.appendChild(btn);
    });
    log.appendChild(row);
    scrollToEnd();
  }

  function send(message, shown) {
    if (shown !== null) { addMessage("me", shown); }
    var body = { session: session, message: message };
    if (chosen) { body.lang = chosen; }
    if (pendingLocation) {
      body.location = pendingLocation;
      pendingLocation = null;
      locate.setAttribute("aria-pressed", "false");
      locate.setAttribute("aria-label", t("locate"));
      locate.title = t("locate");
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
    document.documentElement.classList.add("leaving");
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
      locate.setAttribute("aria-label", t("located"));
      locate.title = t("located");
      statusLine.textContent = t("located");
    }, function () { addMessage("notice", t("no_location")); }, { timeout: 10000, maximumAge: 0 });
  });
  /* Keyboard exit, as GOV.UK's "Exit this page": the Shift key pressed alone three times,
     each within 5 s of the last. Shift used to type a capital or with Tab, and any other key,
     start the count again, so typing and navigating never exit. Counted on key release. */
  var EXIT_WINDOW = 5000;
  var exitPresses = 0;
  var exitTimer = null;
  var lastKeyWasModified = false;

  function resetExitKeys() {
    if (exitTimer) { clearTimeout(exitTimer); exitTimer = null; }
    if (exitPresses > 0) { statusLine.textContent = t("exit_reset"); }
    exitPresses = 0;
  }

  document.addEventListener("keyup", function (e) {
    if (e.key === "Shift" && !lastKeyWasModified) {
      exitPresses += 1;
      if (exitPresses >= 3) { quickExit(); return; }
      statusLine.textContent = t(exitPresses === 1 ? "exit_two" : "exit_one");
      if (exitTimer) { clearTimeout(exitTimer); }
      exitTimer = setTimeout(resetExitKeys, EXIT_WINDOW);
    } else if (exitPresses > 0) {
      resetExitKeys();
    }
    lastKeyWasModified = e.shiftKey;
  });

  if (menu) {
    menu.addEventListener("change", function () { chosen = menu.value; applyLanguage(menu.value); });
  }

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
