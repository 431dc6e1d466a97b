// Baton web chat embed: <script src="https://baton.example.com/chat/widget.js" data-queue="billing" async></script>
// adds a launcher button and the chat (an iframe on Baton's /chat) to the page. No other file, no CDN.
'use strict';

(() => {
  const script = document.currentScript;
  if (!script || window.__batonChat) return;
  window.__batonChat = true;
  const base = new URL(script.src, location.href).origin;
  const label = script.dataset.label || 'Chat with us';
  const params = new URLSearchParams({ embed: '1', page: location.href });
  if (script.dataset.queue) params.set('queue', script.dataset.queue);
  if (document.referrer) params.set('ref', document.referrer);

  const button = document.createElement('button');
  button.type = 'button';
  button.id = 'baton-chat-launcher';
  button.textContent = '💬 ' + label;
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-controls', 'baton-chat-frame');
  Object.assign(button.style, {
    position: 'fixed', right: '16px', bottom: '16px', zIndex: '2147483000', padding: '12px 18px',
    border: 'none', borderRadius: '24px', background: '#1f5fbf', color: '#fff', font: '600 15px system-ui, sans-serif',
    boxShadow: '0 2px 10px rgba(0,0,0,.25)', cursor: 'pointer',
  });

  const frame = document.createElement('iframe');
  frame.id = 'baton-chat-frame';
  frame.title = label;
  frame.hidden = true;
  Object.assign(frame.style, {
    position: 'fixed', right: '16px', bottom: '76px', zIndex: '2147483000', border: '1px solid rgba(0,0,0,.15)',
    borderRadius: '12px', width: 'min(380px, calc(100vw - 32px))', height: 'min(600px, calc(100vh - 100px))',
    boxShadow: '0 4px 24px rgba(0,0,0,.25)', background: 'Canvas', colorScheme: 'light dark',
  });

  function toggle(open) {
    if (open && !frame.src) frame.src = base + '/chat?' + params.toString();
    frame.hidden = !open;
    frame.style.display = open ? 'block' : 'none';
    button.setAttribute('aria-expanded', String(open));
    if (open) frame.focus();
  }

  button.addEventListener('click', () => toggle(frame.hidden));
  window.addEventListener('message', (event) => {
    if (event.origin === base && event.source === frame.contentWindow && event.data && event.data.type === 'baton:close') {
      toggle(false);
      button.focus();
    }
  });

  const mount = () => document.body.append(frame, button);
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
