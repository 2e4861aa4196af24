// Progressive enhancement only: every page works without this script.
// Renders TeX in elements marked .tex with the bundled KaTeX.
(function () {
  'use strict';
  function renderMath() {
    if (typeof window.renderMathInElement !== 'function') return;
    var nodes = document.querySelectorAll('.tex');
    for (var i = 0; i < nodes.length; i++) {
      window.renderMathInElement(nodes[i], {
        delimiters: [
          { left: '$$', right: '$$', display: true },
          { left: '\\[', right: '\\]', display: true },
          { left: '$', right: '$', display: false },
          { left: '\\(', right: '\\)', display: false },
        ],
        throwOnError: false,
        ignoredTags: ['script', 'noscript', 'style', 'textarea', 'pre', 'code', 'option'],
      });
    }
    document.documentElement.classList.add('math-rendered');
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', renderMath);
  else renderMath();
})();

// Upvote buttons (src/web/upvote-routes.ts): the form posts and reloads the
// page without this; with it, the same request goes to the JSON API with the
// form's CSRF token and the button changes in place. Any failure falls back
// to posting the form, so the server's page says what went wrong.
(function () {
  'use strict';
  function show(form, state) {
    var button = form.querySelector('.upvote-button');
    var count = form.querySelector('.count');
    var unit = count && count.nextSibling;
    var word = form.classList.contains('votes-page') ? 'upvote' : 'vote';
    form.querySelector('input[name="action"]').value = state.upvoted ? 'remove' : 'add';
    button.setAttribute('aria-pressed', state.upvoted ? 'true' : 'false');
    button.title = state.upvoted ? 'Remove your upvote' : 'Upvote';
    if (count) count.textContent = String(state.upvotes);
    if (unit && unit.nodeType === 3) unit.nodeValue = ' ' + word + (state.upvotes === 1 ? '' : 's');
  }
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof window.HTMLFormElement) || !form.hasAttribute('data-upvotes-of')) return;
    var action = form.querySelector('input[name="action"]');
    var token = form.querySelector('input[name="_csrf"]');
    var button = form.querySelector('.upvote-button');
    if (!action || !token || !button || typeof window.fetch !== 'function') return;
    event.preventDefault();
    // Not `disabled`: that would take the keyboard focus off the button.
    if (form.getAttribute('aria-busy') === 'true') return;
    form.setAttribute('aria-busy', 'true');
    window
      .fetch('/api' + form.getAttribute('action'), {
        method: action.value === 'add' ? 'POST' : 'DELETE',
        headers: { 'x-csrf-token': token.value, accept: 'application/json' },
        credentials: 'same-origin',
      })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (state) {
        form.removeAttribute('aria-busy');
        show(form, state);
      })
      .catch(function () {
        form.submit();
      });
  });
})();
