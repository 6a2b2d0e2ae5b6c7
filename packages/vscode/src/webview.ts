// The pages the webview shows: mw's HTML report under a stricter Content-Security-Policy, or a
// simple page built from the JSON when this mw has no --html. No vscode import.
import { ReportModel, TreeItemModel } from './model';

/** The webview's policy: nothing loads from anywhere; only scripts carrying the nonce run. */
export function webviewCsp(nonce: string): string {
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'`;
}

/**
 * A script (given the nonce) that turns a click on a `vscode://file/PATH:LINE:COL` link of the
 * report into a message `{ type: 'open', target: 'PATH:LINE:COL' }` to the extension, which finds
 * the file in the workspace (the page links the path the snapshot recorded).
 */
function bridgeScript(nonce: string): string {
  return `<script nonce="${nonce}">
(function () {
  const vscode = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : null;
  document.addEventListener('click', function (event) {
    const a = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (!a) return;
    const href = a.getAttribute('href');
    if (href.startsWith('vscode://file')) {
      // VS Code's webview host opens clicked links itself (on window, after this capture
      // listener); it cannot open vscode://file/ here, so the event stops at this listener.
      event.preventDefault();
      event.stopPropagation();
      if (vscode) vscode.postMessage({ type: 'open', target: decodeURI(href.slice('vscode://file'.length)) });
    }
  }, true);
})();
</script>`;
}

/**
 * mw's self-contained report page for a webview: its own CSP meta (which allows inline script)
 * replaced by `webviewCsp(nonce)`, the nonce put on its inline script, and the link bridge added.
 * Throws when the page does not have the shape mw writes (one CSP meta, one inline script).
 */
export function prepareReportHtml(html: string, nonce: string): string {
  if (!/^[A-Za-z0-9+/=]{16,}$/.test(nonce)) throw new Error('the nonce must be at least 16 base64 characters');
  const cspMeta = /<meta http-equiv="Content-Security-Policy" content="[^"]*">/;
  if (!cspMeta.test(html)) throw new Error('the report page has no Content-Security-Policy meta element');
  let out = html.replace(cspMeta, `<meta http-equiv="Content-Security-Policy" content="${webviewCsp(nonce)}">`);
  const scripts = out.match(/<script>/g) ?? [];
  if (scripts.length !== 1) throw new Error(`the report page has ${scripts.length} inline scripts, expected 1`);
  out = out.replace('<script>', `<script nonce="${nonce}">`);
  return out.replace('</body>', `${bridgeScript(nonce)}\n</body>`);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function itemHtml(item: TreeItemModel, depth: number): string {
  const text = `<span class="label">${escapeHtml(item.label)}</span>${item.description ? ` <span class="desc">${escapeHtml(item.description)}</span>` : ''}`;
  const link = item.location
    ? ` <a href="vscode://file${encodeURI(item.location.file)}:${item.location.line}${item.location.column !== null ? `:${item.location.column}` : ''}">go to source</a>`
    : '';
  if (item.children.length === 0) return `<li>${text}${link}</li>`;
  return `<li><details${item.expanded || depth === 0 ? ' open' : ''}><summary>${text}${link}</summary><ul>${item.children.map((c) => itemHtml(c, depth + 1)).join('')}</ul></details></li>`;
}

/** A simple page of the report's tree (for an mw without --html, or an opened JSON report). */
export function simpleReportHtml(model: ReportModel, title: string, nonce: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${webviewCsp(nonce)}">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: var(--vscode-font-family, sans-serif); color: var(--vscode-foreground, #222); }
ul { list-style: none; padding-left: 1.2em; } .desc { opacity: .75; } summary { cursor: pointer; }
a { color: var(--vscode-textLink-foreground, #06c); }
</style></head>
<body><h1>MemWatchdog · ${escapeHtml(title)}</h1>
<p id="verdict">${escapeHtml(model.verdict)}</p>
<ul id="tree">${model.roots.map((r) => itemHtml(r, 0)).join('')}</ul>
${bridgeScript(nonce)}
</body></html>
`;
}
