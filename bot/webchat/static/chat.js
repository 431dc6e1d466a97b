// Baton web chat page (SPEC 3.5). Plain modern JavaScript, no build step, nothing from another origin.
// Every text anyone typed is put in the page with textContent: never parsed as HTML.
'use strict';

(() => {
  const config = JSON.parse(document.getElementById('baton-config').textContent);
  const STORE = 'baton-webchat:' + (config.queue || '');
  const $ = (id) => document.getElementById(id);
  const sections = ['prechat', 'conversation', 'csat', 'done'];
  const SCORES = ['1 – very poor', '2 – poor', '3 – fair', '4 – good', '5 – excellent'];

  let state = load(); // {token, conversation, rated}
  let lastId = 0; // the newest event shown: a reconnect resumes after it
  let stream = null; // AbortController of the open event stream
  let ended = false;
  const pending = new Map(); // client_id -> list item of a message not echoed yet

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE)) || null; } catch { return null; }
  }
  function save() {
    try { state ? localStorage.setItem(STORE, JSON.stringify(state)) : localStorage.removeItem(STORE); } catch { /* private mode */ }
  }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }
  function show(name) {
    for (const id of sections) $(id).hidden = id !== name;
  }
  function setStatus(text) { $('status').textContent = text || ''; }

  async function api(path, { body, form, retries = 4 } = {}) {
    const headers = {};
    if (state && state.token) headers.Authorization = 'Bearer ' + state.token;
    if (body) headers['Content-Type'] = 'application/json';
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(path, { method: 'POST', headers, body: form || JSON.stringify(body), cache: 'no-store' });
        if (response.status === 429 && attempt < retries) {
          await sleep(1000 * Number(response.headers.get('Retry-After') || 1));
          continue;
        }
        let data = null;
        try { data = await response.json(); } catch { /* empty */ }
        return { status: response.status, data: data || {} };
      } catch (error) { // offline: the same request again (a message keeps its client_id, so it stays one)
        if (attempt >= retries) return { status: 0, data: { detail: 'You seem to be offline; please try again.' } };
        await sleep(500 * 2 ** attempt);
      }
    }
  }

  // --- the pre-chat survey ----------------------------------------------------------------------
  const inputs = [];
  function buildPrechat() {
    const box = $('prechat-fields');
    config.prechat.forEach((q, i) => {
      const wrap = document.createElement('div');
      wrap.className = 'field';
      const label = document.createElement('label');
      label.htmlFor = 'q' + i;
      label.textContent = q.label;
      if (q.required) {
        const star = document.createElement('span');
        star.setAttribute('aria-hidden', 'true');
        star.textContent = ' *';
        label.append(star);
      }
      let input;
      if (q.choices.length) {
        input = document.createElement('select');
        const none = document.createElement('option');
        none.value = '';
        none.textContent = 'Choose…';
        input.append(none);
        for (const choice of q.choices) {
          const option = document.createElement('option');
          option.value = choice;
          option.textContent = choice;
          input.append(option);
        }
      } else if (!q.field) {
        input = document.createElement('textarea');
        input.rows = 2;
      } else {
        input = document.createElement('input');
        input.type = { email: 'email', phone: 'tel', name: 'text' }[q.field];
        input.autocomplete = { email: 'email', phone: 'tel', name: 'name' }[q.field];
      }
      input.id = 'q' + i;
      input.required = q.required;
      if (q.required) input.setAttribute('aria-required', 'true');
      const error = document.createElement('p');
      error.className = 'error';
      error.id = 'q' + i + '-error';
      input.setAttribute('aria-describedby', error.id);
      wrap.append(label, input, error);
      box.append(wrap);
      inputs.push({ q, input, error });
    });
  }

  function fieldError(index, text) {
    const { input, error } = inputs[index];
    error.textContent = text || '';
    if (text) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
  }

  function checkPrechat() {
    let first = null;
    inputs.forEach(({ q, input }, i) => {
      const value = input.value.trim();
      let problem = '';
      if (q.required && !value) problem = 'Please answer this.';
      else if (value && q.field === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) problem = 'Please enter a valid email address.';
      else if (value && q.field === 'phone' && !/^\+?[0-9][0-9 ().-]{5,}$/.test(value)) problem = 'Please enter a valid phone number.';
      fieldError(i, problem);
      if (problem && first === null) first = input;
    });
    if (first) first.focus();
    return first === null;
  }

  async function startChat(event) {
    event.preventDefault();
    $('prechat-error').textContent = '';
    if (!checkPrechat()) return;
    $('start').disabled = true;
    const visitor = {
      locale: navigator.language || null,
      time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || null,
      page_url: config.page || (config.embedded ? null : location.href),
      referrer: config.referrer || document.referrer || null,
    };
    const prechat = inputs.map(({ q, input }) => ({ question: q.label, answer: input.value.trim() }));
    const { status, data } = await api('/inbound/webchat', { body: { type: 'start', prechat, visitor, queue: config.queue } });
    $('start').disabled = false;
    if (status === 201) {
      state = { token: data.token, conversation: data.conversation, rated: false };
      save();
      enterChat();
      return;
    }
    const match = /^prechat\[(\d+)\]$/.exec(data.field || '');
    if (match && inputs[Number(match[1])]) {
      fieldError(Number(match[1]), data.detail);
      inputs[Number(match[1])].input.focus();
    } else {
      $('prechat-error').textContent = data.detail || 'The chat could not start; please try again.';
    }
  }

  // --- the conversation -------------------------------------------------------------------------
  function addLine(kind, name, text, files) {
    const item = document.createElement('li');
    item.className = 'msg ' + kind;
    if (name) {
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = name;
      item.append(who);
    }
    if (text) {
      const body = document.createElement('p');
      body.className = 'text';
      body.textContent = text;
      item.append(body);
    }
    if (files && files.length) {
      const list = document.createElement('ul');
      list.className = 'files';
      for (const file of files) {
        const entry = document.createElement('li');
        const url = typeof file.url === 'string' && /^https?:\/\//i.test(file.url) ? file.url : null;
        const label = '📎 ' + (file.name || 'file');
        if (url) { // only web links: a javascript: or data: URL is shown as its name, never followed
          const link = document.createElement('a');
          link.href = url;
          link.textContent = label;
          link.target = '_blank';
          link.rel = 'noopener noreferrer';
          entry.append(link);
        } else {
          entry.textContent = label;
        }
        list.append(entry);
      }
      item.append(list);
    }
    const log = $('log');
    log.append(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function onEvent(kind, event) {
    if (typeof event.id !== 'number' || event.id <= lastId) return;
    lastId = event.id;
    if (kind === 'message') {
      const mine = event.from === 'visitor';
      const waiting = mine && event.client_id && pending.get(event.client_id);
      if (waiting) { // our own message, now stored: it stops being pending
        waiting.classList.remove('pending');
        pending.delete(event.client_id);
        return;
      }
      addLine(mine ? 'visitor' : 'agent', mine ? 'You' : event.name, event.text, event.files);
    } else if (kind === 'status') {
      setStatus(event.text);
      // "Waiting" shows in the status line only; joins and the end are part of the transcript.
      if (event.status !== 'waiting') addLine('system', null, event.text);
      if (event.status === 'ended') finish(event.csat);
    }
  }

  function parseBlock(block) {
    let kind = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) kind = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (!data.length) return;
    try { onEvent(kind, JSON.parse(data.join('\n'))); } catch { /* a broken event is skipped */ }
  }

  // Server-Sent Events read with fetch, so that the token travels in a header, not in the URL; the
  // cursor goes as Last-Event-ID, as EventSource would send it.
  async function listen() {
    let delay = 500;
    while (state && !ended) {
      const controller = new AbortController();
      stream = controller;
      try {
        const response = await fetch('/inbound/webchat/events', {
          headers: { Authorization: 'Bearer ' + state.token, 'Last-Event-ID': String(lastId) },
          signal: controller.signal, cache: 'no-store',
        });
        if (response.status === 401) { forget('This chat has expired.'); return; }
        if (!response.ok) throw new Error('HTTP ' + response.status);
        delay = 500;
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            parseBlock(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch (error) {
        if (error.name === 'AbortError') return;
      }
      if (ended) return;
      await sleep(delay);
      delay = Math.min(delay * 2, 10000);
    }
  }

  function enterChat() {
    ended = false;
    lastId = 0;
    $('log').replaceChildren();
    pending.clear();
    setComposer(true);
    show('conversation');
    $('message').focus();
    listen();
  }

  function setComposer(on) {
    for (const id of ['message', 'send', 'file', 'end']) $(id).disabled = !on;
  }

  async function sendMessage(event) {
    event.preventDefault();
    const box = $('message');
    const text = box.value.trim();
    $('composer-error').textContent = '';
    if (!text || ended || !state) return;
    const clientId = uuid();
    const item = addLine('visitor pending', 'You', text);
    pending.set(clientId, item);
    box.value = '';
    const { status, data } = await api('/inbound/webchat', { body: { type: 'message', text, client_id: clientId } });
    if (status !== 200) {
      item.remove();
      pending.delete(clientId);
      box.value = text;
      $('composer-error').textContent = data.detail || 'Your message was not sent; please try again.';
    }
  }

  async function sendFile() {
    const input = $('file');
    const file = input.files && input.files[0];
    $('composer-error').textContent = '';
    if (!file || !state) return;
    input.value = '';
    if (!config.fileTypes.includes(file.type)) {
      $('composer-error').textContent = 'That kind of file cannot be sent here.';
      return;
    }
    if (file.size > config.maxFileBytes) {
      $('composer-error').textContent = 'A file may be at most ' + Math.round(config.maxFileBytes / 1048576) + ' MB.';
      return;
    }
    const clientId = uuid();
    const item = addLine('visitor pending', 'You', '', [{ name: file.name }]);
    pending.set(clientId, item);
    const form = new FormData();
    form.append('client_id', clientId);
    form.append('file', file, file.name);
    const { status, data } = await api('/inbound/webchat/files', { form });
    if (status !== 200) {
      item.remove();
      pending.delete(clientId);
      $('composer-error').textContent = data.detail || 'The file was not sent; please try again.';
    }
  }

  async function endChat() {
    $('end').disabled = true;
    const { status } = await api('/inbound/webchat', { body: { type: 'end' } });
    if (status === 200) finish(config.csat, 'You ended the chat.');
    else $('end').disabled = false;
  }

  function finish(askRating, text) {
    if (ended) return;
    ended = true;
    if (text) setStatus(text);
    setComposer(false);
    if (stream) stream.abort();
    if (askRating && state && !state.rated) {
      show('csat');
      $('csat-legend').scrollIntoView({ block: 'nearest' });
      const first = document.querySelector('input[name="score"]');
      if (first) first.focus();
    } else {
      done();
    }
  }

  // --- rating and the end -----------------------------------------------------------------------
  function buildScores() {
    SCORES.forEach((text, i) => {
      const label = document.createElement('label');
      const radio = document.createElement('input');
      radio.type = 'radio';
      radio.name = 'score';
      radio.value = String(i + 1);
      label.append(radio, document.createTextNode(text));
      $('scores').append(label);
    });
  }

  async function rate(event) {
    event.preventDefault();
    const chosen = document.querySelector('input[name="score"]:checked');
    if (!chosen) {
      $('csat-error').textContent = 'Pick a rating from 1 to 5, or skip.';
      document.querySelector('input[name="score"]').focus();
      return;
    }
    const comment = $('csat-comment').value.trim();
    const { status, data } = await api('/inbound/webchat', { body: { type: 'csat', score: Number(chosen.value), comment: comment || null } });
    if (status === 200 || status === 409) {
      state.rated = true;
      save();
      done('Thank you for your rating.');
    } else {
      $('csat-error').textContent = data.detail || 'The rating was not sent; please try again.';
    }
  }

  function done(text) {
    show('done');
    $('done-text').textContent = text || 'Thank you for chatting with us.';
    $('done-text').focus();
  }

  function forget(text) {
    state = null;
    save();
    ended = true;
    if (stream) stream.abort();
    show('prechat');
    setStatus(text || '');
  }

  function newChat() {
    forget('');
    ended = false;
    $('prechat').reset();
    inputs.forEach((_, i) => fieldError(i, ''));
    if (inputs.length) inputs[0].input.focus();
  }

  // --- wiring -----------------------------------------------------------------------------------
  buildPrechat();
  buildScores();
  $('file-hint').textContent = config.fileTypes.length
    ? 'At most ' + Math.round(config.maxFileBytes / 1048576) + ' MB' : '';
  if (!config.maxFileBytes) $('file-box').hidden = true;
  $('file').accept = config.fileTypes.join(',');
  $('message').maxLength = config.maxText;
  $('prechat').addEventListener('submit', startChat);
  $('composer').addEventListener('submit', sendMessage);
  $('message').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('file').addEventListener('change', sendFile);
  $('end').addEventListener('click', endChat);
  $('csat').addEventListener('submit', rate);
  $('csat-skip').addEventListener('click', () => { state.rated = true; save(); done(); });
  $('new-chat').addEventListener('click', newChat);
  if (config.embedded) {
    $('close').hidden = false;
    const close = () => window.parent.postMessage({ type: 'baton:close' }, '*');
    $('close').addEventListener('click', close);
    document.addEventListener('keydown', (event) => { if (event.key === 'Escape') close(); });
  }
  if (state && state.token) enterChat(); // a reload resumes the same conversation
  else show('prechat');
})();
