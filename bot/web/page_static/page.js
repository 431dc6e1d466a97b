// Baton's customer page (SPEC 4.4). Plain JavaScript, no build step, nothing from another site.
// Every value is put on the page with textContent: no text Baton holds is ever read as HTML.
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("baton-data").textContent);
  const app = document.getElementById("app");
  const base = window.location.pathname.replace(/\/$/, "");

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "onclick") node.addEventListener("click", value);
      else if (key === "onsubmit") node.addEventListener("submit", value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) {
      let detail = "The page could not load this (" + response.status + ").";
      try { detail = (await response.json()).detail || detail; } catch (e) { /* keep the status */ }
      throw new Error(detail);
    }
    return response.json();
  }

  function say(region, text) {
    region.textContent = text;
  }

  // A list that shows one page and a "Show more" button while there is a next page.
  function pagedList(label, page, render, fetchNext, ordered) {
    const list = el(ordered ? "ol" : "ul", { class: "list", "aria-label": label });
    const status = el("p", { class: "meta", role: "status", "aria-live": "polite" });
    const more = el("button", { type: "button", text: "Show more " + label.toLowerCase() });
    let next = page.next;
    function add(items) {
      for (const item of items) list.append(render(item));
      more.hidden = !next;
    }
    more.addEventListener("click", async () => {
      more.disabled = true;
      try {
        const got = await fetchNext(next);
        next = got.next;
        add(got.items);
        say(status, got.items.length + " more shown.");
      } catch (error) {
        say(status, error.message);
      } finally {
        more.disabled = false;
      }
    });
    if (!page.items.length) list.append(el("li", { class: "meta", text: "None." }));
    add(page.items);
    return el("div", {}, list, more, status);
  }

  function section(id, title, ...content) {
    return el("section", { id, "aria-labelledby": id + "-title" }, el("h2", { id: id + "-title", text: title }), ...content);
  }

  function facts(pairs) {
    const dl = el("dl");
    for (const [label, value] of pairs) {
      if (value === null || value === undefined || value === "") continue;
      dl.append(el("dt", { text: label }), el("dd", { text: value }));
    }
    return dl;
  }

  const more = (what, extra) => (after) => {
    const q = new URLSearchParams(extra ? extra() : {});
    if (after) q.set("after", after);
    return getJSON(base + "/more/" + what + "?" + q);
  };

  // --------------------------------------------------------------------- sections

  function profile() {
    const p = data.profile;
    const parts = [facts([
      ["First name", p.first_name], ["Last name", p.last_name], ["Company", p.company], ["Job title", p.job_title],
      ["Relationship", p.relationship_type], ["Category", p.category], ["Primary contact", p.primary_contact],
      ["Preferred channel", p.preferred_channel], ["Gender", p.gender], ["Email", p.email],
      ["Mobile phone", p.mobile_phone], ["Other phone", p.home_phone], ["Address", p.city],
      ["Created", when(p.created)], ["Updated", when(p.updated)], ["Profile notes", p.notes],
    ])];
    if (data.identities && data.identities.length) {
      parts.push(el("h3", { text: "Identities" }),
        el("ul", { class: "list", "aria-label": "Identities" },
          ...data.identities.map((i) => el("li", {}, el("span", { class: "meta", text: i.kind + ": " }), i.value))));
    }
    parts.push(el("h3", { text: "Notes" }), pagedList("Notes", data.notes, (n) => el("li", {},
      el("div", { class: "meta", text: when(n.at) + " · " + n.author + (n.conversation ? " · #" + n.conversation : "") }),
      el("div", { text: n.text })), more("notes")));
    return section("profile", "Profile", ...parts);
  }

  function messageItem(m) {
    const who = m.name || m.from;
    return el("li", { class: "message" },
      el("span", { class: "meta", text: when(m.at) + " " }),
      el("span", { class: "from", text: who + " (" + m.from + "): " }),
      m.internal ? el("span", { class: "internal", text: "internal " }) : null,
      document.createTextNode(m.text),
      m.files && m.files.length ? el("span", { class: "meta", text: " [files: " + m.files.join(", ") + "]" }) : null);
  }

  function conversationItem(c) {
    const region = el("div", { id: "messages-" + c.id, class: "messages", hidden: true });
    const toggle = el("button", { type: "button", "aria-expanded": "false", "aria-controls": region.id,
      text: "Messages of #" + c.id });
    let loaded = false;
    async function open() {
      toggle.setAttribute("aria-expanded", "true");
      region.hidden = false;
      if (loaded) return;
      loaded = true;
      const url = (after) => base + "/conversations/" + encodeURIComponent(c.id) + "/messages" + (after ? "?after=" + after : "");
      try {
        const first = await getJSON(url());
        region.append(pagedList("Messages", first, messageItem, (after) => getJSON(url(after)), true));
      } catch (error) {
        loaded = false;
        region.append(el("p", { role: "alert", text: error.message }));
      }
    }
    toggle.addEventListener("click", () => {
      if (toggle.getAttribute("aria-expanded") === "true") {
        toggle.setAttribute("aria-expanded", "false");
        region.hidden = true;
      } else open();
    });
    const item = el("li", { id: "conversation-" + c.id },
      el("div", {}, el("strong", { text: "#" + c.id + " " }),
        document.createTextNode([c.channel, c.queue, c.status].filter(Boolean).join(" · "))),
      el("div", { class: "meta", text: "Started " + when(c.started) + (c.claimed_by ? " · claimed by " + c.claimed_by : "") +
        (c.wrapup_code ? " · wrapped up: " + c.wrapup_code : "") }),
      c.wrapup_notes ? el("div", { text: "Wrap-up notes: " + c.wrapup_notes }) : null,
      toggle, region);
    item.openMessages = open;
    return item;
  }

  function conversations() {
    return section("conversations", "Conversations",
      pagedList("Conversations", data.conversations, conversationItem, more("conversations")));
  }

  function caseItem(k) {
    const region = el("div", { id: "comments-" + k.number, class: "messages", hidden: true });
    const toggle = el("button", { type: "button", "aria-expanded": "false", "aria-controls": region.id,
      text: "Internal comments on " + k.number });
    let loaded = false;
    toggle.addEventListener("click", async () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      region.hidden = !open;
      if (!open || loaded) return;
      loaded = true;
      const url = (after) => base + "/cases/" + encodeURIComponent(k.number) + "/comments" + (after ? "?after=" + after : "");
      try {
        const first = await getJSON(url());
        region.append(pagedList("Comments", first, (c) => el("li", { class: "message" },
          el("span", { class: "meta", text: when(c.at) + " " }), el("span", { class: "from", text: c.author + ": " }),
          document.createTextNode(c.text)), (after) => getJSON(url(after)), true));
      } catch (error) {
        loaded = false;
        region.append(el("p", { role: "alert", text: error.message }));
      }
    });
    return el("li", { id: "case-" + k.number },
      el("div", {}, el("strong", { text: k.number + " " }), document.createTextNode(k.title)),
      el("div", { class: "meta", text: [k.status, k.priority, k.product, k.owner].filter(Boolean).join(" · ") +
        " · opened " + when(k.opened) }),
      toggle, region);
  }

  function cases() {
    return section("cases", "Cases", pagedList("Cases", data.cases, caseItem, more("cases")));
  }

  function orders() {
    const parts = [];
    if (data.totals) {
      const table = el("table", {}, el("caption", { class: "meta", text: "Totals per currency" }),
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Currency" }), el("th", { scope: "col", text: "Orders" }),
          el("th", { scope: "col", text: "Total" }))),
        el("tbody", {}, ...data.totals.map((t) => el("tr", {}, el("td", { text: t.currency }),
          el("td", { text: t.orders }), el("td", { text: t.total })))));
      parts.push(table);
    }
    parts.push(pagedList("Orders", data.orders, (o) => el("li", {},
      el("strong", { text: o.number + " " }),
      document.createTextNode((o.total !== null ? o.total + " " : "") + o.currency),
      el("span", { class: "meta", text: " · " + when(o.placed) })), more("orders")));
    parts.push(el("h3", { text: "Surveys" }), pagedList("Surveys", data.surveys, (s) => el("li", {},
      document.createTextNode("CSAT " + s.score + "/5"),
      el("span", { class: "meta", text: " · " + when(s.at) + (s.conversation ? " · #" + s.conversation : "") })),
      more("surveys")));
    return section("orders", "Orders and surveys", ...parts);
  }

  function sentimentSection() {
    const s = data.sentiment;
    if (!s) return section("sentiment", "Sentiment and topics", el("p", { class: "meta", text: "Not enough conversations yet." }));
    return section("sentiment", "Sentiment and topics", facts([
      ["Sentiment", s.label + " (" + s.score + ", " + s.interactions + " conversations)"],
      ["Topics", s.topics.map((t) => t.phrase + " (" + t.mentions + ")").join(", ") || "none"],
    ]));
  }

  function timeline() {
    let category = "";
    let query = "";
    const holder = el("div");
    const status = el("p", { class: "meta", role: "status", "aria-live": "polite" });
    const extra = () => Object.fromEntries(Object.entries({ category, q: query }).filter(([, v]) => v));
    const entry = (a) => el("li", {},
      el("div", { class: "meta", text: when(a.at) + " · " + a.category + " · " + a.kind + (a.conversation ? " · #" + a.conversation : "") }),
      el("div", { text: a.title }), a.detail ? el("div", { text: a.detail }) : null);
    function show(page) {
      holder.replaceChildren(pagedList("Timeline entries", page, entry, more("timeline", extra), true));
    }
    async function reload() {
      try {
        const page = await more("timeline", extra)(null);
        show(page);
        say(status, page.items.length ? "Timeline updated." : "No timeline entries match.");
      } catch (error) {
        say(status, error.message);
      }
    }
    const buttons = [["", "All"], ...data.categories.map((c) => [c, c[0].toUpperCase() + c.slice(1)])].map(([value, label]) =>
      el("button", { type: "button", "aria-pressed": value === "" ? "true" : "false", "data-category": value, text: label }));
    for (const button of buttons) {
      button.addEventListener("click", () => {
        category = button.dataset.category;
        for (const b of buttons) b.setAttribute("aria-pressed", String(b === button));
        reload();
      });
    }
    const input = el("input", { type: "search", id: "timeline-q", name: "q", maxlength: "200" });
    const form = el("form", { class: "search", role: "search", onsubmit: (event) => { event.preventDefault(); query = input.value.trim(); reload(); } },
      el("label", { for: "timeline-q", text: "Search the timeline" }), input, el("button", { type: "submit", text: "Search" }));
    show(data.timeline);
    return section("timeline", "Timeline",
      el("div", { class: "filters", role: "group", "aria-label": "Show activities of" }, ...buttons), form, status, holder);
  }

  // --------------------------------------------------------------------- pages

  function banner(title, subtitle, links) {
    return el("header", { class: "banner", role: "banner" },
      el("h1", { text: title }),
      subtitle ? el("div", { class: "who", text: subtitle }) : null,
      links && links.length ? el("nav", { "aria-label": "Sections" },
        el("ul", {}, ...links.map(([id, label]) => el("li", {}, el("a", { href: "#" + id, text: label }))))) : null);
  }

  function customerPage() {
    const parts = [];
    const links = [];
    const add = (key, id, label, build) => { if (data[key] !== undefined) { parts.push(build()); links.push([id, label]); } };
    add("profile", "profile", "Profile", profile);
    add("conversations", "conversations", "Conversations", conversations);
    add("cases", "cases", "Cases", cases);
    add("orders", "orders", "Orders", orders);
    add("sentiment", "sentiment", "Sentiment", sentimentSection);
    add("timeline", "timeline", "Timeline", timeline);
    const tags = data.tags.length ? " · " + data.tags.join(", ") : "";
    const state = (data.locked ? " · locked" : "") + (data.anonymized ? " · anonymized" : "");
    app.replaceChildren(banner(data.name, "Customer " + data.id + tags + state + " — viewed by " + data.viewer.name +
      " (" + data.viewer.role + ")", links), el("main", { id: "main", tabindex: "-1" }, ...parts));
    openTarget();
  }

  // "Wrap up and see logs" lands on #conversation-c12: open its messages, even if it is not on the first page.
  async function openTarget() {
    const match = /^#conversation-(c\d+)$/.exec(window.location.hash);
    if (!match || data.conversations === undefined) return;
    let item = document.getElementById("conversation-" + match[1]);
    if (!item) {
      const list = document.querySelector("#conversations .list");
      try {
        const got = await getJSON(base + "/conversations/" + match[1] + "/messages?after=0");
        item = conversationItem(got.conversation);
        list.prepend(item);
      } catch (error) {
        return;
      }
    }
    item.classList.add("target");
    item.scrollIntoView();
    await item.openMessages();
    item.querySelector("button").focus();
  }

  function searchPage() {
    const input = el("input", { type: "search", id: "customer-q", name: "q", maxlength: "200", autocomplete: "off" });
    const results = el("ul", { class: "list", "aria-label": "Customers found" });
    const status = el("p", { class: "meta", role: "status", "aria-live": "polite" });
    const form = el("form", { class: "search", role: "search", onsubmit: async (event) => {
      event.preventDefault();
      try {
        const found = await getJSON("customers/search?q=" + encodeURIComponent(input.value));
        results.replaceChildren(...found.map((c) => el("li", {},
          el("a", { href: "customers/" + c.id, text: c.name }),
          c.company ? el("span", { class: "meta", text: " · " + c.company }) : null)));
        say(status, found.length + (found.length === 1 ? " customer found." : " customers found."));
      } catch (error) {
        say(status, error.message);
      }
    } }, el("label", { for: "customer-q", text: "Name, number, email or phone" }), input,
    el("button", { type: "submit", text: "Search" }));
    app.replaceChildren(banner("Customers", "Signed in as " + data.viewer.name + " (" + data.viewer.role + ")"),
      el("main", { id: "main", tabindex: "-1" }, section("search", "Find a customer", form, status, results)));
  }

  if (document.body.dataset.kind === "search") searchPage();
  else customerPage();
})();
