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
